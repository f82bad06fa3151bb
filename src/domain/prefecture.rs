//! The 47 都道府県 (prefectures) by JIS X 0401 code: `11` ↔ `埼玉県`. A fixed table, no I/O;
//! it names the prefecture of a municipality from the first two digits of its code.

/// JIS X 0401 code and name of every prefecture, in code order.
pub const PREFECTURES: [(&str, &str); 47] = [
    ("01", "北海道"),
    ("02", "青森県"),
    ("03", "岩手県"),
    ("04", "宮城県"),
    ("05", "秋田県"),
    ("06", "山形県"),
    ("07", "福島県"),
    ("08", "茨城県"),
    ("09", "栃木県"),
    ("10", "群馬県"),
    ("11", "埼玉県"),
    ("12", "千葉県"),
    ("13", "東京都"),
    ("14", "神奈川県"),
    ("15", "新潟県"),
    ("16", "富山県"),
    ("17", "石川県"),
    ("18", "福井県"),
    ("19", "山梨県"),
    ("20", "長野県"),
    ("21", "岐阜県"),
    ("22", "静岡県"),
    ("23", "愛知県"),
    ("24", "三重県"),
    ("25", "滋賀県"),
    ("26", "京都府"),
    ("27", "大阪府"),
    ("28", "兵庫県"),
    ("29", "奈良県"),
    ("30", "和歌山県"),
    ("31", "鳥取県"),
    ("32", "島根県"),
    ("33", "岡山県"),
    ("34", "広島県"),
    ("35", "山口県"),
    ("36", "徳島県"),
    ("37", "香川県"),
    ("38", "愛媛県"),
    ("39", "高知県"),
    ("40", "福岡県"),
    ("41", "佐賀県"),
    ("42", "長崎県"),
    ("43", "熊本県"),
    ("44", "大分県"),
    ("45", "宮崎県"),
    ("46", "鹿児島県"),
    ("47", "沖縄県"),
];

/// The name of the prefecture with 2-digit `code` (`"13"` → `東京都`).
pub fn name(code: &str) -> Option<&'static str> {
    PREFECTURES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The 2-digit code of the prefecture `name` (`東京都` → `"13"`).
pub fn code(name: &str) -> Option<&'static str> {
    PREFECTURES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(c, _)| *c)
}

/// The prefecture of a 5-digit 市区町村コード (`13120` → `東京都`).
pub fn of_municipality(muni_code: &str) -> Option<&'static str> {
    muni_code.get(..2).and_then(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        assert_eq!(name("11"), Some("埼玉県"));
        assert_eq!(name("13"), Some("東京都"));
        assert_eq!(name("01"), Some("北海道"));
        assert_eq!(name("47"), Some("沖縄県"));
        assert_eq!(name("48"), None);
        assert_eq!(name("1"), None);
        assert_eq!(code("長野県"), Some("20"));
        assert_eq!(code("京都府"), Some("26"));
        assert_eq!(of_municipality("13120"), Some("東京都"));
        assert_eq!(of_municipality(""), None);
        // Codes run 01..47 without gaps, names are distinct.
        for (i, (c, n)) in PREFECTURES.iter().enumerate() {
            assert_eq!(*c, format!("{:02}", i + 1));
            assert_eq!(code(n), Some(*c));
        }
    }
}
