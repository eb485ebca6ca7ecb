//! The import and export commands, run as a user would: the real binary on real files,
//! against a real SQLite database in a temporary directory.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hailer::store::{Store, messages, prospects};
use predicates::prelude::*;
use tempfile::TempDir;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn hailer(&self) -> Command {
        Command::from_std(self.hailer_std())
    }
    /// The same command as a `std::process::Command`, for tests that spawn it themselves.
    fn hailer_std(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("hailer"));
        cmd.current_dir(self.dir.path())
            .env_remove("HAILER_CONFIG")
            .env_remove("HAILER_DATA_DIR")
            .arg("--data-dir")
            .arg(self.data_dir());
        cmd
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    /// `hailer export prospects --format xlsx` into the test directory; the file's path.
    fn export_prospects_xlsx(&self) -> PathBuf {
        let xlsx = self.dir.path().join("out.xlsx");
        self.hailer()
            .args(["export", "prospects", "--format", "xlsx", "--output"])
            .arg(&xlsx)
            .assert()
            .success();
        xlsx
    }
    /// `hailer export TABLE --format csv --output -`: the file's text.
    fn export_csv(&self, table: &str) -> String {
        let out = self
            .hailer()
            .args(["export", table, "--format", "csv", "--output", "-"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
    fn import(&self, kind: &str, file: &Path) -> assert_cmd::assert::Assert {
        self.hailer().arg("import").arg(kind).arg(file).assert()
    }
    fn prospects(&self) -> Vec<prospects::ProspectRow> {
        let store = Store::open_in(&self.data_dir()).unwrap();
        prospects::list(store.conn()).unwrap()
    }
    fn names(&self) -> Vec<String> {
        self.prospects()
            .into_iter()
            .map(|p| format!("{} {} @ {}", p.firstname, p.lastname, p.company_key))
            .collect()
    }
}

const EXPECTED_SHEET_ROWS: [&str; 3] = [
    "Élodie Durand @ acme",
    "Jean-Pierre de la Fontaine @ boulangerie dupont",
    "Zoë Müller @ nordlicht",
];

#[test]
fn every_spreadsheet_format_imports_the_same_rows() {
    for ext in ["xlsx", "xls", "ods"] {
        let env = Env::new();
        env.import("prospects", &data(&format!("prospects.{ext}")))
            .success()
            .stdout(predicate::str::contains(
                "3 prospects imported, 1 duplicate skipped",
            ))
            .stdout(predicate::str::contains("1 rejected"))
            .stdout(predicate::str::contains(
                "sheet \"Contacts\", header on row 3",
            ))
            .stdout(predicate::str::contains("row 8: missing lastname"));
        assert_eq!(env.names(), EXPECTED_SHEET_ROWS, "{ext}");
        let elodie = &env.prospects()[0];
        assert_eq!(elodie.title.as_deref(), Some("Directrice achats"));
        // Numbers come in as text without ".0"; dates as ISO dates; original headers kept.
        let extra: serde_json::Value = serde_json::from_str(&elodie.extra).unwrap();
        assert_eq!(extra["Téléphone"], "612345678", "{ext}");
        assert_eq!(extra["Rencontré le"], "2026-10-03", "{ext}");
    }
}

/// The sheet of tests/data/merged.xls (see make_fixtures.py) as XLSX: a title merged over
/// A1:D2, the header on row 3, "Acme SA" merged over C4:C6, "Globex" over C8:C10 (row 9 blank).
fn merged_xlsx(path: &Path) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Prospects").unwrap();
    let plain = Format::new();
    sheet
        .merge_range(0, 0, 1, 3, "Prospects salon 2026", &plain)
        .unwrap();
    sheet
        .write_row(2, 0, ["Prénom", "Nom", "Société", "Poste"])
        .unwrap();
    let people = [
        Some(("Jean", "Dupont", "CEO")),
        Some(("Marie", "Curie", "CTO")),
        Some(("Paul", "Martin", "")),
        Some(("Zoë", "Müller", "")),
        Some(("Ana", "Silva", "")),
        None,
        Some(("Léa", "Roux", "")),
    ];
    for (i, person) in people.iter().enumerate() {
        if let Some((first, last, title)) = person {
            let row = 3 + i as u32;
            sheet.write(row, 0, *first).unwrap();
            sheet.write(row, 1, *last).unwrap();
            if !title.is_empty() {
                sheet.write(row, 3, *title).unwrap();
            }
        }
    }
    sheet.merge_range(3, 2, 5, 2, "Acme SA", &plain).unwrap();
    sheet.write(6, 2, "Nordlicht GmbH").unwrap();
    sheet.merge_range(7, 2, 9, 2, "Globex", &plain).unwrap();
    book.save(path).unwrap();
}

/// A company cell merged down over its contacts' rows gives every one of them the company,
/// in XLSX, XLS and ODS alike; the summary says which merged cells were filled. A title merged over several rows and
/// columns makes no row of its own, and a blank row under a merged cell stays blank.
#[test]
fn vertically_merged_cells_are_filled_down() {
    let env = Env::new();
    let xlsx = env.dir.path().join("merged.xlsx");
    merged_xlsx(&xlsx);
    for file in [xlsx, data("merged.xls"), data("merged.ods")] {
        let env = Env::new();
        let out = env
            .hailer()
            .args(["import", "prospects", "--json"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let name = file.display();
        assert_eq!(
            (
                &summary["imported"],
                &summary["rejected"],
                &summary["header_row"]
            ),
            (&6.into(), &0.into(), &3.into()),
            "{name}: {summary:#}"
        );
        assert_eq!(
            summary["warnings"],
            serde_json::json!([
                "merged cells filled down: C4:C6 \"Acme SA\", C8:C10 \"Globex\"; each row a \
                 vertically merged cell covers was read with its value (3 cells filled)"
            ]),
            "{name}"
        );
        assert_eq!(
            env.names(),
            [
                "Jean Dupont @ acme",
                "Marie Curie @ acme",
                "Paul Martin @ acme",
                "Zoë Müller @ nordlicht",
                "Ana Silva @ globex",
                "Léa Roux @ globex",
            ],
            "{name}"
        );
        // Only the region's first column is filled: the titles stay where they were.
        let titles: Vec<Option<String>> = env.prospects().into_iter().map(|p| p.title).collect();
        assert_eq!(titles[..3], [Some("CEO".into()), Some("CTO".into()), None]);
        // The people summary says it too.
        env.hailer()
            .args(["import", "prospects"])
            .arg(&file)
            .assert()
            .success()
            .stdout(predicate::str::contains("merged cells filled down: C4:C6"));
    }
}

/// Numbers come in as the spreadsheet shows them: a postcode or phone number stored as a
/// number in a zero-padding format keeps its leading zeros (and the format's separators);
/// whole numbers never end in ".0" and long ones are never in scientific notation.
#[test]
fn xlsx_number_formats_keep_leading_zeros() {
    use rust_xlsxwriter::{Format, Workbook};
    let env = Env::new();
    let file = env.dir.path().join("numbers.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "Prénom",
        "Nom",
        "Société",
        "Code postal",
        "Téléphone",
        "Mobile",
        "Effectif",
        "Grand",
        "Prix",
    ];
    sheet.write_row(0, 0, headers).unwrap();
    sheet.write_row(1, 0, ["Jean", "Dupont", "Acme"]).unwrap();
    let postcode = Format::new().set_num_format("00000");
    let phone = Format::new().set_num_format("00 00 00 00 00");
    let price = Format::new().set_num_format("0.00");
    sheet
        .write_number_with_format(1, 3, 1234, &postcode)
        .unwrap();
    sheet
        .write_number_with_format(1, 4, 612345678, &phone)
        .unwrap();
    sheet.write_number(1, 5, 33612345678.0).unwrap();
    sheet.write_number(1, 6, 250.0).unwrap();
    sheet.write_number(1, 7, 1e16).unwrap();
    sheet.write_number_with_format(1, 8, 12.5, &price).unwrap();
    book.save(&file).unwrap();

    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains("1 prospect imported"));
    let extra: serde_json::Value = serde_json::from_str(&env.prospects()[0].extra).unwrap();
    assert_eq!(
        extra,
        serde_json::json!({
            "Code postal": "01234",
            "Téléphone": "06 12 34 56 78",
            "Mobile": "33612345678",
            "Effectif": "250",
            "Grand": "10000000000000000",
            "Prix": "12.5",
        })
    );
}

/// A number comes in as the sheet shows it, the same from XLSX, XLS and ODS (see
/// make_fixtures.py, `NUMBERS`): a postcode or phone number in a zero-padding format keeps
/// its zeros and separators, a percentage reads as one with its decimals, a text cell keeps
/// its leading zero, a date is an ISO date; other formats give the plain number.
#[test]
fn numbers_read_as_shown_in_every_spreadsheet_format() {
    for ext in ["xlsx", "xls", "ods"] {
        let env = Env::new();
        env.import("prospects", &data(&format!("numbers.{ext}")))
            .success()
            .stdout(predicate::str::contains("1 prospect imported"));
        let extra: serde_json::Value = serde_json::from_str(&env.prospects()[0].extra).unwrap();
        assert_eq!(
            extra,
            serde_json::json!({
                "Code postal": "75001",
                "CP": "01234",
                "Téléphone": "06 12 34 56 78",
                "SIREN": "552 100 554",
                "Effectif": "250",
                "Part": "15%",
                "Marge": "12.50%",
                "Prix": "12.5",
                "Code": "01234",
                "Créé le": "2026-10-03",
            }),
            "{ext}"
        );
    }
}

/// An XLSX or ODS written by a program that does not calculate formulas (openpyxl, odfpy: see
/// make_fixtures.py) holds formulas without values. Such a cell is never read as a value nor
/// silently as an empty one: a required field rejects the row naming the cell and the
/// formula, another is left empty with a note, and the summary says how to get the values.
#[test]
fn a_formula_without_a_computed_value_is_named_never_read() {
    for file in ["uncomputed.xlsx", "uncomputed.ods"] {
        formula_without_a_computed_value_is_named_never_read(file);
    }
}

fn formula_without_a_computed_value_is_named_never_read(file: &str) {
    let env = Env::new();
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(data(file))
        .output()
        .unwrap();
    assert!(out.status.success(), "{file}: {out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&v["imported"], &v["rejected"]),
        (&3.into(), &1.into()),
        "{file}: {v:#}"
    );
    let reject = &v["rejects"][0];
    assert_eq!(
        (&reject["row"], &reject["field"], &reject["value"]),
        (&3.into(), &"company".into(), &"=C2".into())
    );
    assert_eq!(
        reject["reason"],
        "company: cell Prospects!C3 holds the formula =C2 with no computed value (the file was \
         written by a program that does not calculate formulas: open it in Excel or \
         LibreOffice and save it again)"
    );
    let notes: Vec<(i64, &str)> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["row"].as_i64().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        notes,
        [
            (
                2,
                "formula with no computed value left empty in title (Prospects!D2 =UPPER(\"ceo\"))"
            ),
            (
                4,
                "formula with no computed value left empty in email (Prospects!E4 \
                 =LOWER(A4)&\"@globex.test\")"
            ),
        ]
    );
    let warning = v["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with(
            "4 formula cells of sheet \"Prospects\" hold no computed value (D2 =UPPER(\"ceo\"), \
             C3 =C2, E4 =LOWER(A4)&\"@globex.test\" and 1 more)"
        ),
        "{file}: {warning}"
    );
    // No formula text was stored as a value; the row of a formula alone is no prospect.
    let stored: Vec<(String, Option<String>, Option<String>)> = env
        .prospects()
        .into_iter()
        .map(|p| (p.firstname, p.title, p.email))
        .collect();
    assert_eq!(
        stored,
        [
            ("Jean".to_string(), None, None),
            ("Paul".to_string(), None, None),
            ("Léa".to_string(), Some("CTO".to_string()), None),
        ]
    );
}

#[test]
fn sheet_option_picks_another_sheet_and_names_missing_ones() {
    let env = Env::new();
    env.hailer()
        .args(["import", "prospects"])
        .arg(data("prospects.xlsx"))
        .args(["--sheet", "Archive"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 prospects imported"));
    assert_eq!(
        env.names(),
        ["Old Contact @ blue harbor", "Older Contact @ blue harbor"]
    );
    env.hailer()
        .args(["import", "prospects"])
        .arg(data("prospects.xlsx"))
        .args(["--sheet", "Nope"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("sheet \"Nope\" not found"))
        .stderr(predicate::str::contains("Notes, Contacts, Archive"));
}

#[test]
fn csv_with_each_delimiter_and_encoding() {
    for (delim, name) in [
        (",", "comma"),
        (";", "semicolon"),
        ("\t", "tab"),
        ("|", "pipe"),
    ] {
        let text = [
            "firstname,lastname,company,email".replace(',', delim),
            "Hélène,Lefèvre,Société Générale des Tests S.A.,helene@sgt.test".replace(',', delim),
            // A quoted field holding every candidate delimiter.
            "\"Ana, María; x|y\",Núñez,Blue Harbor Inc.,"
                .replace(',', delim)
                .replacen(
                    &format!("\"Ana{delim} María; x|y\""),
                    "\"Ana, María; x|y\"",
                    1,
                ),
        ]
        .join("\r\n");
        for (enc, bytes) in [
            ("utf8", text.as_bytes().to_vec()),
            (
                "bom",
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            ),
            (
                "cp1252",
                encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
            ),
        ] {
            let env = Env::new();
            let file = env.write(&format!("{name}-{enc}.csv"), &bytes);
            env.import("prospects", &file)
                .success()
                .stdout(predicate::str::contains(
                    "2 prospects imported, 0 duplicates skipped, 0 rejected",
                ));
            let rows = env.prospects();
            assert_eq!(rows[0].firstname, "Hélène", "{name} {enc}");
            assert_eq!(rows[0].company_key, "societe generale des tests");
            assert_eq!(rows[0].email.as_deref(), Some("helene@sgt.test"));
            assert_eq!(rows[1].firstname, "Ana, María; x|y", "{name} {enc}");
        }
    }
}

/// UTF-16 saved without a BOM ("Unicode text" from some tools) is read like UTF-16 with one;
/// binary content with NUL bytes in the same places is still refused.
#[test]
fn utf16_without_a_bom_is_detected() {
    let text = "prénom\tnom\tsociété\temail\r\n\
                Hélène\tLefèvre\tSociété Générale\thelene@sgt.test\r\n\
                Zoë\tMüller\tNordlicht GmbH\t\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, bytes) in [("le", le), ("be", be)] {
        let env = Env::new();
        let file = env.write(&format!("utf16{name}.txt"), &bytes);
        env.import("prospects", &file)
            .success()
            .stdout(predicate::str::contains(
                "2 prospects imported, 0 duplicates skipped, 0 rejected",
            ))
            .stdout(predicate::str::contains(format!(
                "UTF-16{} without BOM, delimiter tab",
                name.to_uppercase()
            )));
        let rows = env.prospects();
        assert_eq!(rows[0].firstname, "Hélène", "{name}");
        assert_eq!(rows[0].company_key, "societe generale");
        assert_eq!(rows[0].email.as_deref(), Some("helene@sgt.test"));
        assert_eq!(rows[1].lastname, "Müller", "{name}");
    }

    // NULs in every other byte, but control characters once decoded: binary, refused.
    let env = Env::new();
    let binary: Vec<u8> = (0..400u16)
        .flat_map(|i| [if i % 3 == 0 { 0x01 } else { b'a' }, 0])
        .collect();
    let file = env.write("blob.csv", &binary);
    env.import("prospects", &file)
        .code(4)
        .stderr(predicate::str::contains("blob.csv"))
        .stderr(predicate::str::contains("not a CSV or spreadsheet file"));
    assert!(!env.data_dir().join("hailer.db").exists());
}

#[test]
fn windows_1252_french_headers_with_title_and_blank_rows() {
    let text = "Export du 01/11/2026;;\n\nPrénom;Nom de famille;Raison sociale;Fonction;Site web\n\
                François;Le Goff;Groupe Lumière SAS;Gérant;https://www.lumiere.test/\n\n\
                Zoé;d'Arcy;L'Étoile du Nord SARL;;etoile-du-nord.test\n";
    let env = Env::new();
    let file = env.write("fr.csv", &encoding_rs::WINDOWS_1252.encode(text).0);
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains("Windows-1252"))
        .stdout(predicate::str::contains("header on line 3"))
        .stdout(predicate::str::contains("2 prospects imported"));
    let rows = env.prospects();
    assert_eq!(rows[0].lastname, "Le Goff");
    assert_eq!(rows[0].domain.as_deref(), Some("lumiere.test"));
    assert_eq!(rows[1].company_key, "letoile du nord");
    let store = Store::open_in(&env.data_dir()).unwrap();
    let company = hailer::store::companies::get(store.conn(), "lumiere")
        .unwrap()
        .unwrap();
    assert_eq!(company.domain.as_deref(), Some("lumiere.test"));
    assert_eq!(company.domain_source.as_deref(), Some("import"));
}

/// A CSV whose lines mix UTF-8 and Windows-1252 (a row saved or pasted from a Windows
/// program) is read line by line, each in its own encoding: no accent is garbled, no row is
/// lost, and the summary names the odd lines out.
#[test]
fn a_csv_mixing_utf8_and_windows_1252_reads_each_line_in_its_own() {
    let env = Env::new();
    let mut bytes = b"firstname,lastname,company\n".to_vec();
    for i in 0..40 {
        if i == 20 {
            // Line 22, from a Windows program: "Anaïs,L’Hôte,Café du Théâtre".
            bytes.extend_from_slice(b"Ana\xefs,L\x92H\xf4te,Caf\xe9 du Th\xe9\xe2tre\n");
        }
        bytes.extend_from_slice(format!("Hélène{i},Lefèvre,Société {i} SA\n").as_bytes());
    }
    let file = env.write("mixed.csv", &bytes);
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains(
            "41 prospects imported, 0 duplicates skipped, 0 rejected \
             (CSV (UTF-8 and Windows-1252, delimiter ','),",
        ))
        .stdout(predicate::str::contains(
            "the file mixes encodings: line 22 is Windows-1252, the others UTF-8",
        ));
    let rows = env.prospects();
    assert_eq!(rows.len(), 41);
    assert_eq!(rows[0].firstname, "Hélène0");
    assert_eq!(rows[0].lastname, "Lefèvre");
    assert_eq!(rows[0].company_key, "societe 0");
    assert_eq!(
        (
            &*rows[20].firstname,
            &*rows[20].lastname,
            &*rows[20].company
        ),
        ("Anaïs", "L’Hôte", "Café du Théâtre")
    );
    assert_eq!(rows[20].company_key, "cafe du theatre");
    assert_eq!(rows[40].company, "Société 39 SA");

    // Mostly Windows-1252 by count of accents: the UTF-8 lines keep theirs all the same (a
    // message body must not go out as "VoilÃ "). --json lists the warning.
    let mut bytes = [
        "company,subject,body",
        "Société 1 SA,Bonjour,Voilà ce que nous faisons.",
        "Café Crème SARL,Été,\"Déjà vu ? Voilà.\r\nHélène\"",
    ]
    .join("\n")
    .into_bytes();
    bytes.extend_from_slice(
        b"\nTh\xe9\xe2tre d\x92\xc9t\xe9,Caf\xe9 offert,\"R\xe9serv\xe9 \xe0 nos \
          fid\xe8les, d\xe9j\xe0 \xe9puis\xe9.\"\n",
    );
    let file = env.write("mixed-messages.csv", &bytes);
    let out = env
        .hailer()
        .args(["import", "messages", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&summary["imported"], &summary["rejected"]),
        (&3.into(), &0.into())
    );
    assert_eq!(
        summary["warnings"],
        serde_json::json!([
            "the file mixes encodings: line 5 is Windows-1252, the others UTF-8; \
             each line was read in its own encoding"
        ])
    );
    let store = Store::open_in(&env.data_dir()).unwrap();
    let mut bodies: Vec<(String, String)> = messages::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|m| (m.company, m.body))
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            ("Café Crème SARL", "Déjà vu ? Voilà.\nHélène"),
            ("Société 1 SA", "Voilà ce que nous faisons."),
            ("Théâtre d’Été", "Réservé à nos fidèles, déjà épuisé."),
        ]
        .map(|(c, b)| (c.to_string(), b.to_string()))
    );
}

/// Files in one encoding read as before: no warning.
#[test]
fn a_csv_in_one_encoding_gets_no_encoding_warning() {
    let text = "prénom;nom;société\nHélène;Lefèvre;Société Générale\nZoé;Müller;Café SA\n";
    for (name, bytes) in [
        ("utf8.csv", text.as_bytes().to_vec()),
        (
            "cp1252.csv",
            encoding_rs::WINDOWS_1252.encode(text).0.into_owned(),
        ),
    ] {
        let env = Env::new();
        let file = env.write(name, &bytes);
        let out = env
            .hailer()
            .args(["import", "prospects", "--json"])
            .arg(&file)
            .output()
            .unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["warnings"], serde_json::json!([]), "{name}");
        assert_eq!(summary["imported"], 2, "{name}");
        assert_eq!(
            env.names(),
            ["Hélène Lefèvre @ societe generale", "Zoé Müller @ cafe"],
            "{name}"
        );
    }
}

#[test]
fn bad_rows_are_rejected_with_reasons_and_good_rows_kept() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,email,website\n\
          Jane,Doe,Acme SA,jane.doe@acme.test,acme.test\n\
          ,Smith,Acme SA,,\n\
          John,,,,\n\
          Bob,Stone,Acme SA,not-an-email,\n\
          Eve,Adams,Acme SA,,not a domain\n\
          Max,Payne,!!!,,\n\
          jane,DOE,ACME S.A.,,\n\
          Jane,Doe,Acme,,\n\
          Kim,Lee,Acme SA,k:lee@acme.test,\n\
          FirstName,LastName,Company,Email,Website\n\
          Rae,Sun,Acme SA,Mailto:Rae.Sun@ACME.TEST,\n",
    );
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains(
            "5 prospects imported, 2 duplicates skipped, 4 rejected (CSV (UTF-8, delimiter ','), \
             header on line 1)",
        ))
        // An address the outbox would refuse is left out, with the reason; the person, whom
        // find can still give an address, is kept.
        .stdout(predicate::str::contains(
            "line 10: invalid email \"k:lee@acme.test\" (character ':' is not allowed in a local \
             part): email left empty",
        ))
        // A second file pasted below the first brings its header row: not a person.
        .stdout(predicate::str::contains(
            "line 11: the header row again (files joined together?)",
        ))
        .stdout(predicate::str::contains("line 3: missing firstname"))
        .stdout(predicate::str::contains(
            "line 4: missing lastname, company",
        ))
        .stdout(predicate::str::contains(
            "line 5: invalid email \"not-an-email\" (no @): email left empty",
        ))
        .stdout(predicate::str::contains(
            "line 6: invalid domain or website \"not a domain\": domain left unset",
        ))
        .stdout(predicate::str::contains(
            "line 7: company \"!!!\" has no letters or digits",
        ));
    // Importing the same file again: all duplicates, nothing new.
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains(
            "0 prospects imported, 7 duplicates skipped",
        ));
    let stored = env.prospects();
    assert_eq!(stored.len(), 5);
    let bob = stored.iter().find(|p| p.firstname == "Bob").unwrap();
    assert_eq!(
        (bob.email.as_deref(), bob.company.as_str()),
        (None, "Acme SA")
    );
    let eve = stored.iter().find(|p| p.firstname == "Eve").unwrap();
    assert_eq!(eve.domain, None);
    assert_eq!(stored[4].email.as_deref(), Some("Rae.Sun@acme.test"));
}

/// Two columns whose headers both name a field (English and French, say): the first is read,
/// the second where the first is empty, and the summary says so, with every field's column.
#[test]
fn a_field_with_two_columns_reads_the_second_where_the_first_is_empty() {
    let env = Env::new();
    let file = env.write(
        "two.csv",
        "firstname,lastname,Email,Courriel,Entreprise,Société\n\
         Ann,Lee,,ann@a.test,Acme,\n\
         Bob,Ray,b@b.test,bob@other.test,Beta,Beta SA\n"
            .as_bytes(),
    );
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains("2 prospects imported"))
        .stdout(predicate::str::contains(
            "columns C \"Email\" and D \"Courriel\" both read as email: C is used, and D where \
             it is empty",
        ))
        .stdout(predicate::str::contains("email = \"Email\""));
    let stored: Vec<_> = env
        .prospects()
        .into_iter()
        .map(|p| (p.firstname, p.email, p.company))
        .collect();
    assert_eq!(
        stored,
        [
            ("Ann".into(), Some("ann@a.test".into()), "Acme".into()),
            ("Bob".into(), Some("b@b.test".into()), "Beta SA".into()),
        ]
    );
}

/// Two `--map` options that contradict each other are refused before anything is read.
#[test]
fn contradicting_maps_are_refused() {
    let env = Env::new();
    let file = env.write("m.csv", b"first,last,org\nA,B,C\n");
    for (maps, says) in [
        (
            ["firstname=first", "company=org", "lastname=org"],
            "give one column to two fields",
        ),
        (
            ["company=org", "company=last", "firstname=first"],
            "map the same field twice",
        ),
    ] {
        let mut cmd = env.hailer();
        cmd.args(["import", "prospects"]).arg(&file);
        for m in maps {
            cmd.args(["--map", m]);
        }
        cmd.assert().code(4).stderr(predicate::str::contains(says));
    }
    assert!(env.prospects().is_empty());
}

#[test]
fn json_summary_is_machine_readable() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"first name;last name;company;email\nA;B;C;\n;B;C;\nD;E;F;\n;;G;\n",
    );
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imported"], 2);
    assert_eq!(v["rejected"], 2);
    assert_eq!(v["rejects"][0]["row"], 3);
    assert_eq!(v["columns"]["firstname"], "first name");
    // The field at fault, and its value when it has one, for scripts.
    assert_eq!(v["rejects"][0]["field"], "firstname");
    assert_eq!(v["rejects"][0].get("value"), None);
    assert_eq!(v["rejects"][1].get("field"), None, "two fields missing");
}

#[test]
fn map_option_maps_unknown_headers() {
    let env = Env::new();
    let file = env.write("p.csv", b"Who,Family,Org\nAna,Lopez,Acme SA\n");
    env.import("prospects", &file)
        .code(4)
        .stderr(predicate::str::contains("no header row"))
        .stderr(predicate::str::contains("firstname, lastname, company"))
        .stderr(predicate::str::contains("Who | Family | Org"));
    env.hailer()
        .args(["import", "prospects"])
        .arg(&file)
        .args([
            "--map",
            "firstname=Who",
            "--map",
            "lastname=family",
            "--map",
            "company=ORG",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 prospect imported"));
    env.hailer()
        .args(["import", "prospects"])
        .arg(&file)
        .args(["--map", "nickname=Who"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field"));
}

/// A `--map` whose header is not in the file is named, alone, with the file's headers; a
/// mapping that takes the column another field needs says which and what to do.
#[test]
fn map_errors_name_the_mapping_at_fault() {
    let env = Env::new();
    let file = env.write(
        "map.csv",
        b"Prospects to call\nWho,Family,Org,company\nAna,Lopez,Acme SA,x\n",
    );
    let map = |args: &[&str]| {
        let mut cmd = env.hailer();
        cmd.args(["import", "prospects"]).arg(&file);
        for a in args {
            cmd.args(["--map", a]);
        }
        cmd.assert()
    };
    let out = map(&["firstname=Nope", "lastname=Family", "company=Org"]).code(4);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "hailer: {}: --map firstname=\"Nope\": no column \"Nope\" \
             (header on line 2: Who | Family | Org | company)",
            file.display()
        )
    );

    let file2 = env.write(
        "map2.csv",
        b"Who,Surname,company,Org\nAna,Lopez,Acme SA,Acme\n",
    );
    env.hailer()
        .args(["import", "prospects"])
        .arg(&file2)
        .args(["--map", "firstname=company"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "no column left for company: --map firstname=\"company\" takes column \"company\"",
        ))
        .stderr(predicate::str::contains(
            "so map company to another column with --map company=HEADER (header on line 1: \
             Who | Surname | company | Org)",
        ))
        .stderr(predicate::str::contains("no header row").not());
    // Mapping both is fine: a column may be mapped explicitly.
    env.hailer()
        .args(["import", "prospects"])
        .arg(&file2)
        .args(["--map", "firstname=company", "--map", "company=Org"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 prospect imported"));
    assert_eq!(env.names(), ["Acme SA Lopez @ acme"]);

    // The QA case: both problems of the row at once.
    map(&["firstname=company"])
        .code(4)
        .stderr(predicate::str::contains(
            "no column for lastname: map one with --map lastname=HEADER",
        ))
        .stderr(predicate::str::contains("no column left for company"));
}

/// "Database locked" is SQLite's error code, not words: a missing file whose name says
/// "database is locked" is a bad input (exit 4) with no hint about the database, which is
/// not locked.
#[test]
fn a_file_named_like_a_lock_error_is_not_a_locked_database() {
    let env = Env::new();
    env.import("prospects", &env.dir.path().join("database is locked.csv"))
        .code(4)
        .stderr(predicate::str::contains("database is locked.csv"))
        .stderr(predicate::str::contains("stayed locked").not());
}

/// A file that cannot be read changes nothing: the database is byte-for-byte the same rows.
#[test]
fn unreadable_files_fail_and_write_nothing() {
    let env = Env::new();
    env.import("prospects", &data("prospects.xlsx")).success();
    let before = env.names();

    let xlsx = std::fs::read(data("prospects.xlsx")).unwrap();
    let truncated = env.write("truncated.xlsx", &xlsx[..xlsx.len() / 2]);
    env.import("prospects", &truncated)
        .code(4)
        .stderr(predicate::str::contains("truncated.xlsx"))
        .stderr(predicate::str::contains("XLSX"));

    let png = env.write("photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01");
    env.import("prospects", &png)
        .code(4)
        .stderr(predicate::str::contains("photo.csv"))
        .stderr(predicate::str::contains("not a CSV or spreadsheet"));

    let cut_csv = env.write(
        "cut.csv",
        b"firstname,lastname,company,notes\nNew,Person,Acme SA,\"a note that was cut",
    );
    env.import("prospects", &cut_csv)
        .code(4)
        .stderr(predicate::str::contains("cut.csv"))
        .stderr(predicate::str::contains("line 2 is never closed"));

    let empty = env.write("empty.csv", b"");
    env.import("prospects", &empty)
        .code(4)
        .stderr(predicate::str::contains("empty"));

    let no_header = env.write("noheader.csv", b"a,b,c\nNew,Person,Acme\n");
    env.import("prospects", &no_header).code(4);

    env.import("prospects", &env.dir.path().join("missing.csv"))
        .code(4)
        .stderr(predicate::str::contains("missing.csv"));

    assert_eq!(env.names(), before);
    let store = Store::open_in(&env.data_dir()).unwrap();
    let imports: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM imports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        imports, 1,
        "failed imports leave no trace in the import log"
    );
}

/// Truncated XLS and ODS files fail with the file named, like XLSX and CSV above.
#[test]
fn truncated_xls_and_ods_fail_and_write_nothing() {
    let env = Env::new();
    env.import("prospects", &data("prospects.xlsx")).success();
    let before = env.names();
    for (name, fixture) in [("cut.xls", "prospects.xls"), ("cut.ods", "prospects.ods")] {
        let bytes = std::fs::read(data(fixture)).unwrap();
        let cut = env.write(name, &bytes[..bytes.len() / 3]);
        env.import("prospects", &cut)
            .code(4)
            .stderr(predicate::str::contains(name));
    }
    assert_eq!(env.names(), before);
}

/// A damaged spreadsheet fails like any unreadable file, even where the reader library would
/// panic on it (calamine slices XLS sectors with offsets read from the file): exit code 4, the
/// file named, no panic message, and no database left behind by a first import.
#[test]
fn cut_spreadsheets_fail_cleanly_at_any_length() {
    for fixture in ["prospects.xls", "prospects.xlsx", "prospects.ods"] {
        let bytes = std::fs::read(data(fixture)).unwrap();
        for k in 1..10 {
            let env = Env::new();
            let name = format!("cut{k}-{fixture}");
            let cut = env.write(&name, &bytes[..bytes.len() * k / 10]);
            let out = env
                .hailer()
                .arg("import")
                .arg("prospects")
                .arg(&cut)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(4), "{name}: {stderr}");
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            assert!(stderr.contains(&name), "{name}: {stderr}");
            let db = env.data_dir().join("hailer.db");
            assert!(!db.exists(), "{name}: {} was left behind", db.display());
        }
    }
}

/// A stray value in the last cell of a sheet (XFD1048576) neither aborts the process on a
/// 17-billion-cell allocation nor hides the data: the rows import, the stray one is rejected.
#[test]
fn a_value_in_the_last_cell_of_a_sheet_does_not_blow_up_the_import() {
    let env = Env::new();
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(data("far_cell.xlsx"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["imported"], 1);
    assert_eq!(summary["rejects"][0]["row"], 1_048_576);
    assert_eq!(env.names(), ["Ana Silva @ far cell"]);
}

/// An XLS that claims a sheet larger than the format allows (a damaged DIMENSIONS record or
/// cell position) is refused before the reader library sizes a block of billions of cells.
#[test]
fn an_xls_claiming_cells_beyond_the_format_is_refused_not_aborted() {
    let xls = std::fs::read(data("prospects.xls")).unwrap();
    // The first sheet's DIMENSIONS record (type 0x0200, 14 bytes) and its first cell record.
    let dims = xls
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
        .unwrap();
    let mut first_row_past_last = xls.clone();
    first_row_past_last[dims + 5] = 9;
    let mut cell_far_right = xls.clone();
    let label = xls
        .windows(2)
        .enumerate()
        .position(|(i, w)| i > dims && (w == [0xFD, 0x00] || w == [0x04, 0x02]))
        .unwrap();
    cell_far_right[label + 6..label + 8].copy_from_slice(&[0xFF, 0xFF]);
    for (name, bytes) in [
        ("dims.xls", first_row_past_last),
        ("cell.xls", cell_far_right),
    ] {
        let env = Env::new();
        let file = env.write(name, &bytes);
        let out = env
            .hailer()
            .arg("import")
            .arg("prospects")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{name}: {stderr}");
        assert!(stderr.contains(name), "{stderr}");
        assert!(stderr.contains("beyond IV65536"), "{stderr}");
        assert!(!env.data_dir().join("hailer.db").exists());
    }
}

/// A LinkedIn Connections export: its `URL` column is each person's profile, never their
/// company's domain, and a French `Site` column (a location) is no domain either.
/// A personal mail provider given as a company's website (gmail.com, hotmail.fr, …) is no
/// company domain: find would guess i.j@gmail.com and scrape gmail.com. Left unset with a note,
/// as a profile URL is; the person is imported.
#[test]
fn a_personal_mail_provider_is_not_a_company_website() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,website\n\
          I,Jay,Web5,gmail.com\n\
          K,Lay,Web6,https://www.hotmail.fr/\n\
          M,Nay,Web7,web7.test\n",
    );
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains(
            "line 2: website \"gmail.com\" is a personal mail provider, not the company's own \
             site: domain left unset",
        ))
        .stdout(predicate::str::contains(
            "line 3: website \"https://www.hotmail.fr/\"",
        ))
        .stdout(predicate::str::contains("3 prospects imported"));
    let store = Store::open_in(&env.data_dir()).unwrap();
    let domains: Vec<(String, Option<String>)> = hailer::store::companies::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|c| (c.key, c.domain))
        .collect();
    assert_eq!(
        domains,
        [
            ("web5".to_string(), None),
            ("web6".to_string(), None),
            ("web7".to_string(), Some("web7.test".to_string())),
        ]
    );
}

#[test]
fn profile_urls_and_locations_are_not_company_domains() {
    let env = Env::new();
    let connections = env.write(
        "Connections.csv",
        b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n\
          Jean,Dupont,https://www.linkedin.com/in/jdupont,,Acme SA,CEO,01 Jan 2025\n",
    );
    env.import("prospects", &connections).success();
    let sites = env.write(
        "sites.csv",
        "Prénom;Nom;Société;Site;Site web\n\
         Marie;Curie;Radium;Lyon;https://fr.linkedin.com/company/radium\n\
         Paul;Durand;Foo;Siège;https://www.foo.test/contact\n"
            .as_bytes(),
    );
    let out = env
        .hailer()
        .arg("import")
        .arg("prospects")
        .arg(&sites)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("1 row with a note"), "{stdout}");
    assert!(stdout.contains("line 2: website"), "{stdout}");
    assert!(stdout.contains("linkedin.com"), "{stdout}");
    assert!(stdout.contains("0 rejected"), "{stdout}");

    let store = Store::open_in(&env.data_dir()).unwrap();
    let domains: Vec<(String, Option<String>)> = hailer::store::companies::list(store.conn())
        .unwrap()
        .into_iter()
        .map(|c| (c.key, c.domain))
        .collect();
    assert_eq!(
        domains,
        [
            ("acme".to_string(), None),
            ("foo".to_string(), Some("foo.test".to_string())),
            ("radium".to_string(), None),
        ]
    );
    let curie = env
        .prospects()
        .into_iter()
        .find(|p| p.lastname == "Curie")
        .unwrap();
    assert!(curie.extra.contains("Lyon"), "{}", curie.extra);
}

/// Extra columns are named after the imported file's headers, so the export's header row is
/// as untrusted as its cells: a header that starts a formula is neutralised too, and comes
/// back as it was on a re-import.
#[test]
fn export_neutralizes_formulas_in_header_names() {
    let env = Env::new();
    let file = env.write(
        "hdr.csv",
        b"firstname,lastname,company,=1+1,@SUM(A1)\nAda,Lovelace,Engines,x,y\n",
    );
    env.import("prospects", &file).success();
    let csv = env.export_csv("prospects");
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",'=1+1,'@SUM(A1)"), "{header}");

    let xlsx = env.export_prospects_xlsx();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let range = calamine::Reader::worksheet_range(&mut book, "Prospects").unwrap();
    let headers: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(headers.contains(&"'=1+1".to_string()), "{headers:?}");

    let again = Env::new();
    let exported = again.write("exported.csv", csv.as_bytes());
    again.import("prospects", &exported).success();
    let extra = &again.prospects()[0].extra;
    assert!(extra.contains("\"=1+1\":\"x\""), "{extra}");
}

/// A hidden sheet is never picked on its own (it holds old data or lookups), and when several
/// visible sheets have a header that fits, the first is imported and the others are named as
/// not imported.
#[test]
fn hidden_sheets_are_skipped_and_other_fitting_sheets_named() {
    let env = Env::new();
    let out = env
        .hailer()
        .arg("import")
        .arg("prospects")
        .arg(data("sheets.xlsx"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("sheet \"Paris\""), "{stdout}");
    assert!(
        stdout.contains("not imported, though their header fits too: Lyon"),
        "{stdout}"
    );
    assert_eq!(env.names(), ["ParisA X @ paris"]);

    let out = env
        .hailer()
        .args(["import", "prospects", "--json", "--sheet", "Old"])
        .arg(data("sheets.xlsx"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["sheet"], "Old");
    assert_eq!(summary["other_sheets"], serde_json::json!([]));
}

/// The other sheets are only looked at for a header: an XLSX sheet is read no further than
/// its first rows, so one whose later rows could not even be loaded (values spread over more
/// cells than a sheet may take) is still named as fitting, and costs no full parse.
#[test]
fn other_fitting_sheets_are_judged_by_their_first_rows_only() {
    let env = Env::new();
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, first) in [("Paris", "Anne"), ("Lyon", "Luc")] {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for (c, h) in ["Prénom", "Nom", "Société"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in [first, "Martin", name].iter().enumerate() {
            sheet.write_string(1, c as u16, *v).unwrap();
        }
        if name == "Lyon" {
            // Far below the header: 4,000 rows with a value in column XFD, 65 million cells
            // once laid out as rows.
            for r in 30..4_030 {
                sheet.write_string(r, 16_383, "x").unwrap();
            }
        }
    }
    let file = env.dir.path().join("two-sheets.xlsx");
    book.save(&file).unwrap();

    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["sheet"], "Paris");
    assert_eq!(summary["other_sheets"], serde_json::json!(["Lyon"]));
    assert_eq!(env.names(), ["Anne Martin @ paris"]);
    // Read whole, that sheet is refused: the look above stopped before its stray values.
    env.hailer()
        .args(["import", "prospects", "--sheet", "Lyon"])
        .arg(&file)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("sheet \"Lyon\" is too large"));
}

/// Importing the same person again with details the first file lacked fills them in: an
/// email found since is stored, never one that overwrites a stored value.
#[test]
fn a_reimport_fills_empty_fields_without_overwriting() {
    let env = Env::new();
    let a = env.write(
        "a.csv",
        b"firstname,lastname,company,title,city\nJean,Dupont,Acme,,Lyon\n",
    );
    env.import("prospects", &a)
        .success()
        .stdout(predicate::str::contains("1 prospect imported"));
    let b = env.write(
        "b.csv",
        b"firstname,lastname,company,email,title,city,phone\n\
          Jean,Dupont,Acme,jean@acme.test,CEO,Paris,0102\n\
          Jean,Dupont,Acme,jd@acme.test,CTO,Nice,0304\n",
    );
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &summary["imported"],
            &summary["updated"],
            &summary["duplicates"]
        ),
        (&0.into(), &1.into(), &1.into())
    );
    let p = &env.prospects()[0];
    assert_eq!(p.email.as_deref(), Some("jean@acme.test"));
    assert_eq!(p.title.as_deref(), Some("CEO"));
    let extra: serde_json::Value = serde_json::from_str(&p.extra).unwrap();
    assert_eq!(extra, serde_json::json!({"city": "Lyon", "phone": "0102"}));

    env.import("prospects", &b)
        .success()
        .stdout(predicate::str::contains(
            "0 prospects imported, 2 duplicates skipped, 0 rejected",
        ));

    // The imports log keeps each import's counts, the updated prospects too.
    let store = Store::open_in(&env.data_dir()).unwrap();
    let mut log = store
        .conn()
        .prepare("SELECT imported, updated, duplicates FROM imports ORDER BY id")
        .unwrap();
    let counts: Vec<(i64, i64, i64)> = log
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(counts, [(1, 0, 0), (0, 1, 1), (0, 0, 2)]);
}

/// `hailer import log` lists every import that went through, oldest first, as CSV or JSON,
/// with each one's counts; an import that failed is not in it, and an import logged before
/// the updated count was kept shows it unknown (empty, null).
#[test]
fn import_log_lists_the_imports_as_csv_or_json() {
    let env = Env::new();
    // Nothing imported yet: the header alone.
    env.hailer()
        .args(["import", "log"])
        .assert()
        .success()
        .stdout("id,created_at,kind,file,sheet,imported,updated,duplicates,replaced,rejected\n");
    let a = env.write(
        "a.csv",
        b"firstname,lastname,company\nJean,Dupont,Acme\nAnn,,Acme\n",
    );
    let b = env.write(
        "b.csv",
        b"firstname,lastname,company,email\nJean,Dupont,Acme,jean@acme.test\n",
    );
    let m = env.write("m.csv", b"company,subject,body\nAcme,Hello,Hi there\n");
    env.import("prospects", &a).success();
    env.import("prospects", &b).success();
    env.import("messages", &m).success();
    env.import("prospects", &env.write("bad.csv", b"x,y\n1,2\n"))
        .code(4);
    // An import logged by a version that did not count updates.
    let store = Store::open_in(&env.data_dir()).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO imports (kind, file, sheet, imported, duplicates, rejected, created_at)
             VALUES ('prospects', 'old, \"quoted\".csv', NULL, 5, 1, 0, 0)",
            [],
        )
        .unwrap();
    drop(store);

    let out = env.hailer().args(["import", "log"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let file = |p: &Path| p.display().to_string();
    let without_dates: Vec<Vec<String>> =
        rows.iter().map(|r| [&r[..1], &r[2..]].concat()).collect();
    let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        without_dates,
        [
            // A CSV has no sheet (it is not one named after the file).
            row(&["1", "prospects", &file(&a), "", "1", "0", "0", "0", "1"]),
            row(&["2", "prospects", &file(&b), "", "0", "1", "0", "0", "0"]),
            row(&["3", "messages", &file(&m), "", "1", "0", "0", "0", "0"]),
            row(&[
                "4",
                "prospects",
                "old, \"quoted\".csv",
                "",
                "5",
                "",
                "1",
                "0",
                "0"
            ]),
        ]
    );
    // Dates in RFC 3339, as `suppress list` gives them.
    for r in &rows {
        chrono::DateTime::parse_from_rfc3339(&r[1]).unwrap();
    }
    assert_eq!(rows[3][1], "1970-01-01T00:00:00+00:00");

    let out = env
        .hailer()
        .args(["import", "log", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 4);
    assert_eq!(log[1]["file"], file(&b).as_str());
    assert_eq!(log[1]["updated"], 1);
    assert!(log[1]["created_at"].as_i64().unwrap() > 0);
    assert_eq!(log[3]["updated"], serde_json::Value::Null);
    assert_eq!(log[3]["sheet"], serde_json::Value::Null);

    // A log that cannot be written whole exits 1, like an export.
    for json in [false, true] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = env.hailer_std();
        cmd.args(["import", "log"]).stdout(full);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "json {json}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot write the imports log"),
            "{out:?}"
        );
    }
    // `log` takes no file: a usage error, not an import.
    env.hailer()
        .args(["import", "log", "a.csv"])
        .assert()
        .code(2);
}

/// A failed import into a data directory without a database leaves no database behind.
#[test]
fn a_failed_first_import_creates_no_database() {
    let env = Env::new();
    let cut = env.write("cut.csv", b"firstname,lastname,company\nA,B,\"never closed");
    env.import("prospects", &cut).code(4);
    env.import("prospects", &env.dir.path().join("missing.csv"))
        .code(4);
    let db = env.data_dir().join("hailer.db");
    assert!(!db.exists(), "{} was left behind", db.display());
    // The next good import works as on a fresh machine.
    env.import("prospects", &data("prospects.xlsx")).success();
    assert!(!env.names().is_empty());
}

#[test]
fn messages_import_multiline_bodies_duplicates_and_replacement() {
    let env = Env::new();
    let file = env.write(
        "m.csv",
        "Société;Objet;Corps\n\
         Acme SA;Bonjour {prenom};\"Bonjour {prenom},\r\n\r\nNous aidons {societe}.\"\n\
         ACME S.A.;Bonjour {prenom};\"Bonjour {prenom},\r\n\r\nNous aidons {societe}.\"\n\
         acme;Autre objet;Autre corps\n\
         Nordlicht GmbH;;Body without subject\n\
         Blue Harbor Inc.;Hello {firstname|there};Hi!\n"
            .as_bytes(),
    );
    env.import("messages", &file)
        .success()
        .stdout(predicate::str::contains(
            "2 messages imported, 1 duplicate skipped, 0 replaced, 2 rejected",
        ))
        .stdout(predicate::str::contains(
            "line 8: company \"acme\" already has a different message on line 2",
        ))
        .stdout(predicate::str::contains("line 9: missing subject"));
    let store = Store::open_in(&env.data_dir()).unwrap();
    let all = messages::list(store.conn()).unwrap();
    assert_eq!(all[0].body, "Bonjour {prenom},\n\nNous aidons {societe}.");
    drop(store);
    // A later file with new text for the same company replaces the message.
    let newer = env.write(
        "m2.csv",
        b"company,subject,body\nAcme,New subject,New body\n",
    );
    env.import("messages", &newer)
        .success()
        .stdout(predicate::str::contains(
            "0 messages imported, 0 duplicates skipped, 1 replaced",
        ));
    let store = Store::open_in(&env.data_dir()).unwrap();
    let acme = messages::list(store.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.company_key == "acme")
        .unwrap();
    assert_eq!(acme.subject, "New subject");
}

#[test]
fn export_csv_neutralizes_formulas_and_starts_with_the_contract_columns() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,notes\n=HYPERLINK(\"http://evil.test\"),Doe,Acme SA,+33 6 12\n@SUM,-Minus,Acme SA,safe\n",
    );
    env.import("prospects", &file).success();
    let out = env
        .hailer()
        .args(["export", "prospects", "--format", "csv", "--output", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("firstname,lastname,company,")
    );
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\""),
        "{text}"
    );
    assert!(text.contains("'@SUM,'-Minus"), "{text}");
    assert!(text.contains("'+33 6 12"), "{text}");
    assert!(
        !text.contains(",=") && !text.contains(",+") && !text.contains(",@"),
        "{text}"
    );
}

/// `--delimiter ';' --bom`: the CSV Excel in a French locale opens in columns with its
/// accents. Formulas are neutralised as in any export, cells holding the delimiter are quoted,
/// and the import reads the file back as it was.
#[test]
fn export_csv_for_french_excel_with_semicolons_and_a_bom() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        "prénom,nom,société,notes\n\
         Hélène,Lefèvre,Société Générale,=HYPERLINK(\"http://evil.test\")\n\
         Zoé,d'Arcy,Café; Crème SARL,\"+33 6\tposte 2\"\n"
            .as_bytes(),
    );
    env.import("prospects", &file).success();
    let out = env.dir.path().join("fr.csv");
    env.hailer()
        .args([
            "export",
            "prospects",
            "--format",
            "csv",
            "--delimiter",
            ";",
            "--bom",
        ])
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    let bytes = std::fs::read(&out).unwrap();
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "firstname;lastname;company;title;email;domain;company_key;email_source;notes",
            "Hélène;Lefèvre;Société Générale;;;;societe generale;;\
             \"'=HYPERLINK(\"\"http://evil.test\"\")\"",
            "Zoé;d'Arcy;\"Café; Crème SARL\";;;;cafe creme;;'+33 6\tposte 2",
        ]
    );

    let copy = Env::new();
    copy.import("prospects", &out)
        .success()
        .stdout(predicate::str::contains(
            "2 prospects imported, 0 duplicates skipped, 0 rejected (CSV (UTF-8 with BOM, \
         delimiter ';')",
        ));
    assert_eq!(copy.prospects(), env.prospects());

    // A tab to standard output; --bom and --delimiter are for CSV only.
    let tsv = env
        .hailer()
        .args(["export", "prospects", "--delimiter", "tab", "--output", "-"])
        .output()
        .unwrap();
    assert!(tsv.status.success(), "{tsv:?}");
    assert!(
        String::from_utf8(tsv.stdout)
            .unwrap()
            .starts_with("firstname\tlastname\tcompany\t")
    );
    env.hailer()
        .args([
            "export",
            "prospects",
            "--format",
            "xlsx",
            "--bom",
            "--output",
        ])
        .arg(env.dir.path().join("p.xlsx"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CSV format only"));
    env.hailer()
        .args(["export", "prospects", "--delimiter", ":"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a delimiter"));
}

/// The XLSX export neutralises formula-looking cells too (read back with calamine).
#[test]
fn export_xlsx_neutralizes_formulas() {
    use calamine::{Reader, Xlsx, open_workbook};
    let env = Env::new();
    let file = env.write("p.csv", b"firstname,lastname,company\n=CMD(),+Plus,@Acme\n");
    env.import("prospects", &file).success();
    let xlsx = env.export_prospects_xlsx();
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let row: Vec<String> = sheet.rows().nth(1).unwrap()[..3]
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(row, ["'=CMD()", "'+Plus", "'@Acme"]);
}

/// French and English header synonyms for messages and prospects, alone or mixed.
#[test]
fn header_synonyms_map_in_both_languages() {
    let env = Env::new();
    for (kind, name, text) in [
        (
            "messages",
            "m1.csv",
            "Entreprise;Sujet;Contenu\nAcme SA;Bonjour;Texte\n",
        ),
        (
            "messages",
            "m2.csv",
            "Organisation,Objet,Message\nBeta SARL,Hello,Body\n",
        ),
        (
            "messages",
            "m3.csv",
            "company\tsubject\tbody_text\nGamma GmbH\tHi\tText\n",
        ),
        (
            "prospects",
            "p1.csv",
            "Prénom;Nom;Entreprise\nÉlodie;Marchand;Acme SA\n",
        ),
        (
            "prospects",
            "p2.csv",
            "Given Name,Family Name,Organization\nJane,Doe,Beta SARL\n",
        ),
        (
            "prospects",
            "p3.csv",
            "first name|surname|raison sociale\nJohn|Smith|Gamma GmbH\n",
        ),
    ] {
        let f = env.write(name, text.as_bytes());
        env.import(kind, &f)
            .success()
            .stdout(predicate::str::contains(format!(
                "1 {} imported",
                kind.trim_end_matches('s')
            )));
    }
    assert_eq!(env.prospects().len(), 3);
}

#[test]
fn export_xlsx_round_trips_through_import() {
    let env = Env::new();
    env.import("prospects", &data("prospects.ods")).success();
    let xlsx = env.export_prospects_xlsx();
    let copy = Env::new();
    copy.import("prospects", &xlsx)
        .success()
        .stdout(predicate::str::contains("3 prospects imported"));
    assert_eq!(copy.names(), EXPECTED_SHEET_ROWS);
    env.hailer()
        .args(["export", "messages", "--format", "xlsx", "--output", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("standard output"));
}

/// Export, import that file into another data directory, export again: the same file.
/// `company_key` is derived from the company, so the import computes it again instead of
/// keeping the exported one as an extra column (which came back as a second `company_key`).
#[test]
fn csv_export_import_export_round_trips() {
    let env = Env::new();
    env.import("prospects", &data("prospects.ods")).success();
    let messages = env.write(
        "m.csv",
        "company,subject,body,signature\nAcme SA,Bonjour,\"Voilà.\r\nÀ bientôt\",Élodie\n"
            .as_bytes(),
    );
    env.import("messages", &messages).success();
    let copy = Env::new();
    for table in ["prospects", "messages"] {
        let first = env.export_csv(table);
        assert_eq!(
            first.lines().next().unwrap().matches("company_key").count(),
            1
        );
        let file = copy.write(&format!("{table}.csv"), first.as_bytes());
        copy.import(table, &file).success();
        assert_eq!(copy.export_csv(table), first, "{table}");
    }
}

/// The export puts a `'` before cells that start like a formula; the import takes it off
/// again, so CSV and XLSX exports import back with the values that were exported. A value
/// that itself starts with `'` and a formula sign keeps its `'` too.
#[test]
fn formula_guard_is_undone_on_import() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,phone,note\n\
          =Ann,-Dash,@Acme SA,+33 6 12,''=quoted\n\
          Bob,Stone,Beta SARL,'+33 6 13,it's fine\n",
    );
    env.import("prospects", &file).success();
    let rows = |env: &Env| -> Vec<(String, String, String, String)> {
        env.prospects()
            .into_iter()
            .map(|p| (p.firstname, p.lastname, p.company, p.extra))
            .collect()
    };
    let stored = rows(&env);
    assert_eq!(
        stored[0],
        (
            "=Ann".to_string(),
            "-Dash".to_string(),
            "@Acme SA".to_string(),
            r#"{"phone":"+33 6 12","note":"'=quoted"}"#.to_string()
        )
    );
    assert_eq!(stored[1].3, r#"{"phone":"+33 6 13","note":"it's fine"}"#);

    let exported = env.export_csv("prospects");
    assert!(exported.contains("'=Ann,'-Dash,'@Acme SA"), "{exported}");
    let copy = Env::new();
    let file = copy.write("exported.csv", exported.as_bytes());
    copy.import("prospects", &file).success();
    assert_eq!(rows(&copy), stored);
    assert_eq!(copy.export_csv("prospects"), exported);

    let from_xlsx = Env::new();
    from_xlsx
        .import("prospects", &env.export_prospects_xlsx())
        .success();
    assert_eq!(rows(&from_xlsx), stored);
}

/// Two columns with the same name: the second is kept under a numbered name, so neither its
/// data nor the export's header suffers (a second `company` used to come out as a second
/// `company` column, and a second `Notes` overwrote the first).
#[test]
fn repeated_headers_get_numbered_names() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,company,Notes,Notes\nAna,Lopez,Acme SA,Acme Holding,first,second\n",
    );
    env.import("prospects", &file).success();
    let exported = env.export_csv("prospects");
    assert_eq!(
        exported,
        "firstname,lastname,company,title,email,domain,company_key,email_source,company (2),Notes,\
         Notes (2)\nAna,Lopez,Acme SA,,,,acme,,Acme Holding,first,second\n"
    );
    let copy = Env::new();
    let file = copy.write("exported.csv", exported.as_bytes());
    copy.import("prospects", &file).success();
    assert_eq!(copy.export_csv("prospects"), exported);
}

#[test]
fn export_messages_csv_has_contract_columns() {
    let env = Env::new();
    let file = env.write("m.csv", b"company,subject,body\nAcme SA,Hi,Hello\n");
    env.import("messages", &file).success();
    let out = env.hailer().args(["export", "messages"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("company,subject,body"), "{text}");
    assert!(text.contains("Acme SA,Hi,Hello"));
}

/// A summary printed to a pipe whose reader has already gone (`hailer import … | head -0`) is
/// dropped: the import is committed and the command exits 0, where `println!` would panic.
#[test]
fn a_closed_stdout_pipe_neither_crashes_nor_loses_the_import() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company\nAda,Martin,Acme SA\nBen,Roy,Initech\n",
    );
    let mut child = env
        .hailer_std()
        .args(["import", "prospects"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the command writes anything: its writes fail with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(env.prospects().len(), 2);
}

/// `hailer export prospects -o PATH` for an Env with the three sheet prospects imported.
fn export_to(env: &Env, path: &Path) -> std::process::Output {
    env.hailer()
        .args(["export", "prospects", "-o"])
        .arg(path)
        .output()
        .unwrap()
}

fn env_with_prospects() -> Env {
    let env = Env::new();
    env.import("prospects", &data("prospects.xlsx")).success();
    env
}

/// A regular file is still replaced by a rename, and keeps its permissions; a symbolic link
/// is followed: its target gets the rows, the link stays a link.
#[test]
fn export_keeps_the_replaced_files_mode_and_follows_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let env = env_with_prospects();
    let real = env.write("real.csv", b"old\n");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = env.dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let out = export_to(&env, &link);
    assert!(out.status.success(), "{out:?}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(text.starts_with("firstname,lastname,company"), "{text}");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // Nothing left beside it.
    let mut names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["data", "link.csv", "real.csv"]);
}

/// A FIFO is written through, not replaced by a regular file.
#[test]
fn export_to_a_fifo_writes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let env = env_with_prospects();
    let fifo = env.dir.path().join("pipe.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Opened before the export: a reader that gets what the export writes.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = export_to(&env, &fifo);
    assert!(out.status.success(), "{out:?}");
    // Checked before joining: had the FIFO been renamed over, the reader would wait forever.
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    let text = reader.join().unwrap();
    assert!(text.starts_with("firstname,lastname,company"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
}

/// A full device (reached through a link in the test directory, so a regression could only
/// replace the link, never /dev/full itself) is written in place: ENOSPC is a failure, exit 1.
#[test]
fn export_to_a_full_device_fails_with_exit_1() {
    use std::os::unix::fs::FileTypeExt;
    let full = Path::new("/dev/full");
    if !std::fs::metadata(full).is_ok_and(|m| m.file_type().is_char_device()) {
        eprintln!("no /dev/full here: skipped");
        return;
    }
    let env = env_with_prospects();
    let link = env.dir.path().join("full.csv");
    std::os::unix::fs::symlink(full, &link).unwrap();
    let out = export_to(&env, &link);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("rows exported"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::metadata(full)
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// File and sheet names in `import log`'s CSV are the user's text: a name a spreadsheet would
/// run as a formula is guarded as exports guard cells; the JSON keeps it as stored.
#[test]
fn import_log_csv_guards_names_against_formulas() {
    let env = Env::new();
    env.hailer().args(["import", "log"]).assert().success();
    let store = Store::open_in(&env.data_dir()).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO imports (kind, file, sheet, imported, duplicates, rejected, created_at)
             VALUES ('prospects', '=HYPERLINK(\"x.test\").csv', '@sheet', 1, 0, 0, 0)",
            [],
        )
        .unwrap();
    drop(store);
    let out = env.hailer().args(["import", "log"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[3], "'=HYPERLINK(\"x.test\").csv");
    assert_eq!(&row[4], "'@sheet");
    let out = env
        .hailer()
        .args(["import", "log", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["file"], "=HYPERLINK(\"x.test\").csv");
}

#[test]
fn demo_from_the_wrong_directory_fails_before_creating_a_database() {
    let env = Env::new();
    env.hailer()
        .args(["demo", "--no-tui", "--assets", "no-such-dir"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no-such-dir/prospects.xlsx"))
        .stderr(predicate::str::contains("--assets DIR"));
    // (The log file under DATA_DIR/logs is every command's; no database is.)
    let db = env.data_dir().join("hailer.db");
    assert!(!db.exists(), "the failed demo left {} behind", db.display());
}

/// The output file's extension picks the format; a --format it contradicts is refused
/// (CSV text in a file named .xlsx opens nowhere).
#[test]
fn export_format_follows_the_file_name() {
    let env = Env::new();
    let file = env.write("p.csv", b"firstname,lastname,company\nAnn,Lee,Acme\n");
    env.import("prospects", &file).success();
    let out = |name: &str, extra: &[&str]| {
        let path = env.dir.path().join(name);
        let result = env
            .hailer()
            .args(["export", "prospects", "-o"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap();
        (result, path)
    };
    let (r, xlsx) = out("z.xlsx", &[]);
    assert!(r.status.success());
    assert!(
        std::fs::read(&xlsx).unwrap().starts_with(b"PK"),
        "not a zip"
    );
    let (r, csv) = out("z.csv", &[]);
    assert!(r.status.success());
    assert!(std::fs::read_to_string(&csv).unwrap().contains("Ann"));
    let (r, clash) = out("y.xlsx", &["--format", "csv"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--format csv but"));
    assert!(!clash.exists());
}

/// A quoted cell with a line break in a name (pasted from a CRM) is one line once stored,
/// and the summary says so: a greeting must not read "Hello Anne⏎Marie".
#[test]
fn a_line_break_in_a_name_becomes_a_space_with_a_note() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company\n\"Anne\nMarie\",Lee,\"Acme\r\nSA\"\nBob,Ray,Beta\n",
    );
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains("2 prospects imported"))
        .stdout(predicate::str::contains(
            "line break in firstname, company replaced by a space",
        ));
    let first = &env.prospects()[0];
    assert_eq!(
        (first.firstname.as_str(), first.company.as_str()),
        ("Anne Marie", "Acme SA")
    );
}

/// A header with a required column missing names the column, not "no header row".
#[test]
fn a_missing_required_column_is_named() {
    let env = Env::new();
    let file = env.write("p.csv", b"firstname,company\nAnn,Acme\n");
    env.import("prospects", &file)
        .code(4)
        .stderr(predicate::str::contains(
            "no column for lastname: map one with --map lastname=HEADER \
             (header on line 1: firstname | company)",
        ));
}

/// A row with more cells than the header keeps the extra values as `column N` (as an empty
/// header cell's column is named), with a note, instead of dropping them.
#[test]
fn values_past_the_header_are_kept_with_a_note() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company\nAnn,Lee,Acme\nCid,Roe,Gamma,extra1,,extra2\n",
    );
    env.import("prospects", &file)
        .success()
        .stdout(predicate::str::contains("2 prospects imported"))
        .stdout(predicate::str::contains(
            "line 3: values past the header's 3 columns, kept as column 4, column 6",
        ));
    let csv = env.export_csv("prospects");
    assert!(csv.contains("column 4,column 6"), "{csv}");
    assert!(csv.contains("extra1,extra2"), "{csv}");
}

/// `-` imports from standard input, as `verify --input -` and `--body-file -` read it.
#[test]
fn import_reads_standard_input() {
    let env = Env::new();
    env.hailer()
        .args(["import", "prospects", "-"])
        .write_stdin("prénom;nom;société\nAnn;Lee;Acme\n")
        .assert()
        .success()
        .stdout(predicate::str::contains("1 prospect imported"));
    assert_eq!(env.names(), ["Ann Lee @ acme"]);
    // The log names standard input as such, and a file by its whole path, however typed.
    env.write("rel.csv", b"first,last,company\nBo,Ray,Acme\n");
    env.hailer()
        .args(["import", "prospects", "rel.csv"])
        .assert()
        .success();
    let out = env
        .hailer()
        .args(["import", "log", "--json"])
        .output()
        .unwrap();
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log[0]["file"], "(standard input)");
    let whole = std::path::absolute(env.dir.path().join("rel.csv")).unwrap();
    assert_eq!(log[1]["file"], whole.display().to_string().as_str());
}

/// An export whose reader goes away exits 1 (an incomplete list), also when stderr goes into
/// the same closed pipe (`2>&1 | head`): writing its error there used to panic (exit 101).
#[test]
fn an_export_to_a_closed_pipe_exits_1_with_stderr_in_the_pipe_too() {
    let env = Env::new();
    let mut csv = String::from("firstname,lastname,company,email\n");
    for i in 0..6000 {
        csv.push_str(&format!(
            "Person{i},Lastname{i},Company number {i} SA,person{i}@company{i}.test\n"
        ));
    }
    let file = env.write("p.csv", csv.as_bytes());
    env.hailer()
        .args(["import", "prospects"])
        .arg(&file)
        .assert()
        .success();
    let bin = assert_cmd::cargo::cargo_bin("hailer");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{}' --data-dir '{}' export prospects -o - 2>&1 | head -c 10 >/dev/null",
            bin.display(),
            env.data_dir().display()
        ))
        .env_remove("HAILER_CONFIG")
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "an incomplete export, not a crash");
}

/// Another address for a person already stored (a later file, or a later row of the same
/// file) is not taken, and the row says so instead of losing it without a word. An address
/// column with a name import does not know is read as email by its content, with a note.
#[test]
fn a_second_address_for_a_stored_person_is_noted_and_an_unnamed_address_column_is_read() {
    let env = Env::new();
    let a = env.dir.path().join("a.csv");
    std::fs::write(
        &a,
        "Prénom,Nom,Entreprise,Work Email\nJane,Doe,Acme,jane.doe@acme.test\n\
         Jane,Doe,Acme,j.doe@acme.test\n",
    )
    .unwrap();
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = summary.to_string();
    assert!(text.contains("\"Work Email\\\" holds addresses"), "{text}");
    assert!(
        text.contains("already stored with jane.doe@acme.test: j.doe@acme.test not taken"),
        "{text}"
    );
    assert_eq!(
        env.prospects()[0].email.as_deref(),
        Some("jane.doe@acme.test")
    );
    let b = env.dir.path().join("b.csv");
    std::fs::write(
        &b,
        "first,last,company,email\nJane,Doe,ACME,JANE.DOE@acme.test\n",
    )
    .unwrap();
    env.import("prospects", &b)
        .success()
        .stdout(predicate::str::contains("1 duplicate skipped"))
        .stdout(predicate::str::contains("not taken").not());
}

/// A placeholder left open in a message is said at import, not first at `outbox build`.
#[test]
fn a_message_with_an_unclosed_placeholder_gets_a_note() {
    let env = Env::new();
    let m = env.write(
        "m.csv",
        "company,subject,body\nAcme,Hi {firstname,Hello {firstname|there}\nBeta,Hi,Fine\n"
            .as_bytes(),
    );
    env.import("messages", &m)
        .success()
        .stdout(predicate::str::contains("2 messages imported"))
        .stdout(predicate::str::contains("1 row with a note"))
        .stdout(predicate::str::contains(
            "line 2: subject: unclosed placeholder starting \"{firstname\": outbox build refuses",
        ));
}

/// A web app's "Export to Excel" (an HTML table named .xls) is named for what it is, and a CSV
/// without a header quotes its first row without a sheet name before it.
#[test]
fn an_html_export_and_a_headerless_csv_get_plain_errors() {
    let env = Env::new();
    let page = env.write("p.xls", b"<html><body><table><tr><td>firstname</td></tr>");
    env.import("prospects", &page)
        .code(4)
        .stderr(predicate::str::contains(
            "p.xls: an HTML page, not a spreadsheet",
        ));
    let csv = env.write("p_plain.csv", b"alpha,beta\ngamma,delta\n");
    env.import("prospects", &csv)
        .code(4)
        .stderr(predicate::str::contains(
            "first non-empty row: alpha | beta (use --map",
        ));
}

/// With `--json`, a command that fails before any output gives a JSON error on stdout too,
/// so a script reading JSON gets JSON; the text stays on stderr.
#[test]
fn a_failed_json_command_writes_a_json_error() {
    let env = Env::new();
    let out = env
        .hailer()
        .args(["import", "prospects", "missing.csv", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 4);
    assert!(v["error"].as_str().unwrap().contains("missing.csv"), "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
    // Without --json, stdout stays empty.
    let out = env
        .hailer()
        .args(["import", "prospects", "missing.csv"])
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());

    // A usage error clap reports (exit 2) is JSON too; help is not an error.
    let out = env
        .hailer()
        .args(["import", "prospects", "p.csv", "--sheet", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"].as_str().unwrap().contains("--sheet"), "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("For more information, try '--help'"));
    // A message clap writes over several lines is whole: the missing arguments are named.
    let out = env
        .hailer()
        .args(["suggestions", "accept", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = v["error"].as_str().unwrap();
    assert!(
        error.starts_with("the following required arguments were not provided: <IDS>"),
        "{v}"
    );
    assert!(error.contains("<IDS>"), "{v}");
    let out = env
        .hailer()
        .args(["import", "--json", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
}

/// A formula error exported as text (`#N/A` from a lookup that found nothing) is never a
/// value: in a required field the row is rejected naming the error, not as "missing"; in
/// other columns the cell is left empty with a note, so no greeting reads "Hello #N/A". A
/// name without a letter (a number in a shifted column) is not a name either.
#[test]
fn spreadsheet_errors_and_numbers_are_not_names_or_values() {
    let env = Env::new();
    let file = env.write(
        "p.csv",
        b"firstname,lastname,company,title,notes\n\
          Ann,Doe,#N/A,CEO,x\n\
          Bob,Roe,Acme SA,#VALUE!,Err:502\n\
          Cid,10452,Acme SA,,\n\
          #NOM?,Loe,Acme SA,,\n\
          #N/A,#N/A,#N/A,#N/A,#N/A\n\
          #N/A,#N/A,#N/A,,\n",
    );
    let out = env
        .hailer()
        .args(["import", "prospects", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Rows of lookups dragged below the data (errors only) are blank rows: skipped, not
    // rejected one by one.
    assert_eq!(v["imported"], 1, "{v}");
    assert_eq!(v["rejected"], 3, "{v}");
    let rejects = v["rejects"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["field"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "company",
                "company is the spreadsheet error #N/A (a formula without a result), not a value"
            ),
            ("lastname", "lastname \"10452\" has no letters: not a name"),
            (
                "firstname",
                "firstname is the spreadsheet error #NOM? (a formula without a result), not a value"
            ),
        ]
    );
    assert_eq!(v["notes"][0]["row"], 3);
    assert_eq!(
        v["notes"][0]["reason"],
        "spreadsheet error left empty in title (#VALUE!), notes (Err:502)"
    );
    let bob = &env.prospects()[0];
    assert_eq!(
        (bob.firstname.as_str(), bob.title.as_deref()),
        ("Bob", None)
    );
    assert_eq!(bob.extra, "{}");
}
