//! ナビイ lists of clinics, dental clinics and pharmacies (`navii-lists-helpmesearch/`): name,
//! address, URL and 診療科; no coordinates, so every point is geocoded.

use std::path::Path;

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{non_empty, read_json, tidy_address};
use super::report::BuildReport;
use super::sources as src;
use crate::data::files::DataError;
use crate::domain::{Facility, FacilityKind};

/// One entry of `<kind>_<都道府県>.json`.
#[derive(Deserialize)]
struct ListEntry {
    id: String,
    name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    pref: Option<String>,
    #[serde(default)]
    departments: Option<Vec<String>>,
}

/// The lists to read: file stem and the kind of its facilities.
pub(super) const LISTS: &[(&str, FacilityKind)] = &[
    ("clinic", FacilityKind::Clinic),
    ("dental", FacilityKind::DentalClinic),
    ("pharmacy", FacilityKind::Pharmacy),
];

/// The facilities of one list; none (and a note) when the region has no such list.
pub(super) fn load(
    srcdir: &Path,
    ctx: &Ctx,
    file: &str,
    kind: FacilityKind,
    report: &mut BuildReport,
) -> Result<Vec<Facility>, DataError> {
    let path = srcdir.join(format!(
        "navii-lists-helpmesearch/{file}_{}.json",
        ctx.places.prefecture
    ));
    if !path.exists() {
        report.notes.push(format!(
            "no {file} list for {} ({} missing); skipped",
            ctx.places.prefecture,
            path.display()
        ));
        return Ok(Vec::new());
    }
    let entries: Vec<ListEntry> = read_json(&path)?;
    let mut out = Vec::new();
    for e in entries {
        if e.pref
            .as_deref()
            .is_some_and(|p| p != ctx.places.prefecture)
        {
            continue;
        }
        let mut f = ctx.facility(
            format!("navii-{}", e.id),
            kind,
            &e.name,
            tidy_address(&e.address),
            None,
            None,
            src::NAVII_LISTS,
        );
        f.identifiers.navii = Some(e.id.clone());
        f.url = e.url.as_deref().and_then(non_empty);
        f.notes = departments_note(e.departments.unwrap_or_default());
        out.push(f);
    }
    Ok(out)
}

/// `診療科: 内科、小児科`.
fn departments_note(departments: Vec<String>) -> Option<String> {
    let d: Vec<String> = departments
        .iter()
        .map(|x| x.replace("（改行）", " ").trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    (!d.is_empty()).then(|| format!("診療科: {}", d.join("、")))
}
