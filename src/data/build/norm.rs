//! Text normalization used for joining sources: facility names, addresses, 和暦 dates.

use unicode_normalization::UnicodeNormalization;

use crate::domain::ja::{self, Profile};

/// Legal-entity prefixes, longest first so that e.g. 社会医療法人社団 wins over 医療法人.
const LEGAL_PREFIXES: &[&str] = &[
    "地方独立行政法人",
    "国立研究開発法人",
    "社会医療法人財団",
    "社会医療法人社団",
    "国家公務員共済組合連合会",
    "独立行政法人",
    "特定医療法人財団",
    "特定医療法人社団",
    "社会医療法人",
    "医療法人社団",
    "医療法人財団",
    "特定医療法人",
    "特別医療法人",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "社会福祉法人",
    "医療生活協同組合",
    "生活協同組合",
    "医療法人",
    "学校法人",
    "宗教法人",
    "社団法人",
    "財団法人",
    "株式会社",
    "有限会社",
];

/// Endings of a corporation's own name (the part between the legal prefix and the facility).
const CORP_TERMINATORS: &[&str] = &["機構", "財団", "社団", "会", "団"];

/// [`ja::Profile::Names`]: NFKC, no whitespace, common variant kanji, ヶ/ヵ → ケ, dashes as `-`.
/// Shared by names, addresses (municipality prefixes) and dates.
pub fn fold(s: &str) -> String {
    ja::fold(s, Profile::Names)
}

/// The facility part of a name: folded, legal-entity prefix and the corporation name removed.
/// `医療法人社団 恵仁会 与野中央病院` → `与野中央病院`; `医療法人石川会石川医院` → `石川医院`.
pub fn facility_name(raw: &str) -> String {
    // Work on the NFKC form with whitespace kept, to use spaces as the separator when present.
    let spaced: String = raw.nfkc().collect::<String>().trim().to_string();
    let mut rest = spaced.as_str();
    let mut stripped = false;
    // Prefixes may repeat (e.g. 医療法人社団 then the corp name); strip at most two rounds.
    for _ in 0..2 {
        let t = rest.trim_start();
        let Some(p) = LEGAL_PREFIXES.iter().find(|p| t.starts_with(**p)) else {
            break;
        };
        rest = t[p.len()..].trim_start();
        stripped = true;
    }
    let owned: String;
    if stripped {
        let tokens: Vec<&str> = rest
            .split(char::is_whitespace)
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.len() > 1 {
            // `恵仁会 与野中央病院`: the first token is the corporation when it ends like one.
            let first_is_corp = CORP_TERMINATORS.iter().any(|t| tokens[0].ends_with(t));
            let last = tokens[tokens.len() - 1];
            owned = if first_is_corp {
                tokens[1..].concat()
            } else if last.chars().count() >= 3 {
                last.to_string()
            } else {
                tokens.concat()
            };
            rest = &owned;
        } else {
            // No spaces: cut after the first corporation terminator, if a facility part remains.
            let mut best: Option<usize> = None;
            for t in CORP_TERMINATORS {
                if let Some(i) = rest.find(t) {
                    let end = i + t.len();
                    if end < rest.len() && best.is_none_or(|b| end < b) {
                        best = Some(end);
                    }
                }
            }
            if let Some(end) = best {
                let tail = &rest[end..];
                // `医療法人埼玉成恵会病院` must not become `病院`.
                if tail.chars().count() >= 3 {
                    rest = tail;
                }
            }
        }
    }
    // Names use dashes for long vowels inconsistently (リハビリテ-ション).
    let out = fold(rest).replace('-', "ー");
    if out.is_empty() {
        fold(raw).replace('-', "ー")
    } else {
        out
    }
}

/// Whether two folded facility names denote the same facility by containment (one ends the other),
/// e.g. `埼玉医科大学病院` vs `学校法人埼玉医科大学埼玉医科大学病院`.
pub fn names_compatible(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    short.chars().count() >= 3 && long.ends_with(short)
}

/// An address folded for comparison: prefecture removed, 大字/字 dropped, 丁目/番地/番/号 as `-`,
/// kanji 丁目 numbers as digits, and everything after the first number block (building, floor) cut.
pub fn address_key(raw: &str, prefecture: &str) -> String {
    // The geocoder's normalization already writes kanji 丁目 numbers as digits and is a superset
    // of [`fold`].
    let mut s = crate::geocode::normalize(raw);
    if let Some(r) = s.strip_prefix(prefecture) {
        s = r.to_string();
    }
    s = s.replace("大字", "").replace("字", "");
    let s = s
        .replace("丁目", "-")
        .replace("番地の", "-")
        .replace("番地", "-")
        .replace("番", "-")
        // 号 ends the number block (`11号1階`).
        .replace("号", "-#");
    // `ー` used as a dash between digits.
    let chars: Vec<char> = s.chars().collect();
    let mut t = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if (c == 'ー' || c == 'の') && prev_digit {
            t.push('-');
        } else {
            t.push(c);
        }
    }
    // Cut after the first block of digits and dashes.
    let mut key = String::new();
    let mut in_num = false;
    for c in t.chars() {
        if c.is_ascii_digit() || (in_num && c == '-') {
            in_num = true;
            key.push(c);
        } else if in_num {
            break;
        } else {
            key.push(c);
        }
    }
    key.trim_end_matches('-').to_string()
}

/// Whether two address keys agree: equal, or one (without a number, e.g. a truncated ナビイ
/// address) is the prefix of the other and at least the town part matches.
pub fn addresses_compatible(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    !short.is_empty() && !short.chars().any(|c| c.is_ascii_digit()) && long.starts_with(short)
}

/// `平成31年 4月 1日` → `2019-04-01`; `令和元年10月 1日` → `2019-10-01`.
pub fn wareki_to_iso(raw: &str) -> Option<String> {
    let s = fold(raw);
    let eras: &[(&str, u32)] = &[
        ("令和", 2018),
        ("平成", 1988),
        ("昭和", 1925),
        ("大正", 1911),
        ("明治", 1867),
    ];
    let (base, rest) = eras
        .iter()
        .find_map(|(e, b)| s.strip_prefix(e).map(|r| (*b, r)))?;
    let (y, rest) = rest.split_once('年')?;
    let year = if y == "元" {
        1
    } else {
        y.parse::<u32>().ok()?
    };
    let (m, rest) = rest.split_once('月')?;
    let (d, tail) = rest.split_once('日')?;
    if !tail.is_empty() {
        return None;
    }
    let month: u32 = m.parse().ok()?;
    let day: u32 = d.parse().ok()?;
    if year == 0 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(format!("{:04}-{:02}-{:02}", base + year, month, day))
}

/// Digits only (for postal codes, phone numbers checks).
pub fn digits(s: &str) -> String {
    ja::digits(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wareki() {
        assert_eq!(
            wareki_to_iso("平成31年 4月 1日").as_deref(),
            Some("2019-04-01")
        );
        assert_eq!(
            wareki_to_iso("令和元年10月 1日").as_deref(),
            Some("2019-10-01")
        );
        assert_eq!(
            wareki_to_iso("令和 7年 9月 1日").as_deref(),
            Some("2025-09-01")
        );
        assert_eq!(
            wareki_to_iso("昭和63年12月31日").as_deref(),
            Some("1988-12-31")
        );
        assert_eq!(
            wareki_to_iso("平成元年 1月 8日").as_deref(),
            Some("1989-01-08")
        );
        assert_eq!(
            wareki_to_iso("令和５年　４月　１日").as_deref(),
            Some("2023-04-01")
        );
        assert_eq!(wareki_to_iso(""), None);
        assert_eq!(wareki_to_iso("2019-04-01"), None);
        assert_eq!(wareki_to_iso("令和 7年13月 1日"), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            facility_name("医療法人社団 恵仁会 与野中央病院"),
            "与野中央病院"
        );
        assert_eq!(facility_name("医療法人社団　光恵会　芝西医院"), "芝西医院");
        assert_eq!(facility_name("医療法人石川会石川医院"), "石川医院");
        assert_eq!(facility_name("医療法人社団南越谷病院"), "南越谷病院");
        assert_eq!(facility_name("医療法人　埼玉成恵会病院"), "埼玉成恵会病院");
        assert_eq!(
            facility_name("独立行政法人国立病院機構埼玉病院"),
            "埼玉病院"
        );
        assert_eq!(
            facility_name("医療法人　藍生会　不動ケ丘病院"),
            "不動ケ丘病院"
        );
        assert_eq!(facility_name("不動ヶ丘病院"), "不動ケ丘病院");
        assert_eq!(facility_name("髙橋クリニック"), "高橋クリニック");
        assert_eq!(facility_name("川﨑医院"), "川崎医院");
        assert_eq!(facility_name("ＡＢＣ　クリニック"), "ABCクリニック");
        assert_eq!(
            facility_name("医療法人社団　彩優会　栗　橋　病　院"),
            "栗橋病院"
        );
        assert_eq!(
            facility_name("独立行政法人　国立病院機構　西埼玉中央病院"),
            "西埼玉中央病院"
        );
        assert_eq!(
            facility_name("埼玉県総合リハビリテ－ションセンター"),
            "埼玉県総合リハビリテーションセンター"
        );
        assert_eq!(facility_name("さいたま市立病院"), "さいたま市立病院");
        assert!(names_compatible(
            "埼玉医科大学病院",
            "学校法人埼玉医科大学埼玉医科大学病院"
        ));
        assert!(!names_compatible("病院", "埼玉病院"));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            address_key(
                "埼玉県　さいたま市浦和区高砂２丁目１０番１１号１階",
                "埼玉県"
            ),
            "さいたま市浦和区高砂2-10-11"
        );
        assert_eq!(
            address_key("川口市鳩ヶ谷本町二丁目７番６号", "埼玉県"),
            "川口市鳩ケ谷本町2-7-6"
        );
        assert_eq!(
            address_key("草加市松原１ー１ー６ ハーモネスタワー松原３階", "埼玉県"),
            "草加市松原1-1-6"
        );
        assert_eq!(
            address_key("羽生市大字下羽生２１１－１", "埼玉県"),
            "羽生市下羽生211-1"
        );
        assert!(addresses_compatible("朝霞市溝沼", "朝霞市溝沼5-1-2"));
        assert!(!addresses_compatible("朝霞市溝沼1", "朝霞市溝沼5-1-2"));
    }
}
