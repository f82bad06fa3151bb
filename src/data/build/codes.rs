//! 保険医療機関コード (`kouseikyoku-hoken-iryokikan-codes/`): the 10-digit hic identifier and the
//! postal code of the ナビイ hospitals and clinics, joined by name and address.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::facility::Ctx;
use super::input::{describe, read_rows};
use super::matcher::Matcher;
use super::norm;
use super::report::JoinStat;
use crate::data::files::DataError;
use crate::domain::{Facility, FacilityKind};

/// One row of `med_inst_cd_202508_saitama_tokyo.csv`.
#[derive(Deserialize)]
struct CodeCsvRow {
    #[serde(rename = "医療機関コード9")]
    code9: String,
    #[serde(rename = "医療機関コード7")]
    code7: String,
    #[serde(rename = "医療機関名称")]
    name: String,
    #[serde(rename = "郵便番号")]
    postal: String,
    #[serde(rename = "住所")]
    address: String,
}

/// One 保険医療機関 of the region.
pub(super) struct CodeRow {
    pub hic: String,
    pub name: String,
    pub postal: Option<String>,
    pub address: String,
}

/// The region's codes, one per hic, sorted.
pub(super) fn load(srcdir: &Path, pref_code: &str) -> Result<Vec<CodeRow>, DataError> {
    let rows: Vec<CodeCsvRow> = read_rows(
        &srcdir.join("kouseikyoku-hoken-iryokikan-codes/med_inst_cd_202508_saitama_tokyo.csv"),
    )?;
    let mut out: Vec<CodeRow> = rows
        .into_iter()
        .filter(|r| r.code9.starts_with(pref_code))
        .map(|r| {
            let postal = norm::digits(&r.postal);
            CodeRow {
                hic: format!("{pref_code}1{}", r.code7),
                name: r.name,
                postal: (postal.len() == 7).then_some(postal),
                address: r.address,
            }
        })
        .collect();
    // The collected list repeats some rows verbatim; keep one per code.
    out.sort_by(|a, b| a.hic.cmp(&b.hic));
    out.dedup_by(|a, b| a.hic == b.hic);
    Ok(out)
}

/// Give the ナビイ hospitals and clinics their hic and postal code. `medical[mi]` is the index
/// in `facilities` of the candidate `med_matcher.keys[mi]`.
pub(super) fn join(
    ctx: &Ctx,
    codes: &[CodeRow],
    facilities: &mut [Facility],
    medical: &[usize],
    med_matcher: &Matcher,
) -> JoinStat {
    let code_matcher = Matcher::new(
        codes
            .iter()
            .map(|c| ctx.key(&c.name, &c.address, None))
            .collect(),
    );
    let mut taken = BTreeSet::new();
    let mut stat = JoinStat {
        name: "ナビイ hospitals+clinics → 保険医療機関コード".into(),
        ..Default::default()
    };
    for (mi, &fi) in medical.iter().enumerate() {
        if !matches!(
            facilities[fi].kind,
            FacilityKind::Hospital | FacilityKind::Clinic
        ) {
            continue;
        }
        stat.total += 1;
        let q = &med_matcher.keys[mi];
        match code_matcher.find(q, &|i| !taken.contains(&i)) {
            Some(ci) => {
                taken.insert(ci);
                stat.joined += 1;
                let f = &mut facilities[fi];
                f.identifiers.hic = Some(codes[ci].hic.clone());
                if f.address.postal_code.is_none() {
                    f.address.postal_code = codes[ci].postal.clone();
                }
            }
            None => stat.unjoined.push(describe(&facilities[fi])),
        }
    }
    stat
}
