//! Offline geocoding: address normalization and lookup in the town-level reference
//! (Geolonia japanese-addresses, built from 国土交通省 位置参照情報). No network, no I/O here.

mod normalize;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::domain::{Coverage, Geocoder, Placement};
pub use crate::domain::{GeocodeMatch, GeocodeMiss, MuniRef, TownRef};

use normalize::strip_aza;
pub use normalize::{normalize, strip_gun};

/// The in-memory reference: municipalities and their towns, with lookup indexes.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    munis: Vec<MuniRef>,
    towns: Vec<TownRef>,
    index: Index,
}

#[derive(Debug, Clone, Default)]
struct Index {
    /// Normalized prefecture names, longest first, with the original spelling.
    prefectures: Vec<(String, String)>,
    /// Normalized municipality name (with and without 郡) → municipality indexes, by code.
    muni_keys: HashMap<String, Vec<usize>>,
    /// Normalized 政令市 name (`さいたま市`) → its wards.
    cities: HashMap<String, Vec<usize>>,
    /// Longest key of `muni_keys`/`cities`, in chars.
    max_muni_chars: usize,
    /// Per municipality (same order as `munis`).
    per_muni: Vec<MuniIndex>,
}

#[derive(Debug, Clone, Default)]
struct MuniIndex {
    /// Normalized town name (大字 dropped) → its entries.
    towns: HashMap<String, TownGroup>,
    /// Bases of `…N丁目`/`…N丁` towns (`大原` for `大原12丁目`): display name and the
    /// entry standing for the whole 町 when no 丁目 is given.
    chome_bases: HashMap<String, (String, usize)>,
    max_town_chars: usize,
    /// Representative point: the town point nearest the mean of all town points.
    point: Option<(f64, f64)>,
}

#[derive(Debug, Clone)]
struct TownGroup {
    /// Entry used when no 小字 is recognised.
    default: usize,
    /// Normalized 小字 → entry, longest first.
    koaza: Vec<(String, usize)>,
}

/// Whether the input is a postal code and nothing else: `〒344-0067`, `344-0067`, `3440067`
/// (full- or half-width, spaces ignored).
fn is_postal_code(address: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let s: String = address.nfkc().filter(|c| !c.is_whitespace()).collect();
    let s = s.strip_prefix('〒').unwrap_or(&s);
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | 'ー' | '‐' | '−' | '－'))
        .collect();
    digits.len() == 7 && digits.chars().all(|c| c.is_ascii_digit()) && s.len() <= 8
}

impl Geocoder for Gazetteer {
    fn geocode(&self, address: &str) -> Result<GeocodeMatch, GeocodeMiss> {
        Gazetteer::geocode(self, address)
    }

    fn coverage(&self) -> Coverage {
        let mut prefectures: Vec<(String, String)> = Vec::new();
        for (mi, m) in self.munis.iter().enumerate() {
            let has_towns = !self.index.per_muni[mi].towns.is_empty();
            let key = m.code.get(..2).unwrap_or("").to_string();
            if has_towns && !prefectures.iter().any(|(_, p)| *p == m.prefecture) {
                prefectures.push((key, m.prefecture.clone()));
            }
        }
        prefectures.sort();
        Coverage {
            prefectures: prefectures.into_iter().map(|(_, p)| p).collect(),
            municipalities: self
                .index
                .per_muni
                .iter()
                .filter(|m| !m.towns.is_empty())
                .count(),
            towns: self.towns.len(),
        }
    }
}

/// Markers after which Kyoto-style addresses give the town (`…通広小路上る梶井町`).
const KYOTO_MARKERS: &[&str] = &[
    "上る", "下る", "上ル", "下ル", "入る", "入ル", "東入", "西入",
];

impl Gazetteer {
    pub fn new(munis: Vec<MuniRef>, towns: Vec<TownRef>) -> Self {
        let index = Index::build(&munis, &towns);
        Gazetteer {
            munis,
            towns,
            index,
        }
    }

    pub fn municipalities(&self) -> &[MuniRef] {
        &self.munis
    }

    /// Number of town records held.
    pub fn town_count(&self) -> usize {
        self.towns.len()
    }

    /// Representative point of a municipality (a real town point near the middle of its
    /// towns), by 5-digit code.
    pub fn municipality_point(&self, code: &str) -> Option<(f64, f64)> {
        let mi = self.munis.iter().position(|m| m.code == code)?;
        self.index.per_muni[mi].point
    }

    /// Geocode an address to its 町丁目/大字 (level `Town`) or, failing that, to its
    /// municipality (level `City`).
    pub fn geocode(&self, address: &str) -> Result<GeocodeMatch, GeocodeMiss> {
        let normalized = normalize(address);
        let (prefecture, rest) = match self
            .index
            .prefectures
            .iter()
            .find(|(key, _)| normalized.starts_with(key.as_str()))
        {
            Some((key, name)) => (Some(name.as_str()), &normalized[key.len()..]),
            None => (None, normalized.as_str()),
        };
        let in_pref = |mi: &usize| prefecture.is_none_or(|p| self.munis[*mi].prefecture == p);

        // Municipality: longest name that prefixes the rest.
        for end in char_ends(rest, self.index.max_muni_chars) {
            let key = &rest[..end];
            let after = &rest[end..];
            let cands: Vec<usize> = self
                .index
                .muni_keys
                .get(key)
                .map(|v| v.iter().copied().filter(in_pref).collect())
                .unwrap_or_default();
            if let Some(&first) = cands.first() {
                // Several municipalities share the name (no prefecture given): the first, by
                // code, whose towns match; else the first by code.
                for &mi in &cands {
                    // `佐世保市佐世保市江迎町…`, `児玉郡神川町神川町新里…`: a repeated name.
                    let short = normalize(strip_gun(&self.munis[mi].name));
                    let after = after
                        .strip_prefix(key)
                        .or_else(|| after.strip_prefix(short.as_str()))
                        .unwrap_or(after);
                    if let Some((ti, name)) = self.match_town(mi, after) {
                        return Ok(self.town_match(mi, ti, name, normalized.clone()));
                    }
                }
                return match self.index.per_muni[first].point {
                    Some((lat, lng)) => Ok(self.city_match(first, lat, lng, normalized.clone())),
                    None => Err(GeocodeMiss {
                        normalized: normalized.clone(),
                        prefecture: Some(self.munis[first].prefecture.clone()),
                        postal_code_only: false,
                    }),
                };
            }
            if let Some(wards) = self.index.cities.get(key) {
                // 政令市 without its ward: look for the town in every ward.
                let find = |rest: &str| {
                    wards
                        .iter()
                        .filter(|mi| in_pref(mi))
                        .find_map(|&mi| self.match_town(mi, rest).map(|(ti, n)| (mi, ti, n)))
                };
                // A ward the reference does not know (renamed or new wards): skip it.
                let unknown_ward = after
                    .char_indices()
                    .take(5)
                    .find(|(_, c)| *c == '区')
                    .map(|(i, c)| &after[i + c.len_utf8()..]);
                let hit = find(after).or_else(|| unknown_ward.and_then(find));
                if let Some((mi, ti, name)) = hit {
                    return Ok(self.town_match(mi, ti, name, normalized.clone()));
                }
                if let Some(&mi) = wards.iter().find(|mi| in_pref(mi)) {
                    return Err(GeocodeMiss {
                        normalized: normalized.clone(),
                        prefecture: Some(self.munis[mi].prefecture.clone()),
                        postal_code_only: false,
                    });
                }
            }
        }
        let prefecture = prefecture.map(str::to_string);
        Err(GeocodeMiss {
            postal_code_only: is_postal_code(address),
            normalized,
            prefecture,
        })
    }

    fn town_match(
        &self,
        mi: usize,
        ti: usize,
        name: Cow<'_, str>,
        normalized: String,
    ) -> GeocodeMatch {
        let m = &self.munis[mi];
        let t = &self.towns[ti];
        GeocodeMatch {
            lat: t.lat,
            lng: t.lng,
            level: Placement::Town,
            normalized,
            prefecture: m.prefecture.clone(),
            municipality_code: m.code.clone(),
            municipality: m.name.clone(),
            area_code: m.area_code.clone(),
            town: Some(name.into_owned()),
        }
    }

    fn city_match(&self, mi: usize, lat: f64, lng: f64, normalized: String) -> GeocodeMatch {
        let m = &self.munis[mi];
        GeocodeMatch {
            lat,
            lng,
            level: Placement::City,
            normalized,
            prefecture: m.prefecture.clone(),
            municipality_code: m.code.clone(),
            municipality: m.name.clone(),
            area_code: m.area_code.clone(),
            town: None,
        }
    }

    /// The town of municipality `mi` that `rest` (normalized, after the municipality) starts
    /// with: entry index and reference town name.
    fn match_town(&self, mi: usize, rest: &str) -> Option<(usize, Cow<'_, str>)> {
        self.match_town_at(mi, rest).or_else(|| {
            // Kyoto style: street + direction, then the town.
            let cut = KYOTO_MARKERS
                .iter()
                .filter_map(|m| rest.rfind(m).map(|p| p + m.len()))
                .max()?;
            self.match_town_at(mi, &rest[cut..])
        })
    }

    fn match_town_at(&self, mi: usize, rest: &str) -> Option<(usize, Cow<'_, str>)> {
        let idx = &self.index.per_muni[mi];
        let rest = town_key(rest);
        let entry_name = |e: usize| Cow::Borrowed(self.towns[e].town.as_str());
        for end in char_ends(&rest, idx.max_town_chars) {
            let key = &rest[..end];
            let group = idx.towns.get(key);
            let base = idx.chome_bases.get(key);
            if group.is_none() && base.is_none() {
                continue;
            }
            let after = &rest[end..];
            if base.is_some()
                && let Some((n, after_n)) = chome_number(after)
            {
                let chome = idx
                    .towns
                    .get(&format!("{key}{n}丁目"))
                    .or_else(|| idx.towns.get(&format!("{key}{n}丁")));
                if let Some(g) = chome {
                    let e = self.pick(g, after_n);
                    return Some((e, entry_name(e)));
                }
            }
            if let Some(g) = group {
                let e = self.pick(g, after);
                return Some((e, entry_name(e)));
            }
            // Only 丁目 entries exist and none was given (or the given one is unknown): the
            // 町 as a whole.
            if let Some((name, e)) = base {
                return Some((*e, Cow::Borrowed(name.as_str())));
            }
        }
        None
    }

    fn pick(&self, group: &TownGroup, after: &str) -> usize {
        let after = strip_aza(after);
        group
            .koaza
            .iter()
            .find(|(k, _)| after.starts_with(k.as_str()))
            .map_or(group.default, |(_, e)| *e)
    }
}

/// Matching key of a (normalized) town name or address remainder: `大字` dropped anywhere,
/// a leading `字`/`小字` dropped.
fn town_key(s: &str) -> Cow<'_, str> {
    if s.contains("大字") {
        Cow::Owned(strip_aza(&s.replace("大字", "")).to_string())
    } else {
        Cow::Borrowed(strip_aza(s))
    }
}

/// `大原` for the key `大原12丁目` or `今池町3丁`.
fn chome_base(key: &str) -> Option<&str> {
    let head = key
        .strip_suffix("丁目")
        .or_else(|| key.strip_suffix('丁'))?;
    let base = head.trim_end_matches(|c: char| c.is_ascii_digit());
    (base.len() < head.len() && !base.is_empty()).then_some(base)
}

/// Reference spelling of a 丁目 town's base: `北浦和四丁目` → `北浦和`, `大字` dropped.
fn display_base(town: &str) -> String {
    let head = town
        .strip_suffix("丁目")
        .or_else(|| town.strip_suffix('丁'))
        .unwrap_or(town);
    let head =
        head.trim_end_matches(|c: char| "〇一二三四五六七八九十".contains(c) || c.is_ascii_digit());
    head.replace("大字", "")
}

/// A 丁目 number given without 丁目 right after a town (`4-9-3`, `4`, `4丁目`), not a 番地
/// (`12番地`): the number and the text after it.
fn chome_number(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return None;
    }
    let after = &s[digits..];
    if after.starts_with('番') || after.starts_with('号') {
        return None;
    }
    let n = s[..digits].parse().ok()?;
    let after = after
        .strip_prefix("丁目")
        .or_else(|| after.strip_prefix('丁'))
        .unwrap_or(after);
    Some((n, after))
}

/// Byte offsets of the first `max_chars` char ends of `s`, longest first.
fn char_ends(s: &str, max_chars: usize) -> impl Iterator<Item = usize> {
    let ends: Vec<usize> = s
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take(max_chars)
        .collect();
    ends.into_iter().rev()
}

impl Index {
    fn build(munis: &[MuniRef], towns: &[TownRef]) -> Index {
        let mut order: Vec<usize> = (0..munis.len()).collect();
        order.sort_by(|a, b| munis[*a].code.cmp(&munis[*b].code));

        let mut prefectures: Vec<(String, String)> = Vec::new();
        let mut muni_keys: HashMap<String, Vec<usize>> = HashMap::new();
        let mut cities: HashMap<String, Vec<usize>> = HashMap::new();
        for &mi in &order {
            let m = &munis[mi];
            let pk = normalize(&m.prefecture);
            if !prefectures.iter().any(|(k, _)| *k == pk) {
                prefectures.push((pk, m.prefecture.clone()));
            }
            let full = normalize(&m.name);
            let short = normalize(strip_gun(&m.name));
            for key in [full, short] {
                let v = muni_keys.entry(key).or_default();
                if !v.contains(&mi) {
                    v.push(mi);
                }
            }
            // 政令市 ward: `さいたま市浦和区` → city `さいたま市`.
            if m.name.ends_with('区')
                && let Some(p) = m.name.find('市')
                && p + '市'.len_utf8() < m.name.len() - '区'.len_utf8()
            {
                let city = normalize(&m.name[..p + '市'.len_utf8()]);
                cities.entry(city).or_default().push(mi);
            }
        }
        prefectures.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let max_muni_chars = muni_keys
            .keys()
            .chain(cities.keys())
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);

        let code_to_idx: HashMap<&str, usize> = munis
            .iter()
            .enumerate()
            .map(|(i, m)| (m.code.as_str(), i))
            .collect();
        // Group entries per municipality and town key.
        let mut grouped: Vec<HashMap<String, Vec<usize>>> = vec![HashMap::new(); munis.len()];
        for (ti, t) in towns.iter().enumerate() {
            if let Some(&mi) = code_to_idx.get(t.muni_code.as_str()) {
                let key = town_key(&normalize(&t.town)).into_owned();
                if !key.is_empty() {
                    grouped[mi].entry(key).or_default().push(ti);
                }
            }
        }
        let per_muni = grouped
            .into_iter()
            .map(|g| MuniIndex::build(g, towns))
            .collect();
        Index {
            prefectures,
            muni_keys,
            cities,
            max_muni_chars,
            per_muni,
        }
    }
}

impl MuniIndex {
    fn build(grouped: HashMap<String, Vec<usize>>, towns: &[TownRef]) -> MuniIndex {
        let all: Vec<usize> = grouped.values().flatten().copied().collect();
        let point = nearest_to_mean(&all, towns).map(|i| (towns[i].lat, towns[i].lng));
        let mut idx = MuniIndex {
            point,
            ..MuniIndex::default()
        };
        let mut bases: HashMap<String, Vec<usize>> = HashMap::new();
        for (key, mut entries) in grouped {
            entries.sort_unstable();
            idx.max_town_chars = idx.max_town_chars.max(key.chars().count());
            if let Some(base) = chome_base(&key) {
                bases
                    .entry(base.to_string())
                    .or_default()
                    .extend(entries.iter().copied());
            }
            let plain: Vec<usize> = entries
                .iter()
                .copied()
                .filter(|&e| towns[e].koaza.is_empty())
                .collect();
            let default = if plain.is_empty() {
                nearest_to_mean(&entries, towns).unwrap_or(entries[0])
            } else {
                plain[0]
            };
            let mut koaza: Vec<(String, usize)> = entries
                .iter()
                .filter(|&&e| !towns[e].koaza.is_empty())
                .map(|&e| (strip_aza(&normalize(&towns[e].koaza)).to_string(), e))
                .filter(|(k, _)| !k.is_empty())
                .collect();
            koaza.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
            idx.towns.insert(key, TownGroup { default, koaza });
        }
        // `堀の内1-210` for `堀の内町一丁目`: a 丁目 base may drop its trailing 町 when that
        // collides with nothing.
        let aliases: Vec<(String, String)> = bases
            .keys()
            .filter_map(|b| Some((b.strip_suffix('町')?.to_string(), b.clone())))
            .filter(|(a, _)| {
                a.chars().count() >= 2 && !bases.contains_key(a) && !idx.towns.contains_key(a)
            })
            .collect();
        for (base, entries) in &bases {
            let Some(e) = nearest_to_mean(entries, towns) else {
                continue;
            };
            let name = display_base(&towns[e].town);
            idx.chome_bases.insert(base.clone(), (name, e));
        }
        for (alias, base) in aliases {
            for n in 1..=30 {
                for suffix in ["丁目", "丁"] {
                    if let Some(g) = idx.towns.get(&format!("{base}{n}{suffix}")).cloned() {
                        idx.towns.entry(format!("{alias}{n}{suffix}")).or_insert(g);
                    }
                }
            }
            if let Some(v) = idx.chome_bases.get(&base).cloned() {
                idx.chome_bases.insert(alias, v);
            }
        }
        idx
    }
}

/// The entry whose point is nearest the mean point of `entries`.
fn nearest_to_mean(entries: &[usize], towns: &[TownRef]) -> Option<usize> {
    if entries.is_empty() {
        return None;
    }
    let n = entries.len() as f64;
    let lat = entries.iter().map(|&e| towns[e].lat).sum::<f64>() / n;
    let lng = entries.iter().map(|&e| towns[e].lng).sum::<f64>() / n;
    let k = lat.to_radians().cos();
    entries.iter().copied().min_by(|&a, &b| {
        let d = |e: usize| {
            let dy = towns[e].lat - lat;
            let dx = (towns[e].lng - lng) * k;
            dx * dx + dy * dy
        };
        d(a).total_cmp(&d(b)).then(a.cmp(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn muni(code: &str, prefecture: &str, name: &str) -> MuniRef {
        MuniRef {
            code: code.into(),
            prefecture: prefecture.into(),
            name: name.into(),
            area_code: Some(format!("{}01", &code[..2])),
        }
    }

    fn town(muni_code: &str, town: &str, koaza: &str, lat: f64, lng: f64) -> TownRef {
        TownRef {
            muni_code: muni_code.into(),
            town: town.into(),
            koaza: koaza.into(),
            lat,
            lng,
        }
    }

    fn gazetteer() -> Gazetteer {
        let munis = vec![
            muni("11107", "埼玉県", "さいたま市浦和区"),
            muni("11101", "埼玉県", "さいたま市西区"),
            muni("11103", "埼玉県", "さいたま市大宮区"),
            muni("11201", "埼玉県", "川越市"),
            muni("11327", "埼玉県", "入間郡越生町"),
            muni("13101", "東京都", "千代田区"),
            muni("13206", "東京都", "府中市"),
            muni("34208", "広島県", "府中市"),
            muni("26102", "京都府", "京都市上京区"),
        ];
        let towns = vec![
            town("11107", "北浦和一丁目", "", 35.8710, 139.6450),
            town("11107", "北浦和二丁目", "", 35.8720, 139.6460),
            town("11107", "北浦和四丁目", "", 35.8740, 139.6480),
            town("11107", "大原", "", 35.8900, 139.6500),
            town("11107", "大原一丁目", "", 35.8917, 139.6538),
            town("11107", "大原十二丁目", "", 35.8950, 139.6600),
            town("11107", "常盤", "", 35.8650, 139.6500),
            town("11107", "本町", "", 35.8600, 139.6400),
            town("11107", "本町田", "", 35.8610, 139.6410),
            town("11107", "高砂一丁目", "", 35.8580, 139.6520),
            town("11103", "堀の内町一丁目", "", 35.9200, 139.6300),
            town("11101", "大字三条町", "", 35.8871, 139.5870),
            town("11101", "大字宝来", "", 35.9100, 139.5800),
            town("11101", "大字宝来", "北宝来", 35.9200, 139.5850),
            town("11201", "霞ケ関東一丁目", "", 35.9120, 139.4300),
            town("11327", "大字越生", "", 35.9600, 139.2900),
            town("11327", "大字黒山", "", 35.9700, 139.3000),
            town("11327", "大字上野", "", 35.9900, 139.3500),
            town("13101", "霞が関一丁目", "", 35.6750, 139.7520),
            town("13206", "宮西町一丁目", "", 35.6700, 139.4770),
            town("34208", "府川町", "", 34.5700, 133.2300),
            town("26102", "梶井町", "", 35.0230, 135.7690),
        ];
        Gazetteer::new(munis, towns)
    }

    #[test]
    fn postal_codes_are_ignored_before_an_address_and_named_when_alone() {
        let g = gazetteer();
        for address in [
            "〒330-0074 さいたま市浦和区北浦和4-9-3",
            "３３０－００７４　さいたま市浦和区北浦和4丁目",
        ] {
            assert_eq!(town_of(&g, address).1, "北浦和四丁目", "{address}");
        }
        for alone in ["〒344-0067", "344-0067", "３４４００６７", " 〒 344-0067 "] {
            let miss = g.geocode(alone).unwrap_err();
            assert!(miss.postal_code_only, "{alone}: {miss:?}");
        }
        let miss = g.geocode("存在しない市").unwrap_err();
        assert!(!miss.postal_code_only);
    }

    #[test]
    fn coverage_counts_what_has_towns() {
        let c = Geocoder::coverage(&gazetteer());
        assert_eq!(c.prefectures, ["埼玉県", "東京都", "京都府", "広島県"]);
        assert_eq!((c.municipalities, c.towns), (9, 22));
    }

    /// Town-level match: (municipality code, town name, lat, lng).
    fn town_of(g: &Gazetteer, address: &str) -> (String, String, f64, f64) {
        let m = g
            .geocode(address)
            .unwrap_or_else(|e| panic!("{address}: {e:?}"));
        assert_eq!(m.level, Placement::Town, "{address}: {m:?}");
        (m.municipality_code, m.town.expect("town"), m.lat, m.lng)
    }

    fn check(g: &Gazetteer, address: &str, code: &str, name: &str, lat: f64, lng: f64) {
        assert_eq!(
            town_of(g, address),
            (code.to_string(), name.to_string(), lat, lng),
            "{address}"
        );
    }

    #[test]
    fn chome_forms() {
        let g = gazetteer();
        for a in [
            "埼玉県さいたま市浦和区北浦和4-9-3",
            "埼玉県さいたま市浦和区北浦和四丁目9番3号",
            "埼玉県さいたま市浦和区北浦和4丁目9-3",
            "埼玉県　さいたま市浦和区　北浦和４－９－３",
            "さいたま市浦和区北浦和４ー９ー３",
            "さいたま市浦和区北浦和4‐9‐3",
            "〒330-0065 埼玉県さいたま市浦和区北浦和4-9-3",
        ] {
            check(&g, a, "11107", "北浦和四丁目", 35.8740, 139.6480);
        }
        let m = g
            .geocode("埼玉県さいたま市浦和区北浦和四丁目9番3号")
            .unwrap();
        assert_eq!(m.normalized, "埼玉県さいたま市浦和区北浦和4丁目9番3号");
        assert_eq!(m.prefecture, "埼玉県");
        assert_eq!(m.municipality, "さいたま市浦和区");
        assert_eq!(m.area_code.as_deref(), Some("1101"));
    }

    #[test]
    fn prefix_towns_prefer_longest_and_fall_back_to_base() {
        let g = gazetteer();
        check(
            &g,
            "さいたま市浦和区大原12-1",
            "11107",
            "大原十二丁目",
            35.8950,
            139.6600,
        );
        check(
            &g,
            "さいたま市浦和区大原十二丁目1番",
            "11107",
            "大原十二丁目",
            35.8950,
            139.6600,
        );
        check(
            &g,
            "さいたま市浦和区大原一丁目5",
            "11107",
            "大原一丁目",
            35.8917,
            139.6538,
        );
        check(
            &g,
            "さいたま市浦和区大原1-5",
            "11107",
            "大原一丁目",
            35.8917,
            139.6538,
        );
        // 三丁目 is not in the reference: the base town.
        check(
            &g,
            "さいたま市浦和区大原三丁目5",
            "11107",
            "大原",
            35.8900,
            139.6500,
        );
        check(
            &g,
            "さいたま市浦和区大原3-5",
            "11107",
            "大原",
            35.8900,
            139.6500,
        );
        // A 番地, not a 丁目.
        check(
            &g,
            "さいたま市浦和区大原12番地",
            "11107",
            "大原",
            35.8900,
            139.6500,
        );
        // No 丁目 entries: the plain town.
        check(
            &g,
            "さいたま市浦和区常盤4-9-3",
            "11107",
            "常盤",
            35.8650,
            139.6500,
        );
        check(
            &g,
            "さいたま市浦和区本町田5",
            "11107",
            "本町田",
            35.8610,
            139.6410,
        );
        check(
            &g,
            "さいたま市浦和区本町5",
            "11107",
            "本町",
            35.8600,
            139.6400,
        );
    }

    #[test]
    fn chome_only_town_without_number() {
        let g = gazetteer();
        // Only 丁目 entries exist: the 町 as a whole, at the entry nearest their mean.
        check(
            &g,
            "埼玉県さいたま市浦和区北浦和",
            "11107",
            "北浦和",
            35.8720,
            139.6460,
        );
        // 三丁目 unknown: same.
        check(
            &g,
            "埼玉県さいたま市浦和区北浦和3-1",
            "11107",
            "北浦和",
            35.8720,
            139.6460,
        );
        // `堀の内町一丁目` written without 町.
        check(
            &g,
            "さいたま市大宮区堀の内1-210",
            "11103",
            "堀の内町一丁目",
            35.9200,
            139.6300,
        );
        check(
            &g,
            "さいたま市大宮区堀ノ内１－２１０",
            "11103",
            "堀の内町一丁目",
            35.9200,
            139.6300,
        );
    }

    #[test]
    fn aza_and_koaza() {
        let g = gazetteer();
        check(
            &g,
            "埼玉県さいたま市西区三条町10",
            "11101",
            "大字三条町",
            35.8871,
            139.5870,
        );
        check(
            &g,
            "埼玉県さいたま市西区大字三条町10番地",
            "11101",
            "大字三条町",
            35.8871,
            139.5870,
        );
        check(
            &g,
            "さいたま市西区大字宝来字北宝来100",
            "11101",
            "大字宝来",
            35.9200,
            139.5850,
        );
        check(
            &g,
            "さいたま市西区宝来北宝来100",
            "11101",
            "大字宝来",
            35.9200,
            139.5850,
        );
        check(
            &g,
            "さいたま市西区宝来100",
            "11101",
            "大字宝来",
            35.9100,
            139.5800,
        );
    }

    #[test]
    fn gun_optional_and_city_level() {
        let g = gazetteer();
        check(
            &g,
            "埼玉県入間郡越生町大字越生1",
            "11327",
            "大字越生",
            35.9600,
            139.2900,
        );
        check(&g, "越生町越生1", "11327", "大字越生", 35.9600, 139.2900);
        check(
            &g,
            "埼玉県越生町大字黒山5",
            "11327",
            "大字黒山",
            35.9700,
            139.3000,
        );
        let m = g.geocode("埼玉県入間郡越生町9999番地").unwrap();
        assert_eq!(m.level, Placement::City);
        assert_eq!(m.town, None);
        assert_eq!(m.municipality_code, "11327");
        // Mean (35.9733, 139.3133): the nearest town point is 大字黒山.
        assert_eq!((m.lat, m.lng), (35.9700, 139.3000));
        assert_eq!(g.municipality_point("11327"), Some((35.9700, 139.3000)));
        assert_eq!(g.municipality_point("99999"), None);
    }

    #[test]
    fn ke_variants_and_old_kanji() {
        let g = gazetteer();
        for a in [
            "川越市霞が関東1-2-3",
            "川越市霞ヶ関東一丁目2",
            "川越市霞ケ関東1丁目",
            "川越市霞ヵ関東1",
        ] {
            check(&g, a, "11201", "霞ケ関東一丁目", 35.9120, 139.4300);
        }
        for a in [
            "東京都千代田区霞ケ関1-1-1",
            "東京都千代田区霞ヶ関一丁目1番1号",
        ] {
            check(&g, a, "13101", "霞が関一丁目", 35.6750, 139.7520);
        }
        check(
            &g,
            "さいたま市浦和区髙砂1-2",
            "11107",
            "高砂一丁目",
            35.8580,
            139.6520,
        );
    }

    #[test]
    fn trailing_building_and_brackets() {
        let g = gazetteer();
        for a in [
            "さいたま市浦和区北浦和4-9-3（ABCビル2F）",
            "さいたま市浦和区北浦和4-9-3 ABCビル2階",
            "さいたま市浦和区北浦和4丁目9-3北浦和メディカルプラザ",
            "さいたま市浦和区（北口）北浦和4-9-3",
        ] {
            check(&g, a, "11107", "北浦和四丁目", 35.8740, 139.6480);
        }
    }

    #[test]
    fn wards_and_designated_cities() {
        let g = gazetteer();
        // Ward omitted.
        check(
            &g,
            "埼玉県さいたま市北浦和4-9-3",
            "11107",
            "北浦和四丁目",
            35.8740,
            139.6480,
        );
        // A ward the reference does not know.
        check(
            &g,
            "さいたま市中部区北浦和4-9-3",
            "11107",
            "北浦和四丁目",
            35.8740,
            139.6480,
        );
        // Repeated municipality name.
        check(
            &g,
            "さいたま市浦和区さいたま市浦和区常盤1",
            "11107",
            "常盤",
            35.8650,
            139.6500,
        );
    }

    #[test]
    fn ambiguous_municipality_names() {
        let g = gazetteer();
        check(&g, "府中市府川町1", "34208", "府川町", 34.5700, 133.2300);
        check(
            &g,
            "府中市宮西町1-1",
            "13206",
            "宮西町一丁目",
            35.6700,
            139.4770,
        );
        let m = g.geocode("広島県府中市1").unwrap();
        assert_eq!(
            (m.level, m.municipality_code.as_str()),
            (Placement::City, "34208")
        );
        let m = g.geocode("府中市1").unwrap();
        assert_eq!(
            (m.level, m.municipality_code.as_str()),
            (Placement::City, "13206")
        );
        // The prefecture given excludes the other 府中市.
        let m = g.geocode("東京都府中市府川町1").unwrap();
        assert_eq!(
            (m.level, m.municipality_code.as_str()),
            (Placement::City, "13206")
        );
    }

    #[test]
    fn kyoto_street_style() {
        let g = gazetteer();
        check(
            &g,
            "京都府京都市上京区河原町通広小路上る梶井町465",
            "26102",
            "梶井町",
            35.0230,
            135.7690,
        );
        check(
            &g,
            "京都市上京区梶井町465",
            "26102",
            "梶井町",
            35.0230,
            135.7690,
        );
    }

    #[test]
    fn misses() {
        let g = gazetteer();
        assert_eq!(
            g.geocode("大阪府大阪市北区梅田１－１"),
            Err(GeocodeMiss {
                normalized: "大阪府大阪市北区梅田1-1".into(),
                prefecture: None,
                postal_code_only: false,
            })
        );
        assert_eq!(
            g.geocode("埼玉県どこか市1-1"),
            Err(GeocodeMiss {
                normalized: "埼玉県どこか市1-1".into(),
                prefecture: Some("埼玉県".into()),
                postal_code_only: false,
            })
        );
        assert!(g.geocode("").is_err());
        assert_eq!(g.municipalities().len(), 9);
        assert_eq!(g.town_count(), 22);
    }
}
