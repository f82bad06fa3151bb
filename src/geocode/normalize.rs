//! Address normalization shared by the reference (town/municipality names) and the input.
//!
//! Both sides go through the same function, so spelling variants only need to collapse to the
//! same canonical form, not to any "official" one.

use unicode_normalization::UnicodeNormalization;

/// Old/variant kanji folded to the common form (both sides are folded, so direction only
/// matters for readability of the normalized output).
const VARIANTS: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('濵', '浜'),
    ('濱', '浜'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('舘', '館'),
    ('冨', '富'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('峯', '峰'),
    ('德', '徳'),
    ('桒', '桑'),
    ('瀨', '瀬'),
    ('槇', '槙'),
    ('澤', '沢'),
    ('櫻', '桜'),
    ('國', '国'),
    ('齋', '斎'),
    ('齊', '斎'),
    ('眞', '真'),
    ('藏', '蔵'),
    ('壽', '寿'),
    ('廣', '広'),
    ('惠', '恵'),
    ('條', '条'),
    ('淵', '渕'),
    ('鷗', '鴎'),
    ('曾', '曽'),
    ('龜', '亀'),
    ('驒', '騨'),
    ('昻', '昂'),
    ('靑', '青'),
    ('黑', '黒'),
    ('亞', '亜'),
    ('繩', '縄'),
    ('餠', '餅'),
    ('釆', '采'),
    ('靱', '靭'),
    ('䑓', '台'),
    ('嵪', '崎'),
    ('槗', '橋'),
    ('舩', '船'),
    ('埜', '野'),
];

/// Hyphen-like characters that always mean `-` in an address.
const HYPHENS: &[char] = &[
    '-', '‐', '‑', '‒', '–', '—', '―', '−', '⁻', '₋', '﹣', '－', '➖', '⁃', '˗', '─', '━',
];

/// Kanji numerals accepted in counted parts (丁目, 条, 地割, 線).
const KANJI_DIGITS: &[(char, u32)] = &[
    ('〇', 0),
    ('一', 1),
    ('二', 2),
    ('三', 3),
    ('四', 4),
    ('五', 5),
    ('六', 6),
    ('七', 7),
    ('八', 8),
    ('九', 9),
];

/// Counters after which a kanji numeral is rewritten as digits (`十二丁目` → `12丁目`).
const COUNTERS: &[&str] = &["丁", "条", "地割", "線", "番町"];

pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}' | '々' | '〆')
}

fn kanji_digit(c: char) -> Option<u32> {
    KANJI_DIGITS.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

fn is_kanji_numeral(c: char) -> bool {
    c == '十' || kanji_digit(c).is_some()
}

/// Value of a kanji numeral such as `十二`, `二十`, `二十八`, `一〇`.
fn kanji_number(s: &[char]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    if let Some(pos) = s.iter().position(|&c| c == '十') {
        let tens = match pos {
            0 => 1,
            1 => kanji_digit(s[0])?,
            _ => return None,
        };
        let ones = match &s[pos + 1..] {
            [] => 0,
            [c] => kanji_digit(*c)?,
            _ => return None,
        };
        Some(tens * 10 + ones)
    } else {
        s.iter()
            .try_fold(0u32, |acc, &c| Some(acc * 10 + kanji_digit(c)?))
    }
}

/// Normalize an address (or a reference name) for lookup.
///
/// - NFKC (full-width digits/letters → ASCII, half-width katakana → full-width), whitespace
///   removed (incl. U+3000), a leading `〒nnn-nnnn` and any `(…)` parts dropped;
/// - hyphen-like characters → `-` (`ー` only after a digit), `の` between digits → `-`;
/// - a few old/variant kanji folded (髙→高, 﨑→崎, 濵→浜, …);
/// - before a kanji: `ヶ/ケ/ヵ/カ/が` → `ケ`, `の/ノ` → `ノ`, `つ/ツ/っ/ッ` → `ツ`;
/// - kanji numerals before 丁(目)/条/地割/線 → digits (`大原十二丁目` → `大原12丁目`).
pub fn normalize(address: &str) -> String {
    // Pass 1: NFKC, whitespace, variants, brackets, always-hyphens.
    let mut chars: Vec<char> = Vec::with_capacity(address.len());
    let mut depth = 0usize;
    for c in address.nfkc() {
        if c.is_whitespace() {
            continue;
        }
        match c {
            '(' | '【' | '〔' => {
                depth += 1;
                continue;
            }
            ')' | '】' | '〕' => {
                depth = depth.saturating_sub(1);
                continue;
            }
            _ => {}
        }
        if depth > 0 {
            continue;
        }
        let c = VARIANTS
            .iter()
            .find(|(from, _)| *from == c)
            .map_or(c, |(_, to)| *to);
        let c = if HYPHENS.contains(&c) { '-' } else { c };
        chars.push(c);
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
    let chars = &chars[start..];

    // Pass 2: kanji numerals before counters → digits (before the folds below, so that
    // `はびきの二丁目` keeps its `の`).
    let mut counted: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if is_kanji_numeral(chars[i]) {
            let mut j = i;
            while j < chars.len() && is_kanji_numeral(chars[j]) {
                j += 1;
            }
            let followed = COUNTERS.iter().any(|counter| {
                let cc: Vec<char> = counter.chars().collect();
                chars.len() >= j + cc.len() && chars[j..j + cc.len()] == cc[..]
            });
            if followed && let Some(n) = kanji_number(&chars[i..j]) {
                counted.extend(n.to_string().chars());
                i = j;
                continue;
            }
            counted.extend(&chars[i..j]);
            i = j;
            continue;
        }
        counted.push(chars[i]);
        i += 1;
    }

    // Pass 3: context-dependent folds.
    let mut out = String::with_capacity(counted.len() * 3);
    for (i, &c) in counted.iter().enumerate() {
        let prev = out.chars().next_back();
        let next = counted.get(i + 1).copied();
        let prev_digit = prev.is_some_and(|p| p.is_ascii_digit());
        let next_digit = next.is_some_and(|n| n.is_ascii_digit());
        let next_kanji = next.is_some_and(is_kanji);
        let c = match c {
            'ー' | 'ｰ' if prev_digit => '-',
            'の' | 'ノ' | '之' if prev_digit && next_digit => '-',
            'ヶ' | 'ケ' | 'ヵ' | 'カ' | 'が' | 'ガ' if next_kanji => 'ケ',
            'の' | 'ノ' if next_kanji => 'ノ',
            'つ' | 'ツ' | 'っ' | 'ッ' if next_kanji => 'ツ',
            c => c,
        };
        out.push(c);
    }
    out
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
    fn kanji_numbers() {
        let v = |s: &str| kanji_number(&s.chars().collect::<Vec<_>>());
        assert_eq!(v("一"), Some(1));
        assert_eq!(v("十"), Some(10));
        assert_eq!(v("十二"), Some(12));
        assert_eq!(v("二十"), Some(20));
        assert_eq!(v("二十八"), Some(28));
        assert_eq!(v("一〇"), Some(10));
        assert_eq!(v("十十"), None);
    }

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
    }

    #[test]
    fn gun() {
        assert_eq!(strip_gun("入間郡越生町"), "越生町");
        assert_eq!(strip_gun("大和郡山市"), "大和郡山市");
        assert_eq!(strip_gun("郡上市"), "郡上市");
        assert_eq!(strip_gun("越生町"), "越生町");
    }
}
