#!/usr/bin/env python3
"""Regenerate the spreadsheet fixtures in tests/data/ (XLSX, XLS, ODS with the same content).

Run: python3 -m venv /tmp/venv-fx && /tmp/venv-fx/bin/pip install openpyxl xlwt odfpy
     /tmp/venv-fx/bin/python tests/data/make_fixtures.py

Every workbook has three sheets:
  Notes     free text, no header (must be skipped when choosing a sheet)
  Contacts  a title row, a blank row, then French headers and 5 data rows:
            one duplicate, one row missing a last name, a number cell (phone) and a date cell
  Archive   English headers, 2 rows (only read with --sheet Archive)
"""
import datetime
import os

HERE = os.path.dirname(os.path.abspath(__file__))

NOTES = [["Export CRM — ne pas modifier"], ["Généré le 2026-11-01"]]
CONTACTS = [
    ["Prospects salon 2026", None, None, None, None, None],
    [None, None, None, None, None, None],
    ["Prénom", "Nom", "Entreprise", "Poste", "Téléphone", "Rencontré le"],
    ["Élodie", "Durand", "Acme SA", "Directrice achats", 612345678, datetime.date(2026, 10, 3)],
    ["Jean-Pierre", "de la Fontaine", "Boulangerie Dupont SARL", "Gérant", 698765432.0, datetime.date(2026, 10, 4)],
    ["Zoë", "Müller", "Nordlicht GmbH", "CTO", None, None],
    ["Élodie", "Durand", "ACME S.A.", "Directrice achats", None, None],
    ["Marc", None, "Acme SA", "Stagiaire", None, None],
]
ARCHIVE = [
    ["First Name", "Last Name", "Company"],
    ["Old", "Contact", "Blue Harbor Inc."],
    ["Older", "Contact", "Blue Harbor Inc."],
]
SHEETS = [("Notes", NOTES), ("Contacts", CONTACTS), ("Archive", ARCHIVE)]


def xlsx(path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in SHEETS:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, datetime.date):
                    c.number_format = "yyyy-mm-dd"
    wb.save(path)


def xls(path):
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in SHEETS:
        ws = wb.add_sheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is None:
                    continue
                if isinstance(v, datetime.date):
                    ws.write(i, j, v, date_style)
                else:
                    ws.write(i, j, v)
    wb.save(path)


def ods(path):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    for name, rows in SHEETS:
        t = Table(name=name)
        for r in rows:
            tr = TableRow()
            for v in r:
                if v is None:
                    tc = TableCell()
                elif isinstance(v, (int, float)):
                    tc = TableCell(valuetype="float", value=v)
                    tc.addElement(P(text=str(v)))
                elif isinstance(v, datetime.date):
                    tc = TableCell(valuetype="date", datevalue=v.isoformat())
                    tc.addElement(P(text=v.isoformat()))
                else:
                    tc = TableCell(valuetype="string")
                    tc.addElement(P(text=v))
                tr.addElement(tc)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.save(path)


def far_cell_xlsx(path):
    """One data row, then a stray value in XFD1048576, the last cell a sheet can have."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Prospects"
    ws.append(["firstname", "lastname", "company"])
    ws.append(["Ana", "Silva", "Far Cell SA"])
    ws["XFD1048576"] = "x"
    wb.save(path)


def sheets_xlsx(path):
    """A hidden sheet of old data first, then two visible sheets with the same header."""
    import openpyxl
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Old"
    old.append(["firstname", "lastname", "company"])
    old.append(["Stale", "Person", "Old Co"])
    old.sheet_state = "hidden"
    for city in ["Paris", "Lyon"]:
        ws = wb.create_sheet(city)
        ws.append(["Prénom", "Nom", "Société"])
        ws.append([city + "A", "X", "Co " + city])
    wb.active = 1
    wb.save(path)


MERGED_PEOPLE = [
    ("Jean", "Dupont", "CEO"),
    ("Marie", "Curie", "CTO"),
    ("Paul", "Martin", None),
    ("Zoë", "Müller", None),
    ("Ana", "Silva", None),
    None,
    ("Léa", "Roux", None),
]


def merged_xls(path):
    """Merged cells (tests/cli_import.rs builds the same sheet as XLSX): a title merged over
    A1:D2, the header on row 3, "Acme SA" merged over C4:C6, "Globex" over C8:C10 with row 9
    blank."""
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Prospects")
    ws.write_merge(0, 1, 0, 3, "Prospects salon 2026")
    for j, h in enumerate(["Prénom", "Nom", "Société", "Poste"]):
        ws.write(2, j, h)
    for i, person in enumerate(MERGED_PEOPLE):
        if person is None:
            continue
        first, last, title = person
        ws.write(3 + i, 0, first)
        ws.write(3 + i, 1, last)
        if title:
            ws.write(3 + i, 3, title)
    ws.write_merge(3, 5, 2, 2, "Acme SA")
    ws.write(6, 2, "Nordlicht GmbH")
    ws.write_merge(7, 9, 2, 2, "Globex")
    wb.save(path)


def uncomputed_xlsx(path):
    """Formulas written by a generator that does not calculate them (openpyxl): the cells hold
    the formula and no cached value. Row 2's title, row 3's company, row 4's email are such
    formulas; row 5 is plain; row 6 holds nothing but a formula dragged below the data."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Prospects"
    ws.append(["firstname", "lastname", "company", "title", "email"])
    ws.append(["Jean", "Dupont", "Acme SA", '=UPPER("ceo")', None])
    ws.append(["Marie", "Curie", "=C2", None, None])
    ws.append(["Paul", "Martin", "Globex", None, '=LOWER(A4)&"@globex.test"'])
    ws.append(["Léa", "Roux", "Globex", "CTO", None])
    ws.append([None, None, None, None, "=LOWER(A6)"])
    wb.save(path)


def uncomputed_ods(path):
    """The rows of uncomputed.xlsx as ODS written by a generator that does not calculate (odfpy):
    each formula cell has table:formula and no value type, value or text."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    t = Table(name="Prospects")
    rows = [
        ["firstname", "lastname", "company", "title", "email"],
        ["Jean", "Dupont", "Acme SA", ("of:=UPPER(\"ceo\")",), None],
        ["Marie", "Curie", ("of:=[.C2]",), None, None],
        ["Paul", "Martin", "Globex", None, ("of:=LOWER([.A4])&\"@globex.test\"",)],
        ["Léa", "Roux", "Globex", "CTO", None],
        [None, None, None, None, ("of:=LOWER([.A6])",)],
    ]
    for r in rows:
        tr = TableRow()
        for v in r:
            if v is None:
                tc = TableCell()
            elif isinstance(v, tuple):
                tc = TableCell(formula=v[0])
            else:
                tc = TableCell(valuetype="string")
                tc.addElement(P(text=v))
            tr.addElement(tc)
        t.addElement(tr)
    doc.spreadsheet.addElement(t)
    doc.save(path)


def merged_ods(path):
    """The sheet of merged.xls as ODS, merged the way LibreOffice writes it: the region's top
    cell spans rows/columns (table:number-rows-spanned, …-columns-spanned) and each cell it
    covers is a table:covered-table-cell."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell, CoveredTableCell
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    t = Table(name="Prospects")

    def text_cell(v, **span):
        tc = TableCell(valuetype="string", **span)
        tc.addElement(P(text=v))
        return tc

    tr = TableRow()
    tr.addElement(text_cell("Prospects salon 2026", numbercolumnsspanned=4, numberrowsspanned=2))
    for _ in range(3):
        tr.addElement(CoveredTableCell())
    t.addElement(tr)
    tr = TableRow()
    for _ in range(4):
        tr.addElement(CoveredTableCell())
    t.addElement(tr)
    tr = TableRow()
    for h in ["Prénom", "Nom", "Société", "Poste"]:
        tr.addElement(text_cell(h))
    t.addElement(tr)
    # Company per row: (value, rows spanned) at the region's top, None where covered.
    companies = [("Acme SA", 3), None, None, ("Nordlicht GmbH", 1), ("Globex", 3), None, None]
    for i, person in enumerate(MERGED_PEOPLE):
        tr = TableRow()
        first, last, title = person if person else (None, None, None)
        tr.addElement(text_cell(first) if first else TableCell())
        tr.addElement(text_cell(last) if last else TableCell())
        company = companies[i]
        if company is None:
            tr.addElement(CoveredTableCell())
        elif company[1] > 1:
            tr.addElement(text_cell(company[0], numberrowsspanned=company[1],
                                    numbercolumnsspanned=1))
        else:
            tr.addElement(text_cell(company[0]))
        tr.addElement(text_cell(title) if title else TableCell())
        t.addElement(tr)
    doc.spreadsheet.addElement(t)
    doc.save(path)


# Numbers as the user typed and sees them, the same in XLSX, XLS and ODS: (header, value,
# number format, what the sheet shows). A text cell keeps its leading zero as it is.
NUMBERS = [
    ("Code postal", 75001, "00000", "75001"),
    ("CP", 1234, "00000", "01234"),
    ("Téléphone", 612345678, "00 00 00 00 00", "06 12 34 56 78"),
    ("SIREN", 552100554, "000 000 000", "552 100 554"),
    ("Effectif", 250, None, "250"),
    ("Part", 0.15, "0%", "15%"),
    ("Marge", 0.125, "0.00%", "12.50%"),
    ("Prix", 12.5, "0.00", "12.50"),
    ("Code", "01234", "@", "01234"),
    ("Créé le", datetime.date(2026, 10, 3), "yyyy-mm-dd", "2026-10-03"),
]


def numbers_xlsx(path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Prospects"
    ws.append(["Prénom", "Nom", "Société"] + [h for h, _, _, _ in NUMBERS])
    ws.append(["Jean", "Dupont", "Acme"] + [v for _, v, _, _ in NUMBERS])
    for j, (_, _, fmt, _) in enumerate(NUMBERS):
        if fmt:
            ws.cell(row=2, column=4 + j).number_format = fmt
    wb.save(path)


def numbers_xls(path):
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Prospects")
    for j, h in enumerate(["Prénom", "Nom", "Société"] + [h for h, _, _, _ in NUMBERS]):
        ws.write(0, j, h)
    for j, v in enumerate(["Jean", "Dupont", "Acme"]):
        ws.write(1, j, v)
    for j, (_, v, fmt, _) in enumerate(NUMBERS):
        if fmt:
            ws.write(1, 3 + j, v, xlwt.easyxf(num_format_str=fmt))
        else:
            ws.write(1, 3 + j, v)
    wb.save(path)


def numbers_ods(path):
    """As LibreOffice saves it: the value in office:value, the text shown in text:p."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableRow, TableCell
    from odf.text import P
    doc = OpenDocumentSpreadsheet()
    t = Table(name="Prospects")

    def row(cells):
        tr = TableRow()
        for c in cells:
            tr.addElement(c)
        t.addElement(tr)

    def text(v):
        tc = TableCell(valuetype="string")
        tc.addElement(P(text=v))
        return tc

    row([text(h) for h in ["Prénom", "Nom", "Société"] + [h for h, _, _, _ in NUMBERS]])
    cells = [text(v) for v in ["Jean", "Dupont", "Acme"]]
    for _, v, fmt, shown in NUMBERS:
        if isinstance(v, str):
            tc = TableCell(valuetype="string")
        elif isinstance(v, datetime.date):
            tc = TableCell(valuetype="date", datevalue=v.isoformat())
        elif fmt and fmt.endswith("%"):
            tc = TableCell(valuetype="percentage", value=v)
        else:
            tc = TableCell(valuetype="float", value=v)
        tc.addElement(P(text=shown))
        cells.append(tc)
    row(cells)
    doc.spreadsheet.addElement(t)
    doc.save(path)


if __name__ == "__main__":
    xlsx(os.path.join(HERE, "prospects.xlsx"))
    xls(os.path.join(HERE, "prospects.xls"))
    ods(os.path.join(HERE, "prospects.ods"))
    far_cell_xlsx(os.path.join(HERE, "far_cell.xlsx"))
    sheets_xlsx(os.path.join(HERE, "sheets.xlsx"))
    merged_xls(os.path.join(HERE, "merged.xls"))
    merged_ods(os.path.join(HERE, "merged.ods"))
    uncomputed_xlsx(os.path.join(HERE, "uncomputed.xlsx"))
    uncomputed_ods(os.path.join(HERE, "uncomputed.ods"))
    numbers_xlsx(os.path.join(HERE, "numbers.xlsx"))
    numbers_xls(os.path.join(HERE, "numbers.xls"))
    numbers_ods(os.path.join(HERE, "numbers.ods"))
    print("wrote prospects.xlsx, prospects.xls, prospects.ods, far_cell.xlsx, sheets.xlsx, "
          "merged.xls, merged.ods, uncomputed.xlsx, uncomputed.ods, numbers.xlsx, numbers.xls, "
          "numbers.ods")
