//! The company key agrees with the table in assets/company_keys.csv, which the Python side of
//! the import benchmark (benches/hailer_norm.py) is checked against too.

use hailer::engine::import::normalize::company_key;

#[test]
fn company_keys_match_the_shared_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/company_keys.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut checked = 0;
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(company_key(&row[0]), &row[1], "company_key({:?})", &row[0]);
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} names checked");
}
