//! What a build did — counts, join rates, placement, near-duplicates, reference coverage — as the
//! printed build report and as the `stats` of `manifest.json`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::data::files::FileEntry;

/// One join between two sources: how many rows found their partner, and every row that did not.
#[derive(Debug, Clone, Default)]
pub struct JoinStat {
    pub name: String,
    pub joined: usize,
    pub total: usize,
    pub unjoined: Vec<String>,
    /// How many of the unjoined rows became a facility of their own; the rest are left out.
    pub own: usize,
}

impl JoinStat {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.joined as f64 / self.total as f64
        }
    }
}

/// Two facilities left after the joins that look like one institution (same normalized address,
/// similar name), for a coordinator to check.
#[derive(Debug, Clone, PartialEq)]
pub struct NearDuplicate {
    pub a: String,
    pub b: String,
    /// Why they look alike, e.g. `name contains` or `bigram 0.82`.
    pub why: String,
}

/// The geocoder reference served with the dataset, per prefecture: municipalities and towns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    pub pref_code: String,
    pub prefecture: String,
    pub municipalities: usize,
    pub towns: usize,
}

/// What the census table gave, for the build report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CensusStat {
    /// Rows of the table, and rows left out because they are not a small area (HCODE ≠ 8101).
    pub rows: usize,
    pub other_hcode: usize,
    /// Small areas (KEY_CODEs), and those of them with a population.
    pub areas: usize,
    pub populated: usize,
    pub population: u64,
    pub households: u64,
    /// Small areas with no population in the census ("key name (municipality)").
    pub without_population: Vec<String>,
}

/// What a build did: counts, join rates, placement, and everything that needs a human look.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    pub pref_code: String,
    pub prefecture: String,
    pub notes: Vec<String>,
    pub joins: Vec<JoinStat>,
    pub kinds: BTreeMap<String, usize>,
    pub services: BTreeMap<String, usize>,
    pub tiers: BTreeMap<String, usize>,
    pub placement: BTreeMap<String, usize>,
    /// Facilities that could not be placed.
    pub unplaced: Vec<String>,
    /// Placed points outside the prefecture outline.
    pub outside: Vec<String>,
    /// Pairs that may still be one institution after the joins.
    pub near_duplicates: Vec<NearDuplicate>,
    /// The region's own areas, municipalities (with outlines) and towns.
    pub areas: usize,
    pub municipalities: usize,
    pub towns: usize,
    /// The served geocoder reference: the region and its neighbouring prefectures.
    pub coverage: Vec<Coverage>,
    /// The census small areas (population weights), when the sources have them.
    pub census: Option<CensusStat>,
    pub files: BTreeMap<String, FileEntry>,
    pub total_bytes: u64,
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pallimap data build: {} ({})",
            self.prefecture, self.pref_code
        )?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        for j in &self.joins {
            write!(
                f,
                "join {}: {}/{} ({:.1}%), {} unjoined",
                j.name,
                j.joined,
                j.total,
                j.rate() * 100.0,
                j.unjoined.len()
            )?;
            if j.own > 0 {
                write!(
                    f,
                    " ({} own facilities, {} left out)",
                    j.own,
                    j.unjoined.len() - j.own
                )?;
            }
            writeln!(f)?;
            for u in &j.unjoined {
                writeln!(f, "  unjoined [{}] {u}", j.name)?;
            }
        }
        self.fmt_facilities(f)?;
        writeln!(
            f,
            "near-duplicate pairs after the joins (same normalized address, similar name): {}",
            self.near_duplicates.len()
        )?;
        for d in &self.near_duplicates {
            writeln!(f, "  near-duplicate [{}] {}  ~  {}", d.why, d.a, d.b)?;
        }
        writeln!(
            f,
            "region: areas: {}, municipalities: {}, towns: {}",
            self.areas, self.municipalities, self.towns
        )?;
        let (m, t): (usize, usize) = self
            .coverage
            .iter()
            .fold((0, 0), |(m, t), c| (m + c.municipalities, t + c.towns));
        writeln!(
            f,
            "geocoder reference: {} prefectures, {m} municipalities, {t} towns",
            self.coverage.len()
        )?;
        for c in &self.coverage {
            writeln!(
                f,
                "  reference {} {}: {} municipalities, {} towns",
                c.pref_code, c.prefecture, c.municipalities, c.towns
            )?;
        }
        if let Some(c) = &self.census {
            writeln!(
                f,
                "census small areas: {} ({} rows, {} not a small area), {} with population {} and {} households, {} without population",
                c.areas,
                c.rows,
                c.other_hcode,
                c.populated,
                c.population,
                c.households,
                c.without_population.len()
            )?;
            for w in &c.without_population {
                writeln!(f, "  census without population {w}")?;
            }
        }
        for (name, e) in &self.files {
            writeln!(
                f,
                "  file {name}: {} records, sha256 {}",
                e.records, e.sha256
            )?;
        }
        writeln!(f, "total size: {} bytes", self.total_bytes)
    }
}

impl BuildReport {
    fn fmt_facilities(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: usize = self.kinds.values().sum();
        writeln!(f, "facilities: {total}")?;
        for (k, n) in &self.kinds {
            writeln!(f, "  kind {k}: {n}")?;
        }
        for (k, n) in &self.services {
            writeln!(f, "  service {k}: {n}")?;
        }
        for (k, n) in &self.tiers {
            writeln!(f, "  home_care_support tier {k}: {n}")?;
        }
        for (k, n) in &self.placement {
            writeln!(
                f,
                "  placement {k}: {n} ({:.1}%)",
                *n as f64 * 100.0 / total.max(1) as f64
            )?;
        }
        for u in &self.unplaced {
            writeln!(f, "  unplaced {u}")?;
        }
        writeln!(
            f,
            "placed points outside the prefecture outline: {}",
            self.outside.len()
        )?;
        for o in &self.outside {
            writeln!(f, "  outside {o}")?;
        }
        Ok(())
    }

    /// The `stats` of `manifest.json`.
    pub(super) fn manifest_stats(&self, facilities: usize) -> BTreeMap<String, Value> {
        let mut stats: BTreeMap<String, Value> = BTreeMap::new();
        let json = |v: &BTreeMap<String, usize>| serde_json::to_value(v).unwrap_or_default();
        stats.insert("facilities".into(), facilities.into());
        stats.insert("counts_by_kind".into(), json(&self.kinds));
        stats.insert("counts_by_service".into(), json(&self.services));
        stats.insert("home_care_support_tiers".into(), json(&self.tiers));
        stats.insert("placement".into(), json(&self.placement));
        stats.insert("outside_prefecture".into(), self.outside.len().into());
        stats.insert("near_duplicates".into(), self.near_duplicates.len().into());
        let joins: BTreeMap<String, Value> = self
            .joins
            .iter()
            .map(|j| {
                let mut v = serde_json::json!({"joined": j.joined, "total": j.total, "rate": (j.rate() * 10000.0).round() / 10000.0});
                if j.own > 0 {
                    v["own_facilities"] = j.own.into();
                    v["left_out"] = (j.unjoined.len() - j.own).into();
                }
                (j.name.clone(), v)
            })
            .collect();
        stats.insert(
            "joins".into(),
            serde_json::to_value(joins).unwrap_or_default(),
        );
        stats.insert(
            "region".into(),
            serde_json::json!({
                "areas": self.areas,
                "municipalities": self.municipalities,
                "towns": self.towns,
            }),
        );
        let by_pref: BTreeMap<String, Value> = self
            .coverage
            .iter()
            .map(|c| {
                (
                    format!("{} {}", c.pref_code, c.prefecture),
                    serde_json::json!({"municipalities": c.municipalities, "towns": c.towns}),
                )
            })
            .collect();
        stats.insert(
            "geocoder_reference".into(),
            serde_json::json!({
                "prefectures": self.coverage.len(),
                "municipalities": self.coverage.iter().map(|c| c.municipalities).sum::<usize>(),
                "towns": self.coverage.iter().map(|c| c.towns).sum::<usize>(),
                "by_prefecture": by_pref,
            }),
        );
        if let Some(c) = &self.census {
            stats.insert(
                "census".into(),
                serde_json::json!({
                    "small_areas": c.areas,
                    "with_population": c.populated,
                    "without_population": c.without_population.len(),
                    "population": c.population,
                    "households": c.households,
                }),
            );
        }
        stats
    }
}
