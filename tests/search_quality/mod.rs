//! Search quality on the real default dataset: a table of realistic queries, each with the
//! facilities a user expects to find, run through `GET /api/v1/facilities?q=…&limit=5`.
//!
//! The expected ids were worked out from `data/facilities.jsonl.gz` by replaying the analysis
//! (NFKC, lower case, katakana → hiragana, ヶ/ヵ/ケ → け, old kanji → new forms, bigram phrases,
//! words ANDed, synonyms) over the same fields the catalog indexes (name, kana, service labels
//! ja + en + tier, address text + municipality, notes). Apart from two `Top1` cases where the
//! runner-up scores far lower, every expectation holds whatever the BM25 ranking details are:
//! a case either has at most five matches, or asserts that the first five all belong to a set.
//!
//! All cases run in one test, which collects every failure and lists each failing case with
//! the first five hits it got, so one run shows the whole picture.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use crate::api::get;
use crate::common::default_store;

mod people;

/// What a case asserts about the first five hits.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// The first hit is the (single) expected facility: exact-name style lookups.
    Top1,
    /// Every expected facility is among the first five hits.
    AllInTop5,
    /// Every one of the first five hits is an expected facility, and there are at least
    /// `at_least` hits (so an empty answer does not pass).
    Top5Within { at_least: usize },
    /// Nothing meets every word: the answer is a relaxed match (`"match": "relaxed"`).
    NoStrictHits,
}

use Rule::*;

#[derive(Debug, Clone, Copy)]
struct Case {
    /// Printed on failure; says what is searched and what should come back.
    label: &'static str,
    /// The `q` parameter, unencoded.
    q: &'static str,
    /// Further query-string parameters (`kind=pharmacy&area=1106`), already URL-safe.
    filters: &'static str,
    expected: &'static [&'static str],
    rule: Rule,
    /// The exact `total` the answer must report, when the case pins it.
    total: Option<u64>,
}

const fn case(
    label: &'static str,
    q: &'static str,
    expected: &'static [&'static str],
    rule: Rule,
) -> Case {
    Case {
        label,
        q,
        filters: "",
        expected,
        rule,
        total: None,
    }
}

impl Case {
    const fn filters(self, filters: &'static str) -> Case {
        Case { filters, ..self }
    }

    const fn total(self, total: u64) -> Case {
        Case {
            total: Some(total),
            ..self
        }
    }

    fn path(&self) -> String {
        let mut path = format!("/api/v1/facilities?q={}&limit=5", enc(self.q));
        if !self.filters.is_empty() {
            path.push('&');
            path.push_str(self.filters);
        }
        path
    }
}

/// Percent-encodes every byte outside `A-Za-z0-9-_.~` (so a space is `%20`, never `+`).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The 20 hospitals with a 緩和ケア病棟 (PCU) in the dataset.
const PCU_HOSPITALS: &[&str] = &[
    "navii-1111100001500", // 川口市立医療センター
    "navii-1111100017100", // 埼玉協同病院
    "navii-1111100026000", // 戸田中央総合病院
    "navii-1111100719200", // ＴＭＧあさか医療センター
    "navii-1111100728100", // 国立病院機構 埼玉病院
    "navii-1111101115700", // 三浦病院
    "navii-1111102385600", // 深谷赤十字病院
    "navii-1111103877200", // 彩の国東大宮メディカルセンター
    "navii-1111103894200", // さいたま市立病院
    "navii-1111108148100", // 上尾中央第二病院
    "navii-1111108149000", // 埼玉県立がんセンター
    "navii-1111108165100", // 上尾中央総合病院
    "navii-1111108946600", // 羽生総合病院
    "navii-1111108988100", // 草加市立病院
    "navii-1111109009000", // 八潮中央総合病院
    "navii-1111109014600", // みさと健和病院
    "navii-1111109020000", // 吉川中央総合病院
    "navii-1111110043500", // 丸木記念福祉メディカルセンター
    "navii-1111120729900", // 南部厚生病院
    "navii-1111122500900", // シャローム病院
];

const CASES: &[Case] = &[
    // --- Exact full names ---
    case(
        "exact name, PCU hospital: 埼玉県立がんセンター",
        "埼玉県立がんセンター",
        &["navii-1111108149000"],
        Top1,
    ),
    case(
        "exact name, Red Cross hospital with palliative team: さいたま赤十字病院",
        "さいたま赤十字病院",
        &["navii-1111103880200"],
        Top1,
    ),
    case(
        "exact name with corporation prefix and ideographic space, full-width ＴＭＧ (PCU hospital)",
        "医療法人社団武蔵野会　ＴＭＧあさか医療センター",
        &["navii-1111100719200"],
        Top1,
    ),
    case(
        "exact name, pharmacy: のぞみ行田薬局",
        "のぞみ行田薬局",
        &["navii-1151122588200"],
        Top1,
    ),
    case(
        "exact name, pharmacy with full-width digit: 調剤薬局ツルハドラッグ草加５丁目店",
        "調剤薬局ツルハドラッグ草加５丁目店",
        &["navii-1151122765600"],
        Top1,
    ),
    case(
        "exact name, visiting nurse station: 鳩ヶ谷訪問看護ステーション",
        "鳩ヶ谷訪問看護ステーション",
        &["kaigo-1162090017"],
        Top1,
    ),
    case(
        "exact name, visiting nurse station: セレニティ訪問看護ステーション狭山ヶ丘",
        "セレニティ訪問看護ステーション狭山ヶ丘",
        &["kaigo-1162590701"],
        Top1,
    ),
    // --- Partial names ---
    case(
        "partial name: がんセンター finds 埼玉県立がんセンター",
        "がんセンター",
        &["navii-1111108149000"],
        Top1,
    ),
    case(
        "partial name: 赤十字病院 finds the three Red Cross hospitals (小川, 深谷, さいたま)",
        "赤十字病院",
        &["hic-1113200029", "navii-1111102385600", "navii-1111103880200"],
        AllInTop5,
    ),
    case(
        "partial name without corporation: 健和病院 finds 医療法人財団健和会みさと健和病院 (PCU)",
        "健和病院",
        &["navii-1111109014600"],
        Top1,
    ),
    case(
        "partial name: 協同病院 finds 埼玉協同病院 and 埼玉西協同病院",
        "協同病院",
        &["navii-1111100017100", "navii-1111101139400"],
        AllInTop5,
    ),
    case(
        "partial name: 上尾中央 finds both 上尾中央 hospitals (PCU + 第二)",
        "上尾中央",
        &["navii-1111108165100", "navii-1111108148100"],
        AllInTop5,
    ),
    // --- Kana script and width variants ---
    case(
        "hiragana query for katakana name: しゃろーむ病院 -> シャローム病院 (PCU)",
        "しゃろーむ病院",
        &["navii-1111122500900"],
        Top1,
    ),
    case(
        "hiragana query for katakana name: のわーる大宮くりにっく -> ノワール大宮クリニック",
        "のわーる大宮くりにっく",
        &["navii-1121124550600"],
        Top1,
    ),
    case(
        "hiragana query for katakana name: せれにてぃ -> both セレニティ stations",
        "せれにてぃ",
        &["kaigo-1160690388", "kaigo-1162590701"],
        AllInTop5,
    ),
    case(
        "katakana query for hiragana name: コシガヤ眼科クリニック -> こしがや眼科クリニック",
        "コシガヤ眼科クリニック",
        &["navii-1121120220300"],
        Top1,
    ),
    case(
        "half-width katakana query: ｼｬﾛｰﾑ病院 -> シャローム病院",
        "ｼｬﾛｰﾑ病院",
        &["navii-1111122500900"],
        Top1,
    ),
    case(
        "half-width katakana with dakuten (ﾄﾞ, ｸﾞ): ﾂﾙﾊﾄﾞﾗｯｸﾞ草加５丁目",
        "ﾂﾙﾊﾄﾞﾗｯｸﾞ草加５丁目",
        &["navii-1151122765600"],
        Top1,
    ),
    case(
        "full-width query for a half-width katakana name: 幸せの羽 訪問看護ステーション (data: ｽﾃｰｼｮﾝ)",
        "幸せの羽 訪問看護ステーション",
        &["kaigo-1161190099"],
        Top1,
    ),
    // --- Full-width / half-width ASCII and digits ---
    case(
        "half-width ASCII for full-width name: MSクリニック大宮 (data: ＭＳ)",
        "MSクリニック大宮",
        &["navii-1121100000303"],
        Top1,
    ),
    case(
        "lower-case half-width for full-width upper-case: tmgあさか医療センター",
        "tmgあさか医療センター",
        &["navii-1111100719200"],
        Top1,
    ),
    case(
        "full-width ASCII query for ASCII name: 訪問看護ステーションＲａｂｂｉｔ",
        "訪問看護ステーションＲａｂｂｉｔ",
        &["kaigo-1160890384"],
        Top1,
    ),
    case(
        "full-width digits query for ASCII digits: ０９９訪問看護ステーション",
        "０９９訪問看護ステーション",
        &["kaigo-1162590669"],
        Top1,
    ),
    case(
        "half-width digit for full-width digit: 第1さくらい医院 (data: 第１)",
        "第1さくらい医院",
        &["navii-1121121821500"],
        Top1,
    ),
    // --- Old / variant kanji ---
    case(
        "new form for old 齋: 斎藤記念病院 -> 齋藤記念病院",
        "斎藤記念病院",
        &["navii-1111100008200"],
        Top1,
    ),
    case(
        "new form for old 髙: 高間クリニック -> 髙間クリニック",
        "高間クリニック",
        &["navii-1121108928800"],
        Top1,
    ),
    case(
        "new form for old 﨑: 野崎クリニック -> 医療法人　野﨑クリニック",
        "野崎クリニック",
        &["hic-1113201605"],
        Top1,
    ),
    case(
        "new form for old 邉: 渡辺クリニック朝霞 -> 渡邉クリニック朝霞",
        "渡辺クリニック朝霞",
        &["navii-1121100766400"],
        Top1,
    ),
    case(
        "new form for old 澤: 長沢内科医院 -> 長澤内科医院",
        "長沢内科医院",
        &["hic-1110106302"],
        Top1,
    ),
    case(
        "new form for old 醫: 上青木中央医院 -> 上青木中央醫院",
        "上青木中央医院",
        // The 届出 spelling 「上靑木中央醫院」 joined this ナビイ record once the builder folded 靑.
        &["navii-1121121057500"],
        AllInTop5,
    ),
    case(
        "new form for variant 冨: 富士薬局羽生店 -> 冨士薬局羽生店",
        "富士薬局羽生店",
        &["navii-1151106786100"],
        Top1,
    ),
    case(
        "new forms for 櫻澤: 桜沢医院 -> 櫻澤医院",
        "桜沢医院",
        &["navii-1121101335400"],
        Top1,
    ),
    case(
        "new form for old 濱: 浜田診療所 -> 濱田診療所",
        "浜田診療所",
        &["navii-1121104263000"],
        Top1,
    ),
    case(
        "崎 finds both 岩崎歯科医院 and 岩嵜歯科医院",
        "岩崎歯科医院",
        &["navii-1131103348700", "navii-1131105323200"],
        AllInTop5,
    ),
    case(
        "new form for old 會 in a corporation name: 向生会 -> 向生會",
        "向生会",
        &["hic-1115201231"],
        Top1,
    ),
    case(
        "old form 國 in query, data has 国: 國立病院機構 埼玉病院 (PCU)",
        "國立病院機構 埼玉病院",
        &["navii-1111100728100"],
        AllInTop5,
    ),
    case(
        "old form 邊 in query, data has 辺: 渡邊産婦人科",
        "渡邊産婦人科",
        &["navii-1121102077600"],
        Top1,
    ),
    case(
        "old form 髙 in query, data has 高: 髙橋内科医院",
        "髙橋内科医院",
        &["navii-1121109927500"],
        Top1,
    ),
    case(
        "name stored with a variation selector (辻 + IVS): セイムス鳩ヶ谷辻薬局",
        "セイムス鳩ヶ谷辻薬局",
        &["navii-1151105950800"],
        Top1,
    ),
    // --- ヶ / ケ / ヵ ---
    case(
        "ケ in query, ヶ in data: 鶴ケ島訪問看護ステーション (two stations)",
        "鶴ケ島訪問看護ステーション",
        &["kaigo-1166290019", "kaigo-1166290035"],
        AllInTop5,
    ),
    case(
        "ヶ in query, ケ in data: 霞ヶ関南病院",
        "霞ヶ関南病院",
        &["navii-1111105387900"],
        Top1,
    ),
    case(
        "ヶ in query, ケ in data: 狭山ヶ丘病院",
        "狭山ヶ丘病院",
        &["navii-1111108666100"],
        Top1,
    ),
    case(
        "ケ in query, ヶ in data: 鳩ケ谷中央病院",
        "鳩ケ谷中央病院",
        &["navii-1111108078700"],
        Top1,
    ),
    case(
        "small ヵ in query, ケ in data: 霞ヵ関眼科",
        "霞ヵ関眼科",
        &["navii-1121105428000"],
        Top1,
    ),
    // --- Place + service ---
    case(
        "place + service: 川口 緩和ケア病棟 -> the two PCUs in 川口",
        "川口 緩和ケア病棟",
        &["navii-1111100001500", "navii-1111100017100"],
        AllInTop5,
    ),
    case(
        "place + service: 上尾 PCU -> the two 上尾中央 PCUs",
        "上尾 PCU",
        &["navii-1111108148100", "navii-1111108165100"],
        AllInTop5,
    ),
    case(
        "place + service: 春日部 PCU -> 南部厚生病院",
        "春日部 PCU",
        &["navii-1111120729900"],
        Top1,
    ),
    case(
        "place + service: さいたま市 PCU -> さいたま市立病院, 彩の国東大宮メディカルセンター",
        "さいたま市 PCU",
        &["navii-1111103894200", "navii-1111103877200"],
        AllInTop5,
    ),
    case(
        "place + service with no match: 川越 緩和ケア病棟 (there is no PCU in 川越) -> a relaxed answer",
        "川越 緩和ケア病棟",
        &[],
        NoStrictHits,
    ),
    case(
        "place + service: 三郷 後方支援 -> the three backup hospitals in 三郷",
        "三郷 後方支援",
        &["navii-1111109014600", "navii-1111109015400", "navii-1111109018900"],
        AllInTop5,
    ),
    case(
        "place + service: 春日部 後方支援 -> 春日部中央総合病院, 秀和総合病院",
        "春日部 後方支援",
        &["navii-1111103066600", "navii-1111103067400"],
        AllInTop5,
    ),
    case(
        "place + service: 熊谷 後方支援 -> 熊谷総合病院",
        "熊谷 後方支援",
        &["navii-1111123417200"],
        Top1,
    ),
    case(
        "place + service: 川口 緩和ケアチーム -> the four palliative teams in 川口",
        "川口 緩和ケアチーム",
        &[
            "navii-1121121057500", "navii-1111100001500", "navii-1111100002300", "navii-1111100017100",
        ],
        AllInTop5,
    ),
    case(
        "place + service: 毛呂山 緩和ケア外来 -> 埼玉医科大学病院, 丸木記念",
        "毛呂山 緩和ケア外来",
        &["navii-1111110041900", "navii-1111110043500"],
        AllInTop5,
    ),
    case(
        "place + service: 所沢 緩和ケアチーム -> 防衛医科大学校病院",
        "所沢 緩和ケアチーム",
        &["navii-1111108678500"],
        Top1,
    ),
    case(
        "place + service: 秩父 訪問看護 -> only visiting nurse stations around 秩父",
        "秩父 訪問看護",
        &[
            "kaigo-1114801015", "kaigo-1164890034", "kaigo-1164890059", "kaigo-1164890075",
            "kaigo-1164990016", "kaigo-1164990032", "kaigo-1164990057", "kaigo-1164990065",
            "kaigo-1164990073",
        ],
        Top5Within { at_least: 5 },
    ),
    case(
        "place + service: 熊谷 訪問看護 -> only visiting nurse stations in 熊谷",
        "熊谷 訪問看護",
        &[
            "kaigo-1113103447", "kaigo-1163190022", "kaigo-1163190071", "kaigo-1163190154",
            "kaigo-1163190170", "kaigo-1163190196", "kaigo-1163190204", "kaigo-1163190212",
            "kaigo-1163190238", "kaigo-1163190279", "kaigo-1163190287", "kaigo-1163190295",
            "kaigo-1163190337", "kaigo-1163190345", "kaigo-1163190352", "kaigo-1163190360",
            "kaigo-1163190378", "kaigo-1163190386", "kaigo-1163190394", "kaigo-1163190402",
            "kaigo-1163190428", "kaigo-1163190436", "kaigo-1163190444",
        ],
        Top5Within { at_least: 5 },
    ),
    case(
        "place + service: 秩父 在支診 -> only home-care support facilities in 秩父",
        "秩父 在支診",
        &[
            "hic-1114902136", "navii-1111108751000", "navii-1111108755200", "navii-1111108757900",
            "navii-1111108758700", "navii-1111108759500", "navii-1121108839700",
            "navii-1121108843500",
        ],
        Top5Within { at_least: 3 },
    ),
    case(
        "place + service: さいたま市岩槻区 在支診 -> only home-care support facilities in 岩槻区",
        "さいたま市岩槻区 在支診",
        &[
            "hic-1110700625", "hic-1116521496", "navii-1111103897700", "navii-1121104678300",
            "navii-1121104697000", "navii-1121104704600", "navii-1121124357000",
            "navii-1121126215000", "navii-1121126256700",
        ],
        Top5Within { at_least: 5 },
    ),
    // 在支病 expands to 在宅療養支援病院, which the shared label 在宅療養支援診療所・病院 does not
    // contain as a phrase: this case needs hospitals to be indexed with 在宅療養支援病院.
    case(
        "place + service: さいたま市 在支病 -> home-care support hospitals in さいたま市",
        "さいたま市 在支病",
        &[
            "navii-1111103867500", "navii-1111103873000", "navii-1111103874800",
            "navii-1111103884500", "navii-1111103891800", "navii-1111103893400",
            "navii-1111103895000", "navii-1111103897700",
        ],
        Top5Within { at_least: 5 },
    ),
    case(
        "place + service: 川越 無菌製剤処理 -> aseptic compounding in 川越",
        "川越 無菌製剤処理",
        &[
            "navii-1111105371200", "navii-1111105372000", "navii-1111105377100",
            "navii-1111105379800", "navii-1111105384400", "navii-1111105388700",
            "navii-1111110121000",
        ],
        Top5Within { at_least: 5 },
    ),
    case(
        "place + service: 川越 在宅緩和ケア充実 -> the four enhanced home palliative clinics in 川越",
        "川越 在宅緩和ケア充実",
        &[
            "hic-1110406512", "navii-1121105525100", "navii-1121121725100", "navii-1121123250100",
        ],
        AllInTop5,
    ),
    // --- A service alone ---
    case(
        "service alone: PCU -> top 5 are PCU hospitals",
        "PCU",
        PCU_HOSPITALS,
        Top5Within { at_least: 5 },
    )
    .total(20),
    case(
        "service alone: 緩和ケア病棟 -> top 5 are PCU hospitals",
        "緩和ケア病棟",
        PCU_HOSPITALS,
        Top5Within { at_least: 5 },
    )
    .total(20),
    case(
        "service alone, lower-case: pcu",
        "pcu",
        PCU_HOSPITALS,
        Top5Within { at_least: 5 },
    )
    .total(20),
    case(
        "service alone, English label: palliative care unit",
        "palliative care unit",
        PCU_HOSPITALS,
        Top5Within { at_least: 5 },
    )
    .total(20),
    case(
        "service alone: 訪問歯科 (synonym 歯科訪問診療) -> home-visit dentistry",
        "訪問歯科",
        &[
            "hic-1111602804", "navii-1111103553600", "navii-1121102878500", "navii-1121109089800",
            "navii-1121121947500", "navii-1121122483500", "navii-1121123782100",
            "navii-1131100501700", "navii-1131101071100", "navii-1131103046100",
            "navii-1131104824700", "navii-1131105210400", "navii-1131109482600",
            "navii-1131109582200", "navii-1131120747700", "navii-1131122073200",
            "navii-1131122373100", "navii-1131122636600", "navii-1131123278100",
        ],
        Top5Within { at_least: 5 },
    ),
    // --- One character ---
    case(
        "one character: 瘤 -> 大宮静脈瘤クリニック",
        "瘤",
        &["navii-1121123607800"],
        Top1,
    ),
    case(
        "one character: 巨 -> 埼玉巨樹の会 新久喜総合病院",
        "巨",
        &["navii-1111103389400"],
        Top1,
    ),
    case(
        "one character: 湖 -> 湖街ホスピタル",
        "湖",
        &["navii-1111108998900"],
        Top1,
    ),
    case(
        "one character: 帯 -> 帯津三敬病院 and its visiting nurse station",
        "帯",
        &["navii-1111105384400", "kaigo-1110405175"],
        AllInTop5,
    ),
    // --- Kana readings (name_kana) ---
    case(
        "kana reading: サイタマケンリツガンセンター",
        "サイタマケンリツガンセンター",
        &["navii-1111108149000"],
        Top1,
    ),
    case(
        "kana reading in hiragana: さいたませきじゅうじびょういん",
        "さいたませきじゅうじびょういん",
        &["navii-1111103880200"],
        Top1,
    ),
    case(
        "kana reading in half-width katakana: ｻｲﾀﾏｹﾝﾘﾂｶﾞﾝｾﾝﾀｰ",
        "ｻｲﾀﾏｹﾝﾘﾂｶﾞﾝｾﾝﾀｰ",
        &["navii-1111108149000"],
        Top1,
    ),
    case(
        "partial kana reading: セキジュウジ -> 深谷赤十字病院, さいたま赤十字病院",
        "セキジュウジ",
        &["navii-1111102385600", "navii-1111103880200"],
        AllInTop5,
    ),
    case(
        "kana reading of a kanji-only name: ラクセンドウ -> 楽仙堂病院",
        "ラクセンドウ",
        &["navii-1111102391000"],
        Top1,
    ),
    // --- Combined with filters ---
    case(
        "q + service filter: PCU&service=pcu -> exactly the 20 PCUs",
        "PCU",
        PCU_HOSPITALS,
        Top5Within { at_least: 5 },
    )
    .filters("service=pcu")
    .total(20),
    case(
        "q + kind filter: 赤十字&kind=pharmacy -> the pharmacy inside さいたま赤十字病院",
        "赤十字",
        &["navii-1151125888800"],
        Top1,
    )
    .filters("kind=pharmacy"),
    case(
        "q + kind filter: 医大前&kind=pharmacy -> アポック医大前薬局１号店",
        "医大前",
        &["navii-1151107433700"],
        Top1,
    )
    .filters("kind=pharmacy"),
    case(
        "q + kind + area: センター前&kind=pharmacy&area=1106 -> three アポック pharmacies",
        "センター前",
        &["navii-1151107421300", "navii-1151107870700", "navii-1151107871500"],
        AllInTop5,
    )
    .filters("kind=pharmacy&area=1106"),
    case(
        "q + area: 緩和ケア外来&area=1106 -> the four outpatient palliative clinics of 川越比企",
        "緩和ケア外来",
        &[
            "hic-1113200029", "navii-1111110041900", "navii-1111110043500", "navii-1111110121000",
        ],
        AllInTop5,
    )
    .filters("area=1106"),
    case(
        "q + area: PCU&area=1105 -> the three PCUs of 県央",
        "PCU",
        &["navii-1111108148100", "navii-1111108149000", "navii-1111108165100"],
        AllInTop5,
    )
    .filters("area=1105")
    .total(3),
    case(
        "q + two areas: PCU&area=1105,1108 -> 県央 and 利根 PCUs",
        "PCU",
        &[
            "navii-1111108148100", "navii-1111108149000", "navii-1111108165100",
            "navii-1111108946600",
        ],
        AllInTop5,
    )
    .filters("area=1105,1108")
    .total(4),
    case(
        "q + area: 訪問看護&area=1110 -> visiting nursing in 秩父",
        "訪問看護",
        &[
            "kaigo-1114801015", "kaigo-1164890034", "kaigo-1164890059", "kaigo-1164890075",
            "kaigo-1164990016", "kaigo-1164990032", "kaigo-1164990057", "kaigo-1164990065",
            "kaigo-1164990073",
        ],
        Top5Within { at_least: 5 },
    )
    .filters("area=1110"),
    case(
        "q + kind: 無菌製剤処理&kind=hospital&area=1106 -> hospitals with aseptic compounding in 川越比企",
        "無菌製剤処理",
        &[
            "hic-1113200029", "hic-1113300472", "navii-1111101990500", "navii-1111101993000",
            "navii-1111103555200", "navii-1111105371200", "navii-1111105372000",
            "navii-1111105377100", "navii-1111105379800", "navii-1111105384400",
            "navii-1111105388700", "navii-1111110041900", "navii-1111110121000",
        ],
        Top5Within { at_least: 5 },
    )
    .filters("kind=hospital&area=1106"),
    // --- Typos and variations ---
    case(
        "extra space splitting a name: 曽我 外科医院",
        "曽我 外科医院",
        &["hic-1110104851"],
        Top1,
    ),
    case(
        "missing 医療法人 prefix: 邦友会 曽我外科医院",
        "邦友会 曽我外科医院",
        &["hic-1110104851"],
        Top1,
    ),
    case(
        "missing last character: 埼玉県立がんセンタ",
        "埼玉県立がんセンタ",
        &["navii-1111108149000"],
        Top1,
    ),
    case(
        "extra space: さいたま 赤十字病院",
        "さいたま 赤十字病院",
        &["navii-1111103880200"],
        Top1,
    ),
    case(
        "extra space inside a name without one: 上尾中央 総合病院",
        "上尾中央 総合病院",
        &["navii-1111108165100"],
        Top1,
    ),
];

/// Ids and names of the hits, for failure messages.
fn hits(body: &Value) -> Vec<(String, String)> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["id"].as_str().unwrap_or("?").to_string(),
                        i["name"].as_str().unwrap_or("?").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `None` when the case holds, else what is wrong.
fn check(case: &Case, status: u16, body: &Value) -> Option<String> {
    if status != 200 {
        return Some(format!("HTTP {status}: {body}"));
    }
    let Some(total) = body["total"].as_u64() else {
        return Some(format!("no `total` in the answer: {body}"));
    };
    let top: Vec<String> = hits(body).into_iter().map(|(id, _)| id).take(5).collect();
    let mut problems = Vec::new();
    match case.rule {
        Top1 => {
            if top.first().map(String::as_str) != case.expected.first().copied() {
                problems.push(format!("expected {} first", case.expected[0]));
            }
        }
        AllInTop5 => {
            let missing: Vec<&str> = case
                .expected
                .iter()
                .copied()
                .filter(|e| !top.iter().any(|t| t == e))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("missing from the top 5: {missing:?}"));
            }
        }
        Top5Within { at_least } => {
            let stray: Vec<&str> = top
                .iter()
                .map(String::as_str)
                .filter(|t| !case.expected.contains(t))
                .collect();
            if !stray.is_empty() {
                problems.push(format!("unexpected in the top 5: {stray:?}"));
            }
            if top.len() < at_least {
                problems.push(format!(
                    "only {} hits, expected at least {at_least} of {} facilities",
                    top.len(),
                    case.expected.len()
                ));
            }
        }
        NoStrictHits => {
            if body["match"] != "relaxed" {
                problems.push(format!("expected a relaxed match, got {}", body["match"]));
            }
        }
    }
    if let Some(want) = case.total
        && total != want
    {
        problems.push(format!("total {total}, expected {want}"));
    }
    if problems.is_empty() {
        None
    } else {
        Some(problems.join("; "))
    }
}

#[test]
fn the_case_table_is_sound() {
    assert!(CASES.len() >= 40, "only {} cases", CASES.len());
    let mut labels = BTreeSet::new();
    for c in CASES {
        assert!(labels.insert(c.label), "duplicate label: {}", c.label);
        assert!(!c.q.trim().is_empty(), "{}: empty query", c.label);
        match c.rule {
            Top1 => assert_eq!(c.expected.len(), 1, "{}: Top1 takes one id", c.label),
            AllInTop5 => assert!(
                (1..=5).contains(&c.expected.len()),
                "{}: AllInTop5 takes 1 to 5 ids",
                c.label
            ),
            Top5Within { at_least } => assert!(
                (1..=5).contains(&at_least) && at_least <= c.expected.len(),
                "{}: Top5Within needs 1 ≤ at_least ≤ min(5, expected)",
                c.label
            ),
            NoStrictHits => assert!(
                c.expected.is_empty(),
                "{}: NoStrictHits takes no ids",
                c.label
            ),
        }
    }
    assert_eq!(enc("a-Z_0.~"), "a-Z_0.~");
    assert_eq!(enc("a b&c=+"), "a%20b%26c%3D%2B");
    assert_eq!(enc("ケア"), "%E3%82%B1%E3%82%A2");
}

#[test]
fn every_expected_id_is_in_the_default_dataset() {
    let ids: BTreeSet<String> = default_store()
        .facilities()
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    let missing: Vec<String> = CASES
        .iter()
        .flat_map(|c| c.expected.iter().map(move |e| (c.label, *e)))
        .filter(|(_, e)| !ids.contains(*e))
        .map(|(label, e)| format!("{e} ({label})"))
        .collect();
    assert!(missing.is_empty(), "ids not in the dataset: {missing:#?}");
}

#[actix_web::test]
async fn search_finds_what_users_look_for() {
    let mut failures = Vec::new();
    for case in CASES {
        let path = case.path();
        let (status, _, body) = get(&path).await;
        if let Some(problem) = check(case, status, &body) {
            let mut report = format!(
                "✗ {}\n    q = {:?}{}\n    {problem}\n    total = {}, top 5:",
                case.label,
                case.q,
                if case.filters.is_empty() {
                    String::new()
                } else {
                    format!(" & {}", case.filters)
                },
                body["total"],
            );
            let top = hits(&body);
            if top.is_empty() {
                report.push_str(" (none)");
            }
            for (i, (id, name)) in top.iter().take(5).enumerate() {
                let mark = if case.expected.contains(&id.as_str()) {
                    "✓"
                } else {
                    " "
                };
                let _ = write!(report, "\n      {}. {mark} {id}  {name}", i + 1);
            }
            failures.push(report);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} search-quality cases failed:\n\n{}\n",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}
