//! The public sources the dataset is built from: provenance names, snapshot dates, licences and
//! credit lines (taken from each `SOURCE.md` of `../shared/data-src/`), and `ATTRIBUTION.md`.

pub struct SourceInfo {
    /// Provenance source name used in the dataset.
    pub name: &'static str,
    /// Snapshot date (YYYY-MM-DD).
    pub snapshot: &'static str,
    /// Folder under the sources directory.
    pub folder: &'static str,
    pub title: &'static str,
    pub publisher: &'static str,
    pub licence: &'static str,
    pub credit: &'static str,
    /// Upstream repository and commit the copy was taken from.
    pub upstream: &'static str,
    pub note: &'static str,
}

pub const NAVII_HOSPITALS: &str = "mhlw-navii-hospitals";
pub const NAVII_LISTS: &str = "navii-lists";
pub const KAIGO: &str = "kaigo-houmonkango";
pub const KAIGO_PHONES: &str = "kaigo-houmonkango-phones";
pub const KAIGO_TEIKIJUNKAI: &str = "kaigo-teikijunkai";
pub const TODOKEDE: &str = "kouseikyoku-todokede";
pub const TODOKEDE_DENTAL: &str = "kouseikyoku-todokede-dental";
pub const CODES: &str = "kouseikyoku-codes";
pub const GEOLONIA: &str = "geolonia-addresses";
pub const IRYOKEN2: &str = "iryoken2";
pub const N03: &str = "n03";
pub const CENSUS: &str = "estat-census-2020";

pub const SOURCES: &[SourceInfo] = &[
    SourceInfo {
        name: NAVII_HOSPITALS,
        snapshot: "2025-06-01",
        folder: "mhlw-navii-hospitals",
        title: "医療情報ネット（ナビイ）オープンデータ 病院 施設票 (01-1_hospital_facility_info_20250601)",
        publisher: "厚生労働省 医政局 — https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/kenkou_iryou/iryou/newpage_43373.html",
        licence: "公共データ利用規約（第1.0版）(PDL1.0), compatible with CC BY 4.0",
        credit: "「医療情報ネットのオープンデータ」（厚生労働省）を加工して作成",
        upstream: "https://github.com/youkiti/visualize-regional-medical-care-for-2040 @ 8a77c89833e7336de7832899dca52f18a9f030cc (iryojoho/01-1_hospital_facility_info_20250601.zip)",
        note: "Hospitals: name, reading, address, coordinates, URL, closed weekdays, beds.",
    },
    SourceInfo {
        name: NAVII_LISTS,
        snapshot: "2025-06-01",
        folder: "navii-lists-helpmesearch",
        title: "医療情報ネット（ナビイ）オープンデータ 診療所・歯科診療所・薬局 (2025-06-01), per-prefecture lists",
        publisher: "厚生労働省 医政局 — https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/kenkou_iryou/iryou/newpage_43373.html",
        licence: "公共データ利用規約（第1.0版）(PDL1.0), compatible with CC BY 4.0",
        credit: "「医療情報ネットのオープンデータ」（厚生労働省）を加工して作成",
        upstream: "https://github.com/mojitap/helpmesearch @ 3c58ec1ed491c4c30bfd9dbbd28db8a8f712c547 (public/data/medical/*; built in 73d842072ea5e57d2ca60182a46dcb1d5874bf4c); only the government fields are used",
        note: "Clinics, dental clinics, pharmacies: name, address, URL, 診療科. No coordinates (geocoded).",
    },
    SourceInfo {
        name: KAIGO,
        snapshot: "2026-06-30",
        folder: "kaigo-houmonkango-stations",
        title: "介護サービス情報公表システム オープンデータ 訪問看護 (jigyosho_130)",
        publisher: "厚生労働省 — https://www.mhlw.go.jp/stf/kaigo-kouhyou_opendata.html",
        licence: "CC BY 4.0",
        credit: "介護サービス情報公表システム（厚生労働省）のデータを基に作成",
        upstream: "https://github.com/osawa-ux/houmonkango-navi (gh-pages) @ ade0c6bf5b216be09eb44291942465cca26b496d (data/clinics_geo.json)",
        note: "Visiting nurse stations. Snapshot date: MHLW release preceding 2026-07 (recorded as 2026-06-30).",
    },
    SourceInfo {
        name: KAIGO_PHONES,
        snapshot: "2026-07-12",
        folder: "kaigo-houmonkango-saitama-phones",
        title: "訪問看護ステーション 埼玉県 電話番号 (介護サービス情報公表システム オープンデータ, second-hand copy)",
        publisher: "厚生労働省 — https://www.mhlw.go.jp/stf/kaigo-kouhyou_opendata.html (via the site 訪問看護ステーションナビ)",
        licence: "CC BY 4.0 (upstream 介護サービス情報公表システム オープンデータ; the copying repository states no licence of its own)",
        credit: "出典：厚生労働省「介護サービス情報公表システム」オープンデータ",
        upstream: "https://github.com/osawa-ux/houmonkango-navi (gh-pages) @ ade0c6bf5b216be09eb44291942465cca26b496d (station/11*.html, schema.org JSON-LD)",
        note: "Phone numbers of the visiting nurse stations (public contacts), joined on 事業所番号. Second-hand copy, not the MHLW CSV itself; no FAX; its url column is not used.",
    },
    SourceInfo {
        name: KAIGO_TEIKIJUNKAI,
        snapshot: "2025-06-01",
        folder: "kaigo-teikijunkai-760-saitama",
        title: "介護サービス情報公表システム オープンデータ 定期巡回・随時対応型訪問介護看護 (jigyosho_760, 2025-06-01), 埼玉県",
        publisher: "厚生労働省 — https://www.mhlw.go.jp/stf/kaigo-kouhyou_opendata.html",
        licence: "CC BY 4.0",
        credit: "出典：厚生労働省「介護サービス情報公表システム」オープンデータ",
        upstream: "https://github.com/mojitap/helpmesearch @ 73d842072ea5e57d2ca60182a46dcb1d5874bf4c (data/mhlw/2025-06-01/760_regular_patrol_nursing_20250601.csv; the rows of 埼玉県 extracted)",
        note: "定期巡回・随時対応型訪問介護看護 (24-hour home care and nursing): the service with its phone, coordinates and 定員 where published (利用可能曜日 is empty in every row); on the visiting nurse station of the same name and address, else a facility of its own. One of the 82 rows is a placeholder (〇〇, tel 000-000-0000) and is left out.",
    },
    SourceInfo {
        name: TODOKEDE,
        snapshot: "2025-09-01",
        folder: "kouseikyoku-todokede-saitama",
        title: "施設基準の届出受理医療機関名簿（医科）埼玉県 令和7年9月1日現在",
        publisher: "関東信越厚生局 — https://kouseikyoku.mhlw.go.jp/kantoshinetsu/chousa/kijyun.html",
        licence: "厚生労働省ホームページ利用規約 = 政府標準利用規約（第2.0版）準拠 (CC BY 4.0 compatible)",
        credit: "出典「施設基準の届出受理状況」（関東信越厚生局）を加工して作成",
        upstream: "https://github.com/kazrin/sk @ cc934eaaeee2c89267ac30a63f32cf7c7015f3ec (data/2025/10/関東/11届出受理医療機関名簿（医科）埼玉r0710.xlsx)",
        note: "Palliative services (PCU, palliative team, home-care support tiers, backup hospitals, …), phone and FAX numbers.",
    },
    SourceInfo {
        name: TODOKEDE_DENTAL,
        snapshot: "2026-05-01",
        folder: "kouseikyoku-todokede-saitama-dental",
        title: "施設基準の届出受理医療機関名簿（歯科）埼玉県 令和8年5月1日現在",
        publisher: "関東信越厚生局 — https://kouseikyoku.mhlw.go.jp/kantoshinetsu/chousa/kijyun.html",
        licence: "厚生労働省ホームページ利用規約 = 政府標準利用規約（第2.0版）準拠 (CC BY 4.0 compatible)",
        credit: "出典「施設基準の届出受理状況」（関東信越厚生局）を加工して作成",
        upstream: "https://github.com/savastaro-ship-it/osaka-shika-shisetukijyun-dashboard @ 8b99bfb422b95370385937ace5c0db11640b890f (data/source/11.xlsx, last changed in a19e599)",
        note: "Home-visit dental care: 在宅療養支援歯科診療所1/2 with its tier, 歯科訪問診療 items and 在宅歯科医療推進加算 as notified items; phone and FAX numbers of the dental clinics.",
    },
    SourceInfo {
        name: CODES,
        snapshot: "2025-08-01",
        folder: "kouseikyoku-hoken-iryokikan-codes",
        title: "保険医療機関・保険薬局の指定一覧（コード内容別医療機関一覧表）医科, 2025-08",
        publisher: "各地方厚生局 (関東信越厚生局 https://kouseikyoku.mhlw.go.jp/kantoshinetsu/chousa/shitei.html)",
        licence: "政府標準利用規約（第2.0版）準拠 (CC BY 4.0 compatible)",
        credit: "出典「保険医療機関・保険薬局の指定一覧」（地方厚生局）を加工して作成",
        upstream: "https://github.com/tomoueh/collect_med_inst_cd_py @ b64803db2189405434928acfacbeb25a90715225 (output/202508_all_med_inst_cd.zip; collector code MIT)",
        note: "保険医療機関コード (hic identifiers) and postal codes.",
    },
    SourceInfo {
        name: GEOLONIA,
        snapshot: "2024-01-15",
        folder: "geolonia-japanese-addresses",
        title: "Geolonia 住所データ (japanese-addresses v1), town-level representative points",
        publisher: "Geolonia Inc., from 国土交通省「位置参照情報」and 日本郵便 郵便番号データ",
        licence: "CC BY 4.0",
        credit: "「Geolonia 住所データ」(CC BY 4.0) / 出典: 国土交通省 位置参照情報",
        upstream: "https://github.com/geolonia/japanese-addresses (develop) @ c3999f70b20c8a9dba58f1daba89615123b9c20c (api/ja/…)",
        note: "Geocoding reference (towns.csv.gz) and geocoded facility points.",
    },
    SourceInfo {
        name: IRYOKEN2,
        snapshot: "2025-04-01",
        folder: "iryoken2-mapping",
        title: "二次医療圏 (構想区域): 市区町村 → 二次医療圏 mapping, 2020 population, dissolved area polygons",
        publisher: "国土交通省 国土数値情報 医療圏データ A38-20; 厚生労働省 地域医療構想 (R7); 総務省統計局 令和2年国勢調査",
        licence: "国土数値情報ダウンロードサービス利用規約（オープンデータ）/ 政府標準利用規約（第2.0版）",
        credit: "「国土数値情報（医療圏データ）（国土交通省）」を加工して作成; 「令和2年国勢調査」（総務省統計局）を加工して作成",
        upstream: "https://github.com/youkiti/Spatial-epidemiology-training @ 939cc1cd54ea78fc3c6c64d2ebefe35fdffcae65 (data/processed/municipality_to_iryoken2.csv, population_iryoken2.csv); polygons dissolved from N03 (below)",
        note: "Areas (二次医療圏) with population and polygons; area code of every municipality.",
    },
    SourceInfo {
        name: N03,
        snapshot: "2021-01-01",
        folder: "n03-municipality-boundaries",
        title: "国土数値情報 行政区域データ N03 (2021-01-01), simplified",
        publisher: "国土交通省 (simplification: スマートニュース メディア研究所)",
        licence: "国土数値情報ダウンロードサービス利用規約（オープンデータ, CC BY 4.0 compatible)",
        credit: "「国土数値情報（行政区域データ）（国土交通省）」を加工して作成",
        upstream: "https://github.com/smartnews-smri/japan-topography @ b403e71eb97f1fdf32f63d16bd485129f703855e (data/municipality/geojson/s0010/)",
        note: "Municipality boundaries; the prefecture outline used to check facility points.",
    },
    SourceInfo {
        name: CENSUS,
        snapshot: "2020-10-01",
        folder: "estat-census-2020-saitama-small-areas",
        title: "令和2年国勢調査 小地域（町丁・字等別）境界データ 埼玉県 (r2ka11), attribute table: population, households, representative point",
        publisher: "総務省統計局 — e-Stat 統計GIS https://www.e-stat.go.jp/gis",
        licence: "e-Stat 利用規約 (政府標準利用規約, CC BY 4.0 compatible)",
        credit: "出典：政府統計の総合窓口(e-Stat)（令和2年国勢調査 小地域）を加工して作成",
        upstream: "https://github.com/nyatla-ai/dbf-utils @ 955e13fb674d4b7f6c52cb7fa6e795da7dd2b0d3 (dev/r2ka11.dbf, as UTF-8 CSV)",
        note: "Census weights (census.csv.gz): population and households per 町丁・字 with its representative point, for the coverage report; parts of one small area merged, areas without population kept (population 0).",
    },
];

pub fn info(name: &str) -> &'static SourceInfo {
    SOURCES
        .iter()
        .find(|s| s.name == name)
        .expect("known source")
}

/// The text of `ATTRIBUTION.md` for the sources actually used. Deterministic: no dates of the build.
pub fn attribution(prefecture: &str, used: &[&str]) -> String {
    let mut s = String::new();
    s.push_str("# Attribution\n\n");
    s.push_str(&format!(
        "The dataset in this directory ({prefecture}) was built by `pallimap data build` from the public sources below. \
         Every source was processed (selected, joined, normalized, geocoded); the processed data is not the original.\n\n"
    ));
    s.push_str("## Credit lines\n\n");
    let mut seen: Vec<&str> = Vec::new();
    for src in SOURCES.iter().filter(|x| used.contains(&x.name)) {
        if !seen.contains(&src.credit) {
            seen.push(src.credit);
            s.push_str(&format!("- {}\n", src.credit));
        }
    }
    s.push_str("\n## Sources\n");
    for src in SOURCES.iter().filter(|x| used.contains(&x.name)) {
        s.push_str(&format!(
            "\n### `{}` (snapshot {})\n\n",
            src.name, src.snapshot
        ));
        s.push_str(&format!("- Title: {}\n", src.title));
        s.push_str(&format!("- Publisher: {}\n", src.publisher));
        s.push_str(&format!("- Licence: {}\n", src.licence));
        s.push_str(&format!("- Required credit: {}\n", src.credit));
        s.push_str(&format!("- Taken from: {}\n", src.upstream));
        s.push_str(&format!(
            "- Local copy: `../shared/data-src/{}/` (see its SOURCE.md)\n",
            src.folder
        ));
        s.push_str(&format!("- Used for: {}\n", src.note));
    }
    s
}
