//! Who is asking: roles (利用者の役割), the accounts that hold them, and what each may see and
//! change. Plain rules, no I/O: the store keeps accounts, the HTTP layer turns a request into a
//! [`Principal`], and both ask these functions.

use serde::{Deserialize, Serialize};

use super::{Audience, Facility};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A registered clinician or care manager: sees professional fields, edits nothing.
    Professional,
    /// Staff of one or more facilities (施設担当者): edits those facilities only.
    FacilityEditor,
    /// 地域緩和ケア連携調整員: edits every facility of their 二次医療圏 areas.
    Coordinator,
    /// Everything, anywhere, including accounts.
    Admin,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Professional,
        Role::FacilityEditor,
        Role::Coordinator,
        Role::Admin,
    ];
    pub const CODES: &'static str = "professional, facility_editor, coordinator, admin";

    pub fn code(self) -> &'static str {
        match self {
            Role::Professional => "professional",
            Role::FacilityEditor => "facility_editor",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn from_code(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.code() == s)
    }

    /// What this role may see: internal fields (e.g. survey contact persons) are for
    /// coordinators and admins; professional fields for every account.
    pub fn audience(self) -> Audience {
        match self {
            Role::Professional | Role::FacilityEditor => Audience::Professional,
            Role::Coordinator | Role::Admin => Audience::Internal,
        }
    }
}

/// An account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// 二次医療圏 codes a coordinator is bound to.
    pub areas: Vec<String>,
    /// Facility ids a facility editor is bound to.
    pub facilities: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
}

/// A signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    /// How the caller proved who they are.
    pub via: Credential,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session; state-changing requests need its CSRF token.
    Session { csrf: String },
    /// An API token (`Authorization: Bearer`); no CSRF token needed.
    Token,
}

/// Why a write is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("Your role ({0}) may not change facilities; ask your coordinator.")]
    ReadOnlyRole(&'static str),
    #[error(
        "Facility {facility} is not one of yours ({yours}); a facility editor edits only the facilities bound to the account."
    )]
    NotYourFacility { facility: String, yours: String },
    #[error("Facility {facility} is in area {area}, outside your areas ({yours}).")]
    OutsideYourAreas {
        facility: String,
        area: String,
        yours: String,
    },
    #[error("Only coordinators and admins may add facilities.")]
    CannotCreate,
    #[error("Only admins may manage accounts.")]
    NotAdmin,
}

impl User {
    /// Whether this account may change `f` (its facts, services, status or verification).
    pub fn may_edit(&self, f: &Facility) -> Result<(), Denied> {
        if self.disabled {
            return Err(Denied::ReadOnlyRole("disabled"));
        }
        match self.role {
            Role::Admin => Ok(()),
            Role::Professional => Err(Denied::ReadOnlyRole(self.role.code())),
            Role::FacilityEditor => {
                if self.facilities.contains(&f.id) {
                    Ok(())
                } else {
                    Err(Denied::NotYourFacility {
                        facility: f.id.clone(),
                        yours: self.facilities.join(", "),
                    })
                }
            }
            Role::Coordinator => match &f.area_code {
                Some(a) if self.areas.contains(a) => Ok(()),
                area => Err(Denied::OutsideYourAreas {
                    facility: f.id.clone(),
                    area: area.clone().unwrap_or_else(|| "(none)".into()),
                    yours: self.areas.join(", "),
                }),
            },
        }
    }

    /// Whether this account may add a facility in `area`.
    pub fn may_create_in(&self, area: Option<&str>) -> Result<(), Denied> {
        match (self.role, area) {
            (Role::Admin, _) => Ok(()),
            (Role::Coordinator, Some(a)) if self.areas.iter().any(|x| x == a) => Ok(()),
            (Role::Coordinator, a) => Err(Denied::OutsideYourAreas {
                facility: "(new)".into(),
                area: a.unwrap_or("(none)").into(),
                yours: self.areas.join(", "),
            }),
            _ => Err(Denied::CannotCreate),
        }
    }

    pub fn may_manage_accounts(&self) -> Result<(), Denied> {
        (self.role == Role::Admin && !self.disabled)
            .then_some(())
            .ok_or(Denied::NotAdmin)
    }
}

/// An audit actor (`role:account`) as `audience` may see it: coordinators and admins see the
/// account, everyone else the role only.
pub fn actor_as_seen(actor: &str, audience: Audience) -> String {
    if audience == Audience::Internal {
        actor.to_string()
    } else {
        actor.split(':').next().unwrap_or("").to_string()
    }
}

/// The one projection by role: `f` as `audience` may see it. Contacts, bed status, admission
/// rules and the formulary whose visibility the audience lacks are removed, so that every
/// output path (JSON, GeoJSON, history, exports) that starts from the projection cannot leak
/// them.
pub fn project(f: &Facility, audience: Audience) -> Facility {
    let mut out = f.clone();
    out.contacts.retain(|c| audience.may_see(c.visibility));
    if let Some(s) = &mut out.specialists {
        s.named.retain(|n| audience.may_see(n.visibility));
    }
    if !audience.may_see(super::partner::PARTNERS_VISIBILITY) {
        out.partners.clear();
    }
    for c in &mut out.consultations {
        c.routes.retain(|r| audience.may_see(r.visibility));
    }
    if let Some(g) = &mut out.gathering
        && !audience.may_see(g.link_visibility)
    {
        g.link = None;
    }
    for s in &mut out.services {
        if s.capacity
            .as_ref()
            .is_some_and(|c| !audience.may_see(c.visibility))
        {
            s.capacity = None;
        }
        if s.admission_rules
            .as_ref()
            .is_some_and(|r| !audience.may_see(r.visibility))
        {
            s.admission_rules = None;
        }
        if !audience.may_see(s.attributes.formulary_visibility) {
            s.attributes.formulary.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: 1,
            email: "a@example.jp".into(),
            role,
            areas: vec!["1104".into()],
            facilities: vec!["navii-1".into()],
            disabled: false,
            created_at: String::new(),
        }
    }

    #[test]
    fn roles_round_trip_and_map_to_audiences() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(*r));
        }
        assert_eq!(Role::from_code("root"), None);
        assert_eq!(Role::Professional.audience(), Audience::Professional);
        assert_eq!(Role::Coordinator.audience(), Audience::Internal);
    }

    #[test]
    fn who_may_create() {
        assert!(user(Role::Admin).may_create_in(None).is_ok());
        assert!(user(Role::Coordinator).may_create_in(Some("1104")).is_ok());
        assert!(user(Role::Coordinator).may_create_in(Some("1101")).is_err());
        assert_eq!(
            user(Role::FacilityEditor).may_create_in(Some("1104")),
            Err(Denied::CannotCreate)
        );
        assert!(user(Role::Professional).may_manage_accounts().is_err());
        assert!(user(Role::Admin).may_manage_accounts().is_ok());
    }
}
