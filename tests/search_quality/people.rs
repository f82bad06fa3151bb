//! Search as people type it: the queries of `people.tsv` (abbreviations, spacing, corporate
//! prefixes left out, everyday service words, places, phone numbers and postal codes, typos,
//! old kanji, relaxed answers, text near a point, type-ahead), each with what must be in the
//! first five answers. Prints the hit rate by kind and the share of empty answers; fails when
//! fewer cases hold than the floor, which only ever rises.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::enc;
use crate::api::get;

/// Cases that must hold, of the table's. Raise it when more hold; never lower it.
const FLOOR: usize = 141;

struct Case {
    kind: String,
    q: String,
    params: String,
    expect: Vec<String>,
}

fn cases() -> Vec<Case> {
    include_str!("people.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "four columns: {l:?}");
            Case {
                kind: cols[0].to_string(),
                q: cols[1].to_string(),
                params: cols[2].to_string(),
                expect: cols[3].split(" & ").map(str::to_string).collect(),
            }
        })
        .collect()
}

fn path(c: &Case) -> String {
    if c.kind == "suggest" {
        return format!("/api/v1/suggest?q={}", enc(&c.q));
    }
    let mut p = format!("/api/v1/facilities?q={}&limit=5", enc(&c.q));
    if !c.params.is_empty() {
        p.push('&');
        p.push_str(&c.params);
    }
    p
}

fn fold(s: &str) -> String {
    s.replace('ヶ', "ケ")
}

/// `None` when every expectation holds, else which do not.
fn check(c: &Case, body: &Value) -> Option<String> {
    let items: Vec<&Value> = body["items"]
        .as_array()
        .map(|a| a.iter().take(5).collect())
        .unwrap_or_default();
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    let all = |f: &dyn Fn(&Value) -> bool| !items.is_empty() && items.iter().all(|i| f(i));
    let mut bad = Vec::new();
    for e in &c.expect {
        let (key, value) = e.split_once(':').unwrap_or((e.as_str(), ""));
        let ok = match key {
            "id" => ids.contains(&value),
            "first" => ids.first() == Some(&value),
            "not" => !ids.contains(&value),
            "service" => all(&|i| {
                i["services"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["kind"] == value))
            }),
            "kind" => all(&|i| i["kind"] == value),
            "muni" => all(&|i| {
                i["address"]["municipality"]
                    .as_str()
                    .is_some_and(|m| fold(m).starts_with(&fold(value)))
            }),
            "addr" => all(&|i| {
                i["address"]["text"]
                    .as_str()
                    .is_some_and(|t| fold(t).contains(&fold(value)))
            }),
            "postal" => all(&|i| i["address"]["postal_code"] == value),
            "name" => all(&|i| i["name"].as_str().is_some_and(|n| n.contains(value))),
            "relaxed" | "strict" => body["match"] == key,
            "suggest" => {
                body["facilities"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f["id"] == value))
                    || body["terms"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t["value"] == value))
            }
            other => panic!("unknown expectation {other:?} in {:?}", c.q),
        };
        if !ok {
            bad.push(e.clone());
        }
    }
    (!bad.is_empty()).then(|| bad.join(", "))
}

fn is_empty(c: &Case, body: &Value) -> bool {
    if c.kind == "suggest" {
        let none = |k: &str| body[k].as_array().is_none_or(Vec::is_empty);
        none("facilities") && none("terms")
    } else {
        body["total"].as_u64() == Some(0)
    }
}

#[actix_web::test]
async fn people_find_what_they_type() {
    let cases = cases();
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    // kind → (cases, holding, empty answers)
    let mut by_kind: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = String::new();
    for c in &cases {
        let (status, _, body) = get(&path(c)).await;
        assert_eq!(status, 200, "{}: {body}", c.q);
        let e = by_kind.entry(c.kind.clone()).or_default();
        e.0 += 1;
        if is_empty(c, &body) {
            e.2 += 1;
        }
        match check(c, &body) {
            None => e.1 += 1,
            Some(bad) => {
                let got: Vec<String> = body["items"]
                    .as_array()
                    .or(body["facilities"].as_array())
                    .map(|a| {
                        a.iter()
                            .take(5)
                            .map(|i| format!("{} {}", i["id"], i["name"]))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    failures,
                    "✗ [{}] {:?} {}: {bad} (match {}, total {}) {got:?}",
                    c.kind, c.q, c.params, body["match"], body["total"]
                );
            }
        }
    }
    let (n, held, empty) = by_kind
        .values()
        .fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
    println!("| kind | queries | expected in top 5 | empty answers |");
    println!("|---|---:|---:|---:|");
    for (k, (c, h, e)) in &by_kind {
        println!(
            "| {k} | {c} | {h} ({:.0}%) | {e} |",
            100.0 * *h as f64 / *c as f64
        );
    }
    println!(
        "| **all** | {n} | **{held} ({:.1}%)** | {empty} ({:.1}%) |",
        100.0 * held as f64 / n as f64,
        100.0 * empty as f64 / n as f64
    );
    print!("{failures}");
    assert!(
        held >= FLOOR,
        "{held} of {n} cases hold, below the floor of {FLOOR}:\n{failures}"
    );
}
