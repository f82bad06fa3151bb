//! The discharge nurse's search: `opioid=` and `stock=` on the list and the layer, checked
//! against a brute-force oracle over random formularies; brand names; the public's 401.

use actix_web::http::Method;
use serde_json::{Value, json};

use pallimap::catalog::{FormularyFilter, Query};
use pallimap::domain::*;

use crate::accounts::{Fixture, call, fixture_with, json_of, sign_in};
use crate::common::{facility, service};

fn line(drug: Drug, form: Form, stock: Stock, order_days: Option<u32>) -> FormularyEntry {
    FormularyEntry {
        drug,
        form,
        strength: None,
        stock,
        order_days,
    }
}

fn pharmacy(id: &str, name: &str, lat: f64, lng: f64, lines: Vec<FormularyEntry>) -> Facility {
    let mut f = facility(id, FacilityKind::Pharmacy, name, lat, lng);
    let mut s = service(ServiceKind::OpioidDispensing, "2025-09-01");
    s.attributes.formulary = lines;
    s.attributes.formulary_visibility = Visibility::Professional;
    f.services = vec![s];
    f
}

async fn get_as(fx: &Fixture, uri: &str, who: Option<&crate::accounts::Session>) -> (u16, Value) {
    let (status, _, body) = json_of(call(&fx.state, Method::GET, uri, who, &[], None).await).await;
    (status, body)
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["id"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

const NEAR: &str = "near=35.8655,139.6455";

#[actix_web::test]
async fn the_nurses_pharmacy_is_found_by_generic_codes_and_brands_and_only_by_professionals() {
    let stocked = pharmacy(
        "navii-1151070000101",
        "在庫薬局",
        35.866,
        139.646,
        vec![
            FormularyEntry {
                strength: Some("2.1mg".into()),
                ..line(Drug::Fentanyl, Form::Patch3Day, Stock::Always, None)
            },
            line(Drug::Oxycodone, Form::Injection, Stock::Order, Some(2)),
            line(Drug::Methadone, Form::OralImmediate, Stock::No, None),
        ],
    );
    let fx = fixture_with(vec![stocked]);
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let id = "navii-1151070000101";
    let found = |q: &str| format!("/api/v1/facilities?{NEAR}&opioid={}", crate::api::enc(q));
    for (q, want) in [
        ("fentanyl_patch,oxycodone_injection", true),
        ("fentanyl_patch_3day", true),
        ("fentanyl,oxycodone", true),
        ("morphine", false),
        ("methadone", false),
        ("fentanyl_patch_1day", false),
        ("fentanyl_patch,oxycodone_oral", false),
        // Brands normalize to drug × form.
        ("デュロテップMT,オキファスト", true),
        ("ﾗﾌｪﾝﾀ,おきふぁすと", true),
        ("フェントステープ", false),
        ("オキノーム", false),
        ("メサペイン", false),
    ] {
        let (status, body) = get_as(&fx, &found(q), Some(&pro)).await;
        assert_eq!(status, 200, "{q}: {body}");
        assert_eq!(ids(&body).contains(&id.to_string()), want, "opioid={q}");
        // Only pharmacies with a formulary can match: nothing else of the dataset does.
        assert_eq!(body["total"], json!(usize::from(want)), "opioid={q}");
    }
    // The per-drug stock line, as asked.
    let (_, body) = get_as(
        &fx,
        &format!("{}&stock=order", found("fentanyl_patch,オキファスト")),
        Some(&pro),
    )
    .await;
    assert_eq!(
        body["items"][0]["opioid_stock"],
        json!([
            {"product": "fentanyl_patch", "drug": "fentanyl", "form": "patch_3day",
             "label_ja": "フェンタニル 貼付剤（3日用）", "strength": "2.1mg", "stock": "always",
             "order_days": null, "partner": null},
            {"product": "oxycodone_injection", "drug": "oxycodone", "form": "injection",
             "label_ja": "オキシコドン 注射", "strength": null, "stock": "order", "order_days": 2,
             "partner": null},
        ])
    );
    // In stock now: the injection is only on order.
    let (_, body) = get_as(
        &fx,
        &format!(
            "{}&stock=always",
            found("fentanyl_patch,oxycodone_injection")
        ),
        Some(&pro),
    )
    .await;
    assert_eq!(body["total"], 0);
    let (_, body) = get_as(
        &fx,
        &format!("{}&stock=always", found("fentanyl_patch")),
        Some(&pro),
    )
    .await;
    assert_eq!(ids(&body), [id]);
    // Combined with the other filters.
    let (_, body) = get_as(
        &fx,
        &format!("{}&service=home_care_support", found("fentanyl_patch")),
        Some(&pro),
    )
    .await;
    assert_eq!(body["total"], 0);
    let (status, body) = get_as(
        &fx,
        &format!("/api/v1/facilities.geojson?{NEAR}&opioid=fentanyl_patch"),
        Some(&pro),
    )
    .await;
    assert_eq!((status, body["total"].as_u64()), (200, Some(1)), "{body}");
    // The answer depends on the caller: never kept by a shared cache, no ETag to revalidate.
    let uri = format!("/api/v1/facilities.geojson?{NEAR}&opioid=fentanyl_patch&cluster=1&zoom=9");
    let (status, headers, _) = json_of(
        call(
            &fx.state,
            Method::GET,
            &uri,
            Some(&pro),
            &[("if-none-match", "*")],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(!headers.contains_key("etag"));

    // The public: 401 naming the parameter, on the list and the layer, never a result.
    for (uri, parameter) in [
        (found("fentanyl_patch"), "opioid"),
        (format!("/api/v1/facilities?{NEAR}&stock=always"), "stock"),
        (
            format!("/api/v1/facilities.geojson?{NEAR}&opioid=fentanyl_patch"),
            "opioid",
        ),
        (
            "/api/v1/facilities?opioid=no_such_drug".to_string(),
            "opioid",
        ),
    ] {
        let (status, body) = get_as(&fx, &uri, None).await;
        assert_eq!(status, 401, "{uri}: {body}");
        assert_eq!(body["code"], "unauthorized", "{uri}");
        assert_eq!(body["parameter"], parameter, "{uri}");
        assert!(body.get("items").is_none() && body.get("total").is_none());
    }
    // A professional's mistakes are 400s that say what to fix.
    for (uri, parameter, says) in [
        (found("aspirin"), "opioid", "fentanyl_patch"),
        (found("tapentadol_injection"), "opioid", "Valid values"),
        (
            format!("/api/v1/facilities?{NEAR}&stock=always"),
            "stock",
            "opioid=",
        ),
        (
            format!("{}&stock=now", found("morphine")),
            "stock",
            "always",
        ),
    ] {
        let (status, body) = get_as(&fx, &uri, Some(&pro)).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert_eq!(body["parameter"], parameter, "{uri}");
        assert!(
            body["detail"].as_str().unwrap().contains(says),
            "{uri}: {body}"
        );
    }
}

/// Whether `f` has `p` at least at `stock` in a formulary `aud` may see, read straight off
/// its services.
fn has(f: &Facility, p: &Product, stock: Stock, aud: Audience) -> bool {
    f.services.iter().any(|s| {
        s.status != ServiceStatus::Inactive
            && aud.may_see(s.attributes.formulary_visibility)
            && s.attributes.formulary.iter().any(|e| {
                e.drug == p.drug
                    && p.forms().any(|form| form == e.form)
                    && match stock {
                        Stock::Always => e.stock == Stock::Always,
                        _ => e.stock == Stock::Always || e.stock == Stock::Order,
                    }
            })
    })
}

/// How an ask is answered: the least stock, and whether partners count.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Always,
    Partner,
    Order,
}

impl Mode {
    fn code(self) -> &'static str {
        match self {
            Mode::Always => "always",
            Mode::Partner => "partner",
            Mode::Order => "order",
        }
    }
    fn filter(self, products: Vec<Product>, aud: Audience) -> FormularyFilter {
        FormularyFilter {
            products,
            stock: if self == Mode::Order {
                Stock::Order
            } else {
                Stock::Always
            },
            partners: self != Mode::Always,
            today: today().to_string(),
            audience: aud,
        }
    }
}

/// Today in JST, as the service sees it.
fn today() -> time::Date {
    pallimap::domain::schedule::jst(pallimap::auth::now()).date()
}

/// The tier of `f` for the ask (0 own stock, 1 through a partner of a group valid today, 2 on
/// order), or `None` when it cannot supply every product so; by brute force over everything.
fn oracle(
    all: &[Facility],
    groups: &[PharmacyGroup],
    f: &Facility,
    products: &[Product],
    mode: Mode,
    aud: Audience,
) -> Option<u8> {
    let mut worst = 0;
    for p in products {
        let partner = || {
            groups.iter().any(|g| {
                g.valid_on(&today().to_string())
                    && g.members.contains(&f.id)
                    && all.iter().any(|o| {
                        o.id != f.id && g.members.contains(&o.id) && has(o, p, Stock::Always, aud)
                    })
            })
        };
        let tier = if has(f, p, Stock::Always, aud) {
            0
        } else if mode != Mode::Always && partner() {
            1
        } else if mode == Mode::Order && has(f, p, Stock::Order, aud) {
            2
        } else {
            return None;
        };
        worst = worst.max(tier);
    }
    Some(worst)
}

/// Random groups of the pharmacies: some expired, some sharing members.
fn random_groups(rng: &mut SplitMix64, pharmacies: &[Facility], n: usize) -> Vec<PharmacyGroup> {
    (0..n)
        .map(|i| PharmacyGroup {
            id: 0,
            name: format!("試験グループ{i}"),
            members: {
                let mut m: Vec<String> = (0..2 + rng.below(4))
                    .map(|_| pharmacies[rng.below(pharmacies.len())].id.clone())
                    .collect();
                m.sort();
                m.dedup();
                if m.len() < 2 {
                    m.push(pharmacies[0].id.clone());
                    m.push(pharmacies[1].id.clone());
                    m.sort();
                    m.dedup();
                }
                m
            },
            // Expired yesterday, valid through today, valid for months.
            licence_valid_until: (today() + time::Duration::days([-1, 0, 120][rng.below(3)]))
                .to_string(),
            transfer_hours: Some(1 + rng.below(24) as u32),
            note: None,
            sample: false,
            updated_by: String::new(),
            updated_at: String::new(),
        })
        .collect()
}

/// The expected order of an ask from `p`: tier, then distance.
fn expected(
    catalog: &pallimap::catalog::Catalog,
    p: (f64, f64),
    products: &[Product],
    mode: Mode,
    aud: Audience,
) -> Vec<(u8, f64, String)> {
    let all = catalog.facilities();
    let mut want: Vec<(u8, f64, String)> = all
        .iter()
        .filter_map(|f| {
            let tier = oracle(&all, catalog.groups(), f, products, mode, aud)?;
            let l = f.location?;
            Some((tier, haversine_m(p, (l.lat, l.lng)), f.id.clone()))
        })
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    want
}

/// Random pharmacies over 埼玉 with random formularies: random lines, stock, visibility and
/// service status.
fn random_pharmacies(rng: &mut SplitMix64, n: usize) -> Vec<Facility> {
    let products: Vec<(Drug, Form)> = Drug::ALL
        .iter()
        .flat_map(|&d| d.forms().iter().map(move |&f| (d, f)))
        .collect();
    (0..n)
        .map(|i| {
            let lines = (0..rng.below(7))
                .map(|_| {
                    let (drug, form) = products[rng.below(products.len())];
                    let stock = [Stock::Always, Stock::Order, Stock::No][rng.below(3)];
                    let days = (stock == Stock::Order).then(|| 1 + rng.below(5) as u32);
                    line(drug, form, stock, days)
                })
                .collect();
            let mut f = pharmacy(
                &format!("navii-1151079{i:06}"),
                &format!("試験薬局{i}"),
                35.75 + rng.unit() * 0.3,
                139.3 + rng.unit() * 0.5,
                lines,
            );
            let s = &mut f.services[0];
            s.attributes.formulary_visibility = [
                Visibility::Public,
                Visibility::Professional,
                Visibility::Internal,
            ][rng.below(3)];
            if rng.below(10) == 0 {
                s.status = ServiceStatus::Inactive;
            }
            f
        })
        .collect()
}

fn random_ask(rng: &mut SplitMix64, codes: &[String]) -> (Vec<Product>, Mode) {
    let mut products: Vec<Product> = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let p = Product::from_code(&codes[rng.below(codes.len())]).unwrap();
        // The API answers a product named twice once.
        if !products.contains(&p) {
            products.push(p);
        }
    }
    (
        products,
        [Mode::Always, Mode::Partner, Mode::Order][rng.below(3)],
    )
}

#[actix_web::test]
async fn opioid_search_equals_a_brute_force_scan_of_random_formularies_and_groups() {
    let mut rng = SplitMix64(12);
    let pharmacies = random_pharmacies(&mut rng, 400);
    let groups = random_groups(&mut rng, &pharmacies, 40);
    let fx = fixture_with(pharmacies);
    let edit = pallimap::store::Edit {
        actor: "test",
        source: "test",
        at: "2026-12-01T00:00:00Z",
    };
    for g in &groups {
        fx.store.put_pharmacy_group(None, g, &edit).unwrap();
    }
    pallimap::app::refresh_now(&fx.store, &fx.state.catalog).unwrap();
    let catalog = fx.state.catalog.load();
    assert_eq!(catalog.groups().len(), groups.len());
    let codes = Product::codes();
    let mut partnered = 0;
    // The catalog, for every audience.
    for _ in 0..300 {
        let (products, mode) = random_ask(&mut rng, &codes);
        let p = (35.75 + rng.unit() * 0.3, 139.3 + rng.unit() * 0.5);
        for aud in [Audience::Professional, Audience::Internal] {
            let q = Query {
                point: Some(p),
                formulary: Some(mode.filter(products.clone(), aud)),
                ..Query::default()
            };
            let want = expected(&catalog, p, &products, mode, aud);
            partnered += want.iter().filter(|w| w.0 == 1).count();
            for (offset, limit) in [(0, 15), (3, 7)] {
                let r = catalog.search(&q, offset, limit).unwrap();
                assert_eq!(r.total, want.len(), "{products:?} {mode:?} {aud:?}");
                let got: Vec<String> = r
                    .hits
                    .iter()
                    .map(|h| catalog.at(h.ord).id.clone())
                    .collect();
                let want: Vec<String> = want
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|w| w.2.clone())
                    .collect();
                assert_eq!(got, want, "{products:?} {mode:?} {aud:?} {offset}");
            }
        }
    }
    assert!(
        partnered > 50,
        "the groups matter to the answers: {partnered}"
    );
    // The API as a professional: the same answers, through codes, with each line's source.
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    for _ in 0..40 {
        let (products, mode) = random_ask(&mut rng, &codes);
        let p = (35.75 + rng.unit() * 0.3, 139.3 + rng.unit() * 0.5);
        let opioid: Vec<String> = products.iter().map(|p| p.code()).collect();
        let uri = format!(
            "/api/v1/facilities?near={},{}&opioid={}&stock={}&limit=100&facets=kind",
            p.0,
            p.1,
            opioid.join(","),
            mode.code()
        );
        let (status, body) = get_as(&fx, &uri, Some(&pro)).await;
        assert_eq!(status, 200, "{uri}: {body}");
        let want = expected(&catalog, p, &products, mode, Audience::Professional);
        assert_eq!(body["total"], json!(want.len()), "{uri}");
        let want_ids: Vec<String> = want.iter().take(100).map(|w| w.2.clone()).collect();
        assert_eq!(ids(&body), want_ids, "{uri}");
        // Facet counts count only what the professional may match.
        let pharmacies = body["facets"]["kind"]["pharmacy"].as_u64().unwrap_or(0);
        assert_eq!(pharmacies as usize, want.len(), "{uri}");
        // Each item's stock lines: one per product, the weakest is its availability, and a
        // partner line names a partner that stocks it in a group they share.
        for (item, w) in body["items"].as_array().unwrap().iter().zip(&want) {
            let lines = item["opioid_stock"].as_array().unwrap();
            assert_eq!(lines.len(), products.len(), "{uri}");
            let tier = |s: &Value| ["always", "partner", "order"].iter().position(|t| s == t);
            let worst = lines.iter().filter_map(|l| tier(&l["stock"])).max();
            assert_eq!(worst, Some(w.0 as usize), "{uri} {item}");
            assert_eq!(tier(&item["availability"]), Some(w.0 as usize), "{uri}");
            for (l, p) in lines.iter().zip(&products) {
                assert_eq!(l["product"], json!(p.code()));
                if l["stock"] == "partner" {
                    let partner = catalog.get(l["partner"]["id"].as_str().unwrap()).unwrap();
                    assert!(has(&partner, p, Stock::Always, Audience::Professional));
                    let group = catalog
                        .groups()
                        .iter()
                        .find(|g| g.name == l["partner"]["group"].as_str().unwrap())
                        .unwrap();
                    assert!(group.valid_on(&today().to_string()));
                    assert!(group.members.contains(&partner.id));
                } else {
                    assert!(l["partner"].is_null());
                }
            }
        }
    }
}

#[test]
fn an_edited_formulary_answers_like_a_rebuild() {
    let mut rng = SplitMix64(7);
    let db = crate::common::sqlite_db();
    let store = pallimap::store::Store::open(&db.url).unwrap();
    let mut ds = crate::common::tiny_dataset();
    ds.facilities.extend(random_pharmacies(&mut rng, 30));
    pallimap::app::load_dataset(&store, &ds, "test").unwrap();
    let before = pallimap::app::build_catalog(&store).unwrap();
    for f in &ds.facilities[ds.facilities.len() - 5..] {
        let mut f = store.facility(&f.id).unwrap().unwrap();
        f.services[0].attributes.formulary =
            vec![line(Drug::Fentanyl, Form::Patch1Day, Stock::Always, None)];
        f.services[0].attributes.formulary_visibility = Visibility::Professional;
        f.services[0].status = ServiceStatus::Active;
        store.put_facility(&f, "test").unwrap();
    }
    let incremental = pallimap::app::refreshed(&store, &before).unwrap();
    let rebuilt = pallimap::app::build_catalog(&store).unwrap();
    let codes = Product::codes();
    for _ in 0..100 {
        let (products, mode) = random_ask(&mut rng, &codes);
        let q = Query {
            formulary: Some(mode.filter(products, Audience::Professional)),
            ..Query::default()
        };
        let answer = |c: &pallimap::catalog::Catalog| {
            let r = c.search(&q, 0, 100).unwrap();
            let mut v: Vec<String> = r.hits.iter().map(|h| c.at(h.ord).id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(answer(&incremental), answer(&rebuilt), "{q:?}");
    }
}
