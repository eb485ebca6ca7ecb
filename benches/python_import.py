#!/usr/bin/env python3
"""The Python reference path of the import benchmark: what a typical Python tool does.

    python_import.py FILE DB

FILE is .csv (pandas.read_csv, dtype=str, keep_default_na=False) or .xlsx
(pandas.read_excel, engine="openpyxl", dtype=str, keep_default_na=False; header
in the first row). The same normalisation as hailer's importer follows
(benches/hailer_norm.py):

- header names and every cell trimmed and NFC-normalised; header names lowercased;
- company_key computed for each row;
- rows missing firstname, lastname or company rejected;
- duplicates (same lowercased firstname + lastname + company_key) skipped, the
  first one kept;
- in one transaction, sqlite3 executemany INSERT into prospects, and
  INSERT OR IGNORE INTO companies(key, name) with the first spelling met;
  journal_mode=WAL. extra_json is a JSON object of the other columns (non-empty
  values only), or NULL when there are none; an empty email or title is NULL.

Prints one JSON line: {"rows": stored, "seconds": s, "rejected": r,
"duplicates": d, "companies": c}, where seconds runs from process start
(including the pandas import) to commit.
"""

import time

T0 = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hailer_norm import cell, company_key  # noqa: E402

import pandas as pd  # noqa: E402

CORE = ["firstname", "lastname", "company", "company_key", "email", "title"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS companies(
    key  TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prospects(
    id          INTEGER PRIMARY KEY,
    firstname   TEXT NOT NULL,
    lastname    TEXT NOT NULL,
    company     TEXT NOT NULL,
    company_key TEXT NOT NULL,
    email       TEXT,
    title       TEXT,
    extra_json  TEXT
);
"""


def read(path: str) -> pd.DataFrame:
    if path.lower().endswith((".xlsx", ".xlsm")):
        return pd.read_excel(path, engine="openpyxl", dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, db_path = sys.argv[1], sys.argv[2]

    df = read(path)
    # Normalise: header names, then every cell.
    df.columns = [cell(str(c)).lower() for c in df.columns]
    df = df.map(lambda v: cell(v) if isinstance(v, str) else ("" if v is None else cell(str(v))))
    for col in ("firstname", "lastname", "company", "email", "title"):
        if col not in df.columns:
            df[col] = ""

    # Reject rows missing a required field.
    missing = (df["firstname"] == "") | (df["lastname"] == "") | (df["company"] == "")
    rejected = int(missing.sum())
    df = df[~missing]

    # Company key, then duplicates.
    df = df.assign(company_key=df["company"].map(company_key))
    dup = pd.DataFrame({
        "f": df["firstname"].str.lower(),
        "l": df["lastname"].str.lower(),
        "k": df["company_key"],
    }).duplicated()
    duplicates = int(dup.sum())
    df = df[~dup]

    extra_cols = [c for c in df.columns if c not in CORE]
    extras = []
    for vals in df[extra_cols].itertuples(index=False, name=None):
        obj = {c: v for c, v in zip(extra_cols, vals) if v}
        extras.append(json.dumps(obj, ensure_ascii=False) if obj else None)

    rows = [
        (f, l, c, k, e or None, t or None, x)
        for f, l, c, k, e, t, x in zip(df["firstname"], df["lastname"], df["company"],
                                       df["company_key"], df["email"], df["title"], extras)
    ]
    companies = df.drop_duplicates("company_key")[["company_key", "company"]]

    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(SCHEMA)
    with con:  # one transaction
        con.executemany(
            "INSERT INTO prospects(firstname, lastname, company, company_key, email, title, extra_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT OR IGNORE INTO companies(key, name) VALUES (?, ?)",
                        companies.itertuples(index=False, name=None))
    con.close()

    print(json.dumps({
        "rows": len(rows),
        "seconds": round(time.perf_counter() - T0, 3),
        "rejected": rejected,
        "duplicates": duplicates,
        "companies": len(companies),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
