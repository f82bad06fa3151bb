//! 介護サービス情報公表システム visiting nurse stations (訪問看護ステーション,
//! `kaigo-houmonkango-stations/`): name, address, point, and the visiting-nursing service.

use std::path::Path;

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{read_json, tidy_station_address};
use super::sources as src;
use crate::data::files::DataError;
use crate::domain::{
    Facility, FacilityKind, Provenance, Service, ServiceAttributes, ServiceKind, ServiceStatus,
};

/// One station of `houmonkango_stations_geo.json` (nationwide, abbreviated keys).
#[derive(Deserialize)]
struct StationRow {
    /// 事業所番号 (10 digits).
    id: String,
    /// 事業所名.
    n: String,
    /// 所在地, with the prefecture.
    a: String,
    #[serde(default)]
    lt: Option<f64>,
    #[serde(default)]
    lg: Option<f64>,
}

pub(super) fn load(srcdir: &Path, ctx: &Ctx) -> Result<Vec<Facility>, DataError> {
    let stations: Vec<StationRow> =
        read_json(&srcdir.join("kaigo-houmonkango-stations/houmonkango_stations_geo.json"))?;
    let info = src::info(src::KAIGO);
    let mut out = Vec::new();
    for s in stations
        .into_iter()
        .filter(|s| s.a.trim_start().starts_with(&ctx.places.prefecture))
    {
        let point = s.lt.zip(s.lg);
        let mut f = ctx.facility(
            format!("kaigo-{}", s.id),
            FacilityKind::VisitingNurseStation,
            &s.n,
            tidy_station_address(&s.a),
            None,
            point,
            src::KAIGO,
        );
        f.identifiers.kaigo = Some(s.id.clone());
        f.services.push(Service {
            kind: ServiceKind::VisitingNursing,
            status: ServiceStatus::Active,
            attributes: ServiceAttributes::default(),
            capacity: None,
            admission_rules: None,
            provenance: Provenance::dataset(info.name, info.snapshot),
            updated_at: info.snapshot.to_string(),
            verified_at: None,
            verified_by: None,
        });
        out.push(f);
    }
    Ok(out)
}
