//! The processed default dataset: what it contains, where its points lie, that a damaged copy
//! is refused whole, and that the builder reproduces it byte for byte.

use std::path::Path;

use geo::{Contains, Distance, Haversine, MultiPolygon, Point};
use pallimap::domain::{FacilityKind, Placement, ServiceKind};

use crate::common::default_store;

fn saitama_outline() -> Vec<MultiPolygon<f64>> {
    default_store()
        .areas()
        .unwrap()
        .into_iter()
        .map(|a| {
            let g: geojson::Geometry =
                serde_json::from_value(a.geometry.expect("area polygon")).unwrap();
            MultiPolygon::<f64>::try_from(g.value).expect("multipolygon")
        })
        .collect()
}

fn distance_to_outline_m(outline: &[MultiPolygon<f64>], p: Point<f64>) -> f64 {
    use geo::ClosestPoint;
    outline
        .iter()
        .filter_map(|mp| match mp.closest_point(&p) {
            geo::Closest::Intersection(c) | geo::Closest::SinglePoint(c) => {
                Some(Haversine.distance(p, c))
            }
            geo::Closest::Indeterminate => None,
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn the_default_dataset_has_the_published_counts() {
    let facilities = default_store().facilities().unwrap();
    let count = |k: FacilityKind| facilities.iter().filter(|f| f.kind == k).count();
    let offering = |s: ServiceKind| facilities.iter().filter(|f| f.offers(s)).count();
    // ナビイ 2025-06-01 lists for 埼玉県, plus 届出 institutions missing from it: 71 dental
    // clinics of the 歯科 list (R8.5.1) with a home-visit service.
    assert_eq!(count(FacilityKind::Pharmacy), 3194);
    assert_eq!(count(FacilityKind::DentalClinic), 2790 + 71);
    assert_eq!(count(FacilityKind::VisitingNurseStation), 771);
    assert!(count(FacilityKind::Hospital) >= 327);
    assert!(count(FacilityKind::Clinic) >= 3292);
    // 定期巡回・随時対応 offices that are no visiting nurse station.
    assert_eq!(count(FacilityKind::Other), 64);
    // 関東信越厚生局 届出 (医科 令和7年9月1日): 緩和ケア病棟入院料1/2 and 在宅療養後方支援病院.
    assert_eq!(offering(ServiceKind::Pcu), 20);
    assert_eq!(offering(ServiceKind::BackupHospital), 33);
    assert_eq!(offering(ServiceKind::PalliativeOutpatient), 19);
    assert_eq!(offering(ServiceKind::CancerPainManagement), 396);
    // 557 from the 医科 list, and two dental clinics whose 在宅がん医療総合診療料 the 歯科 list
    // (令和8年5月1日) carries (グレースデンタルメディカルクリニック 埼玉分院 and 大宮分院).
    assert_eq!(offering(ServiceKind::HomeCancerCare), 559);
    assert_eq!(offering(ServiceKind::VisitingNursing), 771);
    assert_eq!(offering(ServiceKind::HomeVisitDental), 383);
    assert_eq!(offering(ServiceKind::RegularVisit24h), 81);
    assert_eq!(default_store().areas().unwrap().len(), 10);
    // The region's 72 municipalities carry an outline; the neighbours' are for the geocoder.
    let munis = default_store().municipalities().unwrap();
    let region = munis
        .iter()
        .filter(|m| m.pref_code == "11" && m.geometry.is_some())
        .count();
    assert_eq!(region, 72);
    assert!(
        munis
            .iter()
            .all(|m| (m.pref_code == "11") == m.geometry.is_some())
    );
    assert_eq!(munis.len(), 400);
    // Every facility sits in one of the ten 二次医療圏.
    assert!(
        facilities
            .iter()
            .all(|f| f.area_code.as_deref().is_some_and(|a| a.starts_with("11")))
    );
}

#[test]
fn facilities_are_placed_at_town_level_and_inside_saitama() {
    let facilities = default_store().facilities().unwrap();
    let fine = facilities
        .iter()
        .filter(|f| matches!(f.placement, Placement::Source | Placement::Town))
        .count();
    let rate = fine as f64 / facilities.len() as f64;
    assert!(rate >= 0.99, "town level or better: {rate:.4}");
    assert!(
        facilities
            .iter()
            .all(|f| (f.placement == Placement::Unplaced) == f.location.is_none())
    );

    // The outline is the 1%-simplified 国土数値情報 boundary, which cuts narrow protrusions such as
    // 新座市新堀 (a tongue of Saitama into 清瀬市, 2.1 km deep): real town points there fall outside
    // it. Anything further than 2.5 km from the outline would be a real misplacement.
    let outline = saitama_outline();
    let mut outside = Vec::new();
    for f in &facilities {
        let Some(l) = f.location else { continue };
        let p = Point::new(l.lng, l.lat);
        if !outline.iter().any(|mp| mp.contains(&p)) {
            outside.push((distance_to_outline_m(&outline, p), f.id.clone()));
        }
    }
    outside.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!(
        "{} points outside the simplified outline: {outside:?}",
        outside.len()
    );
    assert!(outside.len() <= 20, "{outside:?}");
    assert!(outside.iter().all(|(d, _)| *d < 2500.0), "{outside:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
            continue;
        }
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_damaged_or_incomplete_data_dir_is_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_dir(Path::new("data"), &dir);
    assert!(pallimap::data::files::read(&dir).is_ok());

    // One flipped byte in the middle of the facilities file.
    let f = dir.join("facilities.jsonl.gz");
    let mut bytes = std::fs::read(&f).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&f, &bytes).unwrap();
    let e = pallimap::data::files::read(&dir).expect_err("corrupt file must fail");
    assert!(e.to_string().contains("facilities.jsonl.gz"), "{e}");

    // A missing file.
    copy_dir(Path::new("data"), &dir);
    std::fs::remove_file(dir.join("towns.csv.gz")).unwrap();
    let e = pallimap::data::files::read(&dir).expect_err("missing file must fail");
    assert!(e.to_string().contains("towns.csv.gz"), "{e}");

    // Nothing reaches the database when the read fails.
    let db = crate::common::sqlite_db();
    let store = pallimap::store::Store::open(&db.url).unwrap();
    assert!(pallimap::data::files::read(&dir).is_err());
    assert!(!store.has_dataset().unwrap());
    assert!(store.facilities().unwrap().is_empty());
}

/// Whether a test's part (`what`) is on this machine. A missing part fails the test under
/// `CI=true`; elsewhere the test prints a visible `SKIPPED` line and should return.
fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing, and CI=true: the test cannot be skipped");
    }
    eprintln!("SKIPPED: {what} is not on this machine");
    false
}

/// The files of a directory, sorted (data/sample/ is written by hand, not built).
fn file_names(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    names
}

#[test]
fn the_builder_reproduces_data_byte_for_byte() {
    let src = Path::new("../shared/data-src");
    if !require(
        "../shared/data-src (the public sources)",
        src.join("README.md").exists(),
    ) {
        return;
    }
    // Built twice: the two builds and the committed data/ are the same files, byte for byte.
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let report = pallimap::data::build::build(src, "11", first.path()).expect("build");
    pallimap::data::build::build(src, "11", second.path()).expect("second build");
    assert_eq!(file_names(first.path()), file_names(Path::new("data")));
    assert_eq!(file_names(second.path()), file_names(Path::new("data")));
    for name in file_names(Path::new("data")) {
        let committed = std::fs::read(Path::new("data").join(&name)).unwrap();
        let once = std::fs::read(first.path().join(&name)).unwrap();
        let twice = std::fs::read(second.path().join(&name)).unwrap();
        assert!(
            once == twice,
            "two builds differ in {}",
            name.to_string_lossy()
        );
        assert!(
            committed == once,
            "data/{} differs from a fresh build",
            name.to_string_lossy()
        );
    }

    // The join report: joined, own facility, left out.
    let join = |name: &str| {
        let j = report
            .joins
            .iter()
            .find(|j| j.name == name)
            .unwrap_or_else(|| panic!("no join {name}"));
        (j.total, j.joined, j.own, j.unjoined.len() - j.own)
    };
    assert_eq!(
        join("届出 institutions → facilities"),
        (4305, 3473, 147, 685)
    );
    // 3,458 dental clinics in the 歯科 list; the 71 with 歯援診 and no ナビイ record become
    // `hic-113…` facilities, the 734 others without it are left out.
    assert_eq!(
        join("歯科 届出 institutions → facilities"),
        (3458, 2653, 71, 734)
    );
    // 82 rows: 17 offices on their visiting nurse station, 64 of their own, the placeholder row
    // (〇〇, tel 000-000-0000) left out.
    assert_eq!(
        join("定期巡回・随時対応 offices → visiting nurse stations"),
        (82, 17, 64, 1)
    );
    let dental = report
        .joins
        .iter()
        .find(|j| j.name.starts_with("歯科"))
        .unwrap();
    assert!(
        dental
            .unjoined
            .iter()
            .any(|u| u.starts_with("1130104158 吉田歯科 |")
                && u.ends_with("→ hic-1130104158 [home_visit_dental]")),
        "{:?}",
        &dental.unjoined[..5]
    );
}

#[test]
fn the_xlsx_reader_reads_the_medical_list_as_its_csv_conversion() {
    // The 医科 list comes as the published xlsx and as a CSV conversion made elsewhere; the
    // reader must see the same rows in the xlsx (the 歯科 list exists only as xlsx).
    let dir = Path::new("../shared/data-src/kouseikyoku-todokede-saitama");
    let xlsx = dir.join("11届出受理医療機関名簿（医科）埼玉r0710.xlsx");
    if !require("../shared/data-src (the 医科 届出 list)", xlsx.exists()) {
        return;
    }
    let rows = pallimap::data::build::xlsx::read_first_sheet(&xlsx).expect("read xlsx");
    let header = rows
        .iter()
        .position(|r| r.cells.iter().any(|c| c == "医療機関番号"))
        .expect("header row");
    let mut csv = csv::Reader::from_path(dir.join("todokede_saitama_r0710_all.csv")).unwrap();
    let csv_header: Vec<String> = csv
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let width = csv_header.len();
    let pad = |cells: &[String]| {
        let mut v = cells.to_vec();
        v.resize(width, String::new());
        v
    };
    assert_eq!(pad(&rows[header].cells), csv_header);
    let records: Vec<Vec<String>> = csv
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let sheet: Vec<Vec<String>> = rows[header + 1..].iter().map(|r| pad(&r.cells)).collect();
    assert_eq!(records.len(), 35541);
    assert_eq!(sheet.len(), records.len());
    for (i, (a, b)) in sheet.iter().zip(&records).enumerate() {
        assert_eq!(a, b, "data row {i}");
    }
}

fn dataset() -> &'static pallimap::data::Dataset {
    static DATASET: std::sync::OnceLock<pallimap::data::Dataset> = std::sync::OnceLock::new();
    DATASET.get_or_init(|| pallimap::data::files::read(Path::new("data")).expect("read data/"))
}

#[test]
fn the_geocoder_reference_covers_saitama_and_its_neighbours() {
    let ds = dataset();
    let mut prefs: Vec<&str> = ds.towns.iter().map(|t| &t.muni_code[..2]).collect();
    prefs.sort();
    prefs.dedup();
    assert_eq!(prefs, ["08", "09", "10", "11", "12", "13", "19", "20"]);
    // Every town belongs to a municipality of the dataset, with its area.
    let codes: std::collections::HashSet<&str> =
        ds.municipalities.iter().map(|m| m.code.as_str()).collect();
    assert!(
        ds.towns
            .iter()
            .all(|t| codes.contains(t.muni_code.as_str()))
    );
    let nerima = ds
        .municipalities
        .iter()
        .find(|m| m.code == "13120")
        .unwrap();
    assert_eq!(
        (
            nerima.name.as_str(),
            nerima.pref_code.as_str(),
            nerima.area_code.as_str()
        ),
        ("練馬区", "13", "1305")
    );
    assert!(nerima.geometry.is_none());
}

#[test]
fn addresses_across_the_border_are_placed_at_town_level() {
    let gaz = dataset().gazetteer();
    for (address, code, prefecture) in [
        ("東京都練馬区豊玉北6-12-1", "13120", "東京都"),
        ("群馬県高崎市高松町35-1", "10202", "群馬県"),
        ("千葉県千葉市中央区千葉港1-1", "12101", "千葉県"),
        ("長野県長野市大字鶴賀緑町1613", "20201", "長野県"),
        ("埼玉県さいたま市浦和区常盤6-4-4", "11107", "埼玉県"),
    ] {
        let m = gaz
            .geocode(address)
            .unwrap_or_else(|e| panic!("{address}: {e:?}"));
        assert_eq!(m.level, Placement::Town, "{address}: {m:?}");
        assert_eq!(m.municipality_code, code, "{address}");
        assert_eq!(m.prefecture, prefecture, "{address}");
    }
    let m = gaz.geocode("東京都練馬区豊玉北6-12-1").unwrap();
    assert_eq!(m.town.as_deref(), Some("豊玉北六丁目"));
}

#[test]
fn an_institution_listed_by_two_sources_is_one_facility() {
    // しらさき川越クリニック: ナビイ 「上野田町３５－８８」, 届出 「上野田町３５番８８」 with a newer
    // code than the 保険医療機関コード list gave the ナビイ record.
    let facilities = default_store().facilities().unwrap();
    assert!(facilities.iter().all(|f| f.id != "hic-1110414789"));
    let f = facilities
        .iter()
        .find(|f| f.id == "navii-1121125717200")
        .expect("the ナビイ record");
    assert_eq!(f.name, "しらさき川越クリニック");
    assert_eq!(f.identifiers.hic.as_deref(), Some("1110414789"));
    assert!(
        f.services
            .iter()
            .any(|s| s.kind == ServiceKind::HomeCareSupport)
    );
    assert!(f.contacts.iter().any(|c| c.value == "049-220-9900"));
}

#[test]
fn every_visiting_nurse_station_has_its_published_phone() {
    use pallimap::domain::{ContactKind, Visibility};
    let facilities = default_store().facilities().unwrap();
    let phone_from_copy = |f: &&pallimap::domain::Facility| {
        f.contacts.iter().any(|c| {
            c.kind == ContactKind::Phone && c.provenance.source == "kaigo-houmonkango-phones"
        })
    };
    let stations = facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::VisitingNurseStation);
    assert_eq!(stations.clone().filter(phone_from_copy).count(), 771);
    let f = facilities
        .iter()
        .find(|f| f.id == "kaigo-1110209528")
        .expect("朝日橋ひだまりクリニック 訪問看護");
    let phones: Vec<_> = f
        .contacts
        .iter()
        .filter(|c| c.kind == ContactKind::Phone)
        .collect();
    assert_eq!(phones.len(), 1);
    assert_eq!(phones[0].value, "048-226-8088");
    assert_eq!(phones[0].visibility, Visibility::Public);
    assert_eq!(phones[0].provenance.snapshot.as_deref(), Some("2026-07-12"));
}

fn facility<'a>(
    facilities: &'a [pallimap::domain::Facility],
    id: &str,
) -> &'a pallimap::domain::Facility {
    facilities
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no facility {id}"))
}

#[test]
fn home_visit_dental_is_every_notified_dental_home_care_clinic() {
    use pallimap::domain::facility::DentalTier;
    let facilities = default_store().facilities().unwrap();
    let dental_services: Vec<_> = facilities
        .iter()
        .flat_map(|f| f.services.iter().map(move |s| (f, s)))
        .filter(|(_, s)| s.kind == ServiceKind::HomeVisitDental)
        .collect();
    // The 歯科 list prints 歯援診１ 102 times and 歯援診２ 286 times; 10 clinics hold both and
    // count once, at the stronger tier 1: 378 clinics, each joined to ナビイ or its own facility.
    let from_dental_list = |tier: DentalTier| {
        dental_services
            .iter()
            .filter(|(_, s)| {
                s.provenance.source == "kouseikyoku-todokede-dental"
                    && s.attributes.dental_tier == Some(tier)
            })
            .count()
    };
    assert_eq!(from_dental_list(DentalTier::Tier1), 102);
    assert_eq!(from_dental_list(DentalTier::Tier2), 286 - 10);
    // Five more from the 医科 list: clinics with a dental department (行田協立診療所 …) and
    // 明海大学病院 (在宅療養支援歯科病院, no tier).
    let from_medical_list: Vec<&str> = dental_services
        .iter()
        .filter(|(_, s)| s.provenance.source == "kouseikyoku-todokede")
        .map(|(f, _)| f.id.as_str())
        .collect();
    assert_eq!(
        from_medical_list,
        [
            "hic-1111602804",
            "navii-1111103553600",
            "navii-1121102878500",
            "navii-1121109089800",
            "navii-1121122483500"
        ]
    );
    assert_eq!(dental_services.len(), 378 + 5);

    // One clinic listed with two codes (an old address, a new one): each code its own record,
    // the ナビイ record to the one with its exact address.
    let sonoda = facility(&facilities, "navii-1131125728800");
    assert_eq!(sonoda.name, "園田歯科医院");
    assert_eq!(sonoda.identifiers.hic.as_deref(), Some("1131000793"));
    let s = sonoda
        .services
        .iter()
        .find(|s| s.kind == ServiceKind::HomeVisitDental)
        .unwrap();
    assert_eq!(s.attributes.dental_tier, Some(DentalTier::Tier1));
    assert_eq!(
        s.attributes.notified_items,
        [
            "在宅患者歯科治療時医療管理料",
            "在宅歯科医療推進加算",
            "在宅療養支援歯科診療所１",
            "歯科訪問診療料の注15に規定する基準"
        ]
    );
    assert!(facilities.iter().all(|f| f.id != "hic-1131000793"));
    // A clinic missing from ナビイ is a facility of its own, placed from its address.
    let yoshida = facility(&facilities, "hic-1130104158");
    assert_eq!(
        (yoshida.name.as_str(), yoshida.kind),
        ("吉田歯科", FacilityKind::DentalClinic)
    );
    assert_eq!(yoshida.placement, Placement::Town);
}

#[test]
fn dental_clinics_have_the_notified_phone_and_a_fax_for_professionals_only() {
    use pallimap::domain::{Audience, ContactKind, Visibility, project};
    let facilities = default_store().facilities().unwrap();
    // Every FAX number of the dataset is for professionals.
    assert!(
        facilities
            .iter()
            .flat_map(|f| &f.contacts)
            .filter(|c| c.kind == ContactKind::Fax)
            .all(|c| c.visibility == Visibility::Professional)
    );
    let dental: Vec<_> = facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::DentalClinic)
        .collect();
    let with = |kind: ContactKind| {
        dental
            .iter()
            .filter(|f| {
                f.contacts
                    .iter()
                    .any(|c| c.kind == kind && c.provenance.source == "kouseikyoku-todokede-dental")
            })
            .count()
    };
    assert_eq!(
        (
            dental.len(),
            with(ContactKind::Phone),
            with(ContactKind::Fax)
        ),
        (2861, 2709, 1944)
    );

    // 松本歯科クリニック (歯科 list: 048-824-2300, FAX 048-824-2304).
    let f = facility(&facilities, "navii-1131105075600");
    assert_eq!(f.identifiers.hic.as_deref(), Some("1130101980"));
    let shown = |audience: Audience| -> Vec<(ContactKind, String)> {
        project(f, audience)
            .contacts
            .iter()
            .map(|c| (c.kind, c.value.clone()))
            .collect()
    };
    assert_eq!(
        shown(Audience::Public),
        [(ContactKind::Phone, "048-824-2300".to_string())]
    );
    assert_eq!(
        shown(Audience::Professional),
        [
            (ContactKind::Phone, "048-824-2300".to_string()),
            (ContactKind::Fax, "048-824-2304".to_string())
        ]
    );
}

#[test]
fn regular_visit_24h_is_on_its_visiting_nurse_station_or_a_facility_of_its_own() {
    use pallimap::domain::ContactKind;
    let facilities = default_store().facilities().unwrap();
    let offering: Vec<_> = facilities
        .iter()
        .filter(|f| f.offers(ServiceKind::RegularVisit24h))
        .collect();
    let (stations, own): (Vec<&pallimap::domain::Facility>, Vec<_>) = offering
        .into_iter()
        .partition(|f| f.kind == FacilityKind::VisitingNurseStation);
    assert_eq!((stations.len(), own.len()), (17, 64));
    // Every office of its own is `kaigo-<事業所番号>` with its published phone and point.
    for f in &own {
        assert_eq!(f.kind, FacilityKind::Other, "{}", f.id);
        assert_eq!(
            Some(f.id.as_str()),
            f.identifiers
                .kaigo
                .as_ref()
                .map(|k| format!("kaigo-{k}"))
                .as_deref()
        );
        assert!(
            f.contacts.iter().any(|c| c.kind == ContactKind::Phone),
            "{}",
            f.id
        );
        assert!(f.location.is_some(), "{}", f.id);
    }
    // ヘルパーステーションさきたま (1193700067) is the 定期巡回 side of 訪問看護ステーションさきたま,
    // same address (行田市本丸18-3) and name.
    let sakitama = facility(&facilities, "kaigo-1163790029");
    let s = sakitama
        .services
        .iter()
        .find(|s| s.kind == ServiceKind::RegularVisit24h)
        .unwrap();
    assert_eq!(
        s.attributes.notes.as_deref(),
        Some("事業所: ヘルパーステーションさきたま（介護保険事業所番号 1193700067）")
    );
    assert!(sakitama.offers(ServiceKind::VisitingNursing));
    assert!(facilities.iter().all(|f| f.id != "kaigo-1193700067"));
    // Another 事業所 at a station's address stays apart (ヘルパーステーション いぶき ≠ 訪問看護ステーション虹).
    let ibuki = facility(&facilities, "kaigo-1190200756");
    assert_eq!(ibuki.name, "ヘルパーステーション　いぶき");
    assert!(!facility(&facilities, "kaigo-1160290056").offers(ServiceKind::RegularVisit24h));
    // 定員 where published; the placeholder row of the list is no facility.
    let kashinoki = facility(&facilities, "kaigo-1161890037");
    assert!(
        kashinoki.services.iter().any(|s| s.kind == ServiceKind::RegularVisit24h
            && s.attributes.notes.as_deref()
                == Some("事業所: ヘルパーステーションかしの木（介護保険事業所番号 1191800398）、定員 10人"))
    );
    assert!(facilities.iter().all(|f| f.id != "kaigo-1171111111"));
}
