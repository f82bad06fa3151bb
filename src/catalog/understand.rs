//! What a query means before it is searched: a phone number or postal code, and per word a
//! service or kind by its everyday name, a place (municipality, ward, town) or plain text.
//! The result is a list of [`Clause`]s for the text index, ANDed.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::abbreviations::{SERVICE_TERMS, Target};
use super::text::{Clause, normalize};
use crate::domain::{Municipality, ja};

/// The places and service words of one catalog, normalized for lookup.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Normalized place form (浦和区, 浦和, さいたま市, 所沢) → municipality codes.
    places: HashMap<String, Vec<String>>,
    /// Full municipality names (ending in 市区町村), longest first, for town names that start
    /// with one (所沢市東狭山ケ丘).
    full_names: Vec<String>,
    services: HashMap<String, &'static [Target]>,
}

/// One understood query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Understood {
    /// The user's words (as typed, normalized) with their clauses, in query order.
    pub clauses: Vec<(String, Clause)>,
    /// The whole query compacted (no spaces or punctuation), to tell whether the user typed
    /// a facility's name.
    pub name_probe: String,
}

impl Vocabulary {
    pub fn new<'a>(municipalities: impl Iterator<Item = &'a Municipality>) -> Vocabulary {
        let mut v = Vocabulary::default();
        let add = |form: String, code: &str, v: &mut Vocabulary| {
            let codes = v.places.entry(form).or_default();
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_string());
            }
        };
        for m in municipalities {
            let name = normalize(&m.name);
            v.full_names.push(name.clone());
            add(name.clone(), &m.code, &mut v);
            // 政令市の区: さいたま市浦和区 → 浦和区, 浦和, さいたま市, さいたま.
            let (city, ward) = match name.find('市') {
                Some(i) if i + '市'.len_utf8() < name.len() && name.ends_with('区') => (
                    &name[..i + '市'.len_utf8()],
                    Some(&name[i + '市'.len_utf8()..]),
                ),
                _ => (name.as_str(), None),
            };
            if let Some(ward) = ward {
                add(ward.to_string(), &m.code, &mut v);
                add(city.to_string(), &m.code, &mut v);
                if let Some(stem) = stem(ward) {
                    add(stem, &m.code, &mut v);
                }
                if !v.full_names.iter().any(|n| n == city) {
                    v.full_names.push(city.to_string());
                }
            }
            if let Some(stem) = stem(city) {
                add(stem, &m.code, &mut v);
            }
        }
        v.full_names
            .sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        for (term, targets) in SERVICE_TERMS {
            v.services.insert(normalize(term), *targets);
        }
        v
    }

    /// The municipality codes a normalized word names exactly, if it is a place.
    pub fn place(&self, word: &str) -> Option<&[String]> {
        self.places.get(word).map(Vec::as_slice)
    }

    /// Normalized place forms starting with `prefix`, with their codes (for type-ahead).
    pub fn places_starting(&self, prefix: &str) -> impl Iterator<Item = (&str, &[String])> {
        self.places
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The services or kinds a normalized word names, if any.
    pub fn service(&self, word: &str) -> Option<&'static [Target]> {
        self.services.get(word).copied()
    }

    pub fn understand(&self, query: &str) -> Understood {
        let name_probe = ja::compact(query);
        if let Some(tags) = number_tags(query) {
            return Understood {
                clauses: vec![(
                    query.trim().to_string(),
                    Clause {
                        word: None,
                        tags,
                        ..Clause::default()
                    },
                )],
                name_probe,
            };
        }
        let normalized = normalize(query);
        let mut clauses: Vec<(String, Clause)> = Vec::new();
        for w in normalized.split_whitespace() {
            if clauses.iter().any(|(u, _)| u == w) {
                continue;
            }
            clauses.push((w.to_string(), self.clause(w)));
        }
        // A service asked for in a place means that service in that place: the place is the
        // address, not a word of the name (「緩和病棟 さいたま」 is not 埼玉協同病院).
        if clauses.iter().any(|(_, c)| !c.place && !c.tags.is_empty()) {
            for (_, c) in &mut clauses {
                c.address_only = c.place;
            }
        }
        Understood {
            clauses,
            name_probe,
        }
    }

    fn clause(&self, w: &str) -> Clause {
        let word = Some(w.to_string());
        if let Some(targets) = self.service(w) {
            let tags = targets
                .iter()
                .map(|t| match t {
                    Target::Service(s) => format!("svc:{}", s.code()),
                    Target::Kind(k) => format!("kind:{}", k.code()),
                })
                .collect();
            return Clause {
                word,
                tags,
                ..Clause::default()
            };
        }
        if let Some(tags) = number_tags(w) {
            return Clause {
                word: None,
                tags,
                ..Clause::default()
            };
        }
        let place = w
            .strip_prefix("埼玉県")
            .filter(|p| !p.is_empty())
            .unwrap_or(w);
        if let Some(codes) = self.place(place) {
            return Clause {
                word: Some(place.to_string()),
                tags: codes.iter().map(|c| format!("muni:{c}")).collect(),
                place: true,
                address_only: false,
            };
        }
        // A town under its municipality (所沢市東狭山ケ丘): the address must hold it.
        if self
            .full_names
            .iter()
            .any(|n| place.len() > n.len() && place.starts_with(n.as_str()))
            && !place.contains("病院")
        {
            return Clause {
                word: Some(place.to_string()),
                place: true,
                ..Clause::default()
            };
        }
        Clause {
            word,
            ..Clause::default()
        }
    }

    /// The service words and places inside a longer word (「往診してくれる医者」 holds 往診,
    /// 「上尾の病院」 上尾 and 病院), as clauses; for words that match nothing as they are.
    pub fn embedded(&self, w: &str) -> Vec<Clause> {
        let mut out = Vec::new();
        let longest = |keys: &mut dyn Iterator<Item = &String>| -> Option<String> {
            keys.filter(|k| k.chars().count() >= 2 && w.contains(k.as_str()) && k.as_str() != w)
                .max_by_key(|k| k.len())
                .cloned()
        };
        let service = longest(&mut self.services.keys());
        let rest = service
            .as_deref()
            .map_or(w.to_string(), |s| w.replacen(s, " ", 1));
        let place = longest(&mut self.places.keys()).filter(|p| rest.contains(p.as_str()));
        if let Some(term) = &service {
            out.push(self.clause(term));
        }
        if let Some(place) = &place {
            let mut c = self.clause(place);
            c.address_only = true;
            out.push(c);
        }
        out
    }
}

/// A municipality or ward name without its 市/町/村/区, when two characters or more remain.
fn stem(name: &str) -> Option<String> {
    let s = name
        .strip_suffix('市')
        .or_else(|| name.strip_suffix('町'))
        .or_else(|| name.strip_suffix('村'))
        .or_else(|| name.strip_suffix('区'))?;
    (s.chars().count() >= 2).then(|| s.to_string())
}

/// Tags of a query that is a phone number or postal code, typed with or without hyphens,
/// spaces or parentheses, in half- or full-width digits, with an optional 〒 or TEL.
pub fn number_tags(s: &str) -> Option<Vec<String>> {
    let s: String = s.nfkc().collect::<String>().to_lowercase();
    let s = s.trim();
    let s = ["〒", "tel:", "tel", "電話", "☎"]
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s);
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !(c.is_whitespace() || ja::is_hyphen(c) || "()ー".contains(c)) {
            return None;
        }
    }
    Some(match digits.len() {
        10 | 11 => vec![format!("tel:{digits}")],
        7 => vec![format!("postal:{digits}"), format!("tel:{digits}")],
        6 | 8 => vec![format!("tel:{digits}")],
        _ => return None,
    })
}

/// The tags a public phone number is found by: all its digits, and the digits after the area
/// code (the part people type for a local call).
pub fn phone_tags(value: &str) -> Vec<String> {
    let digits = ja::digits(value);
    if digits.len() < 6 {
        return Vec::new();
    }
    let mut tags = vec![format!("tel:{digits}")];
    let nfkc: String = value.nfkc().collect();
    let parts: Vec<&str> = nfkc
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() >= 3 {
        let local: String = parts[1..].concat();
        if local.len() >= 6 && local != digits {
            tags.push(format!("tel:{local}"));
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn muni(code: &str, name: &str) -> Municipality {
        Municipality {
            code: code.into(),
            name: name.into(),
            pref_code: "11".into(),
            area_code: "1104".into(),
            geometry: None,
        }
    }

    #[test]
    fn numbers() {
        let tel = |d: &str| Some(vec![format!("tel:{d}")]);
        assert_eq!(number_tags("048-882-4950"), tel("0488824950"));
        assert_eq!(number_tags("０４８ ８８２ ４９５０"), tel("0488824950"));
        assert_eq!(number_tags("(048)882-4950"), tel("0488824950"));
        assert_eq!(number_tags("TEL 048-882-4950"), tel("0488824950"));
        assert_eq!(
            number_tags("〒330-0072"),
            Some(vec!["postal:3300072".into(), "tel:3300072".into()])
        );
        assert_eq!(number_tags("第2病棟"), None);
        assert_eq!(number_tags("12"), None);
        assert_eq!(
            phone_tags("048-882-4950"),
            ["tel:0488824950", "tel:8824950"]
        );
    }

    #[test]
    fn words() {
        let v = Vocabulary::new(
            [
                muni("11107", "さいたま市浦和区"),
                muni("11103", "さいたま市大宮区"),
                muni("11208", "所沢市"),
                muni("11223", "蕨市"),
            ]
            .iter(),
        );
        let u = v.understand("往診 所沢");
        assert_eq!(u.clauses[0].1.tags, ["svc:home_care_support"]);
        assert_eq!(u.clauses[1].1.tags, ["muni:11208"]);
        assert!(u.clauses[1].1.place);
        assert_eq!(v.understand("浦和区").clauses[0].1.tags, ["muni:11107"]);
        assert_eq!(v.understand("浦和").clauses[0].1.tags, ["muni:11107"]);
        let mut city = v.understand("さいたま市").clauses[0].1.tags.clone();
        city.sort();
        assert_eq!(city, ["muni:11103", "muni:11107"]);
        // 蕨 alone is too short to be taken for the city; 蕨市 is.
        assert!(!v.understand("蕨").clauses[0].1.place);
        assert!(v.understand("蕨市").clauses[0].1.place);
        let town = &v.understand("所沢市東狭山ケ丘").clauses[0].1;
        assert!(town.place && town.tags.is_empty());
        assert!(!v.understand("さくら病院").clauses[0].1.place);
        assert_eq!(
            v.understand("訪問看護").clauses[0].1.tags,
            ["kind:visiting_nurse_station", "svc:visiting_nursing"]
        );
    }
}
