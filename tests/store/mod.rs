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

/// The dataset as `serve` loads it, streamed from its directory: a malformed line in the
/// middle of the facilities (checksum right, so only parsing finds it) fails the whole load,
/// after earlier batches were written, and the error names the file and the line.
#[test]
fn a_streamed_load_with_a_bad_line_leaves_nothing_behind() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut ds = tiny_dataset();
    // More facilities than one batch of the load, so a batch is written before the bad line.
    let template = ds.facilities[0].clone();
    for i in 0..4_500 {
        let mut f = template.clone();
        f.id = format!("gen-{i:06x}");
        f.identifiers = Default::default();
        ds.facilities.push(f);
    }
    ds.facilities.sort_by(|a, b| a.id.cmp(&b.id));
    pallimap::data::files::write(&dir, &ds, "test").unwrap();
    // Streamed, it is what the dataset says.
    let db = crate::common::sqlite_db();
    let store = Store::open(&db.url).unwrap();
    let s = pallimap::app::load_dataset_dir(&store, &dir, "test", None).unwrap();
    assert_eq!(s.inserted, ds.facilities.len());
    let want = pallimap::data::files::read(&dir).unwrap().facilities;
    let mut got = store.facilities().unwrap();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got.len(), want.len());
    assert!(
        got.iter()
            .zip(&want)
            .all(|(g, w)| g.id == w.id && g.name == w.name)
    );

    // Line 4,001 broken, the manifest's checksum made to match.
    let path = dir.join("facilities.jsonl.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[4_000] = "{\"id\": \"gen-broken\"";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let mpath = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&mpath).unwrap()).unwrap();
    manifest["files"]["facilities.jsonl.gz"]["sha256"] =
        pallimap::data::files::sha256_hex(&bytes).into();
    std::fs::write(&mpath, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let db = crate::common::sqlite_db();
    let store = Store::open(&db.url).unwrap();
    let e = pallimap::app::load_dataset_dir(&store, &dir, "test", None).expect_err("bad line");
    let message = e.to_string();
    assert!(
        message.contains("facilities.jsonl.gz") && message.contains("4001"),
        "{message}"
    );
    assert!(!store.has_dataset().unwrap());
    assert!(store.facilities().unwrap().is_empty());
    assert!(store.areas().unwrap().is_empty());
    assert_eq!(store.change_log_len().unwrap(), 0);
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

/// Links, their one use, proposals and decisions, and bed status with rules, on every backend.
#[test]
fn links_proposals_and_admissions_round_trip_on_every_backend() {
    use pallimap::store::{DecisionError, Edit, EditError, NewProposal};
    const HOSPITAL: &str = "navii-1111070000010";
    for db in backends() {
        let store = Store::open(&db.url).unwrap();
        pallimap::app::load_dataset(&store, &tiny_dataset(), "test").unwrap();
        let edit = Edit {
            actor: "update_link:1",
            source: "update_link",
            at: "2026-12-01T12:00:00Z",
        };
        let link = store
            .create_link(
                HOSPITAL,
                "hash-1",
                false,
                "test",
                "2026-12-01T00:00:00Z",
                Some("2026-12-15T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            store.link_by_hash("hash-1").unwrap().as_ref(),
            Some(&link),
            "{}",
            db.name
        );
        assert_eq!(store.link_by_hash("hash-2").unwrap(), None);
        let rules: AdmissionRules = serde_json::from_value(serde_json::json!({
            "routes": [{"kind": "fax", "value": "048-000-0101",
                        "hours": [{"days": ["mon", "holiday"], "from": "17:00", "to": "09:00"}]}],
            "eligibility": {"registered_in_advance": true},
            "max_stay_days": 14
        }))
        .unwrap();
        let cap = Capacity {
            status: CapacityStatus::Limited,
            free_beds: Some(1),
            waiting_days: Some(7),
            note: Some("要相談".into()),
            updated_by: "update_link:1".into(),
            updated_at: "2026-12-01T12:00:00Z".into(),
            via: Some("update_link".into()),
            sample: true,
            visibility: Visibility::Professional,
        };
        let (f, pid) = store
            .use_link(
                &link,
                1,
                &edit,
                |f| {
                    let s = f
                        .services
                        .iter_mut()
                        .find(|s| s.kind == ServiceKind::Pcu)
                        .unwrap();
                    s.capacity = Some(cap.clone());
                    s.admission_rules = Some(rules.clone());
                    Ok(())
                },
                vec![NewProposal::correction(r#"{"notes":"x"}"#.into(), None)],
            )
            .unwrap();
        assert_eq!(f.version, 2);
        let stored = store.facility(HOSPITAL).unwrap().unwrap();
        let pcu = stored
            .services
            .iter()
            .find(|s| s.kind == ServiceKind::Pcu)
            .unwrap();
        assert_eq!(pcu.capacity.as_ref(), Some(&cap), "{}", db.name);
        assert_eq!(pcu.admission_rules.as_ref(), Some(&rules), "{}", db.name);
        assert_eq!(
            store.sample_facility_ids().unwrap(),
            vec![HOSPITAL.to_string()]
        );
        // The one-time link is used: a second use writes nothing, not even its proposal.
        let again = store.use_link(
            &link,
            2,
            &edit,
            |_| Ok(()),
            vec![NewProposal::correction("{}".into(), None)],
        );
        assert!(matches!(again, Err(EditError::Refused(_))), "{}", db.name);
        assert_eq!(store.proposals(None).unwrap().len(), 1);
        assert!(
            store
                .link_by_hash("hash-1")
                .unwrap()
                .unwrap()
                .used_at
                .is_some()
        );
        // A stale version writes nothing and leaves the link unused.
        let standing = store
            .create_link(
                HOSPITAL,
                "hash-3",
                true,
                "test",
                "2026-12-01T00:00:00Z",
                None,
            )
            .unwrap();
        assert!(matches!(
            store.use_link(&standing, 1, &edit, |_| Ok(()), vec![]),
            Err(EditError::Stale { .. })
        ));
        // Decisions are final.
        let pid = pid[0];
        let decided = store
            .decide_proposal(pid, false, Some("no"), &edit, None)
            .unwrap();
        assert_eq!(
            (decided.status.as_str(), decided.reason.as_deref()),
            ("rejected", Some("no"))
        );
        assert!(matches!(
            store.decide_proposal(pid, true, None, &edit, None),
            Err(DecisionError::Decided(_))
        ));
        assert!(store.revoke_link(HOSPITAL, standing.id).unwrap());
        assert!(!store.revoke_link("navii-0", standing.id).unwrap());
        assert_eq!(store.links_of(HOSPITAL).unwrap().len(), 2);

        // An answer set entered and decided at once, with its after-hours fact.
        let (f, aid) = store
            .record_answers(
                HOSPITAL,
                2,
                &edit,
                |f| {
                    f.after_hours = Some(AfterHours {
                        available: true,
                        provenance: Provenance {
                            origin: Origin::SampleSurvey,
                            source: "survey:clinic@1".into(),
                            snapshot: Some("2026-12-01".into()),
                        },
                    });
                    Ok(())
                },
                NewProposal {
                    changes: r#"{"after_hours":true}"#.into(),
                    note: None,
                    survey: Some(("clinic".into(), 1)),
                    respondent: Some("事務長".into()),
                },
                "sample",
            )
            .unwrap();
        assert_eq!(f.version, 3, "{}", db.name);
        assert_eq!(
            store.facility(HOSPITAL).unwrap().unwrap().after_hours,
            f.after_hours
        );
        let a = store.proposal(aid).unwrap().unwrap();
        assert_eq!(
            (
                a.status.as_str(),
                a.via.as_str(),
                a.survey.as_deref(),
                a.survey_version
            ),
            ("approved", "sample", Some("clinic"), Some(1)),
            "{}",
            db.name
        );
        assert_eq!(a.respondent.as_deref(), Some("事務長"));
        assert_eq!(store.delete_sample_answers().unwrap(), 1);

        // Pharmacy groups round-trip, and every change is in the change log.
        let seq = store.latest_change().unwrap();
        let g = PharmacyGroup {
            id: 0,
            name: "グループ".into(),
            members: vec!["navii-1".into(), "navii-2".into()],
            licence_valid_until: "2027-03-31".into(),
            transfer_hours: Some(3),
            note: Some("メモ".into()),
            sample: true,
            updated_by: String::new(),
            updated_at: String::new(),
        };
        let saved = store.put_pharmacy_group(None, &g, &edit).unwrap().unwrap();
        assert_eq!(
            PharmacyGroup {
                id: saved.id,
                updated_by: edit.actor.into(),
                updated_at: edit.at.into(),
                ..g.clone()
            },
            saved,
            "{}",
            db.name
        );
        let renamed = PharmacyGroup {
            name: "新グループ".into(),
            ..saved.clone()
        };
        let again = store
            .put_pharmacy_group(Some(saved.id), &renamed, &edit)
            .unwrap()
            .unwrap();
        assert_eq!(again.name, "新グループ");
        assert_eq!(store.pharmacy_groups().unwrap(), vec![again]);
        assert!(
            store
                .put_pharmacy_group(Some(9999), &g, &edit)
                .unwrap()
                .is_none()
        );
        assert!(store.delete_pharmacy_group(saved.id, &edit).unwrap());
        assert!(!store.delete_pharmacy_group(saved.id, &edit).unwrap());
        assert!(store.pharmacy_groups().unwrap().is_empty());
        let changes = store.changes_since(seq, 100).unwrap().unwrap();
        assert_eq!(
            changes.1,
            vec![("pharmacy_group".to_string(), saved.id.to_string())],
            "{}",
            db.name
        );
    }
}

/// An import's writes on every backend: created and replaced in one transaction, an unchanged
/// row writes nothing, a stale version or a failing row rolls the whole import back.
#[test]
fn imports_write_all_or_nothing_on_every_backend() {
    const HOSPITAL: &str = "navii-1111070000010";
    for db in crate::common::backends() {
        let store = Store::open(&db.url).unwrap();
        pallimap::app::load_dataset(&store, &crate::common::tiny_dataset(), "test").unwrap();
        let edit = pallimap::store::Edit {
            actor: "test",
            source: "import:t.csv:sha256:0",
            at: "2026-12-01T00:00:00Z",
        };
        let mut new = crate::common::facility(
            "gen-00000000000000aa",
            FacilityKind::Clinic,
            "取込診療所",
            35.87,
            139.64,
        );
        new.version = 0;
        let mut changed = store.facility(HOSPITAL).unwrap().unwrap();
        changed.name = "テスト第一病院（改）".into();
        let same = store.facility("navii-1121070000020").unwrap().unwrap();
        let before = store.change_log_len().unwrap();
        let (created, updated) = store
            .import_facilities(
                &edit,
                vec![Ok(new.clone()), Ok(changed.clone()), Ok(same.clone())].into_iter(),
            )
            .unwrap();
        assert_eq!((created, updated), (1, 1), "{}", db.name);
        assert_eq!(store.facility(&new.id).unwrap().unwrap().version, 1);
        let h = store.facility(HOSPITAL).unwrap().unwrap();
        assert_eq!(
            (h.name.as_str(), h.version),
            ("テスト第一病院（改）", 2),
            "{}",
            db.name
        );
        let after = store.change_log_len().unwrap();
        assert!(after > before);
        // A stale version (the hospital is at 2 now) or a failing row: nothing written.
        let mut again = new.clone();
        again.name = "取込診療所（改）".into();
        again.version = 1;
        let stale = store.import_facilities(
            &edit,
            vec![Ok(again.clone()), Ok(changed.clone())].into_iter(),
        );
        assert!(
            matches!(stale, Err(pallimap::store::EditError::Refused(_))),
            "{}",
            db.name
        );
        let failing = store.import_facilities(
            &edit,
            vec![Ok(again), Err("row 3 is rejected".into())].into_iter(),
        );
        assert!(failing.is_err());
        assert_eq!(store.change_log_len().unwrap(), after, "{}", db.name);
        assert_eq!(store.facility(&new.id).unwrap().unwrap().name, "取込診療所");
    }
}
