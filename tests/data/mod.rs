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
    // ナビイ 2025-06-01 lists for 埼玉県, plus 届出 institutions missing from it.
    assert_eq!(count(FacilityKind::Pharmacy), 3194);
    assert_eq!(count(FacilityKind::DentalClinic), 2790);
    assert_eq!(count(FacilityKind::VisitingNurseStation), 771);
    assert!(count(FacilityKind::Hospital) >= 327);
    assert!(count(FacilityKind::Clinic) >= 3292);
    // 関東信越厚生局 届出 (令和7年9月1日): 緩和ケア病棟入院料1/2 and 在宅療養後方支援病院.
    assert_eq!(offering(ServiceKind::Pcu), 20);
    assert_eq!(offering(ServiceKind::BackupHospital), 33);
    assert_eq!(offering(ServiceKind::PalliativeOutpatient), 19);
    assert_eq!(offering(ServiceKind::CancerPainManagement), 396);
    assert_eq!(offering(ServiceKind::HomeCancerCare), 557);
    assert_eq!(offering(ServiceKind::VisitingNursing), 771);
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

#[test]
fn the_builder_reproduces_data_byte_for_byte() {
    let src = Path::new("../shared/data-src");
    if !require(
        "../shared/data-src (the public sources)",
        src.join("README.md").exists(),
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    pallimap::data::build::build(src, "11", tmp.path()).expect("build");
    // Every built file (data/sample/ is written by hand, not built).
    let mut names: Vec<_> = std::fs::read_dir("data")
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        let committed = std::fs::read(Path::new("data").join(&name)).unwrap();
        let rebuilt = std::fs::read(tmp.path().join(&name)).unwrap_or_default();
        assert!(
            committed == rebuilt,
            "data/{} differs from a fresh build",
            name.to_string_lossy()
        );
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
