//! The controlled vocabulary: facility kinds and service kinds with Japanese and English labels.
//! Codes are the stable names used in the API, the database and the dataset files.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in URLs, JSON and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),+ }
            }
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
            /// All codes, comma-separated, for error messages.
            pub fn codes() -> String {
                Self::ALL.iter().map(|k| k.code()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// What kind of place a facility is.
    FacilityKind {
        Hospital => "hospital", "病院", "Hospital";
        Clinic => "clinic", "診療所", "Clinic";
        DentalClinic => "dental_clinic", "歯科診療所", "Dental clinic";
        Pharmacy => "pharmacy", "薬局", "Pharmacy";
        VisitingNurseStation => "visiting_nurse_station", "訪問看護ステーション", "Visiting nurse station";
        PatientGroup => "patient_group", "患者会・がんサロン", "Patient group";
        ConsultationCenter => "consultation_center", "がん相談支援センター", "Cancer consultation center";
        Other => "other", "その他", "Other";
    }
}

vocabulary! {
    /// What a facility offers. Most come from 施設基準の届出 (notifications to the regional bureau).
    ServiceKind {
        Pcu => "pcu", "緩和ケア病棟", "Palliative care unit (PCU)";
        PalliativeTeam => "palliative_team", "緩和ケアチーム", "Palliative care team";
        PalliativeOutpatient => "palliative_outpatient", "緩和ケア外来", "Palliative care outpatient clinic";
        HomeCareSupport => "home_care_support", "在宅療養支援診療所・病院", "Home-care support clinic/hospital";
        EnhancedHomePalliative => "enhanced_home_palliative", "在宅緩和ケア充実診療所・病院", "Enhanced home palliative care";
        BackupHospital => "backup_hospital", "在宅療養後方支援病院", "Backup hospital for home-care patients";
        EmergencyAdmission => "emergency_admission", "緊急一時入院", "Emergency admission";
        RespiteAdmission => "respite_admission", "レスパイト入院", "Respite admission";
        CancerPainManagement => "cancer_pain_management", "がん性疼痛緩和指導管理", "Cancer pain management";
        HomeCancerCare => "home_cancer_care", "在宅がん医療総合診療", "Comprehensive home cancer care";
        OpioidDispensing => "opioid_dispensing", "医療用麻薬の調剤", "Opioid dispensing";
        AsepticCompounding => "aseptic_compounding", "無菌製剤処理", "Aseptic compounding";
        HomeMedicationManagement => "home_medication_management", "訪問薬剤管理指導", "Home medication management";
        HomeVisitDental => "home_visit_dental", "訪問歯科診療", "Home-visit dental care";
        VisitingNursing => "visiting_nursing", "訪問看護", "Visiting nursing";
        /// 定期巡回・随時対応型訪問介護看護 (介護保険): regular rounds and on-call visits day and night.
        #[serde(rename = "regular_visit_24h")]
        RegularVisit24h => "regular_visit_24h", "定期巡回・随時対応型訪問介護看護", "24-hour regular and on-call home care and nursing";
        Consultation => "consultation", "がん相談支援", "Cancer consultation";
        /// 訪問診療 as a clinic's survey answered it (not a 届出: see home_care_support for those).
        HomeVisits => "home_visits", "訪問診療", "Home visits (physician)";
    }
}

impl ServiceKind {
    /// Services delivered at the patient's home, bounded by the 16 km rule unless a radius is published.
    pub fn visits_homes(self) -> bool {
        matches!(
            self,
            ServiceKind::HomeCareSupport
                | ServiceKind::EnhancedHomePalliative
                | ServiceKind::HomeCancerCare
                | ServiceKind::HomeVisitDental
                | ServiceKind::VisitingNursing
                | ServiceKind::RegularVisit24h
                | ServiceKind::HomeMedicationManagement
                | ServiceKind::HomeVisits
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::from_code(k.code()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        for k in FacilityKind::ALL {
            assert_eq!(FacilityKind::from_code(k.code()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
    }
}
