//! Type-ahead: the facility names, service words and places a typed prefix starts, from a
//! sorted array of name keys (everyday name and reading, compacted) searched by bisection.

use std::collections::HashSet;

use super::abbreviations::{SERVICE_TERMS, Target};
use super::{Catalog, NAME_SEP};
use crate::domain::{FacilityKind, ja};

/// How many keys of one prefix are ranked at most; a one-character prefix of a large
/// catalog starts far more names than anyone reads, and the bound keeps the answer fast.
const MAX_SCANNED: usize = 1024;

/// Sorted name keys: (ord, byte range of the key in the ord's compact name forms).
#[derive(Clone)]
pub struct SuggestIndex {
    entries: Vec<(u32, u16, u16)>,
    /// Lower is offered first: kind (hospitals first), then the length of the everyday name.
    rank: Vec<u32>,
}

/// A service, kind or place word a prefix starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The word as shown (and put into the search box).
    pub text: String,
    /// The list parameter it stands for: `service`, `kind` or `municipality`.
    pub param: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suggestions {
    /// Facility ords, best first.
    pub facilities: Vec<u32>,
    pub terms: Vec<Suggestion>,
}

fn kind_rank(k: FacilityKind) -> u32 {
    match k {
        FacilityKind::Hospital => 0,
        FacilityKind::ConsultationCenter => 1,
        FacilityKind::Clinic => 2,
        FacilityKind::VisitingNurseStation => 3,
        FacilityKind::DentalClinic => 4,
        FacilityKind::Pharmacy => 5,
        FacilityKind::PatientGroup => 6,
        FacilityKind::Other => 7,
    }
}

/// The keys of one facility (its everyday name and that name's reading, without a bracketed
/// label) as byte ranges of its name forms `n`, and its rank.
fn keys_of(ord: u32, f: &super::records::Entry, n: &str) -> (Vec<(u32, u16, u16)>, u32) {
    // A bracketed label before the name (【合成】 on synthetic data) is not typed.
    let label = f
        .name
        .strip_prefix('【')
        .and_then(|r| r.split_once('】'))
        .map(|(l, _)| ja::compact(l))
        .unwrap_or_default();
    let mut keys = Vec::with_capacity(2);
    let mut start = 0;
    let mut everyday_len = 0;
    for (i, part) in n.split(NAME_SEP).enumerate() {
        let end = start + part.len();
        // The everyday name (0) and its reading (3); people do not type the official name's
        // corporate prefix.
        let skip = if i == 0 && !label.is_empty() && part.starts_with(&label) {
            label.len()
        } else {
            0
        };
        if (i == 0 || i == 3) && part.len() > skip && end <= u16::MAX as usize {
            keys.push((ord, (start + skip) as u16, end as u16));
        }
        if i == 0 {
            everyday_len = part.chars().count() as u32;
        }
        start = end + NAME_SEP.len_utf8();
    }
    (keys, kind_rank(f.kind) << 16 | everyday_len.min(0xFFFF))
}

impl SuggestIndex {
    pub fn new<F: std::borrow::Borrow<super::records::Entry>>(
        facilities: &[F],
        names: &[String],
    ) -> SuggestIndex {
        let mut entries = Vec::with_capacity(names.len() * 2);
        let mut rank = Vec::with_capacity(names.len());
        for (ord, (f, n)) in facilities.iter().zip(names).enumerate() {
            let (keys, r) = keys_of(ord as u32, f.borrow(), n);
            entries.extend(keys);
            rank.push(r);
        }
        let key = |e: &(u32, u16, u16)| &names[e.0 as usize][e.1 as usize..e.2 as usize];
        entries.sort_by(|a, b| key(a).cmp(key(b)).then(a.0.cmp(&b.0)));
        SuggestIndex { entries, rank }
    }

    /// A copy with the keys of the facilities at `changed` ords taken from their new name
    /// forms (`names` is the new list, `facilities` the new facilities); the others' keys
    /// stay where they are, so this costs a pass over the keys, not a sort.
    pub fn with_changes<F: std::borrow::Borrow<super::records::Entry>>(
        &self,
        changed: &[u32],
        facilities: &[F],
        names: &super::chunked::Chunked<String>,
    ) -> SuggestIndex {
        let gone: HashSet<u32> = changed.iter().copied().collect();
        let mut entries: Vec<(u32, u16, u16)> = self
            .entries
            .iter()
            .filter(|e| !gone.contains(&e.0))
            .copied()
            .collect();
        let mut rank = self.rank.clone();
        rank.resize(facilities.len(), u32::MAX);
        let key = |e: &(u32, u16, u16)| &names[e.0 as usize][e.1 as usize..e.2 as usize];
        for &ord in changed {
            let (keys, r) = keys_of(ord, facilities[ord as usize].borrow(), &names[ord as usize]);
            rank[ord as usize] = r;
            for k in keys {
                let at = entries.partition_point(|e| (key(e), e.0) < (key(&k), k.0));
                entries.insert(at, k);
            }
        }
        SuggestIndex { entries, rank }
    }
}

/// Up to `limit` facilities whose everyday name or reading starts with `prefix` (then, when
/// fewer, whose name contains it), and the service and place words it starts.
pub fn suggest(c: &Catalog, prefix: &str, limit: usize) -> Suggestions {
    let p = ja::compact(prefix);
    if p.is_empty() || limit == 0 {
        return Suggestions::default();
    }
    let idx = &c.suggest;
    let key = |e: &(u32, u16, u16)| &c.names[e.0 as usize][e.1 as usize..e.2 as usize];
    let from = idx.entries.partition_point(|e| key(e) < p.as_str());
    let mut found: Vec<(u32, u32)> = idx.entries[from..]
        .iter()
        .take_while(|e| key(e).starts_with(p.as_str()))
        .take(MAX_SCANNED)
        .map(|e| (idx.rank[e.0 as usize], e.0))
        .collect();
    found.sort_unstable();
    let mut seen = HashSet::new();
    let mut facilities: Vec<u32> = found
        .into_iter()
        .filter(|&(_, o)| seen.insert(o))
        .map(|(_, o)| o)
        .take(limit)
        .collect();
    // Names that hold the prefix further in, when too few start with it; from three
    // characters on, where the phrase is selective enough to stay fast.
    if facilities.len() < limit
        && p.chars().count() >= 3
        && let Ok(more) = c.text.names_containing(&p, limit * 2)
    {
        let mut more: Vec<(u32, u32)> = more
            .into_iter()
            .filter(|o| !seen.contains(o))
            .map(|o| (idx.rank[o as usize], o))
            .collect();
        more.sort_unstable();
        facilities.extend(
            more.into_iter()
                .map(|(_, o)| o)
                .take(limit - facilities.len()),
        );
    }
    Suggestions {
        facilities,
        terms: terms(c, &p),
    }
}

/// Service and kind words, then municipalities, that the compact prefix starts (three each).
fn terms(c: &Catalog, p: &str) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    let mut targets = Vec::new();
    for (term, ts) in SERVICE_TERMS {
        let Some(target) = ts.first() else { continue };
        if out.len() >= 3 || !ja::compact(term).starts_with(p) || targets.contains(target) {
            continue;
        }
        targets.push(*target);
        let (param, value) = match target {
            Target::Service(s) => ("service", s.code()),
            Target::Kind(k) => ("kind", k.code()),
        };
        out.push(Suggestion {
            text: term.to_string(),
            param,
            value: value.to_string(),
        });
    }
    let mut places: Vec<(&str, &[String])> = c.vocabulary.places_starting(p).collect();
    places.sort_by(|a, b| a.1.len().cmp(&b.1.len()).then(a.0.cmp(b.0)));
    let mut codes: Vec<&str> = Vec::new();
    for (_, cs) in places {
        for code in cs {
            if codes.len() >= 3 || codes.contains(&code.as_str()) {
                continue;
            }
            if let Some(m) = c.municipality(code) {
                codes.push(code);
                out.push(Suggestion {
                    text: m.name.clone(),
                    param: "municipality",
                    value: code.clone(),
                });
            }
        }
    }
    out
}
