//! Which column holds which field: header synonyms (English and French), header-row search,
//! and `--map field=Header` overrides.

use std::fmt;

use super::normalize::header_key;
use super::source::SourceRow;

/// How many rows are searched for the header (titles and notes often sit above it).
pub const HEADER_SEARCH_ROWS: usize = 20;

/// The column hailer's export adds with each row's company key. The import computes the key
/// again from the company, so this column is neither a field nor an extra column: kept, it
/// came back from an export → import → export round trip as a second `company_key`.
pub const COMPANY_KEY_COLUMN: &str = "company_key";

/// The column hailer's prospects export adds to say where each `email` comes from
/// (`imported`, or a suggestion `accepted` or `edited`). Read back, the address is simply
/// the prospect's address, so this column is derived as [`COMPANY_KEY_COLUMN`] is.
pub const EMAIL_SOURCE_COLUMN: &str = "email_source";

/// Whether a header names a column hailer derives itself (see [`COMPANY_KEY_COLUMN`]).
fn is_derived(header: &str) -> bool {
    [COMPANY_KEY_COLUMN, EMAIL_SOURCE_COLUMN]
        .iter()
        .any(|c| header.eq_ignore_ascii_case(c))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Firstname,
    Lastname,
    Company,
    Email,
    Title,
    Domain,
    Subject,
    Body,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Firstname,
        Field::Lastname,
        Field::Company,
        Field::Email,
        Field::Title,
        Field::Domain,
        Field::Subject,
        Field::Body,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Firstname => "firstname",
            Field::Lastname => "lastname",
            Field::Company => "company",
            Field::Email => "email",
            Field::Title => "title",
            Field::Domain => "domain",
            Field::Subject => "subject",
            Field::Body => "body",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        let key = header_key(name);
        Field::ALL.into_iter().find(|f| f.name() == key)
    }

    /// Header spellings, compared after `header_key` folding (case, accents, spaces,
    /// punctuation removed), so "Prénom", "PRENOM" and "pré-nom" all match "prenom".
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Firstname => &[
                "firstname",
                "first",
                "givenname",
                "forename",
                "prenom",
                "prenoms",
            ],
            Field::Lastname => &[
                "lastname",
                "last",
                "surname",
                "familyname",
                "nomdefamille",
                "nomdenaissance",
                "nom",
            ],
            Field::Company => &[
                "company",
                "companyname",
                "organisation",
                "organization",
                "organisationname",
                "organizationname",
                "account",
                "accountname",
                "employer",
                "societe",
                "entreprise",
                "raisonsociale",
                "nomdelentreprise",
                "nomentreprise",
                "nomdelasociete",
                "nomsociete",
            ],
            Field::Email => &[
                "email",
                "emailaddress",
                "mail",
                "courriel",
                "adresseemail",
                "adressemail",
                "adressedemessagerie",
            ],
            Field::Title => &[
                "title",
                "jobtitle",
                "position",
                "role",
                "fonction",
                "poste",
                "intitule",
                "intituledeposte",
            ],
            Field::Domain => &[
                "domain",
                "domainname",
                "domaine",
                "website",
                "websiteurl",
                "siteweb",
                "siteinternet",
                "companywebsite",
                "companyurl",
                "companydomain",
            ],
            Field::Subject => &["subject", "subjectline", "objet", "sujet", "titre"],
            Field::Body => &[
                "body",
                "bodytext",
                "message",
                "text",
                "content",
                "corps",
                "contenu",
                "texte",
                "corpsdumessage",
            ],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--map field=Header`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOverride {
    pub field: Field,
    pub header: String,
}

impl std::str::FromStr for ColumnOverride {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (field, header) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not field=Header"))?;
        let field = Field::parse(field).ok_or_else(|| {
            let names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
            format!("unknown field {field:?} (fields: {})", names.join(", "))
        })?;
        if header.trim().is_empty() {
            return Err(format!("{s:?}: the header is empty"));
        }
        Ok(ColumnOverride {
            field,
            header: header.trim().to_string(),
        })
    }
}

/// Two `--map` options that cannot both hold: one field mapped twice, or one column given to
/// two fields (the second would silently have stored the same value under another field).
pub fn conflicting_overrides(overrides: &[ColumnOverride]) -> Option<String> {
    for (i, a) in overrides.iter().enumerate() {
        for b in &overrides[..i] {
            if a.field == b.field {
                return Some(format!(
                    "--map {}={:?} and --map {}={:?} map the same field twice",
                    b.field, b.header, a.field, a.header
                ));
            }
            if header_key(&a.header) == header_key(&b.header) {
                return Some(format!(
                    "--map {}={:?} and --map {}={:?} give one column to two fields",
                    b.field, b.header, a.field, a.header
                ));
            }
        }
    }
    None
}

/// Extra columns whose header also names a field found by synonym ("Email" mapped,
/// "Courriel" too): the field reads them in order, so a row with only "Courriel" filled
/// keeps its address. A field given with `--map` reads its column alone.
fn fallbacks(
    cells: &[String],
    fields: &[(Field, usize)],
    extra: &[(usize, String)],
    overrides: &[ColumnOverride],
) -> Vec<(Field, usize)> {
    let mut out = Vec::new();
    for (col, _) in extra {
        let key = header_key(cells.get(*col).map_or("", String::as_str));
        for (field, _) in fields {
            if !overrides.iter().any(|o| o.field == *field)
                && field.synonyms().contains(&key.as_str())
            {
                out.push((*field, *col));
            }
        }
    }
    out
}

/// What the import says about each column a field falls back to.
pub fn fallback_notes(header: &[String], map: &ColumnMap) -> Vec<String> {
    // By letter and header: two columns may have the same header.
    let name = |col: usize| {
        format!(
            "{} {:?}",
            super::source::column_name(col as u32),
            header.get(col).map_or("", String::as_str)
        )
    };
    map.fallbacks
        .iter()
        .filter_map(|(field, col)| {
            let used = map.column(*field)?;
            Some(format!(
                "columns {} and {} both read as {field}: {} is used, and {} where it is empty",
                name(used),
                name(*col),
                super::source::column_name(used as u32),
                super::source::column_name(*col as u32)
            ))
        })
        .collect()
}

/// How many rows under the header [`address_column`] looks at.
const ADDRESS_SAMPLE_ROWS: usize = 50;

/// The one unmapped column of `header` whose cells in the rows below (the first
/// [`ADDRESS_SAMPLE_ROWS`]) are at least 80% addresses import accepts, with one at least;
/// `None` for none or several.
fn address_column(
    header: &SourceRow,
    below: &[SourceRow],
    fields: &[(Field, usize)],
) -> Option<usize> {
    // The import's own address check: a link such as https://medium.com/@jane is no address.
    let shaped = |cell: &str| super::normalize::checked_email(cell.trim()).is_ok();
    let mut found = (0..header.cells.len())
        .filter(|col| !fields.iter().any(|(_, c)| c == col))
        .filter(|&col| {
            let cells: Vec<&str> = below
                .iter()
                .take(ADDRESS_SAMPLE_ROWS)
                .filter_map(|r| r.cells.get(col).map(String::as_str))
                .filter(|c| !c.trim().is_empty())
                .collect();
            let addresses = cells.iter().filter(|c| shaped(c)).count();
            addresses > 0 && addresses * 5 >= cells.len() * 4
        });
    match (found.next(), found.next()) {
        (Some(col), None) => Some(col),
        _ => None,
    }
}

/// What the import says about each column given a field by its content.
pub fn guessed_notes(header: &[String], map: &ColumnMap) -> Vec<String> {
    map.guessed
        .iter()
        .map(|(field, col)| {
            let name = header.get(*col).map_or("", String::as_str);
            format!(
                "column {name:?} holds addresses under a name not known as {field}: read as \
                 {field} (--map {field}=HEADER picks another column)"
            )
        })
        .collect()
}

/// The header row found and what each column means.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMap {
    /// Index into the sheet's rows of the header row.
    pub header_index: usize,
    pub header_row_number: i64,
    /// Column index per field.
    pub fields: Vec<(Field, usize)>,
    /// Columns with no field: (index, header as written), kept as extra data.
    pub extra: Vec<(usize, String)>,
    /// Further columns a field reads, in order, where its own column is empty.
    pub fallbacks: Vec<(Field, usize)>,
    /// Fields given a column by its content, not its name (see [`address_column`]).
    pub guessed: Vec<(Field, usize)>,
    /// How many cells the header row has: a data row's cells past it have no header.
    pub width: usize,
    /// The header row's cells in the fields' columns, compared as headers are
    /// ([`header_key`]): a data row equal to them is the header again.
    pub field_headers: Vec<String>,
}

impl ColumnMap {
    /// `row` repeats the header row in every mapped column: files joined one after another
    /// (exports pasted together) bring their header rows along.
    pub fn is_header_again(&self, row: &SourceRow) -> bool {
        self.fields
            .iter()
            .zip(&self.field_headers)
            .all(|((_, c), key)| {
                row.cells
                    .get(*c)
                    .is_some_and(|cell| !cell.is_empty() && header_key(cell) == *key)
            })
    }

    pub fn column(&self, field: Field) -> Option<usize> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| *c)
    }
}

/// Which column each field takes in one candidate header row.
struct Assignment<'o> {
    fields: Vec<(Field, usize)>,
    /// The overrides that found their header, with its column.
    claimed: Vec<(&'o ColumnOverride, usize)>,
    /// The overrides whose header is not in the row.
    unmatched: Vec<&'o ColumnOverride>,
}

fn assign<'o>(
    keys: &[String],
    required: &[Field],
    optional: &[Field],
    overrides: &'o [ColumnOverride],
) -> Assignment<'o> {
    let mut taken = vec![false; keys.len()];
    let mut fields = Vec::new();
    let (mut claimed, mut unmatched) = (Vec::new(), Vec::new());
    // Explicit mappings first, so they can claim a column a synonym would also match.
    for o in overrides {
        let wanted = header_key(&o.header);
        match keys.iter().position(|k| *k == wanted) {
            Some(col) => {
                taken[col] = true;
                fields.push((o.field, col));
                claimed.push((o, col));
            }
            None => unmatched.push(o),
        }
    }
    for &field in required.iter().chain(optional) {
        if fields.iter().any(|(f, _)| *f == field) {
            continue;
        }
        // Earlier synonyms are stronger: "nom" is a last name unless "nom de famille" exists.
        let col = field.synonyms().iter().find_map(|syn| {
            keys.iter()
                .enumerate()
                .position(|(i, k)| !taken[i] && k == syn)
        });
        if let Some(col) = col {
            taken[col] = true;
            fields.push((field, col));
        }
    }
    Assignment {
        fields,
        claimed,
        unmatched,
    }
}

fn header_keys(cells: &[String]) -> Vec<String> {
    cells.iter().map(|c| header_key(c)).collect()
}

/// Map one candidate header row. `None` if an override's header is not in it or a required
/// field has no column.
pub fn map_header(
    cells: &[String],
    required: &[Field],
    optional: &[Field],
    overrides: &[ColumnOverride],
) -> Option<Vec<(Field, usize)>> {
    let a = assign(&header_keys(cells), required, optional, overrides);
    (a.unmatched.is_empty()
        && required
            .iter()
            .all(|r| a.fields.iter().any(|(f, _)| f == r)))
    .then_some(a.fields)
}

/// One reason a row with `--map` overrides is not a usable header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapProblem {
    /// The override's header is not in the row.
    NoSuchColumn(ColumnOverride),
    /// The only column for a required field is the one an override gave another field.
    Taken {
        field: Field,
        column: String,
        by: ColumnOverride,
    },
    /// A required field has no column.
    NoColumn(Field),
}

impl fmt::Display for MapProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapProblem::NoSuchColumn(o) => {
                write!(
                    f,
                    "--map {}={:?}: no column {:?}",
                    o.field, o.header, o.header
                )
            }
            MapProblem::Taken { field, column, by } => write!(
                f,
                "no column left for {field}: --map {}={:?} takes column {column:?}, \
                 so map {field} to another column with --map {field}=HEADER",
                by.field, by.header
            ),
            MapProblem::NoColumn(field) => {
                write!(
                    f,
                    "no column for {field}: map one with --map {field}=HEADER"
                )
            }
        }
    }
}

/// Why no row mapped, told for the row that came closest (the most overrides and required
/// fields found; the first such row), so a bad `--map` is named instead of every column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMismatch {
    /// Overrides plus required fields the row has: how close it came.
    pub score: usize,
    pub row_number: i64,
    /// The row's non-empty cells.
    pub headers: Vec<String>,
    pub problems: Vec<MapProblem>,
}

/// When no row maps, the row that came closest and what stops it: a `--map` naming no
/// column, or a required field without one ("no column for lastname", with the row's
/// headers). `None` when no row has any of the columns asked for.
pub fn closest_header(
    rows: &[SourceRow],
    required: &[Field],
    optional: &[Field],
    overrides: &[ColumnOverride],
) -> Option<HeaderMismatch> {
    let mut best: Option<HeaderMismatch> = None;
    for row in rows.iter().take(HEADER_SEARCH_ROWS) {
        let keys = header_keys(&row.cells);
        let a = assign(&keys, required, optional, overrides);
        let has = |field: Field| a.fields.iter().any(|(f, _)| *f == field);
        let score = a.claimed.len() + required.iter().filter(|f| has(**f)).count();
        if score == 0 || best.as_ref().is_some_and(|b| b.score >= score) {
            continue;
        }
        let mut problems: Vec<MapProblem> = a
            .unmatched
            .iter()
            .map(|o| MapProblem::NoSuchColumn((*o).clone()))
            .collect();
        // A field whose own override found no column is told above already.
        for &field in required {
            if has(field) || overrides.iter().any(|o| o.field == field) {
                continue;
            }
            let taken = a.claimed.iter().find(|(o, col)| {
                o.field != field && field.synonyms().contains(&keys[*col].as_str())
            });
            problems.push(match taken {
                Some((o, col)) => MapProblem::Taken {
                    field,
                    column: row.cells[*col].clone(),
                    by: (*o).clone(),
                },
                None => MapProblem::NoColumn(field),
            });
        }
        best = Some(HeaderMismatch {
            score,
            row_number: row.number,
            headers: row
                .cells
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect(),
            problems,
        });
    }
    best
}

/// `name`, else `name (2)`, `name (3)`, …: the first not in `taken` (compared ignoring case),
/// which is then added to it. Extra columns are stored and exported by name, so two with the
/// same name would lose one's values and give an export a header with a repeated name.
pub fn unique_name(name: &str, taken: &mut Vec<String>) -> String {
    let mut candidate = name.to_string();
    let mut n = 2;
    while taken.contains(&candidate.to_lowercase()) {
        candidate = format!("{name} ({n})");
        n += 1;
    }
    taken.push(candidate.to_lowercase());
    candidate
}

/// Search the first rows for a header that maps every required field.
///
/// Extra columns are named after their header, made unique against each other and against
/// the columns the export writes first (the fields and `company_key`): a second `company`
/// column is kept as `company (2)`.
pub fn find_header(
    rows: &[SourceRow],
    required: &[Field],
    optional: &[Field],
    overrides: &[ColumnOverride],
) -> Option<ColumnMap> {
    for (index, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        if let Some(mut fields) = map_header(&row.cells, required, optional, overrides) {
            // No column is named as an address, but one holds addresses ("Work Email"): it is
            // the email column, said in a note, rather than an extra column nobody mails.
            let mut guessed = Vec::new();
            if optional.contains(&Field::Email)
                && !fields.iter().any(|(f, _)| *f == Field::Email)
                && !overrides.iter().any(|o| o.field == Field::Email)
                && let Some(col) = address_column(row, &rows[index + 1..], &fields)
            {
                fields.push((Field::Email, col));
                guessed.push((Field::Email, col));
            }
            let mut taken: Vec<String> = required
                .iter()
                .chain(optional)
                .map(|f| f.name().to_string())
                .chain([COMPANY_KEY_COLUMN, EMAIL_SOURCE_COLUMN].map(str::to_string))
                .collect();
            let extra: Vec<(usize, String)> = row
                .cells
                .iter()
                .enumerate()
                .filter(|(i, h)| !fields.iter().any(|(_, c)| c == i) && !is_derived(h))
                .map(|(i, h)| {
                    let name = if h.is_empty() {
                        format!("column {}", i + 1)
                    } else {
                        h.clone()
                    };
                    (i, unique_name(&name, &mut taken))
                })
                .collect();
            let field_headers = fields
                .iter()
                .map(|(_, c)| header_key(row.cells.get(*c).map_or("", String::as_str)))
                .collect();
            let fallbacks = fallbacks(&row.cells, &fields, &extra, overrides);
            return Some(ColumnMap {
                header_index: index,
                header_row_number: row.number,
                fields,
                extra,
                fallbacks,
                guessed,
                field_headers,
                width: row.cells.len(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROSPECT: [Field; 3] = [Field::Firstname, Field::Lastname, Field::Company];
    const OPTIONAL: [Field; 3] = [Field::Email, Field::Title, Field::Domain];

    fn row(n: i64, cells: &[&str]) -> SourceRow {
        SourceRow {
            number: n,
            cells: cells.iter().map(|s| s.to_string()).collect(),
            uncomputed: Vec::new(),
        }
    }

    /// An address column with a name no synonym covers is found by its content, once.
    #[test]
    fn an_address_column_under_another_name_is_read_as_email() {
        let rows = [
            row(1, &["Prénom", "Nom", "Entreprise", "Work Email", "Notes"]),
            row(
                2,
                &["Jane", "Doe", "Acme", "jane.doe@acme.test", "met at a fair"],
            ),
            row(3, &["Jo", "Roe", "Acme", "", "x@y is not a note"]),
        ];
        let map = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!(map.column(Field::Email), Some(3));
        assert_eq!(map.guessed, [(Field::Email, 3)]);
        assert!(!map.extra.iter().any(|(c, _)| *c == 3));
        let header: Vec<String> = rows[0].cells.clone();
        let notes = guessed_notes(&header, &map);
        assert!(
            notes[0].contains("\"Work Email\" holds addresses"),
            "{notes:?}"
        );
        // A column of profile links is no column of addresses.
        let rows = [
            row(1, &["first", "last", "company", "Blog"]),
            row(2, &["Jane", "Doe", "Acme", "https://medium.com/@jane"]),
        ];
        let map = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!(map.column(Field::Email), None);
        // Two columns of addresses: which one is meant is a guess, so neither.
        let rows = [
            row(1, &["first", "last", "company", "Work", "Home"]),
            row(
                2,
                &["Jane", "Doe", "Acme", "jane@acme.test", "jd@home.test"],
            ),
        ];
        let map = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!(map.column(Field::Email), None);
        assert!(map.guessed.is_empty());
    }

    #[test]
    fn french_headers_map() {
        let cells: Vec<String> = ["Prénom", "Nom", "Société", "Fonction", "Site web", "Ville"]
            .map(String::from)
            .to_vec();
        let f = map_header(&cells, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert!(f.contains(&(Field::Firstname, 0)));
        assert!(f.contains(&(Field::Lastname, 1)));
        assert!(f.contains(&(Field::Company, 2)));
        assert!(f.contains(&(Field::Title, 3)));
        assert!(f.contains(&(Field::Domain, 4)));
    }

    #[test]
    fn english_variants_map() {
        for headers in [
            ["First Name", "Last Name", "Company Name"],
            ["first_name", "SURNAME", "Organization"],
            ["Given name", "Family name", "Employer"],
        ] {
            let cells: Vec<String> = headers.map(String::from).to_vec();
            assert!(
                map_header(&cells, &PROSPECT, &OPTIONAL, &[]).is_some(),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn nom_de_famille_wins_over_nom_when_both_exist() {
        let cells: Vec<String> = ["Prénom", "Nom de famille", "Entreprise", "Nom"]
            .map(String::from)
            .to_vec();
        let f = map_header(&cells, &PROSPECT, &[], &[]).unwrap();
        assert!(f.contains(&(Field::Lastname, 1)), "{f:?}");
    }

    #[test]
    fn header_found_below_a_title() {
        let rows = vec![
            row(1, &["Prospects — export", "", ""]),
            row(2, &["", "", ""]),
            row(3, &["Prénom", "Nom", "Raison sociale", "Notes"]),
            row(4, &["Ana", "Lopez", "Acme", "x"]),
        ];
        let m = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!((m.header_index, m.header_row_number), (2, 3));
        assert_eq!(m.extra, vec![(3, "Notes".to_string())]);
    }

    #[test]
    fn exported_company_key_is_not_an_extra_column() {
        let rows = vec![row(
            1,
            &["firstname", "lastname", "company", "company_key", "Notes"],
        )];
        let m = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!(m.extra, vec![(4, "Notes".to_string())]);
    }

    #[test]
    fn repeated_extra_names_are_numbered() {
        let rows = vec![row(
            1,
            &[
                "firstname",
                "lastname",
                "company",
                "Company",
                "Notes",
                "notes",
                "Notes (2)",
                "",
                "column 8",
            ],
        )];
        let m = find_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        let names: Vec<&str> = m.extra.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Company (2)",
                "Notes",
                "notes (2)",
                "Notes (2) (2)",
                "column 8",
                "column 8 (2)"
            ]
        );
    }

    #[test]
    fn header_beyond_the_search_window_is_not_found() {
        let mut rows: Vec<SourceRow> = (1..=20).map(|n| row(n, &["x"])).collect();
        rows.push(row(21, &["firstname", "lastname", "company"]));
        assert!(find_header(&rows, &PROSPECT, &[], &[]).is_none());
    }

    #[test]
    fn overrides_claim_their_column() {
        let cells: Vec<String> = ["Who", "Family", "Org"].map(String::from).to_vec();
        let overrides: Vec<ColumnOverride> = ["firstname=Who", "lastname=family", "company=ORG"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let f = map_header(&cells, &PROSPECT, &[], &overrides).unwrap();
        assert_eq!(f.len(), 3);
        assert!(
            "nope=X"
                .parse::<ColumnOverride>()
                .unwrap_err()
                .contains("unknown field")
        );
        assert!("firstname".parse::<ColumnOverride>().is_err());
    }

    #[test]
    fn closest_header_names_the_mapping_at_fault() {
        let rows = vec![
            row(1, &["Prospects"]),
            row(2, &["Who", "Family", "Org", "company"]),
            row(3, &["Ana", "Lopez", "Acme", "x"]),
        ];
        let overrides = |maps: &[&str]| -> Vec<ColumnOverride> {
            maps.iter().map(|s| s.parse().unwrap()).collect()
        };
        let o = overrides(&["firstname=Nope", "lastname=Family", "company=Org"]);
        assert!(find_header(&rows, &PROSPECT, &OPTIONAL, &o).is_none());
        let m = closest_header(&rows, &PROSPECT, &OPTIONAL, &o).unwrap();
        assert_eq!(m.row_number, 2);
        assert_eq!(m.headers, ["Who", "Family", "Org", "company"]);
        assert_eq!(m.problems, [MapProblem::NoSuchColumn(o[0].clone())]);
        assert_eq!(
            m.problems[0].to_string(),
            "--map firstname=\"Nope\": no column \"Nope\""
        );

        let o = overrides(&["firstname=company"]);
        let m = closest_header(&rows, &PROSPECT, &OPTIONAL, &o).unwrap();
        assert_eq!(
            m.problems,
            [
                MapProblem::NoColumn(Field::Lastname),
                MapProblem::Taken {
                    field: Field::Company,
                    column: "company".into(),
                    by: o[0].clone()
                }
            ]
        );
        // Without --map too: the row with a required field's column names the others.
        let m = closest_header(&rows, &PROSPECT, &OPTIONAL, &[]).unwrap();
        assert_eq!(m.row_number, 2);
        assert_eq!(
            m.problems,
            [
                MapProblem::NoColumn(Field::Firstname),
                MapProblem::NoColumn(Field::Lastname)
            ]
        );
        assert!(closest_header(&rows[..1], &PROSPECT, &OPTIONAL, &[]).is_none());
        let o = overrides(&["firstname=Nope"]);
        assert!(closest_header(&rows[..1], &PROSPECT, &OPTIONAL, &o).is_none());
    }

    #[test]
    fn message_headers_map() {
        let cells: Vec<String> = ["Société", "Objet", "Corps"].map(String::from).to_vec();
        let req = [Field::Company, Field::Subject, Field::Body];
        assert!(map_header(&cells, &req, &[], &[]).is_some());
        let cells: Vec<String> = ["company", "subject", "body_text"]
            .map(String::from)
            .to_vec();
        assert!(map_header(&cells, &req, &[], &[]).is_some());
    }
}
