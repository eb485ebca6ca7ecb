//! The import engine called as the TUI calls it: progress reports and cancellation.

use hailer::engine::import::{self, ImportError, ImportKind, ImportRequest};
use hailer::store::{Store, prospects};

fn big_csv(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
    let mut text = String::from("firstname,lastname,company\n");
    for i in 0..rows {
        text.push_str(&format!("First{i},Last{i},Company {} SA\n", i % 97));
    }
    let path = dir.join("big.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn cancelling_midway_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_csv(dir.path(), 5000);
    let mut store = Store::open_in(&dir.path().join("data")).unwrap();
    let req = ImportRequest {
        kind: ImportKind::Prospects,
        file,
        sheet: None,
        overrides: vec![],
        sample: false,
    };
    let mut calls = 0;
    let err = import::run(&mut store, &req, &mut |p| {
        calls += 1;
        assert_eq!(p.total, 5000);
        p.done < 2048
    })
    .unwrap_err();
    assert!(matches!(err, ImportError::Cancelled { .. }), "{err}");
    assert!(calls >= 3, "progress was reported while rows were written");
    assert_eq!(prospects::count(store.conn()).unwrap(), 0);
    assert_eq!(hailer::store::companies::count(store.conn()).unwrap(), 0);
    assert!(foreign_keys_on(&store), "back on after a cancelled import");

    // The same import, not cancelled, stores everything and reports the end.
    let mut last = None;
    let summary = import::run(&mut store, &req, &mut |p| {
        last = Some(p);
        true
    })
    .unwrap();
    assert_eq!(summary.imported, 5000);
    assert_eq!(last.unwrap().done, 5000);
    assert_eq!(prospects::count(store.conn()).unwrap(), 5000);
    assert_eq!(hailer::store::companies::count(store.conn()).unwrap(), 97);
    assert!(foreign_keys_on(&store), "back on after an import");
    // Every prospect's company exists: the importer keeps the reference it does not check.
    let orphans: i64 = store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM prospects p LEFT JOIN companies c ON c.key = p.company_key
             WHERE c.key IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}

/// The importer turns foreign-key checks off for its bulk insert only.
fn foreign_keys_on(store: &Store) -> bool {
    store
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
        .unwrap()
        == 1
}
