//! `pallimap bench`: builds the catalog from a dataset directory and prints build time, RSS and
//! in-process latency percentiles for the query shapes users ask most. Never used by tests.

use std::path::Path;
use std::time::{Duration, Instant};

use std::sync::Arc;

use pallimap::catalog::{Catalog, CatalogParts, Query};
use pallimap::domain::SplitMix64 as Rng;
use pallimap::domain::{FacilityKind, ServiceKind};

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn measure(label: &str, runs: usize, mut f: impl FnMut(usize) -> usize) {
    let mut times = Vec::with_capacity(runs);
    let mut results = 0usize;
    for i in 0..runs {
        let t = Instant::now();
        results += f(i);
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "| {label} | {runs} | {:.3} | {:.3} | {:.3} | {:.1} |",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.iter().sum::<Duration>().as_secs_f64() * 1e3 / runs as f64,
        results as f64 / runs as f64,
    );
}

pub fn run(data_dir: &Path, runs: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    let dataset = pallimap::data::files::read(data_dir)?;
    let read = t.elapsed();
    let gazetteer = dataset.gazetteer();
    let n = dataset.facilities.len();
    let rss_before = rss_mb();
    let t = Instant::now();
    let groups = bench_groups(&dataset.facilities);
    let n_groups = groups.len();
    let catalog = Arc::new(Catalog::new(CatalogParts {
        facilities: dataset.facilities,
        areas: dataset.areas,
        municipalities: dataset.municipalities,
        geocoder: Arc::new(gazetteer),
        groups,
        census: dataset.census,
        change_seq: 0,
    })?);
    let build = t.elapsed();
    println!(
        "dataset {} ({n} facilities, {n_groups} pharmacy groups)",
        data_dir.display()
    );
    println!(
        "read {:.2} s, catalog build {:.2} s, RSS {:.0} MB (before build {:.0} MB), \
         text index {:.0} MB\n",
        read.as_secs_f64(),
        build.as_secs_f64(),
        rss_mb(),
        rss_before,
        catalog.text_index_bytes() as f64 / 1e6
    );

    // Query points where facilities are (people live there), jittered by up to ~2 km.
    let mut rng = Rng(42);
    let located: Vec<(f64, f64)> = catalog
        .facilities()
        .iter()
        .filter_map(|f| f.location.map(|l| (l.lat, l.lng)))
        .collect();
    let points: Vec<(f64, f64)> = (0..runs)
        .map(|_| {
            let (lat, lng) = located[rng.below(located.len())];
            (
                lat + (rng.unit() - 0.5) * 0.04,
                lng + (rng.unit() - 0.5) * 0.04,
            )
        })
        .collect();

    println!("| query | runs | p50 ms | p99 ms | mean ms | results/query |");
    println!("|---|---:|---:|---:|---:|---:|");
    let search = |q: &Query, limit: usize| {
        catalog
            .search(q, 0, limit)
            .map(|r| r.hits.len())
            .unwrap_or(0)
    };
    measure("(a) 10 nearest with service=pcu", runs, |i| {
        search(
            &Query {
                services: vec![ServiceKind::Pcu],
                point: Some(points[i]),
                ..Query::default()
            },
            10,
        )
    });
    measure("(a) 10 nearest pharmacies", runs, |i| {
        search(
            &Query {
                kinds: vec![FacilityKind::Pharmacy],
                point: Some(points[i]),
                ..Query::default()
            },
            10,
        )
    });
    measure("(a) 10 nearest with service=backup_hospital", runs, |i| {
        search(
            &Query {
                services: vec![ServiceKind::BackupHospital],
                point: Some(points[i]),
                ..Query::default()
            },
            10,
        )
    });
    // The discharge nurse's question: the 10 nearest pharmacies stocking every one of one to
    // three products (the synthetic pharmacies carry random formularies), as a professional.
    let products: Vec<pallimap::domain::Product> = pallimap::domain::Product::codes()
        .iter()
        .filter_map(|c| pallimap::domain::Product::from_code(c))
        .collect();
    let asks: Vec<Vec<pallimap::domain::Product>> = (0..runs)
        .map(|_| {
            let k = 1 + rng.below(3);
            (0..k)
                .map(|_| products[rng.below(products.len())])
                .collect()
        })
        .collect();
    measure(
        "(a) 10 nearest with opioid=1–3 products, ranked stock > partner > order",
        runs,
        |i| {
            search(
                &Query {
                    point: Some(points[i]),
                    formulary: Some(pallimap::catalog::FormularyFilter {
                        products: asks[i].clone(),
                        stock: pallimap::domain::Stock::Order,
                        partners: true,
                        today: "2026-12-01".into(),
                        audience: pallimap::domain::Audience::Professional,
                    }),
                    ..Query::default()
                },
                10,
            )
        },
    );
    // The physician's question at night: every admitting hospital within 30 km, ranked by
    // bed status as a professional sees it now (the synthetic reports are older than 72 h, so
    // they rank as unknown: the work per candidate is the same) and distance — the whole of
    // `GET /api/v1/backup` but its rendering.
    let night = time::OffsetDateTime::now_utc();
    measure(
        "(g) backup: admitting hospitals within 30 km, ranked",
        runs,
        |i| {
            let plan = catalog
                .plan(&pallimap::catalog::SearchRequest {
                    services: pallimap::domain::CAPACITY_SERVICES.to_vec(),
                    near: Some(pallimap::domain::LatLng {
                        lat: points[i].0,
                        lng: points[i].1,
                    }),
                    radius_km: Some(30.0),
                    sort: Some(pallimap::catalog::Sort::Distance),
                    limit: usize::MAX,
                    ..Default::default()
                })
                .expect("plan");
            catalog
                .backup(&plan, pallimap::domain::Audience::Professional, night, 72)
                .map(|h| h.len())
                .unwrap_or(0)
        },
    );
    // The discharge nurse's team (issue 15): physician, visiting nurse, a home-visit pharmacy
    // covering fentanyl patches (in stock, via its group or on order) and a backup hospital
    // within 16 km, each ranked by the care-team key — `POST /api/v1/care-team` but its
    // rendering. Results per query: the candidates shown over the four roles.
    let fentanyl = pallimap::domain::Product::from_code("fentanyl_patch").expect("product");
    measure(
        "(h) care team: physician + nurse + pharmacy(fentanyl_patch) + backup",
        runs,
        |i| {
            use pallimap::catalog::team::{RoleAsk, TeamAsk, TeamRole};
            let mut pharmacy = RoleAsk::new(TeamRole::Pharmacy);
            pharmacy.formulary = Some(pallimap::catalog::FormularyFilter {
                products: vec![fentanyl],
                stock: pallimap::domain::Stock::Order,
                partners: true,
                today: "2026-12-01".into(),
                audience: pallimap::domain::Audience::Professional,
            });
            let ask = TeamAsk {
                home: points[i],
                roles: vec![
                    RoleAsk::new(TeamRole::Physician),
                    RoleAsk::new(TeamRole::Nurse),
                    pharmacy,
                    RoleAsk::new(TeamRole::Backup),
                ],
                limit: 5,
                max_km: 16.0,
                audience: pallimap::domain::Audience::Professional,
                now: night,
                stale_hours: 72,
            };
            catalog
                .team(&ask)
                .roles
                .iter()
                .map(|r| r.candidates.len())
                .sum()
        },
    );
    measure("(b) q=クリニック within 5 km", runs, |i| {
        search(
            &Query {
                text: Some("クリニック".into()),
                point: Some(points[i]),
                radius_m: Some(5000.0),
                ..Query::default()
            },
            20,
        )
    });
    measure("(b) q=薬局 within 5 km", runs, |i| {
        search(
            &Query {
                text: Some("薬局".into()),
                point: Some(points[i]),
                radius_m: Some(5000.0),
                ..Query::default()
            },
            20,
        )
    });
    // Text with a point and no radius: the list's default order (a named facility first,
    // then distance among good matches).
    let names: Vec<String> = (0..runs)
        .map(|_| {
            let f = catalog.at(rng.below(catalog.len()) as u32);
            pallimap::domain::ja::everyday_name(&f.name)
        })
        .collect();
    measure(
        "(b) q=<a facility's everyday name> near, no radius",
        runs,
        |i| {
            search(
                &Query {
                    text: Some(names[i].clone()),
                    point: Some(points[i]),
                    relax: true,
                    ..Query::default()
                },
                20,
            )
        },
    );
    measure("(b) q=薬局 near, no radius", runs, |i| {
        search(
            &Query {
                text: Some("薬局".into()),
                point: Some(points[i]),
                ..Query::default()
            },
            20,
        )
    });
    // The same without the name tier: pure distance, as text near a point was ordered before.
    measure("(b) q=薬局 near, no radius, sort=distance", runs, |i| {
        search(
            &Query {
                text: Some("薬局".into()),
                point: Some(points[i]),
                sort: Some(pallimap::catalog::Sort::Distance),
                ..Query::default()
            },
            20,
        )
    });
    measure(
        "(b) q=往診 所沢 near (service + place words)",
        runs,
        |i| {
            search(
                &Query {
                    text: Some("往診 所沢".into()),
                    point: Some(points[i]),
                    relax: true,
                    ..Query::default()
                },
                20,
            )
        },
    );
    // Type-ahead: prefixes of 1–6 characters of everyday names, as typed.
    let prefixes: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = n.trim_start_matches("【合成】");
            n.chars().take(1 + i % 6).collect()
        })
        .collect();
    measure(
        "(s) suggest, a 1–6 character prefix of a name",
        runs,
        |i| {
            let s = catalog.suggest(&prefixes[i], 8);
            s.facilities.len() + s.terms.len()
        },
    );
    // A relaxed answer: a name with one character wrong (the fuzzy scan over every name).
    let typos: Vec<String> = names
        .iter()
        .map(|n| {
            let mut c: Vec<char> = n.chars().collect();
            let k = c.len() / 2;
            if let Some(x) = c.get_mut(k) {
                *x = '綜';
            }
            c.into_iter().collect()
        })
        .collect();
    measure(
        "(r) relaxed: a name with one character wrong",
        runs.min(200),
        |i| {
            search(
                &Query {
                    text: Some(typos[i].clone()),
                    relax: true,
                    ..Query::default()
                },
                20,
            )
        },
    );
    let geojson_runs = runs.min(200);
    for (zoom, half_deg) in [(7u8, 1.5), (12u8, 0.06)] {
        let mut bytes = 0usize;
        measure(
            &format!("(c) bbox GeoJSON, clustered, zoom {zoom}"),
            geojson_runs,
            |i| {
                let (lat, lng) = points[i];
                let q = Query {
                    bbox: Some([
                        lng - half_deg * 1.4,
                        lat - half_deg,
                        lng + half_deg * 1.4,
                        lat + half_deg,
                    ]),
                    ..Query::default()
                };
                let Ok(r) = catalog.search(&q, 0, usize::MAX) else {
                    return 0;
                };
                let layer = pallimap::http::geojson::Layer {
                    catalog: catalog.clone(),
                    items: pallimap::http::geojson::layer_items(&catalog, &r.hits, Some(zoom)),
                    distances: Default::default(),
                    members: Default::default(),
                };
                let body = layer.to_value().to_string();
                bytes += body.len();
                r.total
            },
        );
        println!(
            "|   mean body size zoom {zoom} | | | | {:.0} KB | |",
            bytes as f64 / geojson_runs as f64 / 1024.0
        );
    }
    // The precomputed levels (what the map asks while panning): each zoom's level built once
    // over every placed facility, then a prefecture-sized box (0.8° × 0.5°) moved around the
    // query points, rendered to the GeoJSON body.
    let layers = pallimap::catalog::layers::LayerCache::default();
    let set = layers.get(&catalog, pallimap::catalog::layers::LayerFilter::All);
    for zoom in [7u8, 9, 10, 12] {
        let t = Instant::now();
        let built = set.view(zoom, None).len();
        println!(
            "| (c2) level build, zoom {zoom} (once per snapshot; {built} items) | 1 | {:.1} | | | |",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    for zoom in [7u8, 9, 10] {
        let mut bytes = 0usize;
        measure(
            &format!("(c2) precomputed view, prefecture box, zoom {zoom}, with the body"),
            runs,
            |i| {
                let (lat, lng) = points[i];
                let view = set.view(zoom, Some([lng - 0.4, lat - 0.25, lng + 0.4, lat + 0.25]));
                let mut members = geojson::JsonObject::new();
                members.insert("total".into(), serde_json::json!(view.total));
                bytes += pallimap::http::geojson::view_body(&catalog, &view, &members).len();
                view.len()
            },
        );
        println!(
            "|   mean body size zoom {zoom} | | | | {:.0} KB | |",
            bytes as f64 / runs.max(1) as f64 / 1024.0
        );
    }
    measure("(d) reaches, service=home_care_support", runs, |i| {
        search(
            &Query {
                services: vec![ServiceKind::HomeCareSupport],
                reaches: Some(points[i]),
                point: Some(points[i]),
                ..Query::default()
            },
            20,
        )
    });
    // A committed edit applied to the snapshot in place (what a write waits for before it is
    // searchable, besides the database commit): rename and move one facility per run.
    let mut current = catalog.clone();
    let mut edit_times = Vec::new();
    for i in 0..runs.min(200) {
        let mut f = (*current.at(rng.below(current.len()) as u32)).clone();
        f.name = format!("{} 更新{i}", f.name);
        if let Some(l) = f.location.as_mut() {
            l.lat += 0.0001;
        }
        let t = Instant::now();
        let next = current.apply(vec![f], None, i as i64 + 1)?;
        edit_times.push(t.elapsed());
        if let Some(next) = next {
            current = Arc::new(next);
        }
    }
    edit_times.sort();
    println!(
        "| (f) one edit applied in place (write → searchable) | {} | {:.3} | {:.3} | {:.3} | 1.0 |",
        edit_times.len(),
        percentile(&edit_times, 0.5).as_secs_f64() * 1e3,
        percentile(&edit_times, 0.99).as_secs_f64() * 1e3,
        edit_times.iter().sum::<Duration>().as_secs_f64() * 1e3 / edit_times.len().max(1) as f64,
    );
    // Clustering alone over every placed facility (the whole country at low zoom).
    let all: Vec<pallimap::catalog::Hit> = (0..catalog.len() as u32)
        .map(|ord| pallimap::catalog::Hit {
            ord,
            distance_m: None,
            score: None,
        })
        .collect();
    for zoom in [5u8, 7, 10, 12, 14] {
        measure(
            &format!("(e) cluster every facility, zoom {zoom}"),
            runs.min(20),
            |_| pallimap::http::geojson::layer_items(&catalog, &all, Some(zoom)).len(),
        );
    }
    // The coverage report: every area × every service at the default distance.
    if !catalog.census().is_empty() {
        use pallimap::catalog::coverage;
        measure(
            &format!(
                "(h) coverage, every area × every service ({} census points), km=10",
                catalog.census().len()
            ),
            runs.clamp(1, 10),
            |_| {
                coverage::all(&catalog, ServiceKind::ALL, coverage::DEFAULT_KM)
                    .map(|a| a.iter().map(|a| a.services.len()).sum())
                    .unwrap_or(0)
            },
        );
    }
    Ok(())
}

/// Pharmacy groups for the benchmark: one in three runs of four narcotic-handling pharmacies
/// (in id order) hold a joint licence, so the partner tier has work to do.
fn bench_groups(facilities: &[pallimap::domain::Facility]) -> Vec<pallimap::domain::PharmacyGroup> {
    use pallimap::domain::{FacilityKind, PharmacyGroup, ServiceKind};
    let dispensing: Vec<&str> = facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::Pharmacy && f.offers(ServiceKind::OpioidDispensing))
        .map(|f| f.id.as_str())
        .collect();
    dispensing
        .chunks(4)
        .step_by(3)
        .filter(|c| c.len() >= 2)
        .enumerate()
        .map(|(i, c)| PharmacyGroup {
            id: i as i64 + 1,
            name: format!("bench group {i}"),
            members: c.iter().map(|s| s.to_string()).collect(),
            licence_valid_until: "2099-12-31".into(),
            transfer_hours: Some(2),
            note: None,
            sample: false,
            updated_by: "bench".into(),
            updated_at: "2026-12-01".into(),
        })
        .collect()
}

/// Peak RSS (VmHWM) in MB since the last reset.
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// `pallimap bench --import-mb N`: a CSV of about `mb` MB of new clinics (addresses of the
/// dataset's towns, so every row is geocoded), imported into a scratch SQLite copy of the
/// dataset: the check, then the apply, with rows/s and the peak RSS growth over the process's
/// RSS before the import (the peak is reset first). The rows are benchmark data in a scratch
/// database, never a shipped or served dataset.
pub fn import(data_dir: &Path, mb: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = tempfile_dir()?;
    let db = dir.join("bench.sqlite");
    let store = pallimap::app::open_store(db.to_str().unwrap_or_default(), data_dir)?;
    let catalog = pallimap::app::build_catalog(&store)?;
    // The region's towns (the gazetteer also holds the neighbours').
    let region: std::collections::HashSet<String> =
        catalog.municipalities().map(|m| m.code.clone()).collect();
    let towns: Vec<_> = store
        .towns()?
        .into_iter()
        .filter(|t| region.contains(&t.muni_code))
        .collect();
    let munis: std::collections::HashMap<String, String> = store
        .municipalities()?
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    let csv_path = dir.join("bench.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
    writeln!(w, "{}", pallimap::sheet::header().join(","))?;
    let target = mb * 1024 * 1024;
    let (mut written, mut rows) = (0u64, 0usize);
    let mut rng = Rng(42);
    while written < target {
        let t = &towns[rng.below(towns.len())];
        let Some(muni) = munis.get(&t.muni_code) else {
            continue;
        };
        let line = format!(
            ",clinic,ベンチ取込診療所{rows:07},ベンチトリコミシンリョウジョ,,,,,埼玉県{muni}{}{}-{},,,048-000-{:04},048-001-{:04},,,home_care_support;visiting_nursing,R6.{}.{}\n",
            t.town,
            1 + rng.below(9),
            1 + rng.below(30),
            rng.below(10000),
            rng.below(10000),
            1 + rng.below(12),
            1 + rng.below(28),
        );
        written += line.len() as u64;
        w.write_all(line.as_bytes())?;
        rows += 1;
    }
    w.flush()?;
    drop(w);
    println!(
        "generated {} ({:.1} MB, {rows} rows) from {} towns",
        csv_path.display(),
        written as f64 / 1048576.0,
        towns.len()
    );
    let base = rss_mb();
    // Reset the peak so it measures the import only.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    for apply in [false, true] {
        let t = Instant::now();
        let p = pallimap::app::import(
            &store,
            &catalog,
            || std::fs::File::open(&csv_path).map(std::io::BufReader::new),
            "bench.csv",
            None,
            pallimap::import::Importer::Operator,
            apply,
            |_| {},
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{}: {} rows ({} created, {} rejected) in {secs:.1} s — {:.0} rows/s; peak RSS {:.0} MB, {:+.0} MB over {:.0} MB before",
            if apply { "check + apply" } else { "check" },
            p.rows,
            p.created,
            p.rejected,
            p.rows as f64 / secs,
            peak_mb(),
            peak_mb() - base,
            base
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("pallimap-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
