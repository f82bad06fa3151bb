//! 介護サービス情報公表システム visiting nurse stations (訪問看護ステーション,
//! `kaigo-houmonkango-stations/`): name, address, point, the visiting-nursing service, and
//! their phones from the second-hand 埼玉県 copy (`kaigo-houmonkango-saitama-phones/`).

use std::path::Path;

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{describe, non_empty, read_json, read_rows, tidy_station_address};
use super::report::JoinStat;
use super::sources as src;
use crate::data::files::DataError;
use crate::domain::{
    Contact, ContactKind, Facility, FacilityKind, Provenance, Service, ServiceAttributes,
    ServiceKind, ServiceStatus, Visibility,
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

/// One row of `saitama_houmonkango_stations.csv` (only the columns used). Its `url` is not used:
/// it sometimes holds an e-mail address; there is no FAX.
#[derive(Deserialize)]
struct PhoneRow {
    /// 事業所番号 (10 digits).
    jigyosho_bango: String,
    tel: String,
}

/// The phone file of the region, if the sources have one.
fn phone_file(srcdir: &Path, pref_code: &str) -> Option<std::path::PathBuf> {
    match pref_code {
        "11" => {
            Some(srcdir.join("kaigo-houmonkango-saitama-phones/saitama_houmonkango_stations.csv"))
        }
        _ => None,
    }
}

/// Give the stations their published phone (public), joined on 事業所番号. `None` when the
/// region has no phone file.
pub(super) fn add_phones(
    srcdir: &Path,
    pref_code: &str,
    facilities: &mut [Facility],
) -> Result<Option<JoinStat>, DataError> {
    let Some(path) = phone_file(srcdir, pref_code) else {
        return Ok(None);
    };
    let phones: std::collections::BTreeMap<String, String> = read_rows::<PhoneRow>(&path)?
        .into_iter()
        .filter_map(|r| Some((r.jigyosho_bango, non_empty(&r.tel)?)))
        .collect();
    let info = src::info(src::KAIGO_PHONES);
    let prov = Provenance::dataset(info.name, info.snapshot);
    let mut stat = JoinStat {
        name: "介護 visiting nurse stations → phones (埼玉県 copy)".into(),
        ..Default::default()
    };
    for f in facilities
        .iter_mut()
        .filter(|f| f.kind == FacilityKind::VisitingNurseStation)
    {
        stat.total += 1;
        match f.identifiers.kaigo.as_ref().and_then(|id| phones.get(id)) {
            Some(tel) => {
                stat.joined += 1;
                f.contacts.push(Contact {
                    kind: ContactKind::Phone,
                    value: tel.clone(),
                    label: Some("代表".into()),
                    visibility: Visibility::Public,
                    provenance: prov.clone(),
                });
            }
            None => stat.unjoined.push(describe(f)),
        }
    }
    Ok(Some(stat))
}
