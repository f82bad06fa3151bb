//! The store on every backend: round trips, idempotent loads, provenance-aware upserts,
//! stable ids, all-or-nothing failure.

use pallimap::domain::*;
use pallimap::store::Store;

use crate::common::{backends, tiny_dataset};

#[test]
fn load_round_trips_every_field() {
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        assert!(!store.has_dataset().unwrap(), "{}", db.name);
        let ds = tiny_dataset();
        let s = pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        assert_eq!(
            (s.inserted, s.updated, s.unchanged),
            (3, 0, 0),
            "{}",
            db.name
        );
        assert!(store.has_dataset().unwrap());
        let mut expected = ds.facilities.clone();
        expected.sort_by(|a, b| a.id.cmp(&b.id));
        expected.iter_mut().for_each(|f| {
            f.canonicalize();
            // Every stored facility starts at version 1.
            f.version = 1;
        });
        assert_eq!(store.facilities().unwrap(), expected, "{}", db.name);
        assert_eq!(store.areas().unwrap(), ds.areas, "{}", db.name);
        assert_eq!(
            store.municipalities().unwrap(),
            ds.municipalities,
            "{}",
            db.name
        );
        assert_eq!(store.towns().unwrap(), ds.towns, "{}", db.name);
    }
}

#[test]
fn reloading_the_same_dataset_changes_nothing() {
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        let ds = tiny_dataset();
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        let log = store.change_log_len().unwrap();
        let s = pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        assert_eq!(
            (s.inserted, s.updated, s.unchanged),
            (0, 0, 3),
            "{}",
            db.name
        );
        assert_eq!(store.facilities().unwrap().len(), 3, "{}", db.name);
        assert_eq!(store.change_log_len().unwrap(), log, "{}", db.name);
        // Reopening runs no migration twice and keeps the data.
        drop(store);
        let store = Store::open(&db.url).unwrap();
        assert_eq!(store.facilities().unwrap().len(), 3, "{}", db.name);
    }
}

#[test]
fn load_never_overwrites_facts_people_entered() {
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        let mut ds = tiny_dataset();
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();

        // A coordinator corrects the clinic's name and adds bed status to the hospital's PCU.
        let mut facilities = store.facilities().unwrap();
        let coordinator = Provenance {
            origin: Origin::Coordinator,
            source: "coordinator:1104".into(),
            snapshot: None,
        };
        let clinic = facilities
            .iter_mut()
            .find(|f| f.kind == FacilityKind::Clinic)
            .unwrap();
        clinic.name = "テスト在宅クリニック（訂正）".into();
        clinic.provenance = coordinator.clone();
        store.put_facility(clinic, "coordinator:1104").unwrap();
        let hospital = facilities
            .iter_mut()
            .find(|f| f.kind == FacilityKind::Hospital)
            .unwrap();
        let pcu = hospital
            .services
            .iter_mut()
            .find(|s| s.kind == ServiceKind::Pcu)
            .unwrap();
        pcu.capacity = Some(Capacity {
            status: CapacityStatus::Limited,
            free_beds: Some(1),
            waiting_days: None,
            note: None,
            updated_by: "facility:navii-1111070000010".into(),
            updated_at: "2026-11-21T20:00:00Z".into(),
            via: None,
            sample: false,
            visibility: Visibility::Professional,
        });
        store.put_facility(hospital, "facility").unwrap();

        // The next dataset renames both and drops the hospital's backup service.
        for f in &mut ds.facilities {
            f.name.push_str("（新）");
        }
        ds.facilities[0]
            .services
            .retain(|s| s.kind == ServiceKind::Pcu);
        ds.facilities[0].services[0].attributes.since = Some("2019-05-01".into());
        let s = pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        // The clinic's core facts belong to the coordinator now, so it does not change at all.
        assert_eq!(
            (s.inserted, s.updated, s.unchanged),
            (0, 2, 1),
            "{}",
            db.name
        );
        assert_eq!(s.kept_non_dataset, 1, "{}", db.name);

        let after = store.facilities().unwrap();
        let clinic = after
            .iter()
            .find(|f| f.kind == FacilityKind::Clinic)
            .unwrap();
        assert_eq!(clinic.name, "テスト在宅クリニック（訂正）", "{}", db.name);
        assert_eq!(clinic.provenance, coordinator);
        let hospital = after
            .iter()
            .find(|f| f.kind == FacilityKind::Hospital)
            .unwrap();
        assert_eq!(hospital.name, "テスト第一病院（新）");
        let pcu = hospital
            .services
            .iter()
            .find(|s| s.kind == ServiceKind::Pcu)
            .unwrap();
        assert_eq!(pcu.attributes.since.as_deref(), Some("2019-05-01"));
        assert_eq!(
            pcu.capacity.as_ref().map(|c| c.free_beds),
            Some(Some(1)),
            "{}",
            db.name
        );
        let backup = hospital
            .services
            .iter()
            .find(|s| s.kind == ServiceKind::BackupHospital)
            .unwrap();
        assert_eq!(backup.status, ServiceStatus::Inactive);
        assert!(store.change_log_len().unwrap() > 0);
    }
}

#[test]
fn ids_never_change_when_a_registry_id_is_reissued_under_a_new_record() {
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        let mut ds = tiny_dataset();
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        // Same ナビイ ID, but the builder now proposes another id for it.
        ds.facilities[0].id = "hic-1110000001".into();
        let s = pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        assert_eq!(s.inserted, 0, "{}", db.name);
        let ids: Vec<String> = store
            .facilities()
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(
            ids,
            [
                "kaigo-1160000001",
                "navii-1111070000010",
                "navii-1121070000020"
            ]
        );
    }
}

#[test]
fn a_failing_load_leaves_nothing_behind() {
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        let mut ds = tiny_dataset();
        pallimap::app::load_dataset(&store, &ds, "test").unwrap();
        let before = store.facilities().unwrap();
        // Two different new facilities claiming one ナビイ ID violate a unique index midway.
        let mut a = ds.facilities[1].clone();
        a.id = "gen-aaaa".into();
        a.identifiers.navii = Some("9999999999999".into());
        let mut b = a.clone();
        b.id = "gen-bbbb".into();
        ds.facilities.push(a);
        ds.facilities.push(b);
        ds.areas[0].name = "変更".into();
        assert!(
            pallimap::app::load_dataset(&store, &ds, "test").is_err(),
            "{}",
            db.name
        );
        assert_eq!(store.facilities().unwrap(), before, "{}", db.name);
        assert_eq!(store.areas().unwrap()[0].name, "さいたま", "{}", db.name);
    }
}

#[test]
fn unreachable_or_unwritable_databases_fail_with_one_line() {
    let e = Store::open("postgres://nobody@127.0.0.1:1/none")
        .err()
        .expect("must fail");
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot open database postgres://nobody@127.0.0.1:1/none"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    let e = Store::open("sqlite:///proc/forbidden/x.sqlite3")
        .err()
        .expect("must fail");
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot open database sqlite:///proc/forbidden/x.sqlite3"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}
