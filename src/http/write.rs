//! Edits: create a facility, merge-patch one (RFC 7396), put or deactivate one of its services,
//! confirm it unchanged, and read its history. Every write names who may make it, needs the
//! version it edits (`If-Match`, 428 without, 409 with the current record when stale), is
//! validated field by field (400 naming the field) and is one transaction in the store.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{self, Caller};
use super::dto::FacilityView;
use super::error::{ApiError, Problem};
use super::params::Params;
use super::session::blocking;
use crate::domain::{
    Address, Contact, ContactKind, Facility, FacilityKind, FacilityStatus, HomeCareTier, Hours,
    Identifiers, LatLng, Origin, Placement, Provenance, Service, ServiceKind, ServiceStatus, User,
    Visibility, project,
};
use crate::store::{Edit, EditError};

/// Largest JSON body a write accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The ETag of a facility version.
pub fn etag(f: &Facility) -> String {
    format!("\"v{}\"", f.version)
}

/// The version named by `If-Match` (428 without one, 412-style 400 for a malformed one).
pub(super) fn if_match(req: &HttpRequest) -> Result<i64, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::precondition_required)?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('v')
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_body(
                None,
                format!("`If-Match: {raw}` is not an ETag this server issued (e.g. \"v3\")."),
            )
        })
}

/// A contact as written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// phone, fax, email or web.
    #[schema(example = "phone")]
    pub kind: String,
    pub value: String,
    pub label: Option<String>,
    /// public, professional or internal; FAX numbers are professional unless set.
    pub visibility: Option<String>,
}

/// The address as written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// 7 digits (〒 and hyphen allowed).
    pub postal_code: Option<String>,
    /// 5-digit 市区町村コード of the region.
    pub municipality_code: String,
    /// The full postal address as published.
    pub text: String,
}

/// The editable facts of a facility: the body of POST, and what PATCH merges into.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityInput {
    /// Only on POST: `gen-…` is assigned when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[schema(example = "clinic")]
    pub kind: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub address: AddressInput,
    /// `{lat, lng}` inside Japan; absent to place at the municipality.
    #[schema(value_type = Option<Object>)]
    pub location: Option<LatLngInput>,
    #[serde(default)]
    pub contacts: Vec<ContactInput>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub hours: Hours,
    pub url: Option<String>,
    pub notes: Option<String>,
    /// active or inactive (deactivate instead of delete).
    pub status: Option<String>,
    /// Consultation windows (相談窓口), replaced whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub consultations: Vec<crate::domain::Consultation>,
    /// Kind `patient_group` only: its host, place, who may come, cost and schedule. Without a
    /// `location`, a group with a host facility is placed at its host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub gathering: Option<crate::domain::Gathering>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LatLngInput {
    pub lat: f64,
    pub lng: f64,
}

/// The snake_case code of a serde enum.
fn code_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(super) fn input_of(f: &Facility) -> FacilityInput {
    FacilityInput {
        id: None,
        kind: f.kind.code().into(),
        name: f.name.clone(),
        name_kana: f.name_kana.clone(),
        address: AddressInput {
            postal_code: f.address.postal_code.clone(),
            municipality_code: f.address.municipality_code.clone().unwrap_or_default(),
            text: f.address.text.clone(),
        },
        location: f.location.map(|l| LatLngInput {
            lat: l.lat,
            lng: l.lng,
        }),
        contacts: f
            .contacts
            .iter()
            .map(|c| ContactInput {
                kind: code_str(&c.kind),
                value: c.value.clone(),
                label: c.label.clone(),
                visibility: Some(code_str(&c.visibility)),
            })
            .collect(),
        hours: f.hours.clone(),
        url: f.url.clone(),
        notes: f.notes.clone(),
        status: Some(code_str(&f.status)),
        consultations: f.consultations.clone(),
        gathering: f.gathering.clone(),
    }
}

/// An optional JSON body: none (or only whitespace) is the defaults; anything else must be a
/// valid `T`, so a malformed body is a 400 naming the problem, never silently the defaults
/// (schemathesis found `{"label": 5}` creating a feed with no label).
pub(super) fn optional_json<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let invalid = |e: String| {
        bad(
            "body",
            format!("本文が正しくありません / The body is not valid JSON for this request: {e}."),
        )
    };
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    // serde would read an array as the fields in order: only an object names its fields.
    if !value.is_object() {
        return Err(invalid("it must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

pub(super) fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::bad_body(Some(field), detail)
}

pub(super) fn text(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(bad(field, format!("`{field}` must not be empty.")));
    }
    if t.chars().count() > max {
        return Err(bad(
            field,
            format!("`{field}` is longer than {max} characters."),
        ));
    }
    Ok(t.to_string())
}

pub(super) fn opt_text(
    field: &str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(field, t, max).map(Some),
    }
}

pub(super) fn code<T: serde::de::DeserializeOwned>(
    field: &str,
    v: &str,
    valid: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(Value::String(v.to_string())).map_err(|_| {
        bad(
            field,
            format!("Unknown value `{v}` for `{field}`. Valid values: {valid}."),
        )
    })
}

/// A Japanese phone or FAX number: 10 or 11 digits starting with 0 (hyphens, spaces and
/// full-width digits allowed; kept as written, normalized to half-width).
pub(super) fn phone(field: &str, v: &str) -> Result<String, ApiError> {
    crate::domain::ja::phone_number(v).ok_or_else(|| {
        bad(
            field,
            format!(
                "`{v}` is not a Japanese phone number: 10 or 11 digits starting with 0, e.g. 048-123-4567."
            ),
        )
    })
}

/// The facility `input` describes, over `base` (its id, identifiers, services and dates).
pub(super) fn apply_input(
    state: &AppState,
    input: &FacilityInput,
    base: &Facility,
    origin: Origin,
) -> Result<Facility, ApiError> {
    let catalog = state.catalog.load();
    let kind: FacilityKind = code("kind", &input.kind, &FacilityKind::codes())?;
    let muni = catalog
        .municipality(input.address.municipality_code.trim())
        .ok_or_else(|| {
            bad(
                "address.municipality_code",
                format!(
                    "Unknown 市区町村コード `{}`: use a 5-digit code of this region (listed with each area in /api/v1/areas).",
                    input.address.municipality_code
                ),
            )
        })?;
    let postal_code = match input.address.postal_code.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => {
            let d: String = unicode_normalization::UnicodeNormalization::nfkc(p)
                .filter(char::is_ascii_digit)
                .collect();
            if d.len() != 7 {
                return Err(bad(
                    "address.postal_code",
                    format!("`{p}` is not a 7-digit postal code."),
                ));
            }
            Some(d)
        }
    };
    if input.consultations.len() > 10 {
        return Err(bad("consultations", "At most 10 consultation windows."));
    }
    for (i, c) in input.consultations.iter().enumerate() {
        if let Some((field, why)) = c.problem(&format!("consultations[{i}]")) {
            return Err(bad(&field, why));
        }
    }
    match (&input.gathering, kind) {
        (Some(g), FacilityKind::PatientGroup) => {
            if let Some((field, why)) = g.problem() {
                return Err(bad(&field, why));
            }
            if let Some(host) = &g.host.facility_id
                && catalog.get(host).is_none()
            {
                return Err(bad(
                    "gathering.host.facility_id",
                    format!(
                        "主催の施設 `{host}` がありません / No facility `{host}`: give the id of the host facility, or only its name."
                    ),
                ));
            }
        }
        (Some(_), _) => {
            return Err(bad(
                "gathering",
                "`gathering` は kind が patient_group の時だけです / `gathering` belongs to kind patient_group only.",
            ));
        }
        (None, _) => {}
    }
    // A group meeting at its host, given without a place of its own, is shown at the host.
    let at_host = match (&input.location, &input.gathering) {
        (None, Some(g)) => g
            .host
            .facility_id
            .as_deref()
            .and_then(|h| catalog.get(h))
            .and_then(|h| h.location.map(|l| (l, h.placement))),
        _ => None,
    };
    let (location, placement) = match (input.location, at_host) {
        (_, Some((l, p))) => (Some(l), p),
        // The location as it was: keep how it was placed.
        (Some(l), None)
            if base.location
                == Some(LatLng {
                    lat: l.lat,
                    lng: l.lng,
                }) =>
        {
            (base.location, base.placement)
        }
        (Some(l), None) => {
            if !(20.0..=46.0).contains(&l.lat) || !(122.0..=154.0).contains(&l.lng) {
                return Err(bad(
                    "location",
                    format!(
                        "{},{} is not in Japan: lat 20–46, lng 122–154.",
                        l.lat, l.lng
                    ),
                ));
            }
            (
                Some(LatLng {
                    lat: l.lat,
                    lng: l.lng,
                }),
                Placement::Source,
            )
        }
        (None, None) => match catalog.geocoder().geocode(&input.address.text) {
            Ok(m) => (
                Some(LatLng {
                    lat: m.lat,
                    lng: m.lng,
                }),
                m.level,
            ),
            Err(_) => (None, Placement::Unplaced),
        },
    };
    let prov = Provenance {
        origin,
        source: "api".into(),
        snapshot: None,
    };
    let mut contacts = Vec::with_capacity(input.contacts.len());
    if input.contacts.len() > 20 {
        return Err(bad("contacts", "At most 20 contacts."));
    }
    for (i, c) in input.contacts.iter().enumerate() {
        let field = format!("contacts[{i}]");
        let kind: ContactKind = code(&format!("{field}.kind"), &c.kind, "phone, fax, email, web")?;
        let value = match kind {
            ContactKind::Phone | ContactKind::Fax => phone(&format!("{field}.value"), &c.value)?,
            ContactKind::Email if c.value.contains('@') => {
                text(&format!("{field}.value"), &c.value, 254)?
            }
            ContactKind::Web
                if c.value.starts_with("https://") || c.value.starts_with("http://") =>
            {
                text(&format!("{field}.value"), &c.value, 500)?
            }
            _ => {
                return Err(bad(
                    &format!("{field}.value"),
                    format!("`{}` is not a valid {} contact.", c.value, c.kind),
                ));
            }
        };
        let visibility: Visibility = match &c.visibility {
            Some(v) => code(
                &format!("{field}.visibility"),
                v,
                "public, professional, internal",
            )?,
            // Professional by default: FAX numbers are for referrals, not the public.
            None if kind == ContactKind::Fax => Visibility::Professional,
            None => Visibility::Public,
        };
        // An unchanged contact keeps where it came from.
        let provenance = base
            .contacts
            .iter()
            .find(|o| o.kind == kind && o.value == value)
            .map(|o| o.provenance.clone())
            .unwrap_or_else(|| prov.clone());
        contacts.push(Contact {
            kind,
            value,
            label: opt_text(&format!("{field}.label"), &c.label, 50)?,
            visibility,
            provenance,
        });
    }
    let url = opt_text("url", &input.url, 500)?;
    if url
        .as_deref()
        .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
    {
        return Err(bad("url", "`url` must start with https:// or http://."));
    }
    if input
        .hours
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        return Err(bad(
            "hours.note",
            "`hours.note` is longer than 500 characters.",
        ));
    }
    const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"];
    if let Some(d) = input
        .hours
        .closed_weekdays
        .iter()
        .find(|d| !DAYS.contains(&d.as_str()))
    {
        return Err(bad(
            "hours.closed_weekdays",
            format!("Unknown day `{d}`. Valid: {}.", DAYS.join(", ")),
        ));
    }
    if input.hours.open.len() > 20 {
        return Err(bad("hours.open", "`hours.open` lists at most 20 periods."));
    }
    for (i, p) in input.hours.open.iter().enumerate() {
        if let Some(problem) = p.problem() {
            return Err(bad(&format!("hours.open[{i}]"), problem));
        }
    }
    let status: FacilityStatus = match &input.status {
        Some(s) => code("status", s, "active, inactive, withheld")?,
        None => FacilityStatus::Active,
    };
    let mut f = base.clone();
    let core_changed = f.name != input.name.trim() || f.kind != kind;
    f.kind = kind;
    f.name = text("name", &input.name, 200)?;
    f.name_kana = opt_text("name_kana", &input.name_kana, 200)?;
    f.address = Address {
        postal_code,
        prefecture: catalog
            .area(&muni.area_code)
            .map(|a| a.prefecture.clone())
            .unwrap_or_default(),
        municipality_code: Some(muni.code.clone()),
        municipality: Some(muni.name.clone()),
        text: text("address.text", &input.address.text, 300)?,
    };
    if f.location != location || f.placement != placement {
        f.location = location;
        f.placement = placement;
    }
    f.area_code = Some(muni.area_code.clone());
    f.contacts = contacts;
    f.hours = input.hours.clone();
    f.url = url;
    f.notes = opt_text("notes", &input.notes, 2000)?;
    f.status = status;
    // A window as it was keeps where it came from; one changed (confirmed, given its hours) is
    // now the editor's statement.
    f.consultations = input
        .consultations
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if !base.consultations.contains(&c) {
                c.provenance = prov.clone();
            }
            c
        })
        .collect();
    f.gathering = input.gathering.clone();
    if core_changed && f.provenance.is_dataset() {
        f.provenance = prov;
    }
    Ok(f)
}

pub(super) fn denied(e: crate::domain::Denied) -> ApiError {
    ApiError::forbidden("forbidden", e.to_string())
}

pub(super) fn origin_of(u: &User) -> Origin {
    match u.role {
        crate::domain::Role::FacilityEditor => Origin::Facility,
        _ => Origin::Coordinator,
    }
}

pub(super) fn edit_error(state: &AppState, caller: &Caller, e: EditError) -> ApiError {
    match e {
        EditError::NotFound => ApiError::not_found("No facility with this id."),
        EditError::Stale { current, .. } => {
            let shown = project(&current, caller.audience());
            let view = serde_json::to_value(FacilityView::new(
                &shown,
                &state.catalog.load(),
                &state.viewer(caller.audience()),
            ))
            .unwrap_or_default();
            ApiError::stale_version(view, etag(&current))
        }
        EditError::Exists(id) => {
            ApiError::conflict("exists", format!("A facility with id `{id}` exists."))
        }
        EditError::Refused(m) => ApiError::bad_body(None, m),
        EditError::Store(e) => ApiError::unavailable(&e),
    }
}

/// Answer with the facility as the caller may see it, its ETag, after the catalog of this
/// instance shows it (read your writes); other instances follow the change log.
pub(super) async fn written(
    state: &AppState,
    caller: &Caller,
    f: &Facility,
    created: bool,
) -> HttpResponse {
    caught_up(state).await;
    let shown = project(f, caller.audience());
    let catalog = state.catalog.load();
    let view = FacilityView::new(&shown, &catalog, &state.viewer(caller.audience()));
    let mut r = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    r.insert_header((header::ETAG, etag(f)))
        .insert_header(("cache-control", "no-store"))
        .json(view)
}

/// After a committed write: bring this instance's catalog up to the store (read your writes),
/// or wake the change-log follower.
pub(super) async fn caught_up(state: &AppState) {
    match &state.refresh {
        Some(refresh) => {
            let refresh = refresh.clone();
            match web::block(move || refresh()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "catalog refresh after a write failed; the follower retries")
                }
                Err(e) => tracing::warn!(error = %e, "catalog refresh after a write panicked"),
            }
        }
        None => state.changed.notify_one(),
    }
}

/// The stored facility (inactive ones too), or 404.
pub(super) async fn stored(state: &AppState, id: &str) -> Result<Facility, ApiError> {
    let store = state.store.clone();
    let id2 = id.to_string();
    blocking(move || store.facility(&id2))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No facility with id `{id}`.")))
}

pub(super) async fn run_edit(
    state: &AppState,
    caller: &Caller,
    id: String,
    version: i64,
    change: impl FnOnce(&mut Facility) -> Result<(), String> + Send + 'static,
) -> Result<Facility, ApiError> {
    let store = state.store.clone();
    let actor = caller.actor();
    let at = crate::auth::timestamp(crate::auth::now());
    web::block(move || {
        store.edit_facility(
            &id,
            version,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
            change,
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| edit_error(state, caller, e))
}

/// What every edit of an existing facility starts with: the caller (with the CSRF rule), the
/// account, the facility as stored, the account's right to change it, and the version named by
/// `If-Match` — checked in that order, so a stranger learns nothing of the version.
pub(super) struct EditStart {
    pub caller: Caller,
    pub user: User,
    pub current: Facility,
    pub version: i64,
}

pub(super) async fn edit_start(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
) -> Result<EditStart, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(req, state).await?;
    let user = caller.require_user()?.clone();
    let current = stored(state, id).await?;
    user.may_edit(&current).map_err(denied)?;
    let version = if_match(req)?;
    Ok(EditStart {
        caller,
        user,
        current,
        version,
    })
}

#[utoipa::path(post, path = "/api/v1/facilities", tag = "edits",
    security(("session" = []), ("token" = [])),
    request_body = FacilityInput,
    responses(
        (status = 201, description = "The new facility, with its ETag", body = FacilityView),
        (status = 400, description = "A field is invalid (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a coordinator of the area (or admin), or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MB", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn create_facility(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<FacilityInput>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let input = body.into_inner();
    let id = match &input.id {
        Some(id) => {
            let ok = id.len() <= 40
                && ["navii-", "kaigo-", "hic-", "gen-"]
                    .iter()
                    .any(|p| id.starts_with(p))
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(bad(
                    "id",
                    "`id` is navii-<13 digits>, kaigo-<10>, hic-<10> or gen-<hex>; leave it out to get one.",
                ));
            }
            id.clone()
        }
        None => format!(
            "gen-{}",
            &crate::auth::token_hash(
                &crate::auth::random_token().map_err(|e| ApiError::internal(&e))?
            )[..12]
        ),
    };
    let at = crate::auth::timestamp(crate::auth::now());
    let base = Facility {
        id: id.clone(),
        kind: FacilityKind::Other,
        name: String::new(),
        name_kana: None,
        identifiers: Identifiers {
            navii: id.strip_prefix("navii-").map(str::to_string),
            hic: id.strip_prefix("hic-").map(str::to_string),
            kaigo: id.strip_prefix("kaigo-").map(str::to_string),
        },
        address: Address::default(),
        location: None,
        placement: Placement::Unplaced,
        area_code: None,
        contacts: Vec::new(),
        hours: Hours::default(),
        after_hours: None,
        specialists: None,
        partners: Vec::new(),
        consultations: Vec::new(),
        gathering: None,
        url: None,
        notes: None,
        services: Vec::new(),
        provenance: Provenance {
            origin: origin_of(&user),
            source: "api".into(),
            snapshot: None,
        },
        updated_at: at.clone(),
        verified_at: None,
        verified_by: None,
        status: FacilityStatus::Active,
        version: 0,
    };
    let f = apply_input(&state, &input, &base, origin_of(&user))?;
    user.may_create_in(f.area_code.as_deref()).map_err(denied)?;
    let store = state.store.clone();
    let actor = caller.actor();
    let f = web::block(move || {
        store.create_facility(
            &f,
            &Edit {
                actor: &actor,
                source: "api",
                at: &at,
            },
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| edit_error(&state, &caller, e))?;
    Ok(written(&state, &caller, &f, true).await)
}

#[utoipa::path(patch, path = "/api/v1/facilities/{id}", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("If-Match" = String, Header, description = "The ETag of the version edited")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "RFC 7396 merge patch of the editable facts (see FacilityInput); arrays such as `contacts` are replaced whole"),
    responses(
        (status = 200, description = "The changed facility, with its new ETag", body = FacilityView),
        (status = 400, description = "A field is invalid (named in `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit (the detail says why), or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile: `current` is the version now", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 1 MB", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn patch_facility(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let EditStart {
        caller,
        user,
        current,
        version,
    } = edit_start(&req, &state, &id).await?;
    let next = patched(
        &state,
        &current,
        &body.into_inner(),
        caller.audience(),
        origin_of(&user),
    )?;
    // The edit must stay within the editor's scope (a coordinator cannot move a facility out of
    // their areas).
    user.may_edit(&next).map_err(denied)?;
    let now = crate::auth::timestamp(crate::auth::now());
    let f = run_edit(&state, &caller, id, version, move |f| {
        keep_store_fields(next, f, now);
        Ok(())
    })
    .await?;
    Ok(written(&state, &caller, &f, false).await)
}

/// The facts of `current` with the merge patch `patch` applied, as `audience` may change them,
/// validated field by field.
pub(super) fn patched(
    state: &AppState,
    current: &Facility,
    patch: &Value,
    audience: crate::domain::Audience,
    origin: Origin,
) -> Result<Facility, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_body(
            None,
            "The body is a JSON object (a merge patch of the facility's facts).",
        ));
    }
    if patch.get("id").is_some() {
        return Err(bad("id", "A facility's id never changes."));
    }
    // The patch applies to the facility as the caller sees it; what they cannot see (an
    // internal contact, to a facility editor) they cannot replace, so it is kept.
    let shown = project(current, audience);
    let mut doc = serde_json::to_value(input_of(&shown)).map_err(|e| ApiError::internal(&e))?;
    json_patch::merge(&mut doc, patch);
    let input: FacilityInput = serde_json::from_value(doc)
        .map_err(|e| ApiError::bad_body(None, format!("The patched facility is invalid: {e}")))?;
    for (i, c) in input.contacts.iter().enumerate() {
        let v = c.visibility.as_deref().unwrap_or("public");
        let hidden = serde_json::from_value::<Visibility>(Value::String(v.into()))
            .is_ok_and(|v| !audience.may_see(v));
        if hidden {
            return Err(bad(
                &format!("contacts[{i}].visibility"),
                format!("You may not set visibility `{v}`."),
            ));
        }
    }
    let mut next = apply_input(state, &input, current, origin)?;
    next.contacts.extend(
        current
            .contacts
            .iter()
            .filter(|c| !audience.may_see(c.visibility))
            .cloned(),
    );
    Ok(next)
}

/// Write the patched facts `next` over the stored `f`: services, verification and the version
/// stay the store's; `updated_at` moves only when a fact changed.
pub(super) fn keep_store_fields(next: Facility, f: &mut Facility, now: String) {
    {
        let mut n = next;
        n.services = f.services.clone();
        n.version = f.version;
        n.verified_at = f.verified_at.clone();
        n.verified_by = f.verified_by.clone();
        n.updated_at = f.updated_at.clone();
        if n != *f {
            n.updated_at = now;
        }
        *f = n;
    }
}

/// A service as written: the facts a person can state about it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// active, temporarily_closed or inactive (default active).
    pub status: Option<String>,
    /// home_care_support only: enhanced_solo, enhanced_linked or conventional.
    pub tier: Option<String>,
    /// Beds for this service, 0–2000.
    pub beds: Option<u32>,
    /// Home-visit radius in km, 0 < r ≤ 16.
    pub radius_km: Option<f64>,
    /// YYYY-MM-DD.
    pub since: Option<String>,
    pub notes: Option<String>,
}

fn service_of(
    kind: ServiceKind,
    input: &ServiceInput,
    base: Option<&Service>,
    prov: Provenance,
    at: &str,
) -> Result<Service, ApiError> {
    let status: ServiceStatus = match &input.status {
        Some(s) => code("status", s, "active, temporarily_closed, inactive")?,
        None => ServiceStatus::Active,
    };
    let tier: Option<HomeCareTier> = input
        .tier
        .as_deref()
        .map(|t| code("tier", t, "enhanced_solo, enhanced_linked, conventional"))
        .transpose()?;
    if tier.is_some() && kind != ServiceKind::HomeCareSupport {
        return Err(bad("tier", "`tier` applies to home_care_support only."));
    }
    if input.beds.is_some_and(|b| b > 2000) {
        return Err(bad("beds", "`beds` is 0–2000."));
    }
    if let Some(r) = input.radius_km
        && !(r > 0.0 && r <= crate::domain::HOME_VISIT_RADIUS_KM)
    {
        return Err(bad(
            "radius_km",
            "`radius_km` is greater than 0 and at most 16 (the 16 km rule).",
        ));
    }
    if let Some(s) = &input.since
        && time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_err()
    {
        return Err(bad(
            "since",
            format!("`since` is a date YYYY-MM-DD; got `{s}`."),
        ));
    }
    let mut attributes = base.map(|b| b.attributes.clone()).unwrap_or_default();
    attributes.tier = tier.or(attributes.tier);
    attributes.beds = input.beds.or(attributes.beds);
    attributes.radius_km = input.radius_km.or(attributes.radius_km);
    attributes.since = input.since.clone().or(attributes.since);
    attributes.notes = opt_text("notes", &input.notes, 1000)?.or(attributes.notes);
    Ok(Service {
        kind,
        status,
        attributes,
        capacity: base.and_then(|b| b.capacity.clone()),
        admission_rules: base.and_then(|b| b.admission_rules.clone()),
        provenance: prov,
        updated_at: at.to_string(),
        verified_at: None,
        verified_by: None,
    })
}

pub(super) fn service_kind(code_: &str) -> Result<ServiceKind, ApiError> {
    ServiceKind::from_code(code_).ok_or_else(|| {
        ApiError::bad_parameter(
            "service",
            format!(
                "Unknown service `{code_}`. Valid values: {}.",
                ServiceKind::codes()
            ),
        )
    })
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/services/{service}", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("service" = String, Path, description = "Service code"), ("If-Match" = String, Header, description = "The ETag of the facility version edited")),
    request_body = ServiceInput,
    responses(
        (status = 200, description = "The facility with the service added or replaced", body = FacilityView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn put_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, service) = path.into_inner();
    let kind = service_kind(&service)?;
    let EditStart {
        caller,
        user,
        current,
        version,
    } = edit_start(&req, &state, &id).await?;
    let at = crate::auth::timestamp(crate::auth::now());
    let prov = Provenance {
        origin: origin_of(&user),
        source: "api".into(),
        snapshot: None,
    };
    let new = service_of(
        kind,
        &body.into_inner(),
        current.services.iter().find(|s| s.kind == kind),
        prov,
        &at,
    )?;
    let f = run_edit(&state, &caller, id, version, move |f| {
        match f.services.iter_mut().find(|s| s.kind == kind) {
            Some(s) => {
                let same = Service {
                    updated_at: s.updated_at.clone(),
                    provenance: s.provenance.clone(),
                    verified_at: s.verified_at.clone(),
                    verified_by: s.verified_by.clone(),
                    ..new.clone()
                } == *s;
                if !same {
                    *s = new;
                    f.updated_at = at;
                }
            }
            None => {
                f.services.push(new);
                f.updated_at = at;
            }
        }
        Ok(())
    })
    .await?;
    Ok(written(&state, &caller, &f, false).await)
}

#[utoipa::path(delete, path = "/api/v1/facilities/{id}/services/{service}", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("service" = String, Path, description = "Service code"), ("If-Match" = String, Header, description = "The ETag of the facility version edited")),
    responses(
        (status = 200, description = "The facility with the service deactivated (kept in history)", body = FacilityView),
        (status = 400, description = "The service is not a known code, or `If-Match` is not an ETag this server issued", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility or service", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn delete_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, service) = path.into_inner();
    let kind = service_kind(&service)?;
    let EditStart {
        caller,
        current,
        version,
        ..
    } = edit_start(&req, &state, &id).await?;
    if !current.services.iter().any(|s| s.kind == kind) {
        return Err(ApiError::not_found(format!(
            "Facility `{id}` has no service `{service}`."
        )));
    }
    let at = crate::auth::timestamp(crate::auth::now());
    let f = run_edit(&state, &caller, id, version, move |f| {
        for s in f
            .services
            .iter_mut()
            .filter(|s| s.kind == kind && s.status != ServiceStatus::Inactive)
        {
            s.status = ServiceStatus::Inactive;
            s.updated_at = at.clone();
            f.updated_at = at.clone();
        }
        Ok(())
    })
    .await?;
    Ok(written(&state, &caller, &f, false).await)
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/verify", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("If-Match" = String, Header, description = "The ETag of the version confirmed")),
    responses(
        (status = 200, description = "Confirmed unchanged: `verified_at` and `verified_by` set, nothing else", body = FacilityView),
        (status = 400, description = "`If-Match` is not an ETag this server issued, or the id is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to confirm, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn verify_facility(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let EditStart {
        caller, version, ..
    } = edit_start(&req, &state, &id).await?;
    let at = crate::auth::timestamp(crate::auth::now());
    let by = caller.actor();
    let f = run_edit(&state, &caller, id, version, move |f| {
        f.verified_at = Some(at);
        f.verified_by = Some(by);
        Ok(())
    })
    .await?;
    Ok(written(&state, &caller, &f, false).await)
}

/// One change of a facility, as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryItem {
    pub seq: i64,
    pub at: String,
    /// The role and account of whoever changed it (coordinators and admins see the account;
    /// others see the role only).
    pub actor: String,
    pub field: String,
    /// The field's JSON value before (any JSON type).
    pub old_value: Option<Value>,
    /// The field's JSON value after.
    pub new_value: Option<Value>,
    pub source: Option<String>,
}

/// A history value as `audience` may see it: contacts, bed status, admission rules and the
/// formulary it may not see are removed, through the same projection as every other output.
fn project_value(
    field: &str,
    raw: Option<&str>,
    audience: crate::domain::Audience,
) -> Option<Value> {
    let v: Value = serde_json::from_str(raw?).ok()?;
    let probe = |v: Value| -> Option<Value> {
        // Rebuild a facility around the value, project it, and read the field back.
        let mut f = serde_json::to_value(Facility {
            id: String::new(),
            kind: FacilityKind::Other,
            name: String::new(),
            name_kana: None,
            identifiers: Identifiers::default(),
            address: Address::default(),
            location: None,
            placement: Placement::Unplaced,
            area_code: None,
            contacts: Vec::new(),
            hours: Hours::default(),
            after_hours: None,
            specialists: None,
            partners: Vec::new(),
            consultations: Vec::new(),
            gathering: None,
            url: None,
            notes: None,
            services: Vec::new(),
            provenance: Provenance::dataset("", ""),
            updated_at: String::new(),
            verified_at: None,
            verified_by: None,
            status: FacilityStatus::Active,
            version: 0,
        })
        .ok()?;
        f[field] = v;
        let f: Facility = serde_json::from_value(f).ok()?;
        let shown = serde_json::to_value(project(&f, audience)).ok()?;
        shown.get(field).cloned()
    };
    // Every field goes through the projection (a field it does not know shows nothing), so a
    // new field with a visibility is covered without a list to keep up; `status` is public
    // and not serialized when active.
    match field {
        "status" => Some(v),
        _ => probe(v),
    }
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/history", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id")),
    responses(
        (status = 200, description = "Every change, oldest first, projected by role", body = Vec<HistoryItem>),
        (status = 401, description = "Not signed in (history is for registered users)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::caller(&req, &state).await?;
    let user = caller.require_user()?.clone();
    let id = path.into_inner();
    stored(&state, &id).await?;
    let store = state.store.clone();
    let rows = blocking(move || store.history(&id)).await?;
    let audience = caller.audience();
    let items: Vec<HistoryItem> = rows
        .into_iter()
        .map(|h| HistoryItem {
            seq: h.seq,
            at: h.at,
            actor: crate::domain::actor_as_seen(&h.actor, user.role.audience()),
            old_value: project_value(&h.field, h.old_value.as_deref(), audience),
            new_value: project_value(&h.field, h.new_value.as_deref(), audience),
            field: h.field,
            source: h.source,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(items))
}

/// JSON bodies: at most 1 MB (413), malformed or unknown fields 400 naming the problem.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type_required(false)
        .error_handler(|e, _| {
            use actix_web::error::JsonPayloadError;
            match e {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::too_large(MAX_BODY_BYTES).into(),
                JsonPayloadError::Deserialize(d) => {
                    let msg = d.to_string();
                    let field = msg
                        .strip_prefix("unknown field `")
                        .and_then(|r| r.split('`').next())
                        .map(str::to_string);
                    ApiError::bad_body(field.as_deref(), format!("The JSON body is invalid: {msg}"))
                        .into()
                }
                other => ApiError::bad_body(None, format!("The body is not JSON: {other}")).into(),
            }
        })
}

/// A facility's specialists as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialistsInput {
    /// `[{role, count}]`, one per role (count 0–500).
    #[schema(value_type = Vec<Object>)]
    pub counts: Vec<Value>,
    /// `[{name, role, visibility}]`: a person named only with their consent; `visibility`
    /// `public` (coordinators and admins only: they publish) or `internal` (the default).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub named: Vec<Value>,
    /// Where the counts come from (e.g. 施設の回答, 学会の名簿), ≤ 200 characters.
    pub source: String,
    /// The source's date: 2024-04-01, 令和6年4月1日, R6.4.1.
    pub as_of: String,
}

fn specialists_of(
    input: &SpecialistsInput,
    may_publish: bool,
) -> Result<crate::domain::Specialists, ApiError> {
    use crate::domain::{NamedSpecialist, SpecialistCount, SpecialistRole, Specialists};
    let role = |field: &str, v: Option<&Value>| -> Result<SpecialistRole, ApiError> {
        let s = v.and_then(Value::as_str).unwrap_or_default();
        SpecialistRole::from_code(s).ok_or_else(|| {
            bad(
                field,
                format!("Unknown role `{s}`. Valid: {}.", SpecialistRole::codes()),
            )
        })
    };
    let mut counts: Vec<SpecialistCount> = Vec::new();
    for (i, c) in input.counts.iter().enumerate() {
        let r = role(&format!("counts[{i}].role"), c.get("role"))?;
        let n = c
            .get("count")
            .and_then(Value::as_u64)
            .filter(|n| *n <= 500)
            .ok_or_else(|| {
                bad(
                    &format!("counts[{i}].count"),
                    "`count` is a whole number from 0 to 500.",
                )
            })?;
        if counts.iter().any(|c| c.role == r) {
            return Err(bad(
                &format!("counts[{i}].role"),
                format!("`{}` is given twice.", r.code()),
            ));
        }
        counts.push(SpecialistCount {
            role: r,
            count: n as u32,
        });
    }
    if input.named.len() > 50 {
        return Err(bad("named", "At most 50 named specialists."));
    }
    let mut named = Vec::new();
    for (i, n) in input.named.iter().enumerate() {
        let name = n.get("name").and_then(Value::as_str).unwrap_or_default();
        let name = text(&format!("named[{i}].name"), name.trim(), 100)?;
        if name.is_empty() {
            return Err(bad(&format!("named[{i}].name"), "A name is needed."));
        }
        let r = role(&format!("named[{i}].role"), n.get("role"))?;
        let visibility = match n.get("visibility").and_then(Value::as_str) {
            None | Some("internal") => Visibility::Internal,
            Some("public") if may_publish => Visibility::Public,
            Some("public") => {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "A name is published by the area's coordinator once the person has agreed; send it as internal.",
                ));
            }
            Some(other) => {
                return Err(bad(
                    &format!("named[{i}].visibility"),
                    format!("Unknown value `{other}`. Valid: internal, public."),
                ));
            }
        };
        named.push(NamedSpecialist {
            name,
            role: r,
            visibility,
        });
    }
    let source = text("source", input.source.trim(), 200)?;
    if source.is_empty() {
        return Err(bad("source", "Say where the counts come from (`source`)."));
    }
    let as_of = crate::sheet::wareki::parse(&input.as_of).ok_or_else(|| {
        bad(
            "as_of",
            format!(
                "`{}` is not a date: 2024-04-01, 令和6年4月1日 or R6.4.1.",
                input.as_of
            ),
        )
    })?;
    Ok(Specialists {
        counts,
        named,
        source,
        as_of,
    })
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/specialists", tag = "edits",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("If-Match" = String, Header, description = "The ETag of the version seen")),
    request_body = SpecialistsInput,
    responses(
        (status = 200, description = "Set: counts public, names as their visibility says", body = FacilityView),
        (status = 400, description = "A field is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not yours to edit, publishing a name without being the coordinator, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version seen", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn put_specialists(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SpecialistsInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let EditStart {
        caller, version, ..
    } = edit_start(&req, &state, &id).await?;
    let may_publish = caller.user().is_some_and(|u| {
        matches!(
            u.role,
            crate::domain::Role::Coordinator | crate::domain::Role::Admin
        )
    });
    let specialists = specialists_of(&body.into_inner(), may_publish)?;
    let at = crate::auth::timestamp(crate::auth::now());
    let f = run_edit(&state, &caller, id, version, move |f| {
        f.specialists = Some(specialists);
        f.updated_at = at;
        Ok(())
    })
    .await?;
    Ok(written(&state, &caller, &f, false).await)
}
