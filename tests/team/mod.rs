//! The care team (issue 15): the query against a brute-force oracle over random homes and random
//! provider sets; `POST /api/v1/care-team` (who may ask, every bad input named, the home neither
//! stored nor logged); and the partners relation (who may write it, who may read it).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::http::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;

use pallimap::catalog::team::{self, Prefer, RoleAsk, TeamAsk, TeamRole};
use pallimap::catalog::{Catalog, CatalogParts, FormularyFilter};
use pallimap::domain::*;

use crate::accounts::{Fixture, Session, call, fixture_with, json_of, sign_in};
use crate::common::{facility, service};

// ---------------------------------------------------------------------------------------------
// The oracle

/// The instant every random case is asked at.
fn at_now() -> OffsetDateTime {
    OffsetDateTime::parse(
        "2026-12-01T13:00:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

const TODAY: &str = "2026-12-01";

fn pick<T: Copy>(rng: &mut SplitMix64, xs: &[T]) -> T {
    xs[rng.below(xs.len())]
}

fn random_service(rng: &mut SplitMix64, kind: ServiceKind) -> Service {
    let mut s = service(kind, "2020-01-01");
    let r = rng.unit();
    if r < 0.08 {
        s.status = ServiceStatus::Inactive;
    } else if r < 0.14 {
        s.status = ServiceStatus::TemporarilyClosed;
    }
    if kind.visits_homes() && rng.unit() < 0.35 {
        s.attributes.radius_km = Some(pick(rng, &[2.0, 4.0, 6.5, 10.0, 16.0, 20.0, 25.0]));
    }
    if kind == ServiceKind::HomeCareSupport && rng.unit() < 0.8 {
        s.attributes.tier = Some(pick(
            rng,
            &[
                HomeCareTier::EnhancedSolo,
                HomeCareTier::EnhancedLinked,
                HomeCareTier::Conventional,
            ],
        ));
    }
    if CAPACITY_SERVICES.contains(&kind) && rng.unit() < 0.8 {
        let hours_ago = rng.unit() * 120.0;
        s.capacity = Some(Capacity {
            status: pick(
                rng,
                &[
                    CapacityStatus::Accepting,
                    CapacityStatus::Limited,
                    CapacityStatus::NotAccepting,
                    CapacityStatus::Unknown,
                ],
            ),
            free_beds: None,
            waiting_days: None,
            note: None,
            updated_by: "test".into(),
            updated_at: pallimap::auth::timestamp(
                at_now() - time::Duration::seconds((hours_ago * 3600.0) as i64),
            ),
            via: None,
            sample: false,
            visibility: pick(
                rng,
                &[
                    Visibility::Public,
                    Visibility::Professional,
                    Visibility::Internal,
                ],
            ),
        });
    }
    s
}

fn random_formulary(rng: &mut SplitMix64) -> Service {
    let mut s = service(ServiceKind::OpioidDispensing, "2020-01-01");
    if rng.unit() < 0.1 {
        s.status = ServiceStatus::Inactive;
    }
    let lines = rng.below(5);
    s.attributes.formulary = (0..lines)
        .map(|_| {
            let drug = pick(rng, &[Drug::Fentanyl, Drug::Oxycodone]);
            FormularyEntry {
                drug,
                form: pick(rng, drug.forms()),
                strength: None,
                stock: pick(
                    rng,
                    &[Stock::Always, Stock::Always, Stock::Order, Stock::No],
                ),
                order_days: None,
            }
        })
        .collect();
    s.attributes.formulary_visibility = pick(
        rng,
        &[
            Visibility::Public,
            Visibility::Professional,
            Visibility::Internal,
        ],
    );
    s
}

/// A random provider set around (35.9, 139.6): clinics, hospitals, pharmacies, nurse stations
/// and dental clinics with random services, radii, tiers, bed reports, formularies, after-hours
/// answers and partners; some unplaced; and random pharmacy groups.
fn random_world(seed: u64) -> (Vec<Facility>, Vec<PharmacyGroup>) {
    let mut rng = SplitMix64::for_item(seed, 1);
    let kinds = [
        FacilityKind::Clinic,
        FacilityKind::Clinic,
        FacilityKind::Hospital,
        FacilityKind::Pharmacy,
        FacilityKind::Pharmacy,
        FacilityKind::VisitingNurseStation,
        FacilityKind::DentalClinic,
    ];
    // Every eighth world is large and mostly of one kind, so that a role's providers are too
    // many to measure one by one and the catalog takes its R-tree path.
    let (n, common) = if seed.is_multiple_of(8) {
        (200 + rng.below(200), Some(pick(&mut rng, &kinds)))
    } else {
        (4 + rng.below(60), None)
    };
    let spread = pick(&mut rng, &[0.1, 0.3, 0.6]);
    let mut all: Vec<Facility> = (0..n)
        .map(|i| {
            let kind = match common {
                Some(k) if rng.unit() < 0.8 => k,
                _ => pick(&mut rng, &kinds),
            };
            let lat = 35.9 + (rng.unit() - 0.5) * spread;
            let lng = 139.6 + (rng.unit() - 0.5) * spread;
            let mut f = facility(
                &format!("navii-1{:05}{i:07}", seed % 100_000),
                kind,
                &format!("乱数{}{i}", kind.label_ja()),
                lat,
                lng,
            );
            if rng.unit() < 0.05 {
                f.location = None;
                f.placement = Placement::Unplaced;
            }
            let offered: Vec<ServiceKind> = match kind {
                FacilityKind::Clinic => vec![
                    ServiceKind::HomeCareSupport,
                    ServiceKind::EnhancedHomePalliative,
                    ServiceKind::HomeVisits,
                ],
                FacilityKind::Hospital => vec![
                    ServiceKind::HomeCareSupport,
                    ServiceKind::BackupHospital,
                    ServiceKind::EmergencyAdmission,
                    ServiceKind::RespiteAdmission,
                    ServiceKind::Pcu,
                ],
                FacilityKind::Pharmacy => vec![ServiceKind::HomeMedicationManagement],
                FacilityKind::VisitingNurseStation => vec![ServiceKind::VisitingNursing],
                // A dentist's home visits do not make it a physician.
                _ => vec![ServiceKind::HomeVisitDental, ServiceKind::HomeVisits],
            };
            let offered: Vec<ServiceKind> =
                offered.into_iter().filter(|_| rng.unit() < 0.6).collect();
            f.services = offered
                .into_iter()
                .map(|k| random_service(&mut rng, k))
                .collect();
            if kind == FacilityKind::Pharmacy && rng.unit() < 0.8 {
                f.services.push(random_formulary(&mut rng));
            }
            f.canonicalize();
            f.after_hours = match rng.below(3) {
                0 => None,
                k => Some(AfterHours {
                    available: k == 1,
                    provenance: Provenance {
                        origin: Origin::Survey,
                        source: "test".into(),
                        snapshot: None,
                    },
                }),
            };
            f
        })
        .collect();
    let ids: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    for f in &mut all {
        for _ in 0..rng.below(7) {
            let id = pick(
                &mut rng,
                &ids.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            if id != f.id && !f.partners.iter().any(|p| p.id == id) {
                f.partners.push(Partner {
                    id: id.to_string(),
                    role: pick(&mut rng, PartnerRole::ALL),
                    note: None,
                });
            }
        }
    }
    let pharmacies: Vec<String> = all
        .iter()
        .filter(|f| f.kind == FacilityKind::Pharmacy)
        .map(|f| f.id.clone())
        .collect();
    let groups = (0..rng.below(3))
        .filter(|_| pharmacies.len() >= 2)
        .map(|g| PharmacyGroup {
            id: g as i64 + 1,
            name: format!("乱数グループ{g}"),
            members: pharmacies
                .iter()
                .filter(|_| rng.unit() < 0.5)
                .cloned()
                .collect(),
            licence_valid_until: pick(&mut rng, &["2026-11-30", "2026-12-01", "2027-03-31"]).into(),
            transfer_hours: None,
            note: None,
            sample: false,
            updated_by: String::new(),
            updated_at: String::new(),
        })
        .collect();
    (all, groups)
}

fn random_ask(seed: u64, all: &[Facility]) -> TeamAsk {
    let mut rng = SplitMix64::for_item(seed, 2);
    let ids: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
    let audience = pick(&mut rng, &[Audience::Professional, Audience::Internal]);
    let products: Vec<Product> = [
        "fentanyl_patch",
        "oxycodone_injection",
        "oxycodone_oral",
        "fentanyl",
    ]
    .iter()
    .map(|c| Product::from_code(c).unwrap())
    .collect();
    let mut roles: Vec<RoleAsk> = Vec::new();
    for role in TeamRole::ALL {
        let wanted = if *role == TeamRole::Physician {
            0.75
        } else {
            0.55
        };
        if rng.unit() > wanted {
            continue;
        }
        let mut r = RoleAsk::new(*role);
        r.after_hours = rng.unit() < 0.3;
        if *role == TeamRole::Physician {
            r.prefer = [Prefer::Enhanced, Prefer::Reinforced]
                .into_iter()
                .filter(|_| rng.unit() < 0.5)
                .collect();
        }
        if *role == TeamRole::Pharmacy && rng.unit() < 0.6 {
            let (stock, partners) = pick(
                &mut rng,
                &[
                    (Stock::Order, true),
                    (Stock::Always, false),
                    (Stock::Always, true),
                ],
            );
            r.formulary = Some(FormularyFilter {
                products: (0..1 + rng.below(2))
                    .map(|_| pick(&mut rng, &products))
                    .collect(),
                stock,
                partners,
                today: TODAY.into(),
                audience,
            });
        }
        // Mostly ids of the role's providers, so that some qualify.
        let providers: Vec<&str> = all
            .iter()
            .filter(|f| {
                f.services
                    .iter()
                    .any(|s| role_kinds(*role).contains(&s.kind))
            })
            .map(|f| f.id.as_str())
            .collect();
        for _ in 0..rng.below(3) {
            let from = if providers.is_empty() || rng.unit() < 0.3 {
                &ids
            } else {
                &providers
            };
            let id = pick(&mut rng, from).to_string();
            if rng.unit() < 0.5 {
                if !r.exclude.contains(&id) && !r.include.contains(&id) {
                    r.include.push(id);
                }
            } else if !r.include.contains(&id) && !r.exclude.contains(&id) {
                r.exclude.push(id);
            }
        }
        roles.push(r);
    }
    // The roles in a random order: the physician is ranked first whatever its place.
    for i in (1..roles.len()).rev() {
        roles.swap(i, rng.below(i + 1));
    }
    TeamAsk {
        home: (
            35.9 + (rng.unit() - 0.5) * 0.5,
            139.6 + (rng.unit() - 0.5) * 0.5,
        ),
        roles,
        limit: 1 + rng.below(6),
        max_km: pick(&mut rng, &[3.0, 8.0, 16.0, 30.0]),
        audience,
        now: at_now(),
        stale_hours: 72,
    }
}

/// The brute-force answer for one role: ranked qualifying ids with their distances, and the
/// near misses (id, distance).
struct OracleRole {
    ranked: Vec<(String, f64, bool)>,
    /// Included ids that fail, then (when nobody is proposed) the nearest that fail one check.
    almost: Vec<String>,
    proposed: Option<String>,
}

fn role_kinds(role: TeamRole) -> &'static [ServiceKind] {
    match role {
        TeamRole::Physician => &[
            ServiceKind::HomeCareSupport,
            ServiceKind::EnhancedHomePalliative,
            ServiceKind::HomeVisits,
        ],
        TeamRole::Nurse => &[ServiceKind::VisitingNursing],
        TeamRole::Pharmacy => &[ServiceKind::HomeMedicationManagement],
        TeamRole::Dental => &[ServiceKind::HomeVisitDental],
        TeamRole::Backup => &[
            ServiceKind::BackupHospital,
            ServiceKind::EmergencyAdmission,
            ServiceKind::RespiteAdmission,
        ],
        TeamRole::Pcu => &[ServiceKind::Pcu],
        TeamRole::CareManager => &[],
    }
}

fn active(f: &Facility, role: TeamRole) -> Vec<&Service> {
    if role == TeamRole::Physician
        && !matches!(f.kind, FacilityKind::Clinic | FacilityKind::Hospital)
    {
        return Vec::new();
    }
    f.services
        .iter()
        .filter(|s| s.status == ServiceStatus::Active && role_kinds(role).contains(&s.kind))
        .collect()
}

/// Whether `f` itself has a line for `p` meeting `wanted` in a formulary `audience` may see.
fn stocks(f: &Facility, p: Product, wanted: Stock, audience: Audience) -> bool {
    f.services.iter().any(|s| {
        s.status != ServiceStatus::Inactive
            && audience.may_see(s.attributes.formulary_visibility)
            && s.attributes
                .formulary
                .iter()
                .any(|e| p.matches(e) && e.stock.meets(wanted))
    })
}

/// (accepted, tier 0 all own stock / 1 with partners / 2 order) by plain loops.
fn formulary_oracle(
    f: &Facility,
    ff: &FormularyFilter,
    by_id: &HashMap<&str, &Facility>,
    groups: &[PharmacyGroup],
) -> (bool, u8) {
    let via_partner = |p: Product| {
        groups.iter().any(|g| {
            g.valid_on(TODAY)
                && g.members.contains(&f.id)
                && g.members.iter().any(|m| {
                    by_id
                        .get(m.as_str())
                        .is_some_and(|o| stocks(o, p, Stock::Always, ff.audience))
                })
        })
    };
    let mut accepted = true;
    let (mut own_all, mut with_partners_all) = (true, true);
    for &p in &ff.products {
        let own = stocks(f, p, Stock::Always, ff.audience);
        let partner = ff.partners && via_partner(p);
        let ordered = ff.stock == Stock::Order && stocks(f, p, Stock::Order, ff.audience);
        accepted &= own || partner || ordered;
        own_all &= own;
        with_partners_all &= own || via_partner(p) && ff.partners;
    }
    let tier = if own_all {
        0
    } else if with_partners_all {
        1
    } else {
        2
    };
    (accepted, tier)
}

/// The first four parts of the ranking key: included, linked, the role's tier, after hours.
type Key = (u8, u8, u8, u8);

fn oracle_role(
    all: &[Facility],
    groups: &[PharmacyGroup],
    ask: &TeamAsk,
    r: &RoleAsk,
    lead: Option<&Facility>,
) -> OracleRole {
    let role = r.role;
    let by_id: HashMap<&str, &Facility> = all.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut ranked: Vec<(Key, f64, String, bool)> = Vec::new();
    let mut misses: Vec<(f64, String)> = Vec::new();
    let mut failing_included: Vec<String> = Vec::new();
    for f in all {
        let services = active(f, role);
        let Some(l) = f.location else {
            if r.include.contains(&f.id) {
                failing_included.push(f.id.clone());
            }
            continue;
        };
        if services.is_empty() {
            if r.include.contains(&f.id) {
                failing_included.push(f.id.clone());
            }
            continue;
        }
        let d = haversine_m(ask.home, (l.lat, l.lng));
        let reach = if role == TeamRole::Backup || role == TeamRole::Pcu {
            ask.max_km * 1000.0
        } else {
            services
                .iter()
                .map(|s| s.attributes.radius_km.unwrap_or(16.0) * 1000.0)
                .fold(0.0, f64::max)
        };
        let mut fails = 0;
        fails += (d > reach) as u8;
        fails += (r.after_hours && f.reachable_after_hours() != Some(true)) as u8;
        let mut stock_tier = 0;
        if let (TeamRole::Pharmacy, Some(ff)) = (role, &r.formulary) {
            let (ok, tier) = formulary_oracle(f, ff, &by_id, groups);
            fails += (!ok) as u8;
            stock_tier = tier;
        }
        if fails > 0 {
            if r.include.contains(&f.id) {
                failing_included.push(f.id.clone());
            } else if fails == 1 && d <= team::ALMOST_KM * 1000.0 {
                misses.push((d, f.id.clone()));
            }
            continue;
        }
        let linked = role != TeamRole::Physician
            && lead.is_some_and(|p| {
                p.partners.iter().any(|x| x.id == f.id) || f.partners.iter().any(|x| x.id == p.id)
            });
        let tier = match role {
            TeamRole::Physician if !r.prefer.is_empty() => {
                let enhanced = services
                    .iter()
                    .any(|s| s.kind == ServiceKind::EnhancedHomePalliative);
                let a = (r.prefer.contains(&Prefer::Enhanced) && !enhanced) as u8;
                let b = if r.prefer.contains(&Prefer::Reinforced) {
                    services
                        .iter()
                        .filter_map(|s| s.attributes.tier)
                        .map(|t| match t {
                            HomeCareTier::EnhancedSolo => 0,
                            HomeCareTier::EnhancedLinked => 1,
                            HomeCareTier::Conventional => 2,
                        })
                        .min()
                        .unwrap_or(3)
                } else {
                    0
                };
                a * 4 + b
            }
            TeamRole::Pharmacy => stock_tier,
            TeamRole::Backup | TeamRole::Pcu => services
                .iter()
                .map(|s| match &s.capacity {
                    Some(c) if ask.audience.may_see(c.visibility) => {
                        c.effective(ask.now, ask.stale_hours).rank()
                    }
                    _ => CapacityStatus::Unknown.rank(),
                })
                .min()
                .unwrap_or(2),
            _ => 0,
        };
        let key = (
            !r.include.contains(&f.id) as u8,
            !linked as u8,
            tier,
            (f.reachable_after_hours() != Some(true)) as u8,
        );
        ranked.push((key, d, f.id.clone(), r.exclude.contains(&f.id)));
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    let proposed = ranked.iter().find(|x| !x.3).map(|x| x.2.clone());
    // Included ids that fail, in the order asked.
    let mut almost: Vec<String> = r
        .include
        .iter()
        .filter(|id| failing_included.contains(id))
        .cloned()
        .collect();
    if proposed.is_none() {
        misses.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        almost.extend(misses.into_iter().take(team::ALMOST_MAX).map(|m| m.1));
    }
    OracleRole {
        ranked: ranked.into_iter().map(|x| (x.2, x.1, x.3)).collect(),
        almost,
        proposed,
    }
}

#[test]
fn the_care_team_matches_a_brute_force_oracle_over_random_homes_and_providers() {
    let (mut proposals, mut nones, mut linked, mut included, mut almosts) = (0, 0, 0, 0, 0);
    for seed in 0..260u64 {
        let (all, groups) = random_world(seed);
        let catalog = Catalog::new(CatalogParts {
            facilities: all.clone(),
            areas: vec![],
            municipalities: vec![],
            geocoder: Arc::new(pallimap::geocode::Gazetteer::new(vec![], vec![])),
            groups: groups.clone(),
            census: vec![],
            change_seq: 0,
        })
        .unwrap();
        let ask = random_ask(seed, &all);
        let answer = catalog.team(&ask);
        assert_eq!(answer.roles.len(), ask.roles.len(), "seed {seed}");
        // The physician the oracle proposes leads the links of the other roles.
        let lead = ask
            .roles
            .iter()
            .find(|r| r.role == TeamRole::Physician)
            .and_then(|r| oracle_role(&all, &groups, &ask, r, None).proposed)
            .and_then(|id| all.iter().find(|f| f.id == id));
        for (r, got) in ask.roles.iter().zip(&answer.roles) {
            let ctx = format!("seed {seed}, role {}", r.role.code());
            assert_eq!(got.role, r.role, "{ctx}");
            if r.role == TeamRole::CareManager {
                assert!(got.candidates.is_empty() && got.proposed.is_none());
                assert_eq!(
                    got.none.as_deref(),
                    Some("この地域の居宅介護支援事業所のデータはまだありません")
                );
                continue;
            }
            let want = oracle_role(&all, &groups, &ask, r, lead);
            let id_of = |ord: u32| catalog.at(ord).id.clone();
            let got_ids: Vec<String> = got.candidates.iter().map(|c| id_of(c.ord)).collect();
            // The shown list is the oracle's ranking up to the limit-th candidate not excluded
            // (more when more ids are included), excluded ones where they rank.
            let target = ask.limit.max(
                want.ranked
                    .iter()
                    .filter(|x| r.include.contains(&x.0))
                    .count(),
            );
            let mut seen = 0;
            let mut cut = want.ranked.len();
            for (i, x) in want.ranked.iter().enumerate() {
                if !x.2 {
                    seen += 1;
                    if seen == target {
                        cut = i + 1;
                        break;
                    }
                }
            }
            let want_ids: Vec<String> = want.ranked[..cut].iter().map(|x| x.0.clone()).collect();
            assert_eq!(got_ids, want_ids, "{ctx}: candidates in key order");
            assert_eq!(got.total, want.ranked.len(), "{ctx}: total");
            assert_eq!(got.proposed.map(id_of), want.proposed, "{ctx}: proposed");
            // The proposal is the first candidate not excluded, and it reaches the home.
            if let Some(p) = got.proposed {
                let first = got.candidates.iter().find(|c| !c.excluded).unwrap();
                assert_eq!(first.ord, p, "{ctx}");
                let f = catalog.at(p);
                let l = f.location.unwrap();
                let d = haversine_m(ask.home, (l.lat, l.lng));
                assert!(d <= first.reach_m + 1e-6, "{ctx}: {d} > {}", first.reach_m);
                assert!(!r.exclude.contains(&f.id), "{ctx}: an excluded id proposed");
                assert!(got.none.is_none(), "{ctx}");
                proposals += 1;
            } else {
                let none = got.none.as_deref().unwrap_or_default();
                assert!(none.contains("見つかりません"), "{ctx}: {none}");
                nones += 1;
            }
            for c in &got.candidates {
                let f = catalog.at(c.ord);
                let x = want.ranked.iter().find(|x| x.0 == f.id).unwrap();
                assert!((c.distance_m - x.1).abs() < 1e-6, "{ctx}");
                assert_eq!(c.excluded, r.exclude.contains(&f.id), "{ctx}");
                assert_eq!(c.included, r.include.contains(&f.id), "{ctx}");
                assert!(!c.reasons.is_empty(), "{ctx}");
                linked += c.linked as usize;
                included += c.included as usize;
                if c.linked {
                    assert!(
                        c.reasons.iter().any(|s| s.starts_with("連携: ")),
                        "{ctx}: {:?}",
                        c.reasons
                    );
                }
            }
            let got_almost: Vec<String> = got.almost.iter().map(|a| id_of(a.ord)).collect();
            assert_eq!(got_almost, want.almost, "{ctx}: almost");
            assert!(got.almost.iter().all(|a| !a.why.is_empty()), "{ctx}");
            almosts += got.almost.len();
        }
    }
    // The random cases reach every branch often enough to mean something.
    assert!(proposals > 300, "proposals {proposals}");
    assert!(nones > 100, "nones {nones}");
    assert!(linked > 30, "linked {linked}");
    assert!(included > 20, "included {included}");
    assert!(almosts > 50, "almost {almosts}");
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// The tiny dataset's clinic (home_care_support, 機能強化型 連携型), hospital and nurse station,
/// and a home-visit pharmacy with the id whose editor is editor@example.jp.
const CLINIC: &str = "navii-1121070000020";
const NURSE: &str = "kaigo-1160000001";
const HOSPITAL: &str = "navii-1111070000010";
const PHARMACY: &str = "navii-1151070000030";

/// A home-visit pharmacy stocking fentanyl patches near the tiny dataset.
fn home_pharmacy() -> Facility {
    let mut f = facility(
        PHARMACY,
        FacilityKind::Pharmacy,
        "テスト訪問薬局",
        35.8640,
        139.6470,
    );
    f.services = vec![service(ServiceKind::HomeMedicationManagement, "2020-01-01")];
    let mut s = service(ServiceKind::OpioidDispensing, "2020-01-01");
    s.attributes.formulary = vec![FormularyEntry {
        drug: Drug::Fentanyl,
        form: Form::Patch3Day,
        strength: None,
        stock: Stock::Always,
        order_days: None,
    }];
    s.attributes.formulary_visibility = Visibility::Professional;
    f.services.push(s);
    f.canonicalize();
    f
}

fn team_fixture() -> Fixture {
    let mut nurse2 = facility(
        "kaigo-1160000002",
        FacilityKind::VisitingNurseStation,
        "テスト第二訪問看護",
        35.8660,
        139.6420,
    );
    nurse2.services = vec![service(ServiceKind::VisitingNursing, "2020-01-01")];
    let fx = fixture_with(vec![home_pharmacy(), nurse2]);
    // The tiny dataset's nurse station offers no service yet: make it one.
    edit(&fx, NURSE, |f| {
        f.services = vec![service(ServiceKind::VisitingNursing, "2020-01-01")];
    });
    fx
}

fn edit(fx: &Fixture, id: &str, change: impl FnOnce(&mut Facility)) {
    let v = fx.store.facility(id).unwrap().unwrap().version;
    fx.store
        .edit_facility(
            id,
            v,
            &pallimap::store::Edit {
                actor: "test",
                source: "test",
                at: "2026-12-01T00:00:00Z",
            },
            |f| {
                change(f);
                Ok(())
            },
        )
        .unwrap();
    pallimap::app::refresh_now(&fx.store, &fx.state.catalog).unwrap();
}

async fn post(
    fx: &Fixture,
    s: Option<&Session>,
    body: Value,
) -> (u16, BTreeMap<String, String>, Value) {
    let csrf = s.map(|s| s.csrf.clone()).unwrap_or_default();
    json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/care-team",
            s,
            &[("x-csrf-token", &csrf)],
            Some(body),
        )
        .await,
    )
    .await
}

fn role<'a>(b: &'a Value, code: &str) -> &'a Value {
    b["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == code)
        .unwrap_or_else(|| panic!("no role {code} in {b}"))
}

#[actix_web::test]
async fn the_care_team_is_for_signed_in_callers_and_answers_every_role() {
    let fx = team_fixture();
    let body = json!({
        "near": {"lat": 35.8655, "lng": 139.6455},
        "roles": [
            {"role": "physician", "prefer": ["reinforced"]},
            {"role": "nurse"},
            {"role": "pharmacy", "opioids": ["fentanyl_patch"], "stock": "always"},
            {"role": "dental"},
            {"role": "backup"},
            {"role": "care_manager"}
        ]
    });
    // Anonymous: 401, whatever the body.
    let (status, _, e) = post(&fx, None, body.clone()).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("unauthorized")),
        "{e}"
    );
    // A cookie session without its CSRF token: 403.
    let s = sign_in(&fx.state, "pro@example.jp").await;
    let (status, _, e) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/care-team",
            Some(&s),
            &[],
            Some(body.clone()),
        )
        .await,
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("csrf_required")));

    let (status, headers, b) = post(&fx, Some(&s), body).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(b["stored"], false);
    assert!(b["privacy"].as_str().unwrap().contains("保存されません"));
    assert!(
        b["distance_note"]
            .as_str()
            .unwrap()
            .starts_with("直線距離です")
    );
    assert!(b["ranking"].as_str().unwrap().contains("時間外対応"));
    assert_eq!(b["home"]["level"], "point");
    assert_eq!(b["home"]["lat"], 35.8655);

    let physician = role(&b, "physician");
    assert_eq!(physician["proposed"], CLINIC);
    let c = &physician["candidates"][0];
    assert_eq!(c["reach_rule"], "16km");
    assert_eq!(c["reach_m"], 16000);
    assert!(c["distance_m"].as_u64().unwrap() < 2000);
    let reasons: Vec<&str> = c["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons[0].ends_with("（訪問範囲 16 km 以内）"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"機能強化型（連携型）"), "{reasons:?}");
    assert!(reasons.contains(&"時間外対応あり"), "{reasons:?}");
    // The caller's contacts: a professional sees the FAX as well.
    assert!(
        c["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "fax")
    );
    assert_eq!(role(&b, "nurse")["candidates"].as_array().unwrap().len(), 2);
    let pharmacy = role(&b, "pharmacy");
    assert_eq!(pharmacy["proposed"], PHARMACY);
    assert_eq!(pharmacy["candidates"][0]["availability"], "always");
    assert!(
        pharmacy["candidates"][0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("麻薬: 全品在庫"))
    );
    // No home-visit dentist in the tiny dataset: said plainly, nobody proposed.
    let dental = role(&b, "dental");
    assert_eq!(dental["proposed"], Value::Null);
    assert_eq!(
        dental["none"],
        "この住所に訪問できる訪問歯科は見つかりません — 16 km 以内に該当なし"
    );
    let backup = role(&b, "backup");
    assert_eq!(backup["proposed"], HOSPITAL);
    assert_eq!(backup["candidates"][0]["reach_rule"], "max_km");
    assert_eq!(backup["candidates"][0]["bed"]["status"], "unknown");
    assert_eq!(
        role(&b, "care_manager")["none"],
        "この地域の居宅介護支援事業所のデータはまだありません"
    );
    let team: Vec<(&str, &str)> = b["team"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        team,
        vec![
            ("physician", CLINIC),
            ("nurse", "kaigo-1160000002"),
            ("pharmacy", PHARMACY),
            ("backup", HOSPITAL),
        ]
    );

    // A bearer token needs no CSRF token.
    let token = pallimap::auth::random_token().unwrap();
    let user = fx
        .store
        .user_with_hash("pro@example.jp")
        .unwrap()
        .unwrap()
        .0;
    fx.store
        .create_token(
            &pallimap::auth::token_hash(&token),
            user.id,
            "script",
            "2026-12-01T00:00:00Z",
        )
        .unwrap();
    let auth = format!("Bearer {token}");
    let (status, _, b) = json_of(
        call(
            &fx.state,
            Method::POST,
            "/api/v1/care-team",
            None,
            &[("authorization", &auth)],
            Some(json!({"near": {"lat": 35.8655, "lng": 139.6455}, "roles": [{"role": "nurse"}]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{b}");
}

#[actix_web::test]
async fn every_bad_input_is_named() {
    let fx = team_fixture();
    let s = sign_in(&fx.state, "pro@example.jp").await;
    let near = json!({"lat": 35.8655, "lng": 139.6455});
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"roles": [{"role": "nurse"}]}), 400, "near"),
        (
            json!({"near": near, "address": "さいたま市浦和区北浦和4-1-1", "roles": [{"role": "nurse"}]}),
            400,
            "address",
        ),
        (
            json!({"near": {"lat": 95, "lng": 139.6}, "roles": [{"role": "nurse"}]}),
            400,
            "near.lat",
        ),
        (
            json!({"near": {"lat": 35.8}, "roles": [{"role": "nurse"}]}),
            400,
            "near.lng",
        ),
        (json!({"near": near, "roles": []}), 400, "roles"),
        (json!({"near": near}), 400, "roles"),
        (
            json!({"near": near, "roles": [{"role": "surgeon"}]}),
            400,
            "roles[0].role",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse"}, {"role": "nurse"}]}),
            400,
            "roles[1].role",
        ),
        (
            json!({"near": near, "roles": [{"role": "pharmacy", "opioids": ["fentanyl_patch", "aspirin"]}]}),
            400,
            "roles[0].opioids[1]",
        ),
        (
            json!({"near": near, "roles": [{"role": "pharmacy", "opioids": ["fentanyl"], "stock": "soon"}]}),
            400,
            "roles[0].stock",
        ),
        (
            json!({"near": near, "roles": [{"role": "pharmacy", "stock": "order"}]}),
            400,
            "roles[0].stock",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse", "opioids": ["fentanyl"]}]}),
            400,
            "roles[0].opioids",
        ),
        (
            json!({"near": near, "roles": [{"role": "physician", "prefer": ["famous"]}]}),
            400,
            "roles[0].prefer[0]",
        ),
        (
            json!({"near": near, "roles": [{"role": "physician", "include": [CLINIC, "navii-0000000000000"]}]}),
            400,
            "roles[0].include[1]",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse", "exclude": ["gen-nothing"]}]}),
            400,
            "roles[0].exclude[0]",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse", "include": [NURSE], "exclude": [NURSE]}]}),
            400,
            "roles[0].exclude[0]",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse", "after_hours": "yes"}]}),
            400,
            "roles[0].after_hours",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse", "radius": 3}]}),
            400,
            "roles[0].radius",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse"}], "limit": 0}),
            400,
            "limit",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse"}], "limit": 21}),
            400,
            "limit",
        ),
        (
            json!({"near": near, "roles": [{"role": "backup"}], "max_km": 51}),
            400,
            "max_km",
        ),
        (
            json!({"near": near, "roles": [{"role": "backup"}], "max_km": 0.5}),
            400,
            "max_km",
        ),
        (
            json!({"near": near, "roles": [{"role": "backup"}], "now": "tonight"}),
            400,
            "now",
        ),
        (
            json!({"near": near, "roles": [{"role": "nurse"}], "patient": "x"}),
            400,
            "patient",
        ),
        (
            json!({"address": "存在しない市どこか町1-1", "roles": [{"role": "nurse"}]}),
            422,
            "address",
        ),
    ];
    for (body, status, field) in cases {
        let (got, _, e) = post(&fx, Some(&s), body.clone()).await;
        assert_eq!(
            (got, e["field"].as_str()),
            (status, Some(field)),
            "{body}: {e}"
        );
        if status == 400 {
            assert_eq!(e["code"], "invalid_body", "{e}");
        } else {
            assert_eq!(e["code"], "address_not_found", "{e}");
        }
    }
    // An address the geocoder places.
    let (status, _, b) = post(
        &fx,
        Some(&s),
        json!({"address": "さいたま市浦和区北浦和4-1-1", "roles": [{"role": "nurse"}], "limit": 1}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["home"]["level"], "town");
    assert_eq!(b["home"]["precision_m"], 1200);
    assert!(b["home"]["normalized"].as_str().unwrap().contains("北浦和"));
    assert_eq!(role(&b, "nurse")["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(role(&b, "nurse")["total"], 2);
}

#[actix_web::test]
async fn the_home_is_neither_stored_nor_logged() {
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let fx = team_fixture();
    let s = sign_in(&fx.state, "pro@example.jp").await;
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    // As `serve` wires it: the request logger records each request and its error.
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(pallimap::http::configure(fx.state.clone())),
    )
    .await;
    let homes = [
        json!({"address": "さいたま市浦和区北浦和4-1-1"}),
        json!({"address": "秘密市かくれ町9-9-9"}),
        json!({"near": {"lat": 35.86123, "lng": 139.64987}}),
        json!({"near": {"lat": 95.86123, "lng": 139.64987}}),
    ];
    let mut statuses = Vec::new();
    for home in &homes {
        let mut body = home.clone();
        body["roles"] = json!([{"role": "physician"}, {"role": "nurse"}]);
        let req = actix_web::test::TestRequest::post()
            .uri("/api/v1/care-team")
            .insert_header(("cookie", format!("pallimap_session={}", s.cookie)))
            .insert_header(("x-csrf-token", s.csrf.as_str()))
            .set_json(body)
            .to_request();
        let resp = actix_web::test::call_service(&app, req).await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 422, 200, 400]);
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("care_team"),
        "the handler's span is logged: {log}"
    );
    assert!(log.contains("/api/v1/care-team"), "{log}");
    for secret in [
        "北浦和",
        "秘密市",
        "かくれ町",
        "35.86123",
        "139.64987",
        "95.86123",
    ] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
    // Nothing of the home is in the database: no table, no change-log row.
    drop(app);
    for path in std::fs::read_dir(
        std::path::Path::new(fx._db.url.trim_start_matches("sqlite://"))
            .parent()
            .unwrap(),
    )
    .unwrap()
    {
        let bytes = std::fs::read(path.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["秘密市", "かくれ町", "35.86123", "139.64987"] {
            assert!(
                !text.contains(secret),
                "`{secret}` is in the database files"
            );
        }
    }
}

async fn partners_etag(fx: &Fixture, id: &str, s: &Session) -> String {
    let (status, headers, b) = json_of(
        call(
            &fx.state,
            Method::GET,
            &format!("/api/v1/facilities/{id}/partners"),
            Some(s),
            &[],
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{b}");
    headers["etag"].clone()
}

async fn put_partners(
    fx: &Fixture,
    id: &str,
    s: Option<&Session>,
    etag: Option<&str>,
    body: Value,
) -> (u16, Value) {
    crate::admissions::write(
        fx,
        Method::PUT,
        &format!("/api/v1/facilities/{id}/partners"),
        s,
        etag,
        body,
    )
    .await
}

#[actix_web::test]
async fn partners_are_written_by_those_who_may_and_never_shown_to_the_public() {
    let fx = team_fixture();
    let pro = sign_in(&fx.state, "pro@example.jp").await;
    let coord = sign_in(&fx.state, "coord@example.jp").await;
    let other = sign_in(&fx.state, "other-coord@example.jp").await;
    let editor = sign_in(&fx.state, "editor@example.jp").await;
    let uri = format!("/api/v1/facilities/{CLINIC}/partners");

    // Reading: signed-in callers only.
    let (status, _, e) = json_of(call(&fx.state, Method::GET, &uri, None, &[], None).await).await;
    assert_eq!(status, 401, "{e}");
    let (status, _, b) =
        json_of(call(&fx.state, Method::GET, &uri, Some(&pro), &[], None).await).await;
    assert_eq!((status, b["partners"].clone()), (200, json!([])));

    let list = json!({"partners": [
        {"id": NURSE, "role": "nurse", "note": "夜間は当番の看護師が対応"},
        {"id": HOSPITAL, "role": "backup"}
    ]});
    let etag = partners_etag(&fx, CLINIC, &pro).await;
    // Who may not: anonymous, a professional, another area's coordinator, another facility's
    // editor.
    assert_eq!(
        put_partners(&fx, CLINIC, None, Some(&etag), list.clone())
            .await
            .0,
        401
    );
    for s in [&pro, &other, &editor] {
        let (status, e) = put_partners(&fx, CLINIC, Some(s), Some(&etag), list.clone()).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (403, Some("forbidden")),
            "{e}"
        );
    }
    // Every bad input named; no If-Match: 428.
    assert_eq!(
        put_partners(&fx, CLINIC, Some(&coord), None, list.clone())
            .await
            .0,
        428
    );
    for (body, field) in [
        (
            json!({"partners": [{"id": NURSE, "role": "nurse"}, {"id": "navii-0000000000000", "role": "backup"}]}),
            "partners[1].id",
        ),
        (
            json!({"partners": [{"id": NURSE, "role": "friend"}]}),
            "partners[0].role",
        ),
        (
            json!({"partners": [{"id": CLINIC, "role": "physician"}]}),
            "partners[0].id",
        ),
        (
            json!({"partners": [{"id": NURSE, "role": "nurse"}, {"id": NURSE, "role": "nurse"}]}),
            "partners[1].id",
        ),
        (
            json!({"partners": [{"id": NURSE, "role": "nurse", "since": "2020"}]}),
            "partners[0].since",
        ),
        (
            json!({"partners": [{"id": NURSE, "role": "nurse", "note": "あ".repeat(201)}]}),
            "partners[0].note",
        ),
        (json!({"partner": []}), "partner"),
    ] {
        let (status, e) = put_partners(&fx, CLINIC, Some(&coord), Some(&etag), body.clone()).await;
        assert_eq!(
            (status, e["field"].as_str()),
            (400, Some(field)),
            "{body}: {e}"
        );
    }
    // The area's coordinator writes them; the list comes back with the new ETag.
    let (status, b) = put_partners(&fx, CLINIC, Some(&coord), Some(&etag), list.clone()).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["partners"][0]["name"], "テスト訪問看護ステーション");
    assert_eq!(b["partners"][1]["role"], "backup");
    // A stale version: 409.
    let (status, _) = put_partners(&fx, CLINIC, Some(&coord), Some(&etag), list.clone()).await;
    assert_eq!(status, 409);
    // The facility's own editor writes its own.
    let etag = partners_etag(&fx, PHARMACY, &editor).await;
    let (status, b) = put_partners(
        &fx,
        PHARMACY,
        Some(&editor),
        Some(&etag),
        json!({"partners": [{"id": CLINIC, "role": "physician"}]}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    // They are in the store, through the change log, and in this instance's catalog.
    let stored = fx.store.facility(CLINIC).unwrap().unwrap();
    assert_eq!(stored.partners.len(), 2);
    assert_eq!(
        fx.state.catalog.load().get(CLINIC).unwrap().partners.len(),
        2
    );
    let (status, _, b) =
        json_of(call(&fx.state, Method::GET, &uri, Some(&pro), &[], None).await).await;
    assert_eq!(status, 200);
    assert_eq!(b["listed_by"][0]["id"], PHARMACY);
    assert_eq!(b["partners"][0]["note"], "夜間は当番の看護師が対応");

    // The public never sees them: not in the detail, the layer or the exports (the history is
    // for signed-in callers, and the marker test covers it).
    for path in [
        format!("/api/v1/facilities/{CLINIC}"),
        format!("/api/v1/facilities/{CLINIC}.geojson"),
        "/api/v1/facilities.geojson".to_string(),
        "/api/v1/facilities.csv".to_string(),
        "/api/v1/export/hsds".to_string(),
    ] {
        let resp = call(&fx.state, Method::GET, &path, None, &[], None).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let text = String::from_utf8_lossy(&actix_web::test::read_body(resp).await).to_string();
        assert!(
            !text.contains("夜間は当番"),
            "{path}: the partners' note reached the public"
        );
        assert!(
            !text.contains("\"partners\""),
            "{path}: partners reached the public"
        );
    }

    // The care team prefers the physician's partners: the second nurse station is nearer the
    // home, but the clinic lists the first.
    let (status, _, b) = post(
        &fx,
        Some(&pro),
        json!({"near": {"lat": 35.8661, "lng": 139.6421}, "roles": [{"role": "nurse"}, {"role": "physician"}, {"role": "backup"}]}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let nurse = role(&b, "nurse");
    assert_eq!(nurse["proposed"], NURSE);
    assert_eq!(nurse["candidates"][0]["linked"], true);
    assert!(
        nurse["candidates"][0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("連携: テスト在宅クリニックの登録先"))
    );
    assert_eq!(nurse["candidates"][1]["id"], "kaigo-1160000002");
    assert_eq!(nurse["candidates"][1]["linked"], false);
    assert!(
        nurse["candidates"][1]["distance_m"].as_u64()
            < nurse["candidates"][0]["distance_m"].as_u64()
    );
    assert_eq!(role(&b, "backup")["candidates"][0]["linked"], true);
    // Excluding the partner proposes the other; including the other ranks it first.
    let (_, _, b) = post(
        &fx,
        Some(&pro),
        json!({"near": {"lat": 35.8661, "lng": 139.6421}, "roles": [{"role": "physician"}, {"role": "nurse", "exclude": [NURSE]}]}),
    )
    .await;
    let nurse = role(&b, "nurse");
    assert_eq!(nurse["proposed"], "kaigo-1160000002");
    assert_eq!(nurse["candidates"][0]["id"], NURSE);
    assert_eq!(nurse["candidates"][0]["excluded"], true);
    let (_, _, b) = post(
        &fx,
        Some(&pro),
        json!({"near": {"lat": 35.8661, "lng": 139.6421}, "roles": [{"role": "physician"}, {"role": "nurse", "include": ["kaigo-1160000002"]}]}),
    )
    .await;
    assert_eq!(role(&b, "nurse")["proposed"], "kaigo-1160000002");
    // Asking for after-hours care nobody answered: none, with the nearest that almost qualify.
    let (_, _, b) = post(
        &fx,
        Some(&pro),
        json!({"near": {"lat": 35.8661, "lng": 139.6421}, "roles": [{"role": "nurse", "after_hours": true}]}),
    )
    .await;
    let nurse = role(&b, "nurse");
    assert_eq!(nurse["proposed"], Value::Null);
    assert!(
        nurse["none"]
            .as_str()
            .unwrap()
            .contains("（条件: 時間外対応）")
    );
    let almost: Vec<&str> = nurse["almost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(almost, vec!["kaigo-1160000002", NURSE]);
    assert_eq!(nurse["almost"][0]["why"], "時間外対応が確認できません");
}
