//! Near-duplicates left after the joins: facilities of one kind family at the same normalized
//! address whose names are alike, listed in the build report for a coordinator to check.

use std::collections::BTreeMap;

use super::report::NearDuplicate;
use super::{address, norm};
use crate::domain::{Facility, FacilityKind};

/// Share of character bigrams two names have in common (Dice coefficient) at which they count
/// as alike: `辻川ホームクリニック` / `川ホームクリニック` (0.89) are, `ましろ訪問看護ステーション` /
/// `しむら訪問看護ステーション` (0.75, a shared generic ending) are not.
const BIGRAM_ALIKE: f64 = 0.8;

/// Medical institutions compare with each other (the same institution may be listed once as a
/// hospital and once as a clinic); pharmacies and stations only among themselves.
fn family(kind: FacilityKind) -> u8 {
    match kind {
        FacilityKind::Hospital | FacilityKind::Clinic | FacilityKind::DentalClinic => 0,
        FacilityKind::Pharmacy => 1,
        _ => 2,
    }
}

fn bigrams(s: &str) -> Vec<(char, char)> {
    let c: Vec<char> = s.chars().collect();
    let mut b: Vec<(char, char)> = c.windows(2).map(|w| (w[0], w[1])).collect();
    b.sort();
    b
}

/// Dice coefficient of the bigram multisets of `a` and `b`.
pub(super) fn bigram_similarity(a: &str, b: &str) -> f64 {
    let (x, y) = (bigrams(a), bigrams(b));
    if x.is_empty() || y.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

/// Why two facility names (legal-entity prefixes already removed) look like one facility.
pub(super) fn alike(a: &str, b: &str) -> Option<String> {
    if a == b {
        return Some("same name".into());
    }
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    if short.chars().count() >= 3 && long.contains(short) {
        return Some("name contains".into());
    }
    let s = bigram_similarity(a, b);
    (s >= BIGRAM_ALIKE).then(|| format!("bigram {s:.2}"))
}

/// Every pair of facilities with the same numbered address key and alike names.
pub(super) fn near_duplicates(facilities: &[Facility], prefecture: &str) -> Vec<NearDuplicate> {
    let mut groups: BTreeMap<(u8, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in facilities.iter().enumerate() {
        let key = address::join_key(&f.address.text, prefecture);
        if key.chars().any(|c| c.is_ascii_digit()) {
            groups.entry((family(f.kind), key)).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let names: Vec<String> = members
            .iter()
            .map(|&i| norm::facility_name(&facilities[i].name))
            .collect();
        for x in 0..members.len() {
            for y in x + 1..members.len() {
                if let Some(why) = alike(&names[x], &names[y]) {
                    let (a, b) = (&facilities[members[x]], &facilities[members[y]]);
                    out.push(NearDuplicate {
                        a: super::input::describe(a),
                        b: super::input::describe(b),
                        why,
                    });
                }
            }
        }
    }
    out.sort_by(|p, q| (&p.a, &p.b).cmp(&(&q.a, &q.b)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alike_names() {
        assert_eq!(
            alike("さいたま中央病院", "さいたま中央病院").as_deref(),
            Some("same name")
        );
        assert_eq!(
            alike("川越クリニック", "しらさき川越クリニック").as_deref(),
            Some("name contains")
        );
        assert!(alike("さくら内科", "さくら歯科").is_none());
        assert!(alike("田中医院", "田中歯科医院").is_none());
        assert!(alike("辻川ホームクリニック", "川ホームクリニック").is_some());
        assert!(alike("ましろ訪問看護ステーション", "しむら訪問看護ステーション").is_none());
    }
}
