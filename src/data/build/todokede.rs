//! 施設基準の届出 (notifications to the regional health bureau): institutions and the mapping of
//! 受理届出名称 to palliative services.

use std::collections::BTreeMap;

use crate::domain::{HomeCareTier, ServiceKind};

use super::norm;

/// The service (and tier) a notified item (受理届出名称) maps to, if it is a palliative one.
pub fn map_item(item: &str) -> Option<(ServiceKind, Option<HomeCareTier>)> {
    let item = item.trim();
    let tier = |s: &str| -> Option<HomeCareTier> {
        if s.contains("の(１)") || s.contains("の(1)") {
            Some(HomeCareTier::EnhancedSolo)
        } else if s.contains("の(２)") || s.contains("の(2)") {
            Some(HomeCareTier::EnhancedLinked)
        } else if s.contains("の(３)") || s.contains("の(3)") {
            Some(HomeCareTier::Conventional)
        } else {
            None
        }
    };
    Some(match item {
        "緩和ケア病棟入院料１" | "緩和ケア病棟入院料２" => {
            (ServiceKind::Pcu, None)
        }
        "緩和ケア診療加算" | "有床診療所緩和ケア診療加算" | "小児緩和ケア診療加算" => {
            (ServiceKind::PalliativeTeam, None)
        }
        "外来緩和ケア管理料" => (ServiceKind::PalliativeOutpatient, None),
        "在宅療養後方支援病院" => (ServiceKind::BackupHospital, None),
        "がん性疼痛緩和指導管理料" => (ServiceKind::CancerPainManagement, None),
        "在宅がん医療総合診療料" => (ServiceKind::HomeCancerCare, None),
        "無菌製剤処理料" => (ServiceKind::AsepticCompounding, None),
        "在宅療養支援歯科診療所１" | "在宅療養支援歯科診療所２" | "在宅療養支援歯科病院" => {
            (ServiceKind::HomeVisitDental, None)
        }
        _ if item.starts_with("別添１の「第９」の１の")
            && item.ends_with("に規定する在宅療養支援診療所") =>
        {
            (ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の「第14の２」の１の")
            && item.ends_with("に規定する在宅療養支援病院") =>
        {
            (ServiceKind::HomeCareSupport, Some(tier(item)?))
        }
        _ if item.starts_with("別添１の")
            && item.ends_with("に規定する在宅緩和ケア充実診療所・病院加算") =>
        {
            (ServiceKind::EnhancedHomePalliative, None)
        }
        _ => return None,
    })
}

/// One notified item of an institution.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    /// 算定開始年月日 as ISO date.
    pub since: Option<String>,
}

/// One 医療機関 of the 届出 list with all its rows collapsed.
#[derive(Debug, Clone)]
pub struct Institution {
    /// 7-digit 医療機関番号.
    pub code7: String,
    pub name: String,
    pub postal_code: Option<String>,
    /// Address as published (no prefecture).
    pub address: String,
    pub phone: Option<String>,
    pub fax: Option<String>,
    /// 病床数 as published, with spaces tidied, e.g. `一般 395／療養 120`.
    pub beds: Option<String>,
    pub beds_total: u32,
    pub items: Vec<Item>,
}

impl Institution {
    /// 10-digit 保険医療機関コード: prefecture + 1 (医科) + 7 digits.
    pub fn hic(&self, pref_code: &str) -> String {
        format!("{pref_code}1{}", self.code7)
    }

    /// The mapped palliative services: kind → (tier, items, earliest since).
    pub fn services(&self) -> BTreeMap<ServiceKind, MappedService> {
        let mut out: BTreeMap<ServiceKind, MappedService> = BTreeMap::new();
        for it in &self.items {
            let Some((kind, tier)) = map_item(&it.name) else {
                continue;
            };
            let e = out.entry(kind).or_default();
            if let Some(t) = tier {
                // Keep the strongest tier when several are notified.
                e.tier = Some(match e.tier {
                    Some(old) if tier_rank(old) <= tier_rank(t) => old,
                    _ => t,
                });
            }
            if !e.items.contains(&it.name) {
                e.items.push(it.name.clone());
            }
            if let Some(s) = &it.since
                && e.since.as_ref().is_none_or(|old| s < old)
            {
                e.since = Some(s.clone());
            }
        }
        for e in out.values_mut() {
            e.items.sort();
        }
        out
    }

    pub fn looks_like_hospital(&self) -> bool {
        let n = norm::fold(&self.name);
        n.ends_with("病院") || self.beds_total >= 20
    }

    pub fn looks_like_dental(&self) -> bool {
        norm::fold(&self.name).contains("歯科") && !self.looks_like_hospital()
    }
}

fn tier_rank(t: HomeCareTier) -> u8 {
    match t {
        HomeCareTier::EnhancedSolo => 0,
        HomeCareTier::EnhancedLinked => 1,
        HomeCareTier::Conventional => 2,
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappedService {
    pub tier: Option<HomeCareTier>,
    pub items: Vec<String>,
    pub since: Option<String>,
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

/// Tidy `一般　　395／療養　　120` to `一般 395／療養 120` and sum the numbers.
fn parse_beds(raw: &str) -> (Option<String>, u32) {
    let raw = raw.trim();
    if raw.is_empty() {
        return (None, 0);
    }
    let mut total = 0;
    let parts: Vec<String> = raw
        .split('／')
        .map(|p| {
            let words: Vec<&str> = p
                .split(|c: char| c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            if let Some(n) = words
                .last()
                .and_then(|w| norm::digits(w).parse::<u32>().ok())
            {
                total += n;
            }
            let mut dedup: Vec<&str> = Vec::new();
            for w in words {
                if dedup.last() != Some(&w) {
                    dedup.push(w);
                }
            }
            dedup.join(" ")
        })
        .collect();
    (Some(parts.join("／")), total)
}

/// Read the 届出 CSV and collapse it into institutions, sorted by 医療機関番号.
pub fn read_institutions(path: &std::path::Path) -> Result<Vec<Institution>, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| -> Result<usize, String> {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| format!("{}: column {name} missing", path.display()))
    };
    let c_code = col("医療機関番号")?;
    let c_name = col("医療機関名称")?;
    let c_postal = col("医療機関所在地（郵便番号）")?;
    let c_addr = col("医療機関所在地（住所）")?;
    let c_tel = col("電話番号")?;
    let c_fax = col("FAX番号")?;
    let c_beds = col("病床数")?;
    let c_item = col("受理届出名称")?;
    let c_since = col("算定開始年月日")?;
    let mut by_code: BTreeMap<String, Institution> = BTreeMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} row {}: {e}", path.display(), i + 2))?;
        let code = rec[c_code].trim().to_string();
        if code.len() != 7 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "{} row {}: bad 医療機関番号 {code:?}",
                path.display(),
                i + 2
            ));
        }
        let inst = by_code.entry(code.clone()).or_insert_with(|| {
            let (beds, beds_total) = parse_beds(&rec[c_beds]);
            let postal = norm::digits(&rec[c_postal]);
            Institution {
                code7: code.clone(),
                name: rec[c_name].trim().to_string(),
                postal_code: (postal.len() == 7).then_some(postal),
                address: rec[c_addr].trim().to_string(),
                phone: non_empty(&rec[c_tel]),
                fax: non_empty(&rec[c_fax]),
                beds,
                beds_total,
                items: Vec::new(),
            }
        });
        inst.items.push(Item {
            name: rec[c_item].trim().to_string(),
            since: norm::wareki_to_iso(&rec[c_since]),
        });
    }
    Ok(by_code.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        assert_eq!(
            map_item("緩和ケア病棟入院料１"),
            Some((ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("緩和ケア病棟入院料２"),
            Some((ServiceKind::Pcu, None))
        );
        assert_eq!(
            map_item("有床診療所緩和ケア診療加算"),
            Some((ServiceKind::PalliativeTeam, None))
        );
        assert_eq!(
            map_item("外来緩和ケア管理料"),
            Some((ServiceKind::PalliativeOutpatient, None))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(１)に規定する在宅療養支援診療所"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::EnhancedSolo)
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の１の(２)に規定する在宅療養支援診療所"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::EnhancedLinked)
            ))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の１の(３)に規定する在宅療養支援病院"),
            Some((
                ServiceKind::HomeCareSupport,
                Some(HomeCareTier::Conventional)
            ))
        );
        assert_eq!(
            map_item("別添１の「第９」の２の(３)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some((ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("別添１の「第14の２」の２の(２)に規定する在宅緩和ケア充実診療所・病院加算"),
            Some((ServiceKind::EnhancedHomePalliative, None))
        );
        assert_eq!(
            map_item("在宅療養後方支援病院"),
            Some((ServiceKind::BackupHospital, None))
        );
        assert_eq!(
            map_item("がん性疼痛緩和指導管理料"),
            Some((ServiceKind::CancerPainManagement, None))
        );
        assert_eq!(
            map_item("在宅療養支援歯科診療所２"),
            Some((ServiceKind::HomeVisitDental, None))
        );
        // Not palliative services in this vocabulary.
        assert_eq!(
            map_item("別添１の「第９」の２の(４)に規定する在宅療養実績加算１"),
            None
        );
        assert_eq!(
            map_item("がん性疼痛緩和指導管理料の注２に規定する難治性がん性疼痛緩和指導管理加算"),
            None
        );
        assert_eq!(map_item("時間外対応加算３"), None);
    }

    #[test]
    fn collapse_services() {
        let inst = Institution {
            code7: "0101303".into(),
            name: "テスト病院".into(),
            postal_code: None,
            address: String::new(),
            phone: None,
            fax: None,
            beds: None,
            beds_total: 0,
            items: vec![
                Item {
                    name: "緩和ケア病棟入院料２".into(),
                    since: Some("2020-04-01".into()),
                },
                Item {
                    name: "緩和ケア病棟入院料１".into(),
                    since: Some("2019-04-01".into()),
                },
                Item {
                    name: "別添１の「第14の２」の１の(３)に規定する在宅療養支援病院".into(),
                    since: None,
                },
                Item {
                    name: "別添１の「第14の２」の１の(２)に規定する在宅療養支援病院".into(),
                    since: Some("2022-01-01".into()),
                },
            ],
        };
        let s = inst.services();
        let pcu = &s[&ServiceKind::Pcu];
        assert_eq!(
            pcu.items,
            vec!["緩和ケア病棟入院料１", "緩和ケア病棟入院料２"]
        );
        assert_eq!(pcu.since.as_deref(), Some("2019-04-01"));
        assert_eq!(
            s[&ServiceKind::HomeCareSupport].tier,
            Some(HomeCareTier::EnhancedLinked)
        );
        assert_eq!(inst.hic("11"), "1110101303");
        assert_eq!(
            parse_beds("一般　　395／療養　　120"),
            (Some("一般 395／療養 120".into()), 515)
        );
        assert_eq!(
            parse_beds("一般　一般　141"),
            (Some("一般 141".into()), 141)
        );
    }
}
