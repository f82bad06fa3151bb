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
    assert_eq!(default_store().municipalities().unwrap().len(), 72);
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

#[test]
fn the_builder_reproduces_data_byte_for_byte() {
    let src = Path::new("../shared/data-src");
    if !src.join("README.md").exists() {
        eprintln!("builder reproduction skipped: ../shared/data-src is not on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    pallimap::data::build::build(src, "11", tmp.path()).expect("build");
    let mut names: Vec<_> = std::fs::read_dir("data")
        .unwrap()
        .map(|e| e.unwrap().file_name())
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
