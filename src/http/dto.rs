//! Response bodies (DTOs) of the JSON API, with their OpenAPI schemas. What the API shows of a
//! facility is built per audience: anything not visible to the audience is dropped here, before
//! serialization, so no path can leak it.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::domain::{
    AdmissionRules, Audience, CapacityStatus, ContactKind, Facility, FacilityKind, FormularyEntry,
    HomeCareTier, Hours, Identifiers, Origin, Provenance, Service, ServiceKind, ServiceStatus,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct Label {
    pub ja: &'static str,
    pub en: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView<'a> {
    pub postal_code: Option<&'a str>,
    pub prefecture: &'a str,
    pub municipality_code: Option<&'a str>,
    pub municipality: Option<&'a str>,
    pub text: &'a str,
}

impl<'a> AddressView<'a> {
    pub fn of(a: &'a crate::domain::Address) -> Self {
        AddressView {
            postal_code: a.postal_code.as_deref(),
            prefecture: &a.prefecture,
            municipality_code: a.municipality_code.as_deref(),
            municipality: a.municipality.as_deref(),
            text: &a.text,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub lat: f64,
    pub lng: f64,
}

impl LocationView {
    pub fn of(l: Option<crate::domain::LatLng>) -> Option<Self> {
        l.map(|l| LocationView {
            lat: l.lat,
            lng: l.lng,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView<'a> {
    #[schema(value_type = String, example = "phone")]
    pub kind: ContactKind,
    pub value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    /// Who may see it (`public`, `professional`, `internal`); given to signed-in callers only,
    /// for whom not every contact is public.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub visibility: Option<crate::domain::Visibility>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView<'a> {
    #[schema(value_type = String, example = "pcu")]
    pub kind: ServiceKind,
    pub label: Label,
    #[schema(value_type = String, example = "active")]
    pub status: ServiceStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<HomeCareTier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_label: Option<&'static str>,
    /// home_visit_dental only: 在宅療養支援歯科診療所 1 or 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub dental_tier: Option<crate::domain::DentalTier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dental_tier_label: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beds: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub notified_items: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<&'a str>,
    /// Home-visit reach in km (published radius, else the 16 km rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_km: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The opioid formulary (drug, form, strength, stock `always`/`order`/`no`, order_days),
    /// for callers who may see it.
    #[schema(value_type = Option<Vec<Object>>)]
    pub formulary: Option<&'a [FormularyEntry]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<&'a str>,
    /// Bed status (PCU, backup, emergency and respite admission), for callers who may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityView<'a>>,
    /// How to request an admission (see `PUT …/admission-rules` for the fields).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub admission_rules: Option<&'a AdmissionRules>,
    /// aseptic_compounding: `own` (own clean bench) or `shared` (a shared room).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub compounding: Option<crate::domain::Compounding>,
    /// opioid_dispensing: supports PCA pumps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_pump: Option<bool>,
    /// opioid_dispensing: supports continuous subcutaneous infusion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subcutaneous_infusion: Option<bool>,
    /// opioid_dispensing: takes back unused narcotics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_back: Option<bool>,
    /// home_visits: cares for patients dying at home.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_of_life_care: Option<bool>,
    /// home_visits: palliative sedation at home.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub palliative_sedation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specialty: Option<&'a str>,
    /// Home-visit conditions (who, how to ask).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<&'a str>,
    /// The survey answer set that last filled this service (`survey`, `answered_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub survey: Option<&'a crate::domain::SurveyMark>,
    #[schema(value_type = Object)]
    pub source: &'a Provenance,
    /// True when this fact comes from a sample survey (demo data, not real).
    pub sample: bool,
    pub updated_at: &'a str,
    pub verified_at: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityView<'a> {
    pub id: &'a str,
    #[schema(value_type = String, example = "hospital")]
    pub kind: FacilityKind,
    pub kind_label: Label,
    /// The official name as published (with its legal-entity prefix, 医療法人…).
    pub name: &'a str,
    /// The name people call it by: the official name without the legal-entity prefix and
    /// the corporation's name (the same as `name` when there is none).
    pub everyday_name: String,
    pub name_kana: Option<&'a str>,
    #[schema(value_type = Object)]
    pub identifiers: &'a Identifiers,
    pub address: AddressView<'a>,
    pub location: Option<LocationView>,
    pub placement: &'static str,
    pub area: Option<AreaRef>,
    pub contacts: Vec<ContactView<'a>>,
    #[serde(skip_serializing_if = "Hours::is_empty")]
    #[schema(value_type = Option<Object>)]
    pub hours: &'a Hours,
    pub url: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub services: Vec<ServiceView<'a>>,
    #[schema(value_type = Object)]
    pub source: &'a Provenance,
    /// True when any shown fact comes from a sample survey.
    pub sample: bool,
    /// Last edited.
    pub updated_at: &'a str,
    /// Last confirmed true by a person.
    pub verified_at: Option<&'a str>,
    /// Latest bed-status report visible to this audience.
    pub capacity_updated_at: Option<&'a str>,
    /// Snapshot date of the public source the core facts were read from.
    pub source_snapshot: Option<&'a str>,
    /// Great-circle metres from the query point, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<u64>,
    /// How far the true distance may differ from `distance_m`, in metres: the sum of both
    /// points' placement uncertainties (a town point is not the building).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_precision_m: Option<u32>,
    /// `relaxed` on a near match (a name with gaps or one character wrong) listed below the
    /// strict matches of a list; absent otherwise.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub match_kind: Option<&'static str>,
    /// With `opioid=`: per asked product, the pharmacy's best matching line (in stock before
    /// on order, then fewest days), from the formulary as this caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opioid_stock: Option<Vec<StockLine<'a>>>,
    /// With `opioid=`: `always` (every product in stock), `partner` (some through a partner
    /// of its group) or `order` (some on order); the list is ranked by it, then distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<&'static str>,
    /// Reachable after hours: as a survey answered, else true for services whose rules keep a
    /// 24-hour line (在支診・在支病, 定期巡回); null when unknown.
    pub after_hours: Option<bool>,
    /// Specialists: counts per qualification (`role`, `count`), the names published (others
    /// only for coordinators), `source` and `as_of`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub specialists: Option<&'a crate::domain::Specialists>,
    /// Consultation windows: who may ask what, the route to use now (`route_now`; `open_now`
    /// false and `next_open` when closed), the other routes this caller may see, hours, source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consultations: Vec<ConsultationView<'a>>,
    /// A patient group's meetings: schedule in Japanese and the next dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gathering: Option<GatheringView<'a>>,
    /// A patient group's next meeting date (YYYY-MM-DD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_date: Option<String>,
}

/// A consultation window as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationView<'a> {
    #[schema(value_type = String, example = "cancer_support_center")]
    pub kind: crate::domain::WindowKind,
    pub kind_label: &'static str,
    pub name: &'a str,
    /// patients, professionals or both.
    #[serde(rename = "for")]
    #[schema(value_type = String, example = "both")]
    pub audience: crate::domain::WindowFor,
    pub for_label: &'static str,
    #[schema(value_type = Vec<String>)]
    pub topics: &'a [crate::domain::Topic],
    pub topic_labels: Vec<&'static str>,
    pub answers: Option<&'a str>,
    #[schema(value_type = Vec<Object>)]
    pub routes: &'a [crate::domain::Route],
    #[schema(value_type = Object)]
    pub hours: &'a Hours,
    pub hours_label: Option<String>,
    pub languages: &'a [String],
    pub fee: Option<&'a str>,
    pub note: Option<&'a str>,
    /// Confirmed with the facility; false for a window derived from a public list only.
    pub verified: bool,
    /// Where the window is known from (a source name, or `api` for a person's entry) and the
    /// snapshot date of that source.
    pub source: &'a str,
    /// dataset, coordinator, facility, survey…
    #[schema(value_type = String, example = "dataset")]
    pub origin: Origin,
    pub as_of: Option<&'a str>,
    /// Open at this moment by its hours; null when its hours are not known.
    pub open_now: Option<bool>,
    /// The route to use now.
    #[schema(value_type = Option<Object>)]
    pub route_now: Option<&'a crate::domain::Route>,
    /// When closed: when it opens next, e.g. 12月2日（水） 08:30.
    pub next_open: Option<String>,
}

/// A patient group's meetings as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatheringView<'a> {
    #[schema(value_type = String, example = "cancer_salon")]
    pub kind: crate::domain::GatheringKind,
    pub kind_label: &'static str,
    #[schema(value_type = Object)]
    pub host: &'a crate::domain::Host,
    pub online: bool,
    /// Absent when only professionals may see it and the caller is not one.
    pub link: Option<&'a str>,
    pub who: Option<&'a str>,
    pub cost: Option<&'a str>,
    pub booking: Option<&'a str>,
    #[schema(value_type = Object)]
    pub schedule: &'a crate::domain::Recurrence,
    /// e.g. 毎月第2火曜日 14:00–16:00（祝日は休み）
    pub schedule_label: String,
    /// The next meeting dates (YYYY-MM-DD), today included.
    pub next_dates: Vec<String>,
}

/// `date` as YYYY-MM-DD.
pub fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl<'a> ConsultationView<'a> {
    pub fn of(c: &'a crate::domain::Consultation, viewer: &Viewer) -> Self {
        use crate::domain::consultation;
        let at = crate::domain::schedule::jst(viewer.now);
        let (open_now, route_now) = consultation::route_now(c, viewer.audience, at);
        ConsultationView {
            kind: c.kind,
            kind_label: c.kind.label_ja(),
            name: &c.name,
            audience: c.audience,
            for_label: c.audience.label_ja(),
            topics: &c.topics,
            topic_labels: c.topics.iter().map(|t| t.label_ja()).collect(),
            answers: c.answers.as_deref(),
            routes: &c.routes,
            hours: &c.hours,
            hours_label: (!c.hours.open.is_empty()).then(|| {
                c.hours
                    .open
                    .iter()
                    .map(|p| p.label_ja())
                    .collect::<Vec<_>>()
                    .join("、")
            }),
            languages: &c.languages,
            fee: c.fee.as_deref(),
            note: c.note.as_deref(),
            verified: c.verified,
            source: &c.provenance.source,
            origin: c.provenance.origin,
            as_of: c.provenance.snapshot.as_deref(),
            open_now,
            route_now,
            next_open: consultation::next_open(&c.hours.open, at),
        }
    }
}

impl<'a> GatheringView<'a> {
    pub fn of(g: &'a crate::domain::Gathering, viewer: &Viewer) -> Self {
        let today = crate::domain::schedule::jst(viewer.now).date();
        GatheringView {
            kind: g.kind,
            kind_label: g.kind.label_ja(),
            host: &g.host,
            online: g.online,
            link: g
                .link
                .as_deref()
                .filter(|_| viewer.audience.may_see(g.link_visibility)),
            who: g.who.as_deref(),
            cost: g.cost.as_deref(),
            booking: g.booking.as_deref(),
            schedule: &g.schedule,
            schedule_label: g.schedule.label_ja(),
            next_dates: g.next_dates(today).into_iter().map(iso_date).collect(),
        }
    }
}

/// One asked product's line in a pharmacy's formulary.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockLine<'a> {
    /// The product as asked, normalized (`fentanyl_patch`; a brand becomes its drug and form).
    pub product: String,
    #[schema(example = "fentanyl")]
    pub drug: &'static str,
    #[schema(example = "patch_3day")]
    pub form: &'static str,
    /// e.g. フェンタニル 貼付剤（3日用）
    pub label_ja: String,
    /// As labelled, when the line names one.
    pub strength: Option<String>,
    /// `always` (in stock now) or `order` (obtained on order).
    /// `always` (in stock now), `partner` (a partner pharmacy of its group stocks it and can
    /// pass it on) or `order` (obtained on order).
    #[schema(example = "always")]
    pub stock: &'static str,
    /// Usual days to obtain it on order.
    pub order_days: Option<u32>,
    /// With `stock: partner`: who passes it on.
    pub partner: Option<PartnerView<'a>>,
}

/// The partner pharmacy that stocks a product, and its group.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView<'a> {
    pub id: String,
    pub name: String,
    /// The group's name.
    pub group: &'a str,
    /// Usual hours for the partner's stock to arrive, when the group says.
    pub transfer_hours: Option<u32>,
}

/// The best line of `f`'s formularies `audience` may see for `p` meeting `wanted`.
fn own_line(
    f: &Facility,
    p: crate::domain::Product,
    wanted: crate::domain::Stock,
    audience: Audience,
) -> Option<&FormularyEntry> {
    f.services
        .iter()
        .filter(|s| {
            s.status != ServiceStatus::Inactive
                && audience.may_see(s.attributes.formulary_visibility)
        })
        .filter_map(|s| crate::domain::formulary::best_line(&s.attributes.formulary, p, wanted))
        .min_by_key(|e| (e.stock, e.order_days.unwrap_or(u32::MAX)))
}

impl<'a> StockLine<'a> {
    /// One line per product of `ff` for `f`: in its own stock, else at a partner of a valid
    /// group (when `ff` counts partners; the partner with the quickest transfer), else on
    /// order — each from formularies the caller may see only.
    pub fn all(
        f: &'a Facility,
        ff: &'a crate::catalog::FormularyFilter,
        catalog: &'a Catalog,
    ) -> Vec<StockLine<'a>> {
        use crate::domain::Stock;
        ff.products
            .iter()
            .filter_map(|&p| {
                let line = |e: &FormularyEntry, stock: &'static str, partner| StockLine {
                    product: p.code(),
                    drug: e.drug.code(),
                    form: e.form.code(),
                    label_ja: format!("{} {}", e.drug.label_ja(), e.form.label_ja()),
                    strength: e.strength.clone(),
                    stock,
                    order_days: e.order_days,
                    partner,
                };
                if let Some(e) = own_line(f, p, Stock::Always, ff.audience) {
                    return Some(line(e, "always", None));
                }
                if ff.partners {
                    let supplied =
                        crate::domain::PharmacyGroup::partners(catalog.groups(), &f.id, &ff.today)
                            .filter_map(|(id, g)| {
                                let partner = catalog.get(id)?;
                                let e = own_line(&partner, p, Stock::Always, ff.audience)?.clone();
                                Some((g.transfer_hours.unwrap_or(u32::MAX), partner, g, e))
                            })
                            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
                    if let Some((_, partner, g, e)) = supplied {
                        return Some(line(
                            &e,
                            "partner",
                            Some(PartnerView {
                                id: partner.id.clone(),
                                name: partner.name.clone(),
                                group: &g.name,
                                transfer_hours: g.transfer_hours,
                            }),
                        ));
                    }
                }
                own_line(f, p, ff.stock, ff.audience).map(|e| line(e, e.stock.code(), None))
            })
            .collect()
    }

    /// The weakest line: how the pharmacy can supply everything asked.
    pub fn availability(lines: &[StockLine<'_>]) -> &'static str {
        ["order", "partner"]
            .into_iter()
            .find(|s| lines.iter().any(|l| l.stock == *s))
            .unwrap_or("always")
    }
}

/// Who is looking and when: the audience decides what is shown, the clock how old a bed
/// status may be before it reads as unknown.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub audience: Audience,
    pub now: time::OffsetDateTime,
    pub stale_hours: u32,
}

impl Viewer {
    pub fn new(audience: Audience, stale_hours: u32) -> Viewer {
        Viewer {
            audience,
            now: time::OffsetDateTime::now_utc(),
            stale_hours,
        }
    }
}

/// A bed status with its age. `status` is what to act on: `unknown` when never reported or
/// older than the stale threshold (then `reported_status` keeps what was last said).
#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityView<'a> {
    #[schema(value_type = String, example = "accepting")]
    pub status: CapacityStatus,
    #[schema(value_type = Option<String>)]
    pub reported_status: Option<CapacityStatus>,
    pub status_label: Label,
    /// Reported longer ago than the threshold (`--capacity-stale-hours`, 72 by default).
    pub stale: bool,
    pub free_beds: Option<u32>,
    pub waiting_days: Option<u32>,
    pub note: Option<&'a str>,
    /// The role that reported it (coordinators and admins see the account), or `update_link`.
    pub updated_by: Option<String>,
    pub updated_at: Option<&'a str>,
    /// `update_link` when reported through a facility update link.
    pub via: Option<&'a str>,
    /// Demo data (サンプル), never a real report.
    pub sample: bool,
    #[schema(value_type = String)]
    pub visibility: crate::domain::Visibility,
}

impl<'a> CapacityView<'a> {
    /// The status of service `s` as `viewer` may see it; `None` when they may not, or when
    /// the service has no bed status.
    pub fn of(s: &'a Service, viewer: &Viewer) -> Option<CapacityView<'a>> {
        if !crate::domain::takes_admissions(s.kind) {
            return None;
        }
        let status = |st: CapacityStatus| Label {
            ja: st.label_ja(),
            en: st.label_en(),
        };
        match &s.capacity {
            Some(c) if viewer.audience.may_see(c.visibility) => {
                let effective = c.effective(viewer.now, viewer.stale_hours);
                Some(CapacityView {
                    status: effective,
                    reported_status: Some(c.status),
                    status_label: status(effective),
                    stale: c.is_stale(viewer.now, viewer.stale_hours),
                    free_beds: c.free_beds,
                    waiting_days: c.waiting_days,
                    note: c.note.as_deref(),
                    updated_by: Some(crate::domain::actor_as_seen(&c.updated_by, viewer.audience)),
                    updated_at: Some(&c.updated_at),
                    via: c.via.as_deref(),
                    sample: c.sample,
                    visibility: c.visibility,
                })
            }
            Some(_) => None,
            // Never reported: unknown, for those who may see bed status at all.
            None if viewer.audience >= Audience::Professional => Some(CapacityView {
                status: CapacityStatus::Unknown,
                reported_status: None,
                status_label: status(CapacityStatus::Unknown),
                stale: false,
                free_beds: None,
                waiting_days: None,
                note: None,
                updated_by: None,
                updated_at: None,
                via: None,
                sample: false,
                visibility: crate::domain::Visibility::Professional,
            }),
            None => None,
        }
    }
}

fn service_view<'a>(s: &'a Service, viewer: &Viewer) -> ServiceView<'a> {
    let audience = viewer.audience;
    let a = &s.attributes;
    ServiceView {
        kind: s.kind,
        label: Label {
            ja: s.kind.label_ja(),
            en: s.kind.label_en(),
        },
        status: s.status,
        tier: a.tier,
        tier_label: a.tier.map(HomeCareTier::label_ja),
        dental_tier: a.dental_tier,
        dental_tier_label: a.dental_tier.map(crate::domain::DentalTier::label_ja),
        beds: a.beds,
        notified_items: &a.notified_items,
        since: a.since.as_deref(),
        radius_km: a.radius_km.or_else(|| {
            s.kind
                .visits_homes()
                .then_some(crate::domain::HOME_VISIT_RADIUS_KM)
        }),
        formulary: (!a.formulary.is_empty() && audience.may_see(a.formulary_visibility))
            .then_some(a.formulary.as_slice()),
        notes: a.notes.as_deref(),
        capacity: CapacityView::of(s, viewer),
        admission_rules: s
            .admission_rules
            .as_ref()
            .filter(|r| audience.may_see(r.visibility)),
        source: &s.provenance,
        compounding: a.compounding,
        pca_pump: a.pca_pump,
        subcutaneous_infusion: a.subcutaneous_infusion,
        take_back: a.take_back,
        end_of_life_care: a.end_of_life_care,
        palliative_sedation: a.palliative_sedation,
        specialty: a.specialty.as_deref(),
        conditions: a.conditions.as_deref(),
        survey: a.survey.as_ref(),
        sample: s.provenance.origin == Origin::SampleSurvey
            || a.survey.as_ref().is_some_and(|m| m.sample)
            || s.capacity
                .as_ref()
                .is_some_and(|c| c.sample && audience.may_see(c.visibility))
            || s.admission_rules
                .as_ref()
                .is_some_and(|r| r.sample && audience.may_see(r.visibility)),
        updated_at: &s.updated_at,
        verified_at: s.verified_at.as_deref(),
    }
}

impl<'a> FacilityView<'a> {
    pub fn new(f: &'a Facility, catalog: &Catalog, viewer: &Viewer) -> Self {
        let audience = viewer.audience;
        let services: Vec<ServiceView<'a>> = f
            .services
            .iter()
            .filter(|s| s.status != ServiceStatus::Inactive)
            .map(|s| service_view(s, viewer))
            .collect();
        let capacity_updated_at = services
            .iter()
            .filter_map(|s| s.capacity.as_ref().and_then(|c| c.updated_at))
            .max();
        let sample = f.provenance.origin == Origin::SampleSurvey
            || services.iter().any(|s| s.sample)
            || f.after_hours
                .as_ref()
                .is_some_and(|a| a.provenance.origin == Origin::SampleSurvey)
            || f.contacts.iter().any(|c| {
                c.provenance.origin == Origin::SampleSurvey && audience.may_see(c.visibility)
            });
        let gathering = f.gathering.as_ref().map(|g| GatheringView::of(g, viewer));
        FacilityView {
            id: &f.id,
            kind: f.kind,
            kind_label: Label {
                ja: f.kind.label_ja(),
                en: f.kind.label_en(),
            },
            name: &f.name,
            everyday_name: crate::domain::ja::everyday_name(&f.name),
            name_kana: f.name_kana.as_deref(),
            identifiers: &f.identifiers,
            address: AddressView::of(&f.address),
            location: LocationView::of(f.location),
            placement: f.placement.code(),
            area: f.area_code.as_ref().map(|code| AreaRef {
                code: code.clone(),
                name: catalog
                    .area(code)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            }),
            contacts: f
                .contacts
                .iter()
                .filter(|c| audience.may_see(c.visibility))
                .map(|c| ContactView {
                    kind: c.kind,
                    value: &c.value,
                    label: c.label.as_deref(),
                    visibility: (audience != Audience::Public).then_some(c.visibility),
                })
                .collect(),
            hours: &f.hours,
            url: f.url.as_deref(),
            notes: f.notes.as_deref(),
            services,
            source: &f.provenance,
            sample,
            updated_at: &f.updated_at,
            verified_at: f.verified_at.as_deref(),
            capacity_updated_at,
            source_snapshot: f.provenance.snapshot.as_deref(),
            distance_m: None,
            distance_precision_m: None,
            match_kind: None,
            opioid_stock: None,
            availability: None,
            after_hours: f.reachable_after_hours(),
            specialists: f.specialists.as_ref(),
            consultations: f
                .consultations
                .iter()
                .map(|c| ConsultationView::of(c, viewer))
                .collect(),
            next_date: gathering
                .as_ref()
                .and_then(|g| g.next_dates.first().cloned()),
            gathering,
        }
    }
}

/// A page of facilities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody<'a> {
    /// Matches in the whole result set.
    pub total: usize,
    pub items: Vec<FacilityView<'a>>,
    /// Pass back as `cursor` for the next page; null on the last one.
    pub next: Option<String>,
    /// Counts over the whole result set, per requested facet.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub facets: Option<&'a BTreeMap<&'static str, BTreeMap<String, usize>>>,
    /// With `q`: `strict` when every item meets every word, `relaxed` when none did and the
    /// items are near matches (most words, names with gaps or one character wrong). Facet
    /// counts are of strict matches only.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "strict")]
    pub match_kind: Option<&'static str>,
    /// With `match: relaxed`: the words of `q` that no item meets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<&'a [String]>,
}

/// Type-ahead answer: facility names, then service, kind and municipality words.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestBody {
    pub facilities: Vec<SuggestFacility>,
    pub terms: Vec<SuggestTerm>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestFacility {
    pub id: String,
    pub name: String,
    pub everyday_name: String,
    #[schema(value_type = String, example = "hospital")]
    pub kind: FacilityKind,
    pub municipality: Option<String>,
}

/// A word that stands for a list parameter (`service=pcu`, `kind=…`, `municipality=11208`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestTerm {
    pub text: String,
    #[schema(example = "service")]
    pub param: &'static str,
    #[schema(example = "pcu")]
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub facilities: usize,
    /// The change-log position the served catalog reflects (`pallimap check --url`).
    pub change_seq: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MunicipalityRef {
    pub code: String,
    pub name: String,
}

/// One 二次医療圏 with its counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaItem {
    pub code: String,
    pub name: String,
    pub prefecture: String,
    pub pref_code: String,
    pub population: Option<u64>,
    pub facilities: usize,
    /// Facilities per kind code (every kind, zeros included).
    pub kinds: BTreeMap<&'static str, usize>,
    /// Facilities offering each service code (every service, zeros included).
    pub services: BTreeMap<&'static str, usize>,
    pub municipalities: Vec<MunicipalityRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreasBody {
    pub total: usize,
    pub items: Vec<AreaItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KindItem {
    pub code: &'static str,
    pub label: Label,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceItem {
    pub code: &'static str,
    pub label: Label,
    /// Whether the service is given at the patient's home (the 16 km rule applies).
    pub home_visit: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VocabularyBody {
    pub kinds: Vec<KindItem>,
    pub services: Vec<ServiceItem>,
    /// The products `opioid=` takes and the brand and generic names that name them.
    pub opioids: OpioidVocabulary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpioidVocabulary {
    pub products: Vec<ProductItem>,
    pub names: Vec<NameItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductItem {
    #[schema(example = "fentanyl_patch")]
    pub code: String,
    #[schema(example = "fentanyl")]
    pub drug: &'static str,
    /// The single form this product names, when it names one.
    pub form: Option<&'static str>,
    pub label_ja: String,
    pub label_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NameItem {
    #[schema(example = "フェントステープ")]
    pub name: &'static str,
    #[schema(example = "fentanyl_patch_1day")]
    pub product: String,
}

/// A placed address.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeocodeBody {
    pub lat: f64,
    pub lng: f64,
    /// `town` (町丁目/大字 representative point) or `city` (municipality point).
    #[schema(example = "town")]
    pub level: &'static str,
    /// How far the point may lie from the address, in metres, for this level.
    pub precision_m: Option<u32>,
    pub normalized: String,
    pub municipality_code: String,
    pub municipality: String,
    pub town: Option<String>,
    pub area_code: Option<String>,
}

/// What the served geocoder covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageBody {
    pub prefectures: Vec<String>,
    pub municipalities: usize,
    pub towns: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigBody {
    pub tile_url: String,
    pub tile_attribution: String,
    pub geocoder: CoverageBody,
}
