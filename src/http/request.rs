//! The typed boundary: query parameters become a [`SearchRequest`] without touching the
//! catalog. Everything checkable from the request alone is checked here (syntax, ranges,
//! combinations); codes, addresses and cursor versions are the planner's to resolve.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::ApiError;
use super::params::Params;
use crate::catalog::{Cursor, Facet, FormularyFilter, SearchRequest, Sort};
use crate::domain::{Audience, FacilityKind, LatLng, Product, ServiceKind, Stock};

/// The filter parameters every facility list shares: the list, the layer and the exports.
pub const FILTER_PARAMS: &[&str] = &[
    "kind",
    "service",
    "area",
    "municipality",
    "q",
    "near",
    "address",
    "radius_km",
    "bbox",
    "reaches",
    "opioid",
    "stock",
    "after_hours",
    "open_now",
    "specialist",
    "sort",
];

/// [`FILTER_PARAMS`] and `extra`, for [`Params::parse`].
fn with_filters(extra: &[&'static str]) -> Vec<&'static str> {
    FILTER_PARAMS.iter().chain(extra).copied().collect()
}

pub static LIST_PARAMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| with_filters(&["facets", "limit", "cursor"]));

pub static GEOJSON_PARAMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| with_filters(&["limit", "cursor", "cluster", "zoom", "all"]));

/// The exports' parameters: the filters (the whole set: no pages).
pub static EXPORT_PARAMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| with_filters(&[]));

/// The CSV export's: the filters and the text encoding.
pub static CSV_PARAMS: std::sync::LazyLock<Vec<&str>> =
    std::sync::LazyLock::new(|| with_filters(&["encoding"]));

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_BBOX_SPAN_DEG: f64 = 30.0;
/// Largest offset a cursor may carry: lists are bounded.
const MAX_OFFSET: usize = 1_000_000;

/// `next` as the client sees it: opaque, URL-safe.
pub fn encode_cursor(c: Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("v{}:o{}", c.version, c.offset))
}

fn decode_cursor(raw: &str) -> Result<Cursor, ApiError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (v, o) = s.strip_prefix('v')?.split_once(":o")?;
            Some(Cursor {
                version: v.parse().ok()?,
                offset: o.parse().ok().filter(|n| *n <= MAX_OFFSET)?,
            })
        })
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                "`cursor` is not one this server issued; pass the `next` value of the previous page unchanged.",
            )
        })
}

fn floats(p: &Params, name: &str, n: usize, example: &str) -> Result<Option<Vec<f64>>, ApiError> {
    let Some(raw) = p.get(name) else {
        if p.is_blank(name) {
            return Err(ApiError::bad_parameter(
                name,
                format!(
                    "`{name}` is empty: give {n} comma-separated numbers, e.g. {name}={example}, or leave it out."
                ),
            ));
        }
        return Ok(None);
    };
    let values: Option<Vec<f64>> = raw
        .split(',')
        .map(|v| v.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
        .collect();
    match values {
        Some(v) if v.len() == n => Ok(Some(v)),
        _ => Err(ApiError::bad_parameter(
            name,
            format!(
                "`{name}` must be {n} comma-separated decimal numbers, e.g. {name}={example}; got `{raw}`."
            ),
        )),
    }
}

fn point(p: &Params, name: &str) -> Result<Option<LatLng>, ApiError> {
    let Some(v) = floats(p, name, 2, "35.8617,139.6455")? else {
        return Ok(None);
    };
    let (lat, lng) = (v[0], v[1]);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
        return Err(ApiError::bad_parameter(
            name,
            format!(
                "`{name}` is lat,lng: lat must be within -90..90 and lng within -180..180; got {lat},{lng}."
            ),
        ));
    }
    Ok(Some(LatLng { lat, lng }))
}

fn bbox(p: &Params) -> Result<Option<[f64; 4]>, ApiError> {
    let Some(b) = floats(p, "bbox", 4, "139.5,35.8,139.8,36.0")? else {
        return Ok(None);
    };
    let [min_lng, min_lat, max_lng, max_lat] = [b[0], b[1], b[2], b[3]];
    let in_range = [min_lng, max_lng]
        .iter()
        .all(|x| (-180.0..=180.0).contains(x))
        && [min_lat, max_lat]
            .iter()
            .all(|y| (-90.0..=90.0).contains(y));
    if !in_range || min_lng >= max_lng || min_lat >= max_lat {
        return Err(ApiError::bad_parameter(
            "bbox",
            format!(
                "`bbox` is minLng,minLat,maxLng,maxLat with min < max, lng within -180..180 and lat within -90..90; got {min_lng},{min_lat},{max_lng},{max_lat}."
            ),
        ));
    }
    if max_lng - min_lng > MAX_BBOX_SPAN_DEG || max_lat - min_lat > MAX_BBOX_SPAN_DEG {
        return Err(ApiError::bad_parameter(
            "bbox",
            format!(
                "`bbox` may span at most {MAX_BBOX_SPAN_DEG} degrees each way; zoom in or drop `bbox`."
            ),
        ));
    }
    Ok(Some([min_lng, min_lat, max_lng, max_lat]))
}

fn text(p: &Params, name: &str, what: &str) -> Result<Option<String>, ApiError> {
    let Some(t) = p.get(name) else {
        return Ok(None);
    };
    if t.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_parameter(
            name,
            format!("`{name}` is longer than {MAX_QUERY_CHARS} characters; {what}."),
        ));
    }
    Ok(Some(t.to_string()))
}

fn codes(p: &Params, name: &str, what: &str) -> Result<Vec<String>, ApiError> {
    p.list(
        name,
        |c| {
            (!c.is_empty() && c.len() <= 8 && c.bytes().all(|b| b.is_ascii_digit()))
                .then(|| c.to_string())
        },
        || what.to_string(),
    )
}

/// A list or GeoJSON query as a [`SearchRequest`].
pub fn search_request(
    p: &Params,
    max_limit: usize,
    default_limit: usize,
) -> Result<SearchRequest, ApiError> {
    let mut r = SearchRequest {
        kinds: p.list("kind", FacilityKind::from_code, FacilityKind::codes)?,
        services: p.list("service", ServiceKind::from_code, ServiceKind::codes)?,
        areas: codes(
            p,
            "area",
            "4-digit 二次医療圏 codes, listed by /api/v1/areas",
        )?,
        municipalities: codes(
            p,
            "municipality",
            "5-digit 市区町村コード of this region, listed with each area in /api/v1/areas",
        )?,
        text: text(p, "q", "shorten it")?,
        near: point(p, "near")?,
        address: text(p, "address", "give the postal address only")?,
        reaches: point(p, "reaches")?,
        bbox: bbox(p)?,
        facets: p.list("facets", Facet::from_code, || Facet::CODES.to_string())?,
        limit: p.int_in("limit", 1, max_limit, default_limit)?,
        cursor: p.get("cursor").map(decode_cursor).transpose()?,
        after_hours: p.flag("after_hours")?,
        specialists: p.list(
            "specialist",
            crate::domain::SpecialistRole::from_code,
            crate::domain::SpecialistRole::codes,
        )?,
        open_at: p
            .flag("open_now")?
            .then(|| crate::domain::schedule::jst(crate::auth::now())),
        ..SearchRequest::default()
    };
    if r.near.is_some() && r.address.is_some() {
        return Err(ApiError::bad_parameter(
            "address",
            "Give either `near` or `address`, not both.",
        ));
    }
    let has_point = r.near.is_some() || r.address.is_some() || r.reaches.is_some();
    if let Some(v) = floats(p, "radius_km", 1, "5")? {
        let km = v[0];
        if !(km > 0.0 && km <= 100.0) {
            return Err(ApiError::bad_parameter(
                "radius_km",
                format!("`radius_km` must be greater than 0 and at most 100; got {km}."),
            ));
        }
        if !has_point {
            return Err(ApiError::bad_parameter(
                "radius_km",
                "`radius_km` needs a centre: add `near=lat,lng`, `address=…` or `reaches=lat,lng`.",
            ));
        }
        r.radius_km = Some(km);
    }
    if let Some(raw) = p.get("sort") {
        let sort = Sort::from_code(raw).ok_or_else(|| {
            ApiError::bad_parameter(
                "sort",
                format!(
                    "Unknown value `{raw}` for `sort`. Valid values: {}.",
                    Sort::CODES
                ),
            )
        })?;
        if sort == Sort::Relevance && r.text.is_none() {
            return Err(ApiError::bad_parameter(
                "sort",
                "`sort=relevance` needs a text query `q`.",
            ));
        }
        if sort == Sort::Distance && !has_point {
            return Err(ApiError::bad_parameter(
                "sort",
                "`sort=distance` needs a point: add `near=lat,lng`, `address=…` or `reaches=lat,lng`.",
            ));
        }
        r.sort = Some(sort);
    }
    Ok(r)
}

/// Most products one search may ask to be stocked together.
pub const MAX_OPIOIDS: usize = 8;

/// The parameters that filter on pharmacies' formularies, which are professional by default.
pub const FORMULARY_PARAMS: [&str; 2] = ["opioid", "stock"];

/// `opioid` and `stock` as a filter over the formularies `audience` may see. The public may
/// not filter on them at all: 401 naming the parameter, never a silently different answer.
pub fn formulary_filter(
    p: &Params,
    audience: Audience,
) -> Result<Option<FormularyFilter>, ApiError> {
    if audience == Audience::Public {
        if let Some(name) = FORMULARY_PARAMS.into_iter().find(|n| p.get(n).is_some()) {
            return Err(ApiError::unauthorized(format!(
                "`{name}` filters on pharmacies' opioid formularies, which only signed-in professionals may see: sign in (POST /api/v1/session) or send an API token, or leave `{name}` out. / 麻薬の在庫での絞り込みは医療・介護職のログインが必要です。"
            ))
            .with("parameter", serde_json::json!(name)));
        }
        return Ok(None);
    }
    let mut products: Vec<Product> = Vec::new();
    for product in p.list("opioid", Product::parse, || {
        format!(
            "{}, or a brand or generic name such as オキシコンチン, フェントステープ, モルヒネ",
            Product::codes().join(", ")
        )
    })? {
        if !products.contains(&product) {
            products.push(product);
        }
    }
    if products.len() > MAX_OPIOIDS {
        return Err(ApiError::bad_parameter(
            "opioid",
            format!(
                "`opioid` lists at most {MAX_OPIOIDS} products; got {}.",
                products.len()
            ),
        ));
    }
    let (stock, partners) = match p.get("stock") {
        None | Some("order") => (Stock::Order, true),
        Some("always") => (Stock::Always, false),
        Some("partner") => (Stock::Always, true),
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "stock",
                format!(
                    "Unknown value `{other}` for `stock`. Valid values: always (in stock now), partner (in stock, or at a partner of the pharmacy's group), order (any of these, or obtained on order; the default)."
                ),
            ));
        }
    };
    if products.is_empty() {
        if p.get("stock").is_some() {
            return Err(ApiError::bad_parameter(
                "stock",
                "`stock` qualifies `opioid`: add the products, e.g. opioid=fentanyl_patch,oxycodone_injection.",
            ));
        }
        return Ok(None);
    }
    Ok(Some(FormularyFilter {
        products,
        stock,
        partners,
        today: crate::domain::schedule::jst(crate::auth::now())
            .date()
            .to_string(),
        audience,
    }))
}

/// Where a search is centred: `near`, or `address` to be placed, and the radius in km.
pub type Place = (Option<LatLng>, Option<String>, Option<f64>);

/// A point as `near=lat,lng` or `address=…` (not both), and `radius_km` (0 < r ≤ `max_km`).
pub fn place(p: &Params, max_km: f64) -> Result<Place, ApiError> {
    let near = point(p, "near")?;
    let address = text(p, "address", "give the postal address only")?;
    if near.is_some() && address.is_some() {
        return Err(ApiError::bad_parameter(
            "address",
            "Give either `near` or `address`, not both.",
        ));
    }
    let radius = match floats(p, "radius_km", 1, "30")? {
        None => None,
        Some(v) if v[0] > 0.0 && v[0] <= max_km => Some(v[0]),
        Some(v) => {
            return Err(ApiError::bad_parameter(
                "radius_km",
                format!(
                    "`radius_km` must be greater than 0 and at most {max_km}; got {}.",
                    v[0]
                ),
            ));
        }
    };
    Ok((near, address, radius))
}

/// `cluster` and `zoom` of the GeoJSON layer: `None` for plain points, else the zoom.
pub fn clustering(p: &Params) -> Result<Option<u8>, ApiError> {
    let clustered = match p.get("cluster") {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "cluster",
                format!("`cluster` is 0 or 1; got `{other}`."),
            ));
        }
    };
    let zoom = p
        .get("zoom")
        .map(|_| p.int_in("zoom", 0, 20, 0))
        .transpose()?;
    match (clustered, zoom) {
        (true, Some(z)) => Ok(Some(z as u8)),
        (true, None) => Err(ApiError::bad_parameter(
            "zoom",
            "`cluster=1` needs the map zoom, `zoom=0`…`20`.",
        )),
        (false, Some(_)) => Err(ApiError::bad_parameter(
            "zoom",
            "`zoom` only applies to clusters: add `cluster=1`, or drop `zoom` for plain points.",
        )),
        (false, None) => Ok(None),
    }
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`): the client's copy is current.
/// Weak and strong forms compare alike, as RFC 9110 asks for `If-None-Match`.
pub fn if_none_match(req: &actix_web::HttpRequest, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let wanted = bare(etag);
    req.headers()
        .get_all(actix_web::http::header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || bare(t) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_ones() {
        let c = Cursor {
            version: 42,
            offset: 100,
        };
        assert_eq!(decode_cursor(&encode_cursor(c)).unwrap(), c);
        for bad in ["", "bzo6MTAw", "!!", &URL_SAFE_NO_PAD.encode("o:20")] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
