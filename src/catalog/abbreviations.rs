//! The reviewed vocabulary of how people write what the data spells out: abbreviations (略称)
//! and chain names, and the everyday names of services and kinds. Data, not code: each line
//! was checked against the names and labels of the default dataset, and the tests hold them.

use crate::domain::{FacilityKind, ServiceKind};

/// One-way text expansions: a query word equal to (or containing) the key also matches its
/// full forms. Keys and forms are compared after the index normalization (NFKC, lower case,
/// hiragana), so `医療Ｃ`, `医療c` and `医療C` are one key.
pub const ABBREVIATIONS: &[(&str, &[&str])] = &[
    // 〜医大 = 〜医科大学 (埼玉医大, 獨協医大, 自治医大) and 防衛医科大学校.
    ("医大", &["医科大学", "医科大"]),
    // 日赤 = 赤十字 (さいたま日赤, 深谷日赤, 小川日赤).
    ("日赤", &["赤十字"]),
    // 〜医療C = 〜医療センター (小児医療C, 川口市立医療C).
    ("医療C", &["医療センター"]),
    ("医療セ", &["医療センター"]),
    // 国立病院機構 (NHO; 国立埼玉病院, 国立東埼玉病院).
    ("NHO", &["国立病院機構"]),
    ("国立", &["国立病院機構"]),
    // 地域医療機能推進機構 (JCHO; さいたま北部医療センター, 埼玉メディカルセンター).
    ("JCHO", &["地域医療機能推進機構"]),
    ("ジェイコー", &["地域医療機能推進機構"]),
    // 厚生連 = 厚生農業協同組合連合会.
    ("厚生連", &["厚生農業協同組合連合会"]),
    // 済生会 hospitals are 恩賜財団済生会 in full; the word itself matches.
    ("さいせいかい", &["済生会"]),
    ("とくしゅうかい", &["徳洲会"]),
    // Chains by their latin and katakana names.
    ("TMG", &["戸田中央"]),
    ("戸田中央医科グループ", &["TMG", "戸田中央"]),
    ("IMS", &["イムス"]),
    ("イムス", &["IMS"]),
    ("アイン", &["アイン薬局"]),
    ("ウェルシア", &["ウエルシア"]),
    ("ウエルシア", &["ウェルシア"]),
    ("マツキヨ", &["マツモトキヨシ"]),
    ("ツルハ", &["ツルハドラッグ"]),
    ("クオール", &["クオール薬局"]),
    // Everyday names of services (the service itself is matched by its tag, see
    // SERVICE_TERMS; these find the words in names and notes too).
    ("緩和病棟", &["緩和ケア病棟"]),
    ("ホスピス", &["緩和ケア病棟"]),
    ("緩和外来", &["緩和ケア外来"]),
    ("緩和チーム", &["緩和ケアチーム"]),
    ("クリーンベンチ", &["無菌製剤処理", "無菌調剤"]),
    ("無菌調剤", &["無菌製剤処理"]),
    ("訪問薬剤", &["訪問薬剤管理指導"]),
    ("緊急入院", &["緊急一時入院"]),
    ("レスパイト", &["レスパイト入院"]),
    ("歯医者", &["歯科"]),
];

/// What an everyday service or kind word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service(ServiceKind),
    Kind(FacilityKind),
}

use FacilityKind as K;
use ServiceKind as S;
use Target::{Kind, Service};

/// Everyday words for a service or a kind: a query word equal to one of these matches every
/// facility that offers the service (or is of the kind), as well as the word in the text.
pub const SERVICE_TERMS: &[(&str, &[Target])] = &[
    ("緩和ケア病棟", &[Service(S::Pcu)]),
    ("緩和病棟", &[Service(S::Pcu)]),
    ("PCU", &[Service(S::Pcu)]),
    ("ホスピス", &[Service(S::Pcu)]),
    ("緩和ケアチーム", &[Service(S::PalliativeTeam)]),
    ("緩和チーム", &[Service(S::PalliativeTeam)]),
    ("緩和ケア外来", &[Service(S::PalliativeOutpatient)]),
    ("緩和外来", &[Service(S::PalliativeOutpatient)]),
    ("往診", &[Service(S::HomeCareSupport)]),
    ("在宅医", &[Service(S::HomeCareSupport)]),
    ("在宅医療", &[Service(S::HomeCareSupport)]),
    // A clinic's survey may say it visits homes without the 在支診 notification.
    (
        "訪問診療",
        &[Service(S::HomeCareSupport), Service(S::HomeVisits)],
    ),
    ("在支診", &[Service(S::HomeCareSupport)]),
    ("在支病", &[Service(S::HomeCareSupport)]),
    ("在宅療養支援診療所", &[Service(S::HomeCareSupport)]),
    ("在宅療養支援病院", &[Service(S::HomeCareSupport)]),
    ("在宅緩和ケア", &[Service(S::EnhancedHomePalliative)]),
    ("在宅緩和", &[Service(S::EnhancedHomePalliative)]),
    ("後方支援", &[Service(S::BackupHospital)]),
    ("後方支援病院", &[Service(S::BackupHospital)]),
    // 在宅療養後方支援病院 take their home-care patients in when needed: what 緊急入院 asks.
    (
        "緊急入院",
        &[Service(S::EmergencyAdmission), Service(S::BackupHospital)],
    ),
    (
        "緊急一時入院",
        &[Service(S::EmergencyAdmission), Service(S::BackupHospital)],
    ),
    ("レスパイト", &[Service(S::RespiteAdmission)]),
    ("レスパイト入院", &[Service(S::RespiteAdmission)]),
    ("無菌調剤", &[Service(S::AsepticCompounding)]),
    ("無菌製剤処理", &[Service(S::AsepticCompounding)]),
    ("クリーンベンチ", &[Service(S::AsepticCompounding)]),
    ("訪問薬剤", &[Service(S::HomeMedicationManagement)]),
    ("訪問薬剤管理指導", &[Service(S::HomeMedicationManagement)]),
    ("在宅訪問薬局", &[Service(S::HomeMedicationManagement)]),
    ("訪問薬局", &[Service(S::HomeMedicationManagement)]),
    ("在宅薬局", &[Service(S::HomeMedicationManagement)]),
    ("訪問服薬指導", &[Service(S::HomeMedicationManagement)]),
    ("麻薬", &[Service(S::OpioidDispensing)]),
    ("医療用麻薬", &[Service(S::OpioidDispensing)]),
    ("訪問歯科", &[Service(S::HomeVisitDental)]),
    ("歯科往診", &[Service(S::HomeVisitDental)]),
    (
        "訪問看護",
        &[Kind(K::VisitingNurseStation), Service(S::VisitingNursing)],
    ),
    ("訪問看護ステーション", &[Kind(K::VisitingNurseStation)]),
    ("歯医者", &[Kind(K::DentalClinic)]),
    ("定期巡回", &[Service(S::RegularVisit24h)]),
    (
        "定期巡回・随時対応型訪問介護看護",
        &[Service(S::RegularVisit24h)],
    ),
    ("24時間訪問介護", &[Service(S::RegularVisit24h)]),
    // Hospitals named センター or ホスピタル are hospitals too.
    ("病院", &[Kind(K::Hospital)]),
    ("がん相談", &[Service(S::Consultation)]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::text::{normalize, synonyms};

    #[test]
    fn every_line_is_well_formed() {
        let mut keys: Vec<String> = ABBREVIATIONS.iter().map(|(k, _)| normalize(k)).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "an abbreviation is listed twice");
        for (k, forms) in ABBREVIATIONS {
            assert!(!forms.is_empty(), "{k}");
            assert!(forms.iter().all(|f| normalize(f) != normalize(k)), "{k}");
        }
        let mut terms: Vec<String> = SERVICE_TERMS.iter().map(|(k, _)| normalize(k)).collect();
        terms.sort();
        let n = terms.len();
        terms.dedup();
        assert_eq!(terms.len(), n, "a service term is listed twice");
    }

    #[test]
    fn abbreviations_expand_inside_words() {
        assert!(synonyms("日本医大").contains(&"日本医科大学".to_string()));
        assert!(synonyms("さいたま日赤").contains(&"さいたま赤十字".to_string()));
        assert!(synonyms("小児医療Ｃ").contains(&"小児医療せんたー".to_string()));
        assert!(synonyms("NHO埼玉病院").contains(&"国立病院機構埼玉病院".to_string()));
        assert!(synonyms("tmg").contains(&"戸田中央".to_string()));
        assert!(synonyms("ウェルシア").contains(&"うえるしあ".to_string()));
        // An ASCII key matches whole ASCII runs only.
        assert_eq!(synonyms("nhos"), ["nhos"]);
    }
}
