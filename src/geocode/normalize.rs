//! Address normalization shared by the reference (town/municipality names) and the input.
//!
//! Both sides go through the same function, so spelling variants only need to collapse to the
//! same canonical form, not to any "official" one.

use crate::domain::ja::{self, Profile};

/// Normalize an address (or a reference name) for lookup: [`ja::Profile::Addresses`], with a
/// leading `〒nnn-nnnn` and any `(…)`, `【…】`, `〔…〕` parts cut out before the context folds.
///
/// - NFKC (full-width digits/letters → ASCII, half-width katakana → full-width), whitespace
///   (incl. U+3000) and ignorable characters (IVS, zero-width) removed;
/// - hyphen-like characters → `-` (`ー` only after a digit), `の` between digits → `-`;
/// - old/variant kanji folded, including place-only pairs (髙→高, 﨑→崎, 濵→浜, 嶋→島, …);
/// - before a kanji: `ヶ/ケ/ヵ/カ/が` → `ケ`, `の/ノ` → `ノ`, `つ/ツ/っ/ッ` → `ツ`;
/// - kanji numerals before 丁(目)/条/地割/線 → digits (`大原十二丁目` → `大原12丁目`).
pub fn normalize(address: &str) -> String {
    // Character folds first; brackets never fold into anything, so cutting them afterwards is
    // the same as cutting them from the raw text.
    let folded = ja::fold_chars(address, Profile::Addresses);
    let mut chars: Vec<char> = Vec::with_capacity(folded.len());
    let mut depth = 0usize;
    for c in folded {
        match c {
            '(' | '【' | '〔' => depth += 1,
            ')' | '】' | '〕' => depth = depth.saturating_sub(1),
            _ if depth == 0 => chars.push(c),
            _ => {}
        }
    }

    // Leading postal code: 〒330-0063 / 330-0063 followed by a non-digit.
    let mut start = 0;
    if chars.first() == Some(&'〒') {
        start = 1;
    }
    let digits_at = |from: usize, n: usize, cs: &[char]| {
        cs.len() >= from + n && cs[from..from + n].iter().all(|c| c.is_ascii_digit())
    };
    if digits_at(start, 3, &chars)
        && chars.get(start + 3) == Some(&'-')
        && digits_at(start + 4, 4, &chars)
        && !chars.get(start + 8).is_some_and(|c| c.is_ascii_digit())
    {
        start += 8;
    } else if start == 1 && digits_at(1, 7, &chars) {
        start = 8;
    }
    ja::address_context(&chars[start..])
}

/// Drop a leading `大字`/`小字`/`字` (optional on either side).
pub(crate) fn strip_aza(s: &str) -> &str {
    s.strip_prefix("大字")
        .or_else(|| s.strip_prefix("小字"))
        .or_else(|| s.strip_prefix('字'))
        .unwrap_or(s)
}

/// Drop the 郡 part of a municipality name (`入間郡越生町` → `越生町`), keeping names such as
/// `大和郡山市` or `郡上市` intact.
pub fn strip_gun(name: &str) -> &str {
    if let Some(pos) = name.find('郡')
        && pos > 0
    {
        let rest = &name[pos + '郡'.len_utf8()..];
        if rest.chars().count() >= 2 && (rest.ends_with('町') || rest.ends_with('村')) {
            return rest;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_forms() {
        assert_eq!(
            normalize("埼玉県　さいたま市浦和区　北浦和４－９－３"),
            "埼玉県さいたま市浦和区北浦和4-9-3"
        );
        assert_eq!(normalize("北浦和四丁目9番3号"), "北浦和4丁目9番3号");
        assert_eq!(normalize("大原十二丁目"), "大原12丁目");
        assert_eq!(
            normalize("南１条西１６丁目２９１番地"),
            "南1条西16丁目291番地"
        );
        assert_eq!(normalize("南一条西十六丁目"), "南1条西16丁目");
        assert_eq!(normalize("本町1ー2ｰ3"), "本町1-2-3");
        assert_eq!(normalize("センター"), "センター");
        assert_eq!(normalize("ｻｲﾀﾏ"), "サイタマ");
        assert_eq!(normalize("霞が関"), normalize("霞ヶ関"));
        assert_eq!(normalize("霞ケ関"), normalize("霞ヵ関"));
        assert_eq!(normalize("一の宮"), normalize("一ノ宮"));
        assert_eq!(normalize("髙島町"), "高島町");
        assert_eq!(normalize("〒330-0063 本町1-2"), "本町1-2");
        assert_eq!(normalize("本町1-2（さいたまビル3F）"), "本町1-2");
        assert_eq!(normalize("1の2の3"), "1-2-3");
        assert_eq!(normalize("三条町"), "3条町");
        assert_eq!(normalize("中嶋町 龍ケ崎"), "中島町竜ケ崎");
        assert_eq!(normalize("葛\u{E0100}飾区\u{200B}"), "葛飾区");
        assert_eq!(normalize("鳩ヶ谷"), normalize("鳩ケ谷"));
    }

    #[test]
    fn gun() {
        assert_eq!(strip_gun("入間郡越生町"), "越生町");
        assert_eq!(strip_gun("大和郡山市"), "大和郡山市");
        assert_eq!(strip_gun("郡上市"), "郡上市");
        assert_eq!(strip_gun("越生町"), "越生町");
    }
}
