//! `pallimap check`: whether the catalog a serving instance builds equals the store, and whether
//! the store is whole (the change log replays to every facility row, no write half-applied).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::app::{self, AppError};
use crate::domain::Facility;
use crate::store::{Backend, ChangeRow, Store};

/// One way the catalog, the store and the change log disagree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// The facility id (or `-` for the whole database).
    pub id: String,
    /// The top-level field (`version`, `change_seq`, `change_log`, …).
    pub field: String,
    pub detail: String,
}

/// What a check compared and found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Facility rows in the store (inactive ones too).
    pub facilities: usize,
    /// Active facilities, each compared with the catalog.
    pub compared_with_catalog: usize,
    /// The store's latest change-log position, which the catalog reflects.
    pub change_seq: i64,
    pub change_log_rows: i64,
    /// Change-log rows replayed per facility.
    pub facility_change_rows: usize,
    pub differences: Vec<Difference>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }

    fn differ(&mut self, id: &str, field: &str, detail: String) {
        self.differences.push(Difference {
            id: id.to_string(),
            field: field.to_string(),
            detail,
        });
    }
}

/// The state of one facility the change log describes: each top-level field's last value.
#[derive(Default)]
struct Replayed {
    fields: BTreeMap<String, Option<String>>,
    rows: usize,
    /// Edits told apart by consecutive sequence numbers of one (at, actor, source).
    runs: usize,
    last_seq: i64,
    last_key: (String, String, Option<String>),
}

/// Rows read per query while replaying the change log.
const PAGE: i64 = 20_000;

/// Compare, at one change-log position (retried when a write lands during the check):
/// 1. the catalog built the way `serve` builds it ([`app::build_catalog`]) with the store's
///    facility rows: the same active facilities, every field and version equal, and its
///    change-log position equal to the store's latest;
/// 2. the facility rows with the change log replayed field by field (an independent record of
///    every write): each field's last logged value is the stored one, each logged old value is
///    the previous new one, and the version lies between the number of writes the log tells
///    apart and the number of its rows;
/// 3. on SQLite, whose writes are serialized: the change log has no gap, and each import's rows
///    are one unbroken run (its one transaction).
pub fn check(store: &Store) -> Result<Report, AppError> {
    let mut last = None;
    for _ in 0..5 {
        let before = store.latest_change()?;
        let report = check_once(store)?;
        if store.latest_change()? == before {
            return Ok(report);
        }
        last = Some(report);
    }
    let mut report = last.unwrap_or_default();
    report.differ(
        "-",
        "change_seq",
        "the database kept changing during the check (5 attempts); run it again when writes pause"
            .into(),
    );
    Ok(report)
}

fn check_once(store: &Store) -> Result<Report, AppError> {
    let mut report = Report::default();
    let catalog = app::build_catalog(store)?;
    let stored = store.facilities()?;
    let latest = store.latest_change()?;
    report.facilities = stored.len();
    report.change_seq = latest;
    if catalog.change_seq() != latest {
        report.differ(
            "-",
            "change_seq",
            format!(
                "the catalog reflects change {} but the store's latest is {latest}",
                catalog.change_seq()
            ),
        );
    }

    // 1. The catalog against the rows.
    let mut active = 0;
    for f in stored.iter().filter(|f| f.status.is_active()) {
        active += 1;
        match catalog.get(&f.id) {
            None => report.differ(&f.id, "-", "in the store, missing from the catalog".into()),
            Some(c) if *c != *f => {
                for (field, detail) in field_differences(f, &c) {
                    report.differ(
                        &f.id,
                        &field,
                        format!("catalog differs from the store: {detail}"),
                    );
                }
            }
            Some(_) => {}
        }
    }
    report.compared_with_catalog = active;
    if catalog.len() != active {
        for c in catalog.facilities() {
            if !stored.iter().any(|f| f.id == c.id && f.status.is_active()) {
                report.differ(
                    &c.id,
                    "-",
                    "in the catalog, not an active facility of the store".into(),
                );
            }
        }
    }

    // 2. The change log replayed.
    let sqlite = matches!(store.backend(), Backend::Sqlite { .. });
    let mut replayed: HashMap<String, Replayed> = HashMap::new();
    let mut imports: HashMap<(String, String, String), (i64, i64, i64)> = HashMap::new();
    let (lo, hi, n) = store.change_log_bounds()?;
    report.change_log_rows = n;
    let mut after = 0;
    loop {
        let page = store.change_rows(after, PAGE)?;
        let Some(end) = page.last().map(|r| r.seq) else {
            break;
        };
        after = end;
        for row in page {
            if row.seq > latest {
                break;
            }
            if row.entity != "facility" {
                continue;
            }
            report.facility_change_rows += 1;
            if let Some(src) = row.source.as_deref().filter(|s| s.starts_with("import:")) {
                let e = imports
                    .entry((src.to_string(), row.at.clone(), row.actor.clone()))
                    .or_insert((row.seq, row.seq, 0));
                e.1 = row.seq;
                e.2 += 1;
            }
            replay(&mut replayed, row, &mut report);
        }
        if end >= latest {
            break;
        }
    }
    for f in &stored {
        let Some(r) = replayed.remove(&f.id) else {
            report.differ(
                &f.id,
                "change_log",
                "a stored facility no write logged".into(),
            );
            continue;
        };
        let want = serde_json::to_value(f).unwrap_or_default();
        let want = want.as_object().cloned().unwrap_or_default();
        let mut fields: Vec<&String> = want.keys().chain(r.fields.keys()).collect();
        fields.sort();
        fields.dedup();
        for field in fields {
            let logged = r
                .fields
                .get(field)
                .cloned()
                .flatten()
                .map(|s| serde_json::from_str::<Value>(&s).unwrap_or(Value::String(s)));
            let held = want.get(field).cloned();
            if logged != held {
                report.differ(
                    &f.id,
                    field,
                    format!(
                        "the change log ends at {} but the store holds {}",
                        short(logged.as_ref()),
                        short(held.as_ref())
                    ),
                );
            }
        }
        let runs_bound = if sqlite { r.runs } else { 1 };
        if f.version < runs_bound as i64 || f.version > r.rows as i64 {
            report.differ(
                &f.id,
                "version",
                format!(
                    "version {} but the change log holds {} rows in {} writes",
                    f.version, r.rows, r.runs
                ),
            );
        }
    }
    let mut orphans: Vec<_> = replayed.into_keys().collect();
    orphans.sort();
    for id in orphans {
        report.differ(
            &id,
            "change_log",
            "logged, but no such facility in the store".into(),
        );
    }

    // 3. What serialized writes promise.
    if sqlite && n > 0 && hi - lo + 1 != n {
        report.differ(
            "-",
            "change_log",
            format!(
                "{} sequence numbers missing between {lo} and {hi}",
                hi - lo + 1 - n
            ),
        );
    }
    if sqlite {
        let mut broken: Vec<_> = imports
            .into_iter()
            .filter(|(_, (first, last, rows))| last - first + 1 != *rows)
            .collect();
        broken.sort();
        for ((source, at, _), (first, last, rows)) in broken {
            report.differ(
                "-",
                "change_log",
                format!(
                    "import {source} at {at}: {rows} rows spread over {first}..{last}, not one transaction"
                ),
            );
        }
    }
    Ok(report)
}

fn replay(replayed: &mut HashMap<String, Replayed>, row: ChangeRow, report: &mut Report) {
    let r = replayed.entry(row.entity_id.clone()).or_default();
    let key = (row.at, row.actor, row.source);
    if r.rows == 0 || row.seq != r.last_seq + 1 || key != r.last_key {
        r.runs += 1;
    }
    r.rows += 1;
    r.last_seq = row.seq;
    r.last_key = key;
    let before = r.fields.get(&row.field).cloned().flatten();
    if !same_json(before.as_deref(), row.old_value.as_deref()) {
        report.differ(
            &row.entity_id,
            &row.field,
            format!(
                "change {} starts from {} but the change before left {}",
                row.seq,
                short_text(row.old_value.as_deref()),
                short_text(before.as_deref())
            ),
        );
    }
    r.fields.insert(row.field, row.new_value);
}

fn same_json(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |s: &str| serde_json::from_str::<Value>(s).ok();
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || parse(a) == parse(b),
        _ => false,
    }
}

/// The top-level fields (and the version) where two facilities differ.
fn field_differences(a: &Facility, b: &Facility) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if a.version != b.version {
        out.push(("version".into(), format!("{} vs {}", a.version, b.version)));
    }
    let (va, vb) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    let empty = serde_json::Map::new();
    let (ma, mb) = (
        va.as_object().unwrap_or(&empty),
        vb.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if ma.get(k) != mb.get(k) {
            out.push((
                k.clone(),
                format!("{} vs {}", short(ma.get(k)), short(mb.get(k))),
            ));
        }
    }
    if out.is_empty() {
        // Equal when serialized, unequal as values (e.g. NaN): say so rather than nothing.
        out.push((
            "-".into(),
            "equal when serialized, unequal in memory".into(),
        ));
    }
    out
}

fn short(v: Option<&Value>) -> String {
    short_text(v.map(|v| v.to_string()).as_deref())
}

fn short_text(v: Option<&str>) -> String {
    match v {
        None => "(none)".into(),
        Some(s) if s.chars().count() > 80 => {
            format!("{}…", s.chars().take(80).collect::<String>())
        }
        Some(s) => s.to_string(),
    }
}
