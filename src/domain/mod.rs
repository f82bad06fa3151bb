//! Plain domain types of the palliative-care directory: facilities, services, areas, provenance.
//! No I/O lives here; every other layer speaks these types.

pub mod account;
pub mod admission;
pub mod area;
pub mod census;
pub mod consultation;
pub mod event;
pub mod facility;
pub mod formulary;
pub mod gathering;
pub mod group;
pub mod ja;
pub mod partner;
pub mod place;
pub mod prefecture;
pub mod recurrence;
pub mod schedule;
pub mod specialist;
pub mod survey;
pub mod vocabulary;

pub use account::{Credential, Denied, Principal, Role, User, actor_as_seen, project};
pub use admission::{
    AdmissionRules, CAPACITY_SERVICES, Capacity, CapacityStatus, Eligibility, RequestRoute,
    RouteKind, Transport, takes_admissions,
};
pub use area::{Area, Municipality};
pub use census::CensusArea;
pub use consultation::{Consultation, Route, Topic, WindowFor, WindowKind};
pub use event::{
    Event, EventAudience, EventKind, EventPlace, EventStatus, Organizer, Profession, project_event,
};
pub use facility::{
    Address, AfterHours, Compounding, Contact, ContactKind, DentalTier, Facility, FacilityStatus,
    HomeCareTier, Hours, Identifiers, LatLng, Origin, Placement, Provenance, Service,
    ServiceAttributes, ServiceStatus, SurveyMark, Visibility,
};
pub use formulary::{Drug, Form, FormularyEntry, Product, Scope, Stock};
pub use gathering::{Gathering, GatheringKind, Host};
pub use group::PharmacyGroup;
pub use partner::{MAX_PARTNERS, PARTNERS_VISIBILITY, Partner, PartnerRole};
pub use place::{
    Coverage, GeocodeMatch, GeocodeMiss, Geocoder, MuniRef, SplitMix64, TownRef, haversine_m,
    round6,
};
pub use recurrence::Recurrence;
pub use specialist::{NamedSpecialist, SpecialistCount, SpecialistRole, Specialists};
pub use vocabulary::{FacilityKind, ServiceKind};

/// Who is looking. Professional fields are shown only to signed-in professionals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Audience {
    #[default]
    Public,
    Professional,
    Internal,
}

impl Audience {
    /// Whether a field with `visibility` may be shown to this audience.
    pub fn may_see(self, visibility: Visibility) -> bool {
        match visibility {
            Visibility::Public => true,
            Visibility::Professional => self >= Audience::Professional,
            Visibility::Internal => self == Audience::Internal,
        }
    }
}

/// The 16 km rule: insurance-covered home visits reach patients within 16 km of the provider,
/// unless the provider publishes a smaller service area.
pub const HOME_VISIT_RADIUS_KM: f64 = 16.0;
