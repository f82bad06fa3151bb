//! The care team over HTTP: `POST /api/v1/care-team` (signed-in callers) answers who can serve
//! one patient's home, role by role, and proposes a team; the home is used for that answer only
//! (never stored, never logged). And each facility's partners (連携先), which the team prefers:
//! `GET`/`PUT /api/v1/facilities/{id}/partners`, written like every edit (If-Match, CSRF, the
//! change log), professional only.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::instrument;
use utoipa::ToSchema;

use super::AppState;
use super::auth;
use super::dto::{Label, LocationView};
use super::error::{ApiError, Problem};
use super::params::Params;
use super::write::{EditStart, bad, caught_up, edit_start, etag, run_edit, stored};
use crate::catalog::Catalog;
use crate::catalog::query::FormularyFilter;
use crate::catalog::team::{
    self, Almost, Candidate, Prefer, RoleAnswer, RoleAsk, TeamAsk, TeamRole,
};
use crate::domain::{
    Audience, Facility, MAX_PARTNERS, PARTNERS_VISIBILITY, Partner, PartnerRole, Product, Stock,
    project,
};

/// What the answer says about the home.
pub const PRIVACY: &str = "この住所はサーバーに保存されません（検索のためだけに使い、記録しません） / The address is used for this search only and is not stored or logged.";

/// Most ids one role may include or exclude.
const MAX_IDS: usize = 20;

/// The question, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareTeamInput {
    /// The patient's home as a postal address (placed by the geocoder; not stored). Or `near`.
    pub address: Option<Value>,
    /// Or the home as `{"lat": 35.79, "lng": 139.47}`.
    #[schema(value_type = Option<Object>)]
    pub near: Option<Value>,
    /// `[{"role": "physician", "prefer": ["enhanced", "reinforced"], "after_hours": true,
    /// "include": [ids], "exclude": [ids]}, {"role": "pharmacy", "opioids":
    /// ["fentanyl_patch"], "stock": "order"}, …]`; roles: physician, nurse, pharmacy, dental,
    /// backup, pcu, care_manager, each at most once. `stock`: always, partner or order (the
    /// default).
    #[schema(value_type = Vec<Object>)]
    pub roles: Option<Value>,
    /// Candidates per role, 1–20 (default 5).
    #[schema(value_type = Option<u32>)]
    pub limit: Option<Value>,
    /// Backup and PCU: at most this far from the home, 1–50 km (default 16).
    #[schema(value_type = Option<f64>)]
    pub max_km: Option<Value>,
    /// The time the bed statuses are read at (RFC 3339; default now).
    #[schema(value_type = Option<String>)]
    pub now: Option<Value>,
}

/// The home as placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct HomeView {
    pub lat: f64,
    pub lng: f64,
    /// How far the placed point may be from the home, metres (null for a given point).
    pub precision_m: Option<u32>,
    /// point (given as `near`), town (町丁目) or city (市区町村 only).
    pub level: &'static str,
    /// The address as the geocoder read it (only for `address`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalized: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView<'a> {
    /// phone, fax, email, web
    pub kind: &'static str,
    pub value: &'a str,
    pub label: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BedView {
    /// accepting, limited, unknown, not_accepting (unknown when stale or hidden)
    pub status: &'static str,
    pub label: Label,
    /// Hours since the report the status comes from.
    pub age_hours: Option<f64>,
}

/// One provider that can serve the home.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub everyday_name: String,
    /// The facility kind code.
    pub kind: &'static str,
    pub address: &'a str,
    pub location: Option<LocationView>,
    /// Great-circle distance from the home, metres.
    pub distance_m: u64,
    /// How far this provider serves (or `max_km` for backup and PCU), metres.
    pub reach_m: u64,
    /// published (its own service area), 16km (the 16 km rule) or max_km.
    pub reach_rule: &'static str,
    /// Why it ranks where it does.
    pub reasons: Vec<String>,
    /// Linked to the proposed physician (either lists the other as a partner).
    pub linked: bool,
    pub included: bool,
    /// Excluded by the caller: listed where it ranks, never proposed.
    pub excluded: bool,
    pub after_hours: Option<bool>,
    /// Pharmacy with opioids: always (all in stock), partner (via its group), order.
    pub availability: Option<&'static str>,
    pub bed: Option<BedView>,
    /// Its contacts as the caller may see them.
    pub contacts: Vec<ContactView<'a>>,
}

/// A provider that almost qualifies, and why not.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlmostView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub distance_m: Option<u64>,
    pub why: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView<'a> {
    pub role: &'static str,
    pub label: Label,
    pub candidates: Vec<CandidateView<'a>>,
    /// How many qualify in all.
    pub total: usize,
    /// The proposed member's id.
    pub proposed: Option<&'a str>,
    /// Said plainly when nobody is proposed.
    pub none: Option<String>,
    pub almost: Vec<AlmostView<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView<'a> {
    pub role: &'static str,
    pub id: &'a str,
    pub name: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CareTeamBody<'a> {
    pub home: HomeView,
    /// Always false: the home is not kept.
    pub stored: bool,
    pub privacy: &'static str,
    pub distance_note: &'static str,
    pub ranking: &'static str,
    /// The time bed statuses are read at, JST.
    pub now: String,
    pub roles: Vec<RoleView<'a>>,
    /// The proposed member of each role that has one, in the order asked.
    pub team: Vec<MemberView<'a>>,
}

/// Where the home is, as asked (never logged: errors here do not repeat it).
enum Home {
    Point(f64, f64),
    Address(String),
}

struct Question {
    home: Home,
    roles: Vec<RoleAsk>,
    limit: usize,
    max_km: f64,
    now: time::OffsetDateTime,
}

fn string_list(v: &Value, field: &str, max: usize) -> Result<Vec<String>, ApiError> {
    let items = v
        .as_array()
        .ok_or_else(|| bad(field, format!("`{field}` is a list of strings.")))?;
    if items.len() > max {
        return Err(bad(field, format!("`{field}` lists at most {max} items.")));
    }
    items
        .iter()
        .enumerate()
        .map(|(j, x)| {
            x.as_str()
                .map(|s| s.trim().to_string())
                .ok_or_else(|| bad(&format!("{field}[{j}]"), "Each item is a string."))
        })
        .collect()
}

fn home_of(input: &CareTeamInput) -> Result<Home, ApiError> {
    let near = input.near.as_ref().filter(|v| !v.is_null());
    let address = input.address.as_ref().filter(|v| !v.is_null());
    match (near, address) {
        (Some(_), Some(_)) => Err(bad(
            "address",
            "Give either `near` or `address`, not both. / 住所か座標のどちらか一方を指定してください。",
        )),
        (None, None) => Err(bad(
            "near",
            "Say where the patient lives: `address` (e.g. 所沢市並木1-1) or `near` {\"lat\", \"lng\"}. / 患者さんの住所を指定してください。",
        )),
        (None, Some(a)) => {
            let a = a
                .as_str()
                .map(str::trim)
                .ok_or_else(|| bad("address", "`address` is a string."))?;
            if a.is_empty() {
                return Err(bad("address", "`address` must not be empty."));
            }
            if a.chars().count() > 200 {
                return Err(bad("address", "`address` is at most 200 characters."));
            }
            Ok(Home::Address(a.to_string()))
        }
        (Some(n), None) => {
            let coord = |key: &str, max: f64| -> Result<f64, ApiError> {
                let field = format!("near.{key}");
                n.get(key)
                    .and_then(Value::as_f64)
                    .filter(|v| v.is_finite() && v.abs() <= max)
                    .ok_or_else(|| {
                        bad(
                            &field,
                            format!("`{field}` is a number from -{max} to {max} (degrees)."),
                        )
                    })
            };
            if !n.is_object() {
                return Err(bad("near", "`near` is {\"lat\": …, \"lng\": …}."));
            }
            if let Some(k) = n
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "lat" && *k != "lng"))
            {
                return Err(bad(
                    &format!("near.{k}"),
                    "`near` has only `lat` and `lng`.",
                ));
            }
            Ok(Home::Point(coord("lat", 90.0)?, coord("lng", 180.0)?))
        }
    }
}

const ROLE_KEYS: &[&str] = &[
    "role",
    "prefer",
    "after_hours",
    "include",
    "exclude",
    "opioids",
    "stock",
];

fn role_of(
    v: &Value,
    i: usize,
    catalog: &Catalog,
    audience: Audience,
    today: &str,
) -> Result<RoleAsk, ApiError> {
    let at = |k: &str| format!("roles[{i}].{k}");
    let o = v.as_object().ok_or_else(|| {
        bad(
            &format!("roles[{i}]"),
            "Each role is an object with `role`.",
        )
    })?;
    if let Some(k) = o.keys().find(|k| !ROLE_KEYS.contains(&k.as_str())) {
        return Err(bad(
            &at(k),
            format!("Unknown field `{k}`. Valid: {}.", ROLE_KEYS.join(", ")),
        ));
    }
    let code = o.get("role").and_then(Value::as_str).unwrap_or_default();
    let role = TeamRole::from_code(code).ok_or_else(|| {
        bad(
            &at("role"),
            format!(
                "Unknown role `{code}`. Valid: {}. / 役割が不明です。",
                TeamRole::codes()
            ),
        )
    })?;
    let mut ask = RoleAsk::new(role);
    match o.get("after_hours") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => ask.after_hours = *b,
        Some(_) => return Err(bad(&at("after_hours"), "`after_hours` is true or false.")),
    }
    if let Some(p) = o.get("prefer").filter(|v| !v.is_null()) {
        if role != TeamRole::Physician {
            return Err(bad(
                &at("prefer"),
                "`prefer` applies to the physician only.",
            ));
        }
        for (j, s) in string_list(p, &at("prefer"), 2)?.iter().enumerate() {
            let p = Prefer::from_code(s).ok_or_else(|| {
                bad(
                    &format!("{}[{j}]", at("prefer")),
                    format!(
                        "Unknown preference `{s}`. Valid: reinforced (機能強化型), enhanced (在宅緩和ケア充実)."
                    ),
                )
            })?;
            if !ask.prefer.contains(&p) {
                ask.prefer.push(p);
            }
        }
    }
    let opioids = o.get("opioids").filter(|v| !v.is_null());
    let stock = o.get("stock").filter(|v| !v.is_null());
    if (opioids.is_some() || stock.is_some()) && role != TeamRole::Pharmacy {
        let k = if opioids.is_some() {
            "opioids"
        } else {
            "stock"
        };
        return Err(bad(&at(k), format!("`{k}` applies to the pharmacy only.")));
    }
    if let Some(list) = opioids {
        let mut products: Vec<Product> = Vec::new();
        for (j, s) in string_list(list, &at("opioids"), super::request::MAX_OPIOIDS)?
            .iter()
            .enumerate()
        {
            let p = Product::parse(s).ok_or_else(|| {
                bad(
                    &format!("{}[{j}]", at("opioids")),
                    format!(
                        "Unknown product `{s}`. Valid: {}, or a brand or generic name such as フェントステープ.",
                        Product::codes().join(", ")
                    ),
                )
            })?;
            if !products.contains(&p) {
                products.push(p);
            }
        }
        let (stock, partners) = match stock.map(|s| s.as_str()) {
            None | Some(Some("order")) => (Stock::Order, true),
            Some(Some("always")) => (Stock::Always, false),
            Some(Some("partner")) => (Stock::Always, true),
            Some(_) => {
                return Err(bad(
                    &at("stock"),
                    "`stock` is always (in stock now), partner (in stock, or at a partner of the pharmacy's group) or order (any of these, or on order; the default).",
                ));
            }
        };
        if !products.is_empty() {
            ask.formulary = Some(FormularyFilter {
                products,
                stock,
                partners,
                today: today.to_string(),
                audience,
            });
        }
    } else if stock.is_some() {
        return Err(bad(
            &at("stock"),
            "`stock` qualifies `opioids`: add the products, e.g. [\"fentanyl_patch\"].",
        ));
    }
    for (key, list) in [("include", &mut ask.include), ("exclude", &mut ask.exclude)] {
        let Some(v) = o.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        for (j, id) in string_list(v, &at(key), MAX_IDS)?.into_iter().enumerate() {
            if catalog.get(&id).is_none() {
                return Err(bad(
                    &format!("{}[{j}]", at(key)),
                    format!("No facility with id `{id}`. / この ID の施設はありません。"),
                ));
            }
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    if let Some((j, id)) = ask
        .exclude
        .iter()
        .enumerate()
        .find(|(_, id)| ask.include.contains(id))
    {
        return Err(bad(
            &format!("{}[{j}]", at("exclude")),
            format!("`{id}` is both included and excluded."),
        ));
    }
    Ok(ask)
}

fn question(
    input: &CareTeamInput,
    catalog: &Catalog,
    audience: Audience,
) -> Result<Question, ApiError> {
    let home = home_of(input)?;
    let now = match input.now.as_ref().filter(|v| !v.is_null()) {
        None => crate::auth::now(),
        Some(v) => v
            .as_str()
            .and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .ok_or_else(|| {
                bad(
                    "now",
                    "`now` is an RFC 3339 date-time with its offset, e.g. 2026-12-01T22:00:00+09:00.",
                )
            })?,
    };
    let today = crate::domain::schedule::jst(now).date().to_string();
    let limit = match input.limit.as_ref().filter(|v| !v.is_null()) {
        None => 5,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| bad("limit", "`limit` is a whole number from 1 to 20."))?
            as usize,
    };
    let max_km = match input.max_km.as_ref().filter(|v| !v.is_null()) {
        None => crate::domain::HOME_VISIT_RADIUS_KM,
        Some(v) => v
            .as_f64()
            .filter(|k| (1.0..=50.0).contains(k))
            .ok_or_else(|| bad("max_km", "`max_km` is a number of km from 1 to 50."))?,
    };
    let list = input
        .roles
        .as_ref()
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            bad(
                "roles",
                format!(
                    "`roles` lists the roles needed, e.g. [{{\"role\": \"physician\"}}, {{\"role\": \"nurse\"}}]. Valid: {}.",
                    TeamRole::codes()
                ),
            )
        })?;
    if list.len() > TeamRole::ALL.len() {
        return Err(bad(
            "roles",
            format!(
                "`roles` lists each role at most once ({} roles).",
                TeamRole::ALL.len()
            ),
        ));
    }
    let mut roles: Vec<RoleAsk> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let r = role_of(v, i, catalog, audience, &today)?;
        if roles.iter().any(|x| x.role == r.role) {
            return Err(bad(
                &format!("roles[{i}].role"),
                format!("`{}` is asked twice.", r.role.code()),
            ));
        }
        roles.push(r);
    }
    Ok(Question {
        home,
        roles,
        limit,
        max_km,
        now,
    })
}

fn candidate_view<'a>(f: &'a Facility, shown: &'a Facility, c: &Candidate) -> CandidateView<'a> {
    CandidateView {
        id: &f.id,
        name: &f.name,
        everyday_name: crate::domain::ja::everyday_name(&f.name),
        kind: f.kind.code(),
        address: &f.address.text,
        location: LocationView::of(f.location),
        distance_m: c.distance_m.round() as u64,
        reach_m: c.reach_m.round() as u64,
        reach_rule: c.reach_rule.code(),
        reasons: c.reasons.clone(),
        linked: c.linked,
        included: c.included,
        excluded: c.excluded,
        after_hours: c.after_hours,
        availability: c.availability.map(|a| a.code()),
        bed: c.bed.map(|b| BedView {
            status: b.status.code(),
            label: Label {
                ja: b.status.label_ja(),
                en: b.status.label_en(),
            },
            age_hours: b.age_hours.map(|h| (h * 10.0).round() / 10.0),
        }),
        contacts: shown
            .contacts
            .iter()
            .map(|k| ContactView {
                kind: match k.kind {
                    crate::domain::ContactKind::Phone => "phone",
                    crate::domain::ContactKind::Fax => "fax",
                    crate::domain::ContactKind::Email => "email",
                    crate::domain::ContactKind::Web => "web",
                },
                value: &k.value,
                label: k.label.as_deref(),
            })
            .collect(),
    }
}

fn almost_view<'a>(f: &'a Facility, a: &Almost) -> AlmostView<'a> {
    AlmostView {
        id: &f.id,
        name: &f.name,
        distance_m: a.distance_m.map(|d| d.round() as u64),
        why: a.why.clone(),
    }
}

#[utoipa::path(post, path = "/api/v1/care-team", tag = "care-team",
    security(("session" = []), ("token" = [])),
    request_body = CareTeamInput,
    responses(
        (status = 200, description = "Per role the ranked candidates that can serve the home with their reasons, the proposed member or a plain `none` with the nearest that almost qualify; and the team. The home is not stored.", body = CareTeamBody),
        (status = 400, description = "A field is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cookie session without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address could not be placed", body = Problem, content_type = "application/problem+json"),
    ))]
// Never record the request: the body holds a patient's home.
#[instrument(skip_all)]
pub async fn care_team(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CareTeamInput>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::writer(&req, &state).await?;
    caller.require_user().map_err(|_| {
        ApiError::unauthorized(
            "在宅チームの編成は医療・介護職向けです。ログインしてください / The care-team query is for professionals: sign in first (POST /api/v1/session) or send an API token.",
        )
    })?;
    let viewer = state.viewer(caller.audience());
    let catalog = state.catalog.load();
    let q = question(&body.into_inner(), &catalog, viewer.audience)?;
    let home = match &q.home {
        Home::Point(lat, lng) => HomeView {
            lat: *lat,
            lng: *lng,
            precision_m: None,
            level: "point",
            normalized: None,
        },
        Home::Address(a) => {
            let m = catalog.geocoder().geocode(a).map_err(|miss| {
                // The address is not repeated: errors are recorded in the request's span.
                let detail = if miss.postal_code_only {
                    "郵便番号だけでは場所を特定できません。住所（市区町村と町名）を入力してください / A postal code alone cannot be placed: type the address."
                } else {
                    "住所を特定できませんでした。市区町村名と町名を確認してください / The address could not be placed: check the municipality (市区町村) and town (町名), or give `near`."
                };
                ApiError::unprocessable("address_not_found", detail)
                    .with("field", serde_json::json!("address"))
            })?;
            HomeView {
                lat: m.lat,
                lng: m.lng,
                precision_m: m.level.uncertainty_m(),
                level: m.level.code(),
                normalized: Some(m.normalized),
            }
        }
    };
    let ask = TeamAsk {
        home: (home.lat, home.lng),
        roles: q.roles,
        limit: q.limit,
        max_km: q.max_km,
        audience: viewer.audience,
        now: q.now,
        stale_hours: viewer.stale_hours,
    };
    let now = q.now;
    let snapshot = catalog.clone();
    let answer = web::block(move || snapshot.team(&ask))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    // Each facility of the answer decoded once, and as the caller may see it, for the contacts.
    let mut full: HashMap<u32, Arc<Facility>> = HashMap::new();
    for r in &answer.roles {
        for o in r
            .candidates
            .iter()
            .map(|c| c.ord)
            .chain(r.almost.iter().map(|a| a.ord))
        {
            full.entry(o).or_insert_with(|| catalog.at(o));
        }
    }
    let mut shown: Vec<(u32, Facility)> = Vec::new();
    for r in &answer.roles {
        for c in &r.candidates {
            if !shown.iter().any(|(o, _)| *o == c.ord) {
                shown.push((c.ord, project(&full[&c.ord], viewer.audience)));
            }
        }
    }
    let shown_of = |ord: u32| {
        shown
            .iter()
            .find(|(o, _)| *o == ord)
            .map(|(_, f)| f)
            .unwrap_or_else(|| &full[&ord])
    };
    let role_view = |r: &RoleAnswer| RoleView {
        role: r.role.code(),
        label: Label {
            ja: r.role.label_ja(),
            en: r.role.label_en(),
        },
        candidates: r
            .candidates
            .iter()
            .map(|c| candidate_view(&full[&c.ord], shown_of(c.ord), c))
            .collect(),
        total: r.total,
        proposed: r.proposed.map(|o| catalog.entry(o).id.as_ref()),
        none: r.none.clone(),
        almost: r
            .almost
            .iter()
            .map(|a| almost_view(&full[&a.ord], a))
            .collect(),
    };
    let body = CareTeamBody {
        home,
        stored: false,
        privacy: PRIVACY,
        distance_note: team::DISTANCE_NOTE,
        ranking: team::RANKING,
        now: crate::domain::schedule::jst(now)
            .assume_offset(crate::domain::schedule::JST)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        roles: answer.roles.iter().map(role_view).collect(),
        team: answer
            .roles
            .iter()
            .filter_map(|r| {
                let f = catalog.entry(r.proposed?);
                Some(MemberView {
                    role: r.role.code(),
                    id: &f.id,
                    name: &f.name,
                })
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(body))
}

/// One partner as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub id: String,
    /// backup, nurse, pharmacy, dental, physician
    pub role: &'static str,
    pub role_label: &'static str,
    pub note: Option<String>,
    /// The partner's name (null when it is no longer listed).
    pub name: Option<String>,
    pub kind: Option<&'static str>,
}

/// A facility's partners, and the facilities that list it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnersBody {
    pub id: String,
    pub partners: Vec<PartnerView>,
    /// Facilities listing this one as their partner.
    pub listed_by: Vec<PartnerView>,
}

fn partners_body(f: &Facility, catalog: &Catalog) -> PartnersBody {
    let view = |p: &Partner| {
        let other = catalog.get(&p.id);
        PartnerView {
            id: p.id.clone(),
            role: p.role.code(),
            role_label: p.role.label_ja(),
            note: p.note.clone(),
            name: other.as_ref().map(|o| o.name.clone()),
            kind: other.as_ref().map(|o| o.kind.code()),
        }
    };
    let listers: Vec<Facility> = (0..catalog.len() as u32)
        .filter(|&o| catalog.entry(o).has_partners)
        .map(|o| Arc::unwrap_or_clone(catalog.at(o)))
        .collect();
    let listed_by = listers
        .iter()
        .flat_map(|o| {
            o.partners
                .iter()
                .filter(|p| p.id == f.id)
                .map(move |p| PartnerView {
                    id: o.id.clone(),
                    role: p.role.code(),
                    role_label: p.role.label_ja(),
                    note: p.note.clone(),
                    name: Some(o.name.clone()),
                    kind: Some(o.kind.code()),
                })
        })
        .collect();
    PartnersBody {
        id: f.id.clone(),
        partners: f.partners.iter().map(view).collect(),
        listed_by,
    }
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/partners", tag = "care-team",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id")),
    responses(
        (status = 200, description = "The facility's partners (連携先) and who lists it; with the facility's ETag", body = PartnersBody),
        (status = 401, description = "Not signed in: partners are for professionals", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn get_partners(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Params::parse(req.query_string(), &[])?;
    let caller = auth::caller(&req, &state).await?;
    if !caller.audience().may_see(PARTNERS_VISIBILITY) {
        return Err(ApiError::unauthorized(
            "連携先は医療・介護職向けです。ログインしてください / A facility's partners are for professionals: sign in first.",
        ));
    }
    let f = stored(&state, &path.into_inner()).await?;
    let body = partners_body(&f, &state.catalog.load());
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&f)))
        .insert_header(("cache-control", "private, no-store"))
        .json(body))
}

/// A facility's partners as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnersInput {
    /// `[{"id": "navii-…", "role": "backup|nurse|pharmacy|dental|physician", "note": "…"}]`
    /// (note optional, ≤ 200 characters); the whole list, replacing the stored one.
    #[schema(value_type = Vec<Object>)]
    pub partners: Vec<Value>,
}

fn partners_of(
    input: &PartnersInput,
    own: &str,
    catalog: &Catalog,
) -> Result<Vec<Partner>, ApiError> {
    if input.partners.len() > MAX_PARTNERS {
        return Err(bad("partners", format!("At most {MAX_PARTNERS} partners.")));
    }
    let mut out: Vec<Partner> = Vec::new();
    let mut seen: HashSet<(String, PartnerRole)> = HashSet::new();
    for (i, v) in input.partners.iter().enumerate() {
        let at = |k: &str| format!("partners[{i}].{k}");
        let o = v.as_object().ok_or_else(|| {
            bad(
                &format!("partners[{i}]"),
                "Each partner is {\"id\", \"role\"}.",
            )
        })?;
        if let Some(k) = o
            .keys()
            .find(|k| !["id", "role", "note"].contains(&k.as_str()))
        {
            return Err(bad(
                &at(k),
                format!("Unknown field `{k}`. Valid: id, role, note."),
            ));
        }
        let id = o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        if catalog.get(id).is_none() {
            return Err(bad(
                &at("id"),
                format!("No facility with id `{id}`. / この ID の施設はありません。"),
            ));
        }
        if id == own {
            return Err(bad(&at("id"), "A facility is not its own partner."));
        }
        let code = o.get("role").and_then(Value::as_str).unwrap_or_default();
        let role = PartnerRole::from_code(code).ok_or_else(|| {
            bad(
                &at("role"),
                format!("Unknown role `{code}`. Valid: {}.", PartnerRole::codes()),
            )
        })?;
        let note = match o.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(super::write::text(&at("note"), s, 200)?),
            Some(_) => return Err(bad(&at("note"), "`note` is a string.")),
        };
        if !seen.insert((id.to_string(), role)) {
            return Err(bad(
                &at("id"),
                format!("`{id}` is listed twice as {}.", role.code()),
            ));
        }
        out.push(Partner {
            id: id.to_string(),
            role,
            note,
        });
    }
    Ok(out)
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/partners", tag = "care-team",
    security(("session" = []), ("token" = [])),
    params(("id" = String, Path, description = "Facility id"), ("If-Match" = String, Header, description = "The ETag of the version seen")),
    request_body = PartnersInput,
    responses(
        (status = 200, description = "Set; the list as stored, with the new ETag", body = PartnersBody),
        (status = 400, description = "A field is invalid (`field` names it, e.g. partners[0].id)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the area's coordinator, an admin or the facility's editor; or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such facility", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since the version seen", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
#[instrument(skip_all, err(level = "info"))]
pub async fn put_partners(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<PartnersInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let EditStart {
        caller, version, ..
    } = edit_start(&req, &state, &id).await?;
    let partners = partners_of(&body.into_inner(), &id, &state.catalog.load())?;
    let at = crate::auth::timestamp(crate::auth::now());
    let f = run_edit(&state, &caller, id, version, move |f| {
        if f.partners != partners {
            f.partners = partners;
            f.updated_at = at;
        }
        Ok(())
    })
    .await?;
    caught_up(&state).await;
    let body = partners_body(&f, &state.catalog.load());
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(&f)))
        .insert_header(("cache-control", "no-store"))
        .json(body))
}
