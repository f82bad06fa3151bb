//! Open Referral HSDS 3.0 records of a facility as a caller may see it: one `organization`
//! per facility with its `location` (address, point, `schedule`s) and `phone`s, and one
//! `service` per offered service linked to the location by a `service_at_location`.
//!
//! Ids are name-based UUIDs (v5) of the facility id and the service code, so the same
//! facility keeps the same ids from one export to the next.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::schedule::{ClockTime, Day, Period};
use crate::domain::{ContactKind, Facility, Service, ServiceStatus, Visibility};

/// The version of the specification the export follows.
pub const VERSION: &str = "3.0";

/// pallimap's namespace of HSDS ids.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:pallimap:hsds")
}

/// The id of one record: `what` (organization, location, …) of `key`.
fn id(what: &str, key: &str) -> String {
    Uuid::new_v5(&namespace(), format!("{what}:{key}").as_bytes()).to_string()
}

/// `v` without null members: HSDS types its optional fields as strings or numbers, so an
/// unknown value is left out rather than written as `null`.
fn compact(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(compact).collect()),
        other => other,
    }
}

/// Offered services: every one not `inactive` (a temporarily closed one is exported with
/// HSDS status `temporarily closed`).
pub fn offered(f: &Facility) -> impl Iterator<Item = &Service> {
    f.services
        .iter()
        .filter(|s| s.status != ServiceStatus::Inactive)
}

fn status(s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Active => "active",
        ServiceStatus::TemporarilyClosed => "temporarily closed",
        ServiceStatus::Inactive => "inactive",
    }
}

fn byday(d: Day) -> Option<&'static str> {
    Some(match d {
        Day::Mon => "MO",
        Day::Tue => "TU",
        Day::Wed => "WE",
        Day::Thu => "TH",
        Day::Fri => "FR",
        Day::Sat => "SA",
        Day::Sun => "SU",
        // RFC 5545 has no holidays: said in the description instead.
        Day::Holiday => return None,
    })
}

/// `HH:MM` with the JST offset, as HSDS asks; 24:00 (the end of a day) is written 23:59
/// because an RFC 3339 time has no hour 24.
fn time_jst(t: ClockTime) -> String {
    let m = t.minutes().min(23 * 60 + 59);
    format!("{:02}:{:02}+09:00", m / 60, m % 60)
}

/// One weekly period as a `schedule` of `location_id`.
fn schedule(f: &Facility, n: usize, p: &Period, location_id: &str) -> Value {
    let days: Vec<&str> = p.days.iter().filter_map(|d| byday(*d)).collect();
    let labels: String = p.days.iter().map(|d| d.label_ja()).collect();
    let mut description = format!("{labels} {}–{}", p.from, p.to);
    if p.overnight() {
        description.push_str("（翌日まで）");
    }
    if p.days.contains(&Day::Holiday) {
        description.push_str("・祝日も");
    } else {
        description.push_str("・祝日を除く");
    }
    json!({
        "id": id("schedule", &format!("{}:{n}", f.id)),
        "location_id": location_id,
        "freq": "WEEKLY",
        "interval": 1,
        "wkst": "MO",
        "byday": days.join(","),
        "opens_at": time_jst(p.from),
        "closes_at": time_jst(p.to),
        "timezone": 9,
        "description": description,
        "notes": f.hours.note,
    })
}

/// Without weekly periods, what sources publish — the days closed every week and a note —
/// as a `schedule` with a description only (no rule: the opening times are not known).
fn closed_days(f: &Facility, location_id: &str) -> Option<Value> {
    let h = &f.hours;
    if h.closed_weekdays.is_empty() && h.note.is_none() {
        return None;
    }
    let labels: Vec<&str> = h
        .closed_weekdays
        .iter()
        .map(|d| match d.as_str() {
            "mon" => "月",
            "tue" => "火",
            "wed" => "水",
            "thu" => "木",
            "fri" => "金",
            "sat" => "土",
            "sun" => "日",
            "holiday" => "祝",
            other => other,
        })
        .collect();
    let description = if labels.is_empty() {
        "開いている時間は不明".to_string()
    } else {
        format!("休み: {}（開いている時間は不明）", labels.join("・"))
    };
    Some(json!({
        "id": id("schedule", &format!("{}:closed", f.id)),
        "location_id": location_id,
        "description": description,
        "notes": h.note,
    }))
}

/// The address line after the prefecture and municipality, when the text starts with them.
fn address_1(f: &Facility) -> &str {
    let text = f.address.text.as_str();
    let rest = text.strip_prefix(&f.address.prefecture).unwrap_or(text);
    match &f.address.municipality {
        Some(m) => rest.strip_prefix(m.as_str()).unwrap_or(rest),
        None => rest,
    }
    .trim()
}

/// The facility's phone and FAX numbers in `f` (project it for the caller first: what the
/// caller may not see is then absent). Numbers that are not public say so.
fn phones(f: &Facility, organization_id: &str, location_id: &str) -> Vec<Value> {
    f.contacts
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, ContactKind::Phone | ContactKind::Fax))
        .map(|(i, c)| {
            let mut description = c.label.clone().unwrap_or_default();
            if c.visibility != Visibility::Public {
                if !description.is_empty() {
                    description.push('・');
                }
                description.push_str("医療・介護職向け（公開しないでください）");
            }
            json!({
                "id": id("phone", &format!("{}:{i}", f.id)),
                "organization_id": organization_id,
                "location_id": location_id,
                "number": c.value,
                "type": if c.kind == ContactKind::Fax { "fax" } else { "voice" },
                "description": (!description.is_empty()).then_some(description),
            })
        })
        .collect()
}

fn identifiers(f: &Facility, organization_id: &str) -> Vec<Value> {
    let mut out = vec![("pallimap", f.id.as_str())];
    if let Some(v) = &f.identifiers.navii {
        out.push(("navii", v));
    }
    if let Some(v) = &f.identifiers.hic {
        out.push(("hic", v));
    }
    if let Some(v) = &f.identifiers.kaigo {
        out.push(("kaigo", v));
    }
    out.into_iter()
        .map(|(kind, value)| {
            json!({
                "id": id("identifier", &format!("{}:{kind}", f.id)),
                "organization_id": organization_id,
                "identifier_type": match kind {
                    "pallimap" => "pallimap 施設ID",
                    "navii" => "医療情報ネット（ナビイ）ID",
                    "hic" => "保険医療機関コード",
                    _ => "介護保険事業所番号",
                },
                "identifier": value,
            })
        })
        .collect()
}

/// The `organization` of a projected facility, with its location, phones and identifiers.
pub fn organization(f: &Facility) -> Value {
    let org = id("organization", &f.id);
    let loc = id("location", &f.id);
    let email = f
        .contacts
        .iter()
        .find(|c| c.kind == ContactKind::Email && c.visibility == Visibility::Public)
        .map(|c| c.value.clone());
    let services: Vec<&str> = offered(f).map(|s| s.kind.label_ja()).collect();
    let mut description = f.kind.label_ja().to_string();
    if !services.is_empty() {
        description.push('：');
        description.push_str(&services.join("、"));
    }
    if let Some(n) = &f.notes {
        description.push('。');
        description.push_str(n);
    }
    let mut schedules: Vec<Value> = f
        .hours
        .open
        .iter()
        .enumerate()
        .map(|(n, p)| schedule(f, n, p, &loc))
        .collect();
    if schedules.is_empty()
        && let Some(s) = closed_days(f, &loc)
    {
        schedules.push(s);
    }
    let location = json!({
        "id": loc,
        "organization_id": org,
        "location_type": "physical",
        "name": f.name,
        "alternate_name": f.name_kana,
        "latitude": f.location.map(|l| l.lat),
        "longitude": f.location.map(|l| l.lng),
        "external_identifier": f.id,
        "external_identifier_type": "pallimap",
        "addresses": [{
            "id": id("address", &f.id),
            "location_id": loc,
            "address_1": address_1(f),
            "city": f.address.municipality.clone().unwrap_or_default(),
            "state_province": f.address.prefecture,
            "postal_code": f.address.postal_code.clone().unwrap_or_default(),
            "country": "JP",
            "address_type": "physical",
        }],
        "schedules": schedules,
    });
    compact(json!({
        "id": org,
        "name": f.name,
        "alternate_name": f.name_kana,
        "description": description,
        "email": email,
        "website": f.url,
        "organization_identifiers": identifiers(f, &org),
        "phones": phones(f, &org, &loc),
        "locations": [location],
    }))
}

fn service_description(s: &Service) -> String {
    let a = &s.attributes;
    let mut parts: Vec<String> = vec![s.kind.label_ja().to_string()];
    if let Some(t) = a.tier {
        parts.push(t.label_ja().to_string());
    }
    if let Some(t) = a.dental_tier {
        parts.push(t.label_ja().to_string());
    }
    if let Some(b) = a.beds {
        parts.push(format!("{b}床"));
    }
    if let Some(since) = &a.since {
        parts.push(format!("{since}から"));
    }
    if let Some(km) = a.radius_km {
        parts.push(format!("訪問範囲 {km} km"));
    }
    parts.join("・")
}

/// The `service`s a projected facility offers, each at the facility's location.
pub fn services(f: &Facility) -> Vec<Value> {
    let org = id("organization", &f.id);
    let loc = id("location", &f.id);
    offered(f)
        .map(|s| {
            let key = format!("{}:{}", f.id, s.kind.code());
            let sid = id("service", &key);
            compact(json!({
                "id": sid,
                "organization_id": org,
                "name": s.kind.label_ja(),
                "alternate_name": s.kind.label_en(),
                "description": service_description(s),
                "status": status(s.status),
                "assured_date": s.verified_at.as_deref().map(|v| v.get(..10).unwrap_or(v)),
                "service_at_locations": [{
                    "id": id("service_at_location", &key),
                    "service_id": sid,
                    "location_id": loc,
                }],
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_left_out_at_every_depth() {
        let v = compact(json!({"a": null, "b": [{"c": null, "d": 1}], "e": "x"}));
        assert_eq!(v, json!({"b": [{"d": 1}], "e": "x"}));
    }

    #[test]
    fn ids_are_stable_and_distinct_per_record() {
        assert_eq!(id("organization", "navii-1"), id("organization", "navii-1"));
        assert_ne!(id("organization", "navii-1"), id("location", "navii-1"));
        assert_eq!(id("service", "x").len(), 36);
    }

    #[test]
    fn times_carry_the_jst_offset_and_no_hour_24() {
        let t = |s| ClockTime::parse(s).unwrap();
        assert_eq!(time_jst(t("09:00")), "09:00+09:00");
        assert_eq!(time_jst(t("24:00")), "23:59+09:00");
    }
}
