//! A common word within a radius: the answer from the word's cached matches tested at the
//! circle's points equals the answer from intersecting postings with cells, hit for hit, in the
//! same order, with the same totals and facets. Scores agree to float rounding only: tantivy
//! sums a union's field scores in an order that depends on how the union was driven (advanced
//! alone, or seeked by an intersection), so the postings path itself gives one document scores
//! an ulp apart at different points; no score is shown to users.

use std::sync::OnceLock;

use pallimap::catalog::{Catalog, Facet, Query, Sort};
use pallimap::domain::{FacilityKind, ServiceKind};

use crate::common::default_store;

/// A catalog of this test alone: the test switches the cache on and off.
fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| pallimap::app::build_catalog(default_store()).expect("catalog"))
}

#[test]
fn a_common_word_within_a_radius_answers_as_the_postings_do() {
    let c = catalog();
    let words = [
        "クリニック",
        "薬局",
        "病院",
        "内科",
        "訪問看護",
        "在宅",
        "歯科",
        "クリニック 内科",
        "薬局 さいたま",
        "ケア",
        "医院",
        "クリニック 歯科 内科",
        "くりにっく",
    ];
    // Points spread over the dataset: facility places, shifted by a deterministic jitter.
    let placed: Vec<(f64, f64)> = c
        .facilities()
        .iter()
        .filter_map(|f| f.location.map(|l| (l.lat, l.lng)))
        .collect();
    let mut seed = 11u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut compared = 0;
    let mut hits_seen = 0;
    for (w, word) in words.iter().enumerate() {
        for k in 0..12 {
            let (lat, lng) = placed[(next() * placed.len() as f64) as usize];
            let point = (lat + (next() - 0.5) * 0.02, lng + (next() - 0.5) * 0.02);
            for (r, radius_km) in [0.7, 2.0, 5.0, 15.0].into_iter().enumerate() {
                let variant = w + k + r;
                let q = Query {
                    text: Some(word.to_string()),
                    point: Some(point),
                    radius_m: Some(radius_km * 1000.0),
                    kinds: if variant % 3 == 1 {
                        vec![FacilityKind::Clinic]
                    } else {
                        vec![]
                    },
                    services: if variant % 5 == 2 {
                        vec![ServiceKind::HomeCareSupport]
                    } else {
                        vec![]
                    },
                    sort: [
                        None,
                        Some(Sort::Distance),
                        Some(Sort::Relevance),
                        Some(Sort::Name),
                    ][variant % 4],
                    facets: if variant % 2 == 0 {
                        vec![Facet::Kind, Facet::Area]
                    } else {
                        vec![]
                    },
                    relax: true,
                    ..Query::default()
                };
                for (offset, limit) in [(0, 10), (10, 20)] {
                    c.use_common_matches(false);
                    let want = c.search(&q, offset, limit).expect("search");
                    c.use_common_matches(true);
                    let got = c.search(&q, offset, limit).expect("search");
                    let key = |r: &pallimap::catalog::Results| {
                        let hits: Vec<(u32, Option<f64>)> =
                            r.hits.iter().map(|h| (h.ord, h.distance_m)).collect();
                        (r.total, hits, r.facets.clone(), r.relaxed.clone(), r.strict)
                    };
                    assert_eq!(key(&got), key(&want), "{q:?} {offset}+{limit}");
                    for (g, w) in got.hits.iter().zip(&want.hits) {
                        let (g, w) = (g.score.unwrap_or(0.0), w.score.unwrap_or(0.0));
                        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{q:?}: {g} {w}");
                    }
                    compared += 1;
                    hits_seen += got.total;
                }
            }
        }
    }
    assert_eq!(compared, words.len() * 12 * 4 * 2);
    assert!(hits_seen > 10_000, "{hits_seen}");
}
