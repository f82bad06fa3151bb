//! The 2020 census small areas (令和2年国勢調査 小地域, 町丁・字等): the population weights of the
//! coverage report. One record per small area, with the representative point of its populated part.

use serde::{Deserialize, Serialize};

/// One 町丁・字 of the 2020 census.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CensusArea {
    /// e-Stat KEY_CODE: prefecture + city + small-area code, e.g. `11101002005`.
    pub key_code: String,
    /// 5-digit 市区町村コード, e.g. `11101`.
    pub muni_code: String,
    /// 町丁・字名 (S_NAME), e.g. `三橋五丁目`; the municipality's name for a row without one.
    pub name: String,
    /// 人口 (JINKO). 0: the census publishes no population here (uninhabited, or concealed and
    /// counted with a neighbouring area).
    pub population: u64,
    /// 世帯数 (SETAI).
    pub households: u64,
    /// Representative point (JGD2011) of the part the population lives in.
    pub lat: f64,
    pub lng: f64,
}

impl CensusArea {
    /// Whether the census gives this area a population.
    pub fn has_population(&self) -> bool {
        self.population > 0
    }
}
