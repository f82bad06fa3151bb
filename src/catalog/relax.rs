//! No dead ends: when no facility meets every word of a query, the nearest thing to it —
//! names that hold the word with gaps (日本医大 ⊂ 日本医科大学) or with one wrong character
//! (綜合 for 総合), and, failing those, the query without the words that match nothing.

use std::collections::HashMap;

use super::text::{Clause, synonyms};
use super::understand::Understood;
use super::{Catalog, NAME_SEP, QueryError};

/// Score of a name holding the word in order with gaps, and with one character wrong. Below
/// any strict name match (a relaxed answer is only given when there is none).
const GAP_SCORE: f32 = 6.0;
const TYPO_SCORE: f32 = 5.0;

/// Scored ords, best first.
type Scored = Vec<(u32, f32)>;

/// The relaxed matches (ord, score) of `u` among the ords `keep` allows, with the words dropped.
pub(super) fn relaxed(
    c: &Catalog,
    u: &Understood,
    keep: &dyn Fn(u32) -> bool,
) -> Result<(Scored, Vec<String>), QueryError> {
    let mut sets: Vec<Option<HashMap<u32, f32>>> = Vec::with_capacity(u.clauses.len());
    for (_, clause) in &u.clauses {
        let mut set: HashMap<u32, f32> = c
            .text
            .search_clauses(std::slice::from_ref(clause))?
            .into_iter()
            .filter(|(o, _)| keep(*o))
            .collect();
        if set.is_empty()
            && let Clause {
                word: Some(w),
                tags,
                place: false,
                ..
            } = clause
            && tags.is_empty()
        {
            set = fuzzy_names(c, w, keep).into_iter().collect();
            if set.is_empty() {
                // Service words and places inside a phrase (「往診してくれる医者」).
                let inner = c.vocabulary.embedded(w);
                if !inner.is_empty() {
                    set = c
                        .text
                        .search_clauses(&inner)?
                        .into_iter()
                        .filter(|(o, _)| keep(*o))
                        .collect();
                }
            }
        }
        sets.push((!set.is_empty()).then_some(set));
    }
    // Several words may together be one name typed with a typo or gaps (戸田中央 綜合病院).
    let whole: Vec<usize> = (0..sets.len()).filter(|&i| sets[i].is_some()).collect();
    let mut chosen = intersect(&sets, &whole);
    if chosen.is_empty() && u.clauses.len() > 1 {
        let joined: HashMap<u32, f32> = fuzzy_names(c, &u.name_probe, keep).into_iter().collect();
        if !joined.is_empty() {
            let mut v: Vec<(u32, f32)> = joined.into_iter().collect();
            sort(&mut v);
            return Ok((v, Vec::new()));
        }
    }
    let mut kept = whole.clone();
    if chosen.is_empty() {
        // Drop one more word: keep the most specific answer (the fewest facilities), so
        // 「川越 緩和ケア病棟」 shows palliative care units rather than all of 川越.
        let mut best: Option<(usize, Scored, Vec<usize>)> = None;
        for &j in &whole {
            let rest: Vec<usize> = whole.iter().copied().filter(|&i| i != j).collect();
            let r = intersect(&sets, &rest);
            if !r.is_empty() && best.as_ref().is_none_or(|(n, _, _)| r.len() < *n) {
                best = Some((r.len(), r, rest));
            }
        }
        if best.is_none() {
            for &j in &whole {
                let r = intersect(&sets, &[j]);
                if !r.is_empty() && best.as_ref().is_none_or(|(n, _, _)| r.len() < *n) {
                    best = Some((r.len(), r, vec![j]));
                }
            }
        }
        if let Some((_, r, rest)) = best {
            chosen = r;
            kept = rest;
        }
    }
    if chosen.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let dropped = u
        .clauses
        .iter()
        .enumerate()
        .filter(|(i, _)| !kept.contains(i))
        .map(|(_, (w, _))| w.clone())
        .collect();
    sort(&mut chosen);
    Ok((chosen, dropped))
}

fn sort(v: &mut [(u32, f32)]) {
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// The ords in every one of `sets[which]`, with their summed scores.
fn intersect(sets: &[Option<HashMap<u32, f32>>], which: &[usize]) -> Vec<(u32, f32)> {
    let mut iter = which.iter().filter_map(|&i| sets[i].as_ref());
    let Some(first) = iter.next() else {
        return Vec::new();
    };
    let rest: Vec<&HashMap<u32, f32>> = iter.collect();
    first
        .iter()
        .filter_map(|(&o, &s)| {
            rest.iter()
                .try_fold(s, |acc, set| set.get(&o).map(|t| acc + t))
                .map(|s| (o, s))
        })
        .collect()
}

/// Facilities whose everyday name, official name or reading holds the (normalized) word in
/// order with gaps, or with one character wrong, missing or extra (two in words of ten or
/// more characters). Words under three characters match nothing here.
pub(super) fn fuzzy_names(c: &Catalog, word: &str, keep: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let w: Vec<char> = crate::domain::ja::compact(word).chars().collect();
    if w.len() < 3 {
        return Vec::new();
    }
    let k = if w.len() >= 10 { 2 } else { 1 };
    // Candidates share enough of the word's bigrams: one wrong character breaks two, each gap
    // one; the rest is checked character by character.
    let n = w.len() - 1;
    let min = (n.saturating_sub(2)).min(n.div_ceil(2)).max(1);
    let compact: String = w.iter().collect();
    let Ok(candidates) = c.text.sharing_tokens(&compact, min) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut part_chars: Vec<char> = Vec::new();
    for ord in candidates {
        if !keep(ord) {
            continue;
        }
        let mut score = 0.0f32;
        for part in c.names[ord as usize].split(NAME_SEP) {
            part_chars.clear();
            part_chars.extend(part.chars());
            if gap_match(&w, &part_chars) {
                score = score.max(GAP_SCORE);
            } else if w.len() >= 4 && within_edits(&w, &part_chars, k) {
                score = score.max(TYPO_SCORE);
            }
        }
        if score > 0.0 {
            out.push((ord, score));
        }
    }
    out
}

/// Whether `w` occurs in `name` in order, in at most half as many pieces as it has
/// characters (at least two), the first piece two characters or more: 日本医大 in 日本医科大学
/// is 日本医 + 大.
pub fn gap_match(w: &[char], name: &[char]) -> bool {
    let max_pieces = (w.len() / 2).max(2);
    (0..name.len()).any(|start| {
        if name[start] != w[0] || name.get(start + 1) != w.get(1) {
            return false;
        }
        let (mut i, mut j, mut pieces, mut last) = (0, start, 0, usize::MAX);
        while i < w.len() && j < name.len() {
            if name[j] == w[i] {
                if last == usize::MAX || j != last + 1 {
                    pieces += 1;
                }
                last = j;
                i += 1;
            }
            j += 1;
        }
        i == w.len() && pieces <= max_pieces && pieces > 1
    })
}

/// Whether some substring of `name` is within `k` edits of `w` (Sellers' algorithm).
pub fn within_edits(w: &[char], name: &[char], k: usize) -> bool {
    let m = w.len();
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0; m + 1];
    if prev[m] <= k {
        return true;
    }
    for &nc in name {
        cur[0] = 0;
        for i in 1..=m {
            let sub = prev[i - 1] + usize::from(w[i - 1] != nc);
            cur[i] = sub.min(prev[i] + 1).min(cur[i - 1] + 1);
        }
        if cur[m] <= k {
            return true;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    false
}

/// Whether the user typed this facility's name: the compact query (or one of its abbreviation
/// expansions) is inside its everyday or official name and is at least half the everyday name.
pub(super) fn names_facility(names: &str, probes: &[String]) -> bool {
    // Cheap tests first: a common word (薬局) is in most names but half of few of them.
    let everyday_bytes = names.find(NAME_SEP).unwrap_or(names.len());
    if !probes
        .iter()
        .any(|p| 2 * p.len() >= everyday_bytes / 4 && names.contains(p.as_str()))
    {
        return false;
    }
    let mut parts = names.split(NAME_SEP);
    let (Some(everyday), Some(full)) = (parts.next(), parts.next()) else {
        return false;
    };
    let len = everyday.chars().count();
    probes.iter().any(|p| {
        let n = p.chars().count();
        n >= 2 && 2 * n >= len && (everyday.contains(p.as_str()) || full.contains(p.as_str()))
    })
}

/// Near name matches of a one-word name query that has only a few strict matches (`found`),
/// best first, without those.
pub(super) fn near_names(
    c: &Catalog,
    u: &Understood,
    keep: &dyn Fn(u32) -> bool,
    found: &[(u32, f32)],
) -> Vec<(u32, f32)> {
    let [(_, clause)] = u.clauses.as_slice() else {
        return Vec::new();
    };
    let (Some(w), false, true) = (&clause.word, clause.place, clause.tags.is_empty()) else {
        return Vec::new();
    };
    let strict: std::collections::HashSet<u32> = found.iter().map(|f| f.0).collect();
    let mut v: Vec<(u32, f32)> = fuzzy_names(c, w, keep)
        .into_iter()
        .filter(|(o, _)| !strict.contains(o))
        .collect();
    sort(&mut v);
    v
}

/// How strongly a name-like query names this facility: 2 when it is the whole everyday or
/// official name ([`is_whole_name`]), 1 when the everyday name starts with it (イムス is
/// イムス富士見総合病院 before セイムス薬局), else 0.
pub(super) fn name_lift(names: &str, probes: &[String]) -> u8 {
    if is_whole_name(names, probes) {
        return 2;
    }
    let everyday = names.split(NAME_SEP).next().unwrap_or("");
    u8::from(
        probes
            .iter()
            .any(|p| p.chars().count() >= 2 && everyday.starts_with(p.as_str())),
    )
}

/// Whether the query is this facility's whole everyday name (or its official name), compacted,
/// as typed or through an abbreviation: 「国立東埼玉病院」 is 東埼玉病院, not its visiting nurse
/// station 「東埼玉病院 訪問看護ステーション 雅楽谷の森」.
pub(super) fn is_whole_name(names: &str, probes: &[String]) -> bool {
    let mut parts = names.split(NAME_SEP);
    let (Some(everyday), Some(full)) = (parts.next(), parts.next()) else {
        return false;
    };
    probes.iter().any(|p| {
        p == everyday || p == full || (full.ends_with(p.as_str()) && p.ends_with(everyday))
    })
}

/// The probe and its abbreviation expansions.
pub(super) fn probes(probe: &str) -> Vec<String> {
    synonyms(probe)
        .into_iter()
        .map(|s| crate::domain::ja::compact(&s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn gaps_and_typos() {
        assert!(gap_match(&ch("日本医大"), &ch("日本医科大学")));
        assert!(gap_match(
            &ch("埼玉医大"),
            &ch("埼玉医科大学総合医療せんたー")
        ));
        assert!(!gap_match(&ch("日本医大"), &ch("日本医大")));
        assert!(!gap_match(&ch("日医大"), &ch("日本医科大学")));
        assert!(!gap_match(&ch("あいうえ"), &ch("あいかきくけうこさしえ")));
        assert!(within_edits(
            &ch("戸田中央綜合病院"),
            &ch("戸田中央総合病院"),
            1
        ));
        assert!(within_edits(
            &ch("戸田中央総合病"),
            &ch("戸田中央総合病院"),
            1
        ));
        assert!(!within_edits(
            &ch("戸田東部綜合病院"),
            &ch("戸田中央総合病院"),
            1
        ));
    }
}
