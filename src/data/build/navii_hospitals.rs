//! ナビイ (医療情報ネット) hospitals, `mhlw-navii-hospitals/`: name, reading, address, published
//! coordinates, URL, closed weekdays and beds of every hospital of the region.

use std::path::Path;

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{non_empty, read_rows, tidy_address};
use super::sources as src;
use crate::data::files::DataError;
use crate::domain::{Facility, FacilityKind};

/// One row of `01-1_hospital_facility_info_20250601.csv` (only the columns used).
/// Per the ナビイ definition (定義書) the 休診 columns hold 0 = 休診, 1 = 診療.
#[derive(Deserialize)]
struct HospitalRow {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "正式名称")]
    name: String,
    #[serde(rename = "正式名称（フリガナ）")]
    name_kana: String,
    #[serde(rename = "都道府県コード")]
    pref_code: String,
    #[serde(rename = "市区町村コード")]
    muni_code: String,
    #[serde(rename = "所在地")]
    address: String,
    #[serde(rename = "所在地座標（緯度）")]
    lat: String,
    #[serde(rename = "所在地座標（経度）")]
    lng: String,
    #[serde(rename = "案内用ホームページアドレス")]
    url: String,
    #[serde(rename = "毎週決まった曜日に休診（月）")]
    open_mon: String,
    #[serde(rename = "毎週決まった曜日に休診（火）")]
    open_tue: String,
    #[serde(rename = "毎週決まった曜日に休診（水）")]
    open_wed: String,
    #[serde(rename = "毎週決まった曜日に休診（木）")]
    open_thu: String,
    #[serde(rename = "毎週決まった曜日に休診（金）")]
    open_fri: String,
    #[serde(rename = "毎週決まった曜日に休診（土）")]
    open_sat: String,
    #[serde(rename = "毎週決まった曜日に休診（日）")]
    open_sun: String,
    #[serde(rename = "祝日に休診")]
    open_holiday: String,
    #[serde(rename = "その他の休診日（gw、お盆等）")]
    other_closed: String,
    #[serde(rename = "一般病床")]
    beds_general: String,
    #[serde(rename = "療養病床")]
    beds_long_term: String,
    #[serde(rename = "精神病床")]
    beds_psychiatric: String,
    #[serde(rename = "結核病床")]
    beds_tuberculosis: String,
    #[serde(rename = "感染症病床")]
    beds_infectious: String,
    #[serde(rename = "合計病床数")]
    beds_total: String,
}

impl HospitalRow {
    fn point(&self) -> Option<(f64, f64)> {
        Some((self.lat.parse().ok()?, self.lng.parse().ok()?))
    }

    /// Closed days: `mon` … `sun`, `holiday`.
    fn closed_days(&self) -> Vec<String> {
        [
            (&self.open_mon, "mon"),
            (&self.open_tue, "tue"),
            (&self.open_wed, "wed"),
            (&self.open_thu, "thu"),
            (&self.open_fri, "fri"),
            (&self.open_sat, "sat"),
            (&self.open_sun, "sun"),
            (&self.open_holiday, "holiday"),
        ]
        .into_iter()
        .filter(|(v, _)| v.as_str() == "0")
        .map(|(_, d)| d.to_string())
        .collect()
    }

    /// `病床: 一般 300／療養 50（合計 350）`.
    fn beds_note(&self) -> Option<String> {
        let beds: Vec<String> = [
            (&self.beds_general, "一般"),
            (&self.beds_long_term, "療養"),
            (&self.beds_psychiatric, "精神"),
            (&self.beds_tuberculosis, "結核"),
            (&self.beds_infectious, "感染症"),
        ]
        .into_iter()
        .filter_map(|(v, label)| {
            let n: u32 = v.parse().ok()?;
            (n > 0).then(|| format!("{label} {n}"))
        })
        .collect();
        (!beds.is_empty()).then(|| format!("病床: {}（合計 {}）", beds.join("／"), self.beds_total))
    }
}

pub(super) fn load(srcdir: &Path, ctx: &Ctx) -> Result<Vec<Facility>, DataError> {
    let rows: Vec<HospitalRow> =
        read_rows(&srcdir.join("mhlw-navii-hospitals/01-1_hospital_facility_info_20250601.csv"))?;
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.pref_code == ctx.pref_code) {
        let muni = format!("{}{}", r.pref_code, r.muni_code);
        let mut f = ctx.facility(
            format!("navii-{}", r.id),
            FacilityKind::Hospital,
            &r.name,
            tidy_address(&r.address),
            (muni.len() == 5).then_some(muni),
            r.point(),
            src::NAVII_HOSPITALS,
        );
        f.identifiers.navii = Some(r.id.clone());
        f.name_kana = non_empty(&r.name_kana);
        f.url = non_empty(&r.url);
        f.hours.closed_weekdays = r.closed_days();
        f.hours.note = non_empty(&r.other_closed.replace("（改行）", "\n"));
        f.notes = r.beds_note();
        out.push(f);
    }
    Ok(out)
}
