//! Harness bodies for fuzzing hostile input: each `pub fn x(data: &[u8])` feeds arbitrary bytes
//! to one parser or validator and must never panic nor take long, whatever the bytes.
//!
//! One body serves two drivers: the cargo-fuzz crate in `fuzz/` (libFuzzer, coverage-guided,
//! the long recipe `scripts/fuzz.sh`) and the `fuzz` module of the integration tests (seed
//! corpora plus mutations for a fixed budget on stable Rust, in CI). Besides "no panic", the
//! bodies check a few properties the code documents (a normalizer is idempotent, token offsets
//! lie inside the text), so a broken promise fails like a crash.

use std::io::Cursor;
use std::sync::{Arc, LazyLock};

use crate::catalog::text::{self, JaTokenizer};
use crate::catalog::{Catalog, CatalogParts, SearchRequest};
use crate::domain::survey::{self, Answered, Survey, SurveyCode};
use crate::domain::{Audience, Facility, FacilityKind, Origin, ja};
use crate::http::params::Params;
use crate::http::request;
use crate::import::{self, Context, Importer};

/// A harness body.
pub type Harness = fn(&[u8]);

/// The targets, by name: the same names as the cargo-fuzz targets and the corpus folders.
pub const TARGETS: &[(&str, Harness)] = &[
    ("address", address),
    ("query", query),
    ("text", text),
    ("import", import),
    ("survey", survey),
];

/// Facilities of each kind kept in the fuzzing catalog: enough for every code path (updates by
/// id and by registry identifier, formularies, text matches), small enough to search fast.
const PER_KIND: usize = 60;

/// A small catalog over the default dataset's reference data (every area, municipality and
/// town, so addresses place as in production) and a few facilities of each kind.
struct World {
    catalog: Catalog,
    facilities: Vec<Facility>,
    /// Every municipality of the reference, by code.
    municipality_codes: std::collections::HashSet<String>,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let dataset = match crate::data::files::read(&dir) {
        Ok(d) => d,
        // The harnesses are tools: a missing dataset is the operator's mistake, said plainly.
        Err(e) => panic!("fuzzing needs the dataset in {}: {e}", dir.display()),
    };
    let gazetteer = dataset.gazetteer();
    let municipality_codes = dataset
        .municipalities
        .iter()
        .map(|m| m.code.clone())
        .collect();
    let mut facilities = Vec::new();
    for kind in FacilityKind::ALL {
        facilities.extend(
            dataset
                .facilities
                .iter()
                .filter(|f| f.kind == *kind)
                .take(PER_KIND)
                .cloned(),
        );
    }
    let catalog = match Catalog::new(CatalogParts {
        facilities: facilities.clone(),
        areas: dataset.areas,
        municipalities: dataset.municipalities,
        geocoder: Arc::new(gazetteer),
        groups: Vec::new(),
        census: dataset.census,
        change_seq: 0,
    }) {
        Ok(c) => c,
        Err(e) => panic!("the fuzzing catalog could not be built: {e}"),
    };
    World {
        catalog,
        facilities,
        municipality_codes,
    }
});

/// Build the shared catalog now, so the first input is not charged for it.
pub fn warm_up() {
    LazyLock::force(&WORLD);
    LazyLock::force(&IMPORT);
}

/// Text from arbitrary bytes: valid UTF-8 as is, anything else with replacement characters (so
/// no input is wasted; the importer, whose decoders see raw bytes, gets them unchanged).
fn lossy(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The address normalizer and the gazetteer: `normalize` is total, the lookup answers a match
/// or a miss, and a match names a municipality of the reference.
pub fn address(data: &[u8]) {
    let s = lossy(data);
    let normalized = crate::geocode::normalize(&s);
    let _ = crate::geocode::strip_gun(&normalized);
    let _ = ja::fold(&s, ja::Profile::Addresses);
    let world = &*WORLD;
    if let Ok(m) = world.catalog.geocoder().geocode(&s) {
        assert!(
            world.municipality_codes.contains(&m.municipality_code),
            "a match outside the reference: {m:?}"
        );
    }
}

/// The query-string parser and the search planner, as the facility list and the map layer
/// call them: parse, build the request, add the formulary filter for the public and for
/// professionals, then plan and run the search on the small catalog.
pub fn query(data: &[u8]) {
    // Actix hands the handler the raw query string, which is any text (the percent-decoding is
    // `Params`' own); a lossy conversion stands for the bytes a client may send.
    let q = lossy(data);
    let catalog = &WORLD.catalog;
    for (allowed, max_limit, default_limit) in [
        (&*request::LIST_PARAMS, 100, 20),
        (&*request::GEOJSON_PARAMS, 5000, 500),
    ] {
        // As sent, and with only the first of each known parameter kept, so that a mutated
        // name does not stop every input at "unknown parameter" before the planner.
        let mut seen: Vec<&str> = Vec::new();
        let known: Vec<&str> = q
            .split('&')
            .filter(|part| {
                let name = part.split_once('=').map_or(*part, |(k, _)| k);
                let fresh = allowed.contains(&name) && !seen.contains(&name);
                if fresh {
                    seen.push(name);
                }
                fresh
            })
            .collect();
        for q in [q.to_string(), known.join("&")] {
            query_with(catalog, &q, allowed, max_limit, default_limit);
        }
    }
}

/// One query string through the parser and, when it parses, the planner.
fn query_with(catalog: &Catalog, q: &str, allowed: &[&str], max_limit: usize, default: usize) {
    let Ok(p) = Params::parse(q, allowed) else {
        return;
    };
    let _ = request::clustering(&p);
    let _ = request::place(&p, 30.0);
    let Ok(search) = request::search_request(&p, max_limit, default) else {
        return;
    };
    for audience in [Audience::Public, Audience::Professional] {
        let Ok(formulary) = request::formulary_filter(&p, audience) else {
            continue;
        };
        let mut s = search.clone();
        s.formulary = formulary;
        if let Ok(plan) = catalog.plan(&s) {
            let _ = catalog.execute(&plan);
        }
    }
}

/// The text analyzer: the index normalizer (idempotent, as documented), the tokenizers (every
/// token inside the normalized text, positions never decreasing), synonyms, the other folds of
/// the Japanese text module, type-ahead and a text search on the small catalog.
pub fn text(data: &[u8]) {
    let s = lossy(data);
    let normalized = text::normalize(&s);
    assert_eq!(
        text::normalize(&normalized),
        normalized,
        "the index normalizer is not idempotent"
    );
    for mut tokenizer in [
        JaTokenizer::bigram(),
        JaTokenizer::unigram(),
        JaTokenizer::for_names(false),
        JaTokenizer::for_names(true),
    ] {
        let mut last = 0;
        for (from, to, position) in tokenizer.spans(&s) {
            assert!(
                from <= to && to <= normalized.len(),
                "token {from}..{to} outside the normalized text ({} bytes)",
                normalized.len()
            );
            assert!(
                normalized.is_char_boundary(from) && normalized.is_char_boundary(to),
                "token {from}..{to} cuts a character"
            );
            assert!(position >= last, "token positions go back at {from}..{to}");
            last = position;
        }
    }
    let _ = text::synonyms(&s);
    for profile in [
        ja::Profile::Index,
        ja::Profile::Names,
        ja::Profile::Addresses,
    ] {
        let _ = ja::fold(&s, profile);
    }
    let _ = ja::everyday_name(&s);
    let _ = ja::everyday_reading(&s);
    let _ = ja::compact(&s);
    let _ = ja::reading_key(&s);
    let _ = ja::phone_number(&s);
    let _ = ja::kanji_number(&s);
    let _ = crate::sheet::wareki::parse(&s);
    let catalog = &WORLD.catalog;
    let _ = catalog.suggest(&s, 10);
    let request = SearchRequest {
        text: Some(s.chars().take(request::MAX_QUERY_CHARS).collect()),
        limit: 20,
        ..SearchRequest::default()
    };
    if let Ok(plan) = catalog.plan(&request) {
        let _ = catalog.execute(&plan);
    }
}

/// The importer's check of a CSV or XLSX file against the small catalog, as a coordinator's
/// upload is checked before anything is written.
static IMPORT: LazyLock<Context<'static>> = LazyLock::new(|| {
    Context::new(
        &WORLD.catalog,
        WORLD.facilities.clone(),
        Importer::Operator,
        "fuzz.csv",
        "sha256:0",
        "2026-01-01T00:00:00Z",
    )
});

pub fn import(data: &[u8]) {
    let format = import::read::sniff(data);
    let encodings: &[Option<import::Encoding>] = match format {
        import::Format::Xlsx => &[None],
        // Detected, and each named encoding (a named one is used even when the bytes disagree).
        import::Format::Csv => &[
            None,
            Some(import::Encoding::Utf8),
            Some(import::Encoding::ShiftJis),
        ],
    };
    for encoding in encodings {
        let r = Cursor::new(data.to_vec());
        if let Ok(p) = import::run(r, format, *encoding, &IMPORT, "sha256:0", None, |_| {}) {
            assert_eq!(
                p.rows,
                p.created + p.updated + p.unchanged + p.rejected,
                "the counts do not add up: {p:?}"
            );
            assert!(!p.applied, "a check applied the file");
        }
    }
}

/// The survey form: an answer set (JSON) validated against every version of every survey;
/// an accepted one validates again to itself and applies to a facility of the survey's kinds.
pub fn survey(data: &[u8]) {
    let Ok(answers) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // The form posts `{"answers": {...}}`; a bare object is tried too.
    let sets = [answers.get("answers").cloned(), Some(answers)];
    for code in SurveyCode::ALL {
        for version in 1..=Survey::current(*code).version {
            let Some(s) = Survey::get(*code, version) else {
                continue;
            };
            for given in sets.iter().flatten() {
                let Ok(valid) = survey::validate(s, given) else {
                    continue;
                };
                let again = survey::validate(s, &valid.to_value());
                assert_eq!(
                    again.as_ref(),
                    Ok(&valid),
                    "a validated answer set does not validate to itself"
                );
                if let Some(f) = WORLD.facilities.iter().find(|f| s.kinds.contains(&f.kind)) {
                    let mut f = f.clone();
                    let by = Answered {
                        at: "2026-01-01",
                        origin: Origin::Survey,
                    };
                    survey::apply(s, &valid, &mut f, by);
                    let _ = survey::current(s, &f);
                    let _ = crate::domain::project(&f, Audience::Public);
                }
            }
        }
    }
}
