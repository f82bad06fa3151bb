//! Pharmacy groups (麻薬小売業者間譲渡許可): pharmacies holding a joint licence may pass
//! narcotics to each other, so a drug one of them lacks can come from a partner that stocks it.
//! Regions make narcotic-handling pharmacies visible and group them because a drug used in
//! hospital is often not in stock at the patient's local pharmacy.

use serde::{Deserialize, Serialize};

/// One group, as coordinators or the members' editors record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PharmacyGroup {
    pub id: i64,
    pub name: String,
    /// Facility ids of the member pharmacies (two or more).
    pub members: Vec<String>,
    /// The last day (YYYY-MM-DD) the joint licence is valid; after it the group passes nothing.
    pub licence_valid_until: String,
    /// Usual hours for a partner's stock to reach the pharmacy.
    pub transfer_hours: Option<u32>,
    pub note: Option<String>,
    /// Demo data (`data/sample/`): labelled sample wherever shown.
    pub sample: bool,
    pub updated_by: String,
    pub updated_at: String,
}

impl PharmacyGroup {
    /// Whether the licence is valid on `date` (YYYY-MM-DD).
    pub fn valid_on(&self, date: &str) -> bool {
        date <= self.licence_valid_until.as_str()
    }

    /// The other members of `id`'s groups in `groups` valid on `date`, with the group.
    pub fn partners<'g>(
        groups: &'g [PharmacyGroup],
        id: &'g str,
        date: &'g str,
    ) -> impl Iterator<Item = (&'g str, &'g PharmacyGroup)> + 'g {
        groups
            .iter()
            .filter(move |g| g.valid_on(date) && g.members.iter().any(|m| m == id))
            .flat_map(move |g| {
                g.members
                    .iter()
                    .filter(move |m| m.as_str() != id)
                    .map(move |m| (m.as_str(), g))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partners_are_the_other_members_of_valid_groups() {
        let g = |id, members: &[&str], until: &str| PharmacyGroup {
            id,
            name: format!("g{id}"),
            members: members.iter().map(|s| s.to_string()).collect(),
            licence_valid_until: until.into(),
            transfer_hours: None,
            note: None,
            sample: false,
            updated_by: String::new(),
            updated_at: String::new(),
        };
        let groups = [
            g(1, &["a", "b", "c"], "2027-03-31"),
            g(2, &["a", "d"], "2026-11-30"),
        ];
        let p: Vec<_> = PharmacyGroup::partners(&groups, "a", "2026-12-01")
            .map(|(m, g)| (m, g.id))
            .collect();
        assert_eq!(p, [("b", 1), ("c", 1)]);
        assert!(groups[1].valid_on("2026-11-30") && !groups[1].valid_on("2026-12-01"));
        assert_eq!(
            PharmacyGroup::partners(&groups, "z", "2026-12-01").count(),
            0
        );
    }
}
