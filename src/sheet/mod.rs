//! Facilities as rows of a table: the columns of the import template and of the CSV / XLSX
//! exports, one definition for both so an export imports back unchanged.
//!
//! A header cell names a column by its key (`name`) or its Japanese heading (名称), folded
//! (NFKC, case, spaces). Lists inside a cell (services) are separated by `;` (also `、`, `,`).

use crate::domain::{ContactKind, Facility, ServiceStatus, Visibility};

pub mod wareki;

/// One column of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    /// The heading in the template (Japanese, as offices write it).
    pub ja: &'static str,
    pub en: &'static str,
    /// What goes in the cell, for the template's second sheet / the README.
    pub help_ja: &'static str,
    /// Needed on a row that creates a facility.
    pub required: bool,
    /// Holds a professional field: exported only to callers who may see it.
    pub professional: bool,
}

const fn col(
    key: &'static str,
    ja: &'static str,
    en: &'static str,
    help_ja: &'static str,
) -> Column {
    Column {
        key,
        ja,
        en,
        help_ja,
        required: false,
        professional: false,
    }
}

const fn required(mut c: Column) -> Column {
    c.required = true;
    c
}

const fn professional(mut c: Column) -> Column {
    c.professional = true;
    c
}

/// The template's columns, in order.
pub const COLUMNS: &[Column] = &[
    col(
        "id",
        "施設ID",
        "Facility id",
        "pallimap の施設ID（navii-…, hic-…, kaigo-…, gen-…）。新しい施設は空欄",
    ),
    required(col(
        "kind",
        "種別",
        "Kind",
        "hospital / clinic / dental_clinic / pharmacy / visiting_nurse_station / patient_group / consultation_center / other、または 病院・診療所・歯科診療所・薬局 など",
    )),
    required(col("name", "名称", "Name", "正式名称")),
    col("name_kana", "フリガナ", "Reading", "カタカナ"),
    col(
        "navii",
        "ナビイID",
        "Navii id",
        "医療情報ネット（ナビイ）の13桁のID",
    ),
    col("hic", "保険医療機関コード", "Insurance code", "10桁"),
    col("kaigo", "介護事業所番号", "Care provider number", "10桁"),
    col(
        "postal_code",
        "郵便番号",
        "Postal code",
        "7桁（ハイフン可）",
    ),
    required(col(
        "address",
        "所在地",
        "Address",
        "都道府県から。緯度・経度がなければこの住所で地図に置きます",
    )),
    col(
        "lat",
        "緯度",
        "Latitude",
        "世界測地系の10進数（例 35.8617）",
    ),
    col(
        "lng",
        "経度",
        "Longitude",
        "世界測地系の10進数（例 139.6455）",
    ),
    col("phone", "電話番号", "Phone", "代表番号（公開）"),
    professional(col(
        "fax",
        "FAX番号",
        "Fax",
        "紹介用FAX（医療・介護職のみに公開）",
    )),
    col("url", "ホームページ", "Web site", "https://…"),
    col("notes", "備考", "Notes", "公開される備考（診療科など）"),
    col(
        "services",
        "サービス",
        "Services",
        "サービスコードを ; 区切りで（例 home_care_support;visiting_nursing）、または 訪問看護・緩和ケア病棟 など",
    ),
    col(
        "verified_at",
        "最終確認日",
        "Last verified",
        "2024-04-01、令和6年4月1日、R6.4.1 など",
    ),
];

pub fn column(key: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.key == key)
}

/// Headings of the public sources' files that name a template column: the 介護サービス情報
/// 公表システム open data (事業所名, 事業所番号, 住所, サービスの種類 …, as in the 定期巡回 file
/// `data build` reads) and the visiting-nurse station list (jigyosho_bango, tel, latitude …).
const ALIASES: &[(&str, &str)] = &[
    ("事業所名", "name"),
    ("事業所名カナ", "name_kana"),
    ("事業所番号", "kaigo"),
    ("jigyosho_bango", "kaigo"),
    ("住所", "address"),
    ("tel", "phone"),
    ("latitude", "lat"),
    ("longitude", "lng"),
    ("サービスの種類", "services"),
    ("医療機関名称", "name"),
    ("所在地住所", "address"),
];

/// The column a header cell names: its key, its Japanese or English heading, or a public
/// source's heading for it ([`ALIASES`]), folded.
pub fn column_of_header(cell: &str) -> Option<&'static Column> {
    let k = fold(cell);
    COLUMNS
        .iter()
        .find(|c| fold(c.key) == k || fold(c.ja) == k || fold(c.en) == k)
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(a, _)| fold(a) == k)
                .and_then(|(_, key)| column(key))
        })
}

/// Whether `cell` names its column through a public source's heading ([`ALIASES`]), not the
/// template's own.
pub fn is_alias(cell: &str) -> bool {
    let k = fold(cell);
    ALIASES.iter().any(|(a, _)| fold(a) == k)
}

fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim_start_matches('\u{feff}')
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A cell a spreadsheet would run as a formula (it opens with `=`, `+`, `-`, `@`, a tab or a
/// carriage return), written with a leading `'` so Excel shows it as text; [`unguard`] reads
/// it back. Other cells are written as they are.
pub fn guard(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match cell.first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            std::borrow::Cow::Owned([b"'".as_slice(), cell].concat())
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// A cell as [`guard`] wrote it, without the guarding `'`.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// The separator of list cells when written.
pub const LIST_SEP: &str = ";";

/// A facility as one row of the template's columns, from what `f` holds (project it for the
/// caller first: a hidden field is then simply absent). Professional columns are blank unless
/// `with_professional`.
pub fn row_of(f: &Facility, with_professional: bool) -> Vec<String> {
    let contact = |kind: ContactKind, vis: fn(Visibility) -> bool| {
        f.contacts
            .iter()
            .find(|c| c.kind == kind && vis(c.visibility))
            .map(|c| c.value.clone())
            .unwrap_or_default()
    };
    COLUMNS
        .iter()
        .map(|c| match c.key {
            "id" => f.id.clone(),
            "kind" => f.kind.code().to_string(),
            "name" => f.name.clone(),
            "name_kana" => f.name_kana.clone().unwrap_or_default(),
            "navii" => f.identifiers.navii.clone().unwrap_or_default(),
            "hic" => f.identifiers.hic.clone().unwrap_or_default(),
            "kaigo" => f.identifiers.kaigo.clone().unwrap_or_default(),
            "postal_code" => f.address.postal_code.clone().unwrap_or_default(),
            "address" => f.address.text.clone(),
            "lat" => f.location.map(|l| l.lat.to_string()).unwrap_or_default(),
            "lng" => f.location.map(|l| l.lng.to_string()).unwrap_or_default(),
            "phone" => contact(ContactKind::Phone, |v| v == Visibility::Public),
            "fax" if with_professional => contact(ContactKind::Fax, |_| true),
            "fax" => String::new(),
            "url" => f.url.clone().unwrap_or_default(),
            "notes" => f.notes.clone().unwrap_or_default(),
            "services" => f
                .services
                .iter()
                .filter(|s| s.status != ServiceStatus::Inactive)
                .map(|s| s.kind.code())
                .collect::<Vec<_>>()
                .join(LIST_SEP),
            "verified_at" => f
                .verified_at
                .as_deref()
                .map(|v| v.get(..10).unwrap_or(v).to_string())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .collect()
}

/// The header row: the Japanese headings (what an office opens in Excel).
pub fn header() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.ja).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_columns_by_key_or_heading() {
        assert_eq!(column_of_header("名称").map(|c| c.key), Some("name"));
        assert_eq!(
            column_of_header("\u{feff}施設ID").map(|c| c.key),
            Some("id")
        );
        assert_eq!(column_of_header(" FAX番号 ").map(|c| c.key), Some("fax"));
        assert_eq!(column_of_header("ＦＡＸ番号").map(|c| c.key), Some("fax"));
        assert_eq!(
            column_of_header("Name_Kana").map(|c| c.key),
            Some("name_kana")
        );
        assert_eq!(
            column_of_header("verified at").map(|c| c.key),
            Some("verified_at")
        );
        assert_eq!(column_of_header("色"), None);
        for cell in [
            "=HYPERLINK(\"x\")",
            "+81",
            "-1",
            "@SUM(A1)",
            "普通の備考",
            "'引用",
        ] {
            let g = guard(cell.as_bytes());
            assert_eq!(unguard(std::str::from_utf8(&g).unwrap()), cell);
            assert!(!g.starts_with(b"=") && !g.starts_with(b"+") && !g.starts_with(b"@"));
        }
        assert_eq!(column_of_header("事業所番号").map(|c| c.key), Some("kaigo"));
        assert_eq!(column_of_header("latitude").map(|c| c.key), Some("lat"));
        let mut keys: Vec<_> = COLUMNS.iter().map(|c| fold(c.ja)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), COLUMNS.len());
    }
}
