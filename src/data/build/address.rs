//! Address keys for joining sources: the published forms of one address (番地/番/号/丁目/の,
//! hyphens, full/half width, 漢数字 block numbers) folded to one key, e.g. `上野田町35-88`.

use super::norm;

use crate::domain::ja::{is_kanji_numeral, kanji_digit, kanji_number_chars as kanji_value};

/// Kanji numerals that are block numbers — before 番/号/丁目, or after 番/番地/丁目 or a dash —
/// as ASCII digits. Numerals inside town names (`三条町`, `一ノ割`) are kept.
pub(super) fn kanji_block_numbers(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_kanji_numeral(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_kanji_numeral(chars[i]) {
            i += 1;
        }
        let next = chars.get(i).copied();
        let prev = start.checked_sub(1).map(|p| chars[p]);
        let block = matches!(next, Some('番' | '号' | '丁'))
            || matches!(prev, Some('番' | '地' | '目' | '-' | '－' | '‐' | '−'));
        match kanji_value(&chars[start..i]).filter(|_| block) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.extend(&chars[start..i]),
        }
    }
    out
}

/// The address up to a space that follows a number: what comes after is a building or floor
/// (`２－１０－１１　３階`), which folding would otherwise glue to the block number.
fn cut_after_numbered_space(raw: &str) -> &str {
    let mut prev_digit = false;
    for (i, c) in raw.char_indices() {
        if c.is_whitespace() && prev_digit {
            return &raw[..i];
        }
        prev_digit = c.is_ascii_digit() || ('０'..='９').contains(&c) || kanji_digit(c).is_some();
    }
    raw
}

/// The join key of a published address (prefecture removed, building and floor cut).
pub(super) fn join_key(raw: &str, prefecture: &str) -> String {
    norm::address_key(
        &kanji_block_numbers(cut_after_numbered_space(raw.trim())),
        prefecture,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_for_the_forms_of_one_address() {
        // しらさき川越クリニック: 届出 and ナビイ.
        assert_eq!(
            join_key("川越市上野田町３５番８８", "埼玉県"),
            join_key("埼玉県川越市上野田町３５－８８", "埼玉県")
        );
        assert_eq!(
            join_key("川越市上野田町３５番８８", "埼玉県"),
            "川越市上野田町35-88"
        );
        for form in [
            "さいたま市浦和区高砂二丁目十番十一号",
            "さいたま市浦和区高砂2丁目10番地11",
            "さいたま市浦和区高砂２－１０－１１　３階",
            "埼玉県さいたま市浦和区高砂2-10-11",
            "さいたま市浦和区高砂二丁目一〇番一一号",
        ] {
            assert_eq!(
                join_key(form, "埼玉県"),
                "さいたま市浦和区高砂2-10-11",
                "{form}"
            );
        }
        // Numerals of town names stay.
        assert_eq!(
            join_key("春日部市一ノ割三丁目五番", "埼玉県"),
            "春日部市一ノ割3-5"
        );
        assert_eq!(kanji_block_numbers("三条町四番地"), "三条町4番地");
        assert_eq!(kanji_value(&['千', '二', '百', '三']), Some(1203));
    }
}
