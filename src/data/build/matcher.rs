//! Joining sources by facility name and address: folded join keys, and a matcher that tries
//! stricter rules first and accepts only a unique candidate.

use std::collections::HashMap;

use super::norm;

#[derive(Debug, Clone)]
pub(super) struct JoinKey {
    pub name: String,
    pub addr: String,
    pub muni: Option<String>,
}

/// Candidates of one join, indexed by folded name and address key.
pub(super) struct Matcher {
    pub keys: Vec<JoinKey>,
    by_name: HashMap<String, Vec<usize>>,
    by_addr: HashMap<String, Vec<usize>>,
    by_muni: HashMap<String, Vec<usize>>,
}

impl Matcher {
    pub fn new(keys: Vec<JoinKey>) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_addr: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_muni: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            by_name.entry(k.name.clone()).or_default().push(i);
            if k.addr.chars().any(|c| c.is_ascii_digit()) {
                by_addr.entry(k.addr.clone()).or_default().push(i);
            }
            if let Some(m) = &k.muni {
                by_muni.entry(m.clone()).or_default().push(i);
            }
        }
        Matcher {
            keys,
            by_name,
            by_addr,
            by_muni,
        }
    }

    /// The one candidate that matches `q`, trying stricter rules first; `ok` filters candidates
    /// (already taken, conflicting codes).
    pub fn find(&self, q: &JoinKey, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
        let same_muni = |i: usize| q.muni.is_some() && self.keys[i].muni == q.muni;
        let unique =
            |c: Vec<usize>| -> Option<usize> { if c.len() == 1 { Some(c[0]) } else { None } };
        let empty = Vec::new();
        let named = self.by_name.get(&q.name).unwrap_or(&empty);
        // 1. Same name, compatible address.
        let c: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| ok(i) && norm::addresses_compatible(&self.keys[i].addr, &q.addr))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 2. Same address (with a number), compatible names.
        let c: Vec<usize> = self
            .by_addr
            .get(&q.addr)
            .unwrap_or(&empty)
            .iter()
            .copied()
            .filter(|&i| ok(i) && norm::names_compatible(&self.keys[i].name, &q.name))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 3. Same name in the same municipality.
        let c: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| ok(i) && same_muni(i))
            .collect();
        if let Some(i) = unique(c) {
            return Some(i);
        }
        // 4. Compatible names and addresses in the same municipality.
        let c: Vec<usize> = q
            .muni
            .as_ref()
            .and_then(|m| self.by_muni.get(m))
            .unwrap_or(&empty)
            .iter()
            .copied()
            .filter(|&i| {
                ok(i)
                    && norm::names_compatible(&self.keys[i].name, &q.name)
                    && norm::addresses_compatible(&self.keys[i].addr, &q.addr)
            })
            .collect();
        unique(c)
    }

    /// The one candidate with exactly `q`'s name and numbered address: evidence strong enough to
    /// override a conflicting code from a weaker join.
    pub fn exact(&self, q: &JoinKey, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
        if !q.addr.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let c: Vec<usize> = self
            .by_name
            .get(&q.name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| ok(i) && self.keys[i].addr == q.addr)
            .collect();
        if c.len() == 1 { Some(c[0]) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::build::address;

    fn key(name: &str, addr: &str) -> JoinKey {
        JoinKey {
            name: norm::facility_name(name),
            addr: address::join_key(addr, "埼玉県"),
            muni: Some("11201".into()),
        }
    }

    #[test]
    fn the_same_clinic_in_two_address_forms_is_one_candidate() {
        // しらさき川越クリニック: ナビイ writes 「３５－８８」, the 届出 list 「３５番８８」.
        let m = Matcher::new(vec![
            key("しらさき川越クリニック", "埼玉県川越市上野田町３５－８８"),
            key("しらさき眼科医院", "埼玉県川越市上野田町３５－８８"),
        ]);
        let q = key("しらさき川越クリニック", "川越市上野田町３５番８８");
        assert_eq!(m.exact(&q, &|_| true), Some(0));
        assert_eq!(m.find(&q, &|_| true), Some(0));
        // Not at another number.
        let q = key("しらさき川越クリニック", "川越市上野田町３５番４");
        assert_eq!(m.exact(&q, &|_| true), None);
    }
}
