#!/usr/bin/env python3
"""Generate a large, deterministic prospects file for the import benchmark.

    python3 benches/gen_prospects.py [--rows 100000] [--seed 7] [--out target/bench-data] [--no-xlsx]

Writes OUT/prospects-ROWS.csv (UTF-8, comma) and OUT/prospects-ROWS.xlsx
(sheet "Prospects", header in row 1, openpyxl write-only mode), both holding the
same rows with the columns firstname,lastname,company,title,email,city.

About 5000 distinct companies (by hailer's company key) with legal suffixes; about
one row in eight spells its company another way (upper case, dotted suffix, no
suffix) so that the key has grouping to do; accented and hyphenated names and
particles; email filled on about a quarter of the rows. Everything is fictional
and every domain ends in .test.

The CSV part needs only the Python stdlib; the XLSX part needs openpyxl.
"""

import argparse
import csv
import os
import random
import re
import sys
import time
import unicodedata

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hailer_norm import company_key  # noqa: E402

HEADER = ["firstname", "lastname", "company", "title", "email", "city"]

FIRST = {
    "fr": "Élodie François Hélène Zoë Jean-Pierre Marie-Claire Anaïs Céline Jérôme Loïc Gaëlle "
          "Benoît Stéphane Thérèse Noémie Maëlle Raphaël Clément Amélie Léa Chloé Inès Cécile "
          "Aurélien Hervé Sébastien Frédéric Agnès Béatrice Jean-Luc Anne-Sophie Pierre-Yves "
          "Marie-Hélène Camille Julien Sophie Nicolas Manon Mathilde Yannick Gwenaëlle Océane "
          "Joël Renée Théo Lucas Emma Hugo Louise Arthur Juliette Étienne Ophélie Gaël".split(),
    "en": "Jane John Emily Oliver Sophie Liam Grace Harry Chloe Noah Amelia Jack Isla Seán Siobhán "
          "Niamh Aoife Connor Zoë Ethan Olivia Lucy Mary-Kate Anne-Marie Rhys Ciarán Eilidh Oscar "
          "Hannah Daniel Priya Mei Tomás Chiamaka George Freya Alfie Poppy".split(),
    "de": "Jürgen Björn Käthe Jörg Lukas Anja Henrik Günther Lena Matthias Sönke Ute Hans-Peter "
          "Anna-Lena Maximilian Annika Felix Mia Jonas Lea".split(),
    "other": "Daan Sanne Joëlle Pieter Femke Ingrid Øystein Åsa Lars Sigrún Märta Giulia Niccolò "
             "Francesca Matteo Chiara Łukasz Agnieszka Dorotea Mateja Zoltán Réka".split(),
}
LAST = {
    "fr": "Dupont Martin Lefèvre Moreau Girard Fontaine Le Goff Le Bihan Besnard Rousseau Mercier "
          "Chevalier Garnier Faure Lemaître Bénard Pélissier Lévêque Hébert Gauthier Brûlé Dubois "
          "Lambert Bonnet Roux Kerjean Morvan Duchêne Saint-Clair Bérenger Thibault Lacôte "
          "Crémieux Petit Durand Leroy Simon Laurent Michel Garcia Bertrand Perrin Robin".split()
          + ["de la Fontaine", "Le Goff", "Le Gall", "Da Silva", "du Pré", "d'Arcy", "N'Diaye",
             "de Saint-Aubin", "Le Roux"],
    "en": "Smith Taylor Brown Wilson Evans Thomas Roberts Walker Wright Hughes McAllister MacLeod "
          "Fitzgerald Byrne Patel Okafor Nakamura Harrington Ashworth Kowalski Fairweather Clarke "
          "Turner Hall Green Baker Cooper".split()
          + ["O'Brien", "O'Connor", "d'Arcy", "Ní Bhriain", "St. John", "Van Buren"],
    "de": "Müller Schröder Weiß Groß Köhler Bäcker Schäfer Hoffmann Krüger Vogel Zimmermann Becker "
          "Fuchs Öztürk Wagner Schulz Neumann Braun".split() + ["von Allmen", "zu Hohenfeld"],
    "other": "Håkansson Lindqvist Ødegård Berg Sjöberg Jónsdóttir Rossi Bianchi Esposito Nowak "
             "Wójcik Horváth Kovačević Novák Dvořák".split()
             + ["van der Berg", "de Vries", "van Dijk", "De Luca", "D'Angelo"],
}
TITLES = {
    "fr": ["PDG", "Responsable marketing", "Responsable achats", "Responsable des opérations",
           "Chef de projet digital", "Responsable RH", "DAF", "Direction commerciale",
           "Responsable communication", "Directeur·rice technique", "Gérant", "Gérante"],
    "en": ["Head of Sales", "CTO", "Marketing Manager", "Procurement Lead", "Operations Director",
           "CEO", "Office Manager", "VP Engineering", "Founder", "Head of Partnerships"],
    "de": ["Geschäftsführung", "Leitung Einkauf", "Vertriebsleitung", "Head of Marketing", "CTO"],
}
TITLES["other"] = TITLES["en"]
CITIES = {
    "fr": "Paris Lyon Nantes Rennes Brest Quimper Lille Bordeaux Toulouse Montpellier Strasbourg "
          "Annecy Saint-Étienne Besançon Orléans Aix-en-Provence Clermont-Ferrand Angers Caen Nîmes "
          "Saint-Malo Chambéry Périgueux Béziers".split(),
    "en": "London Manchester Leeds Bristol Dublin Cork Edinburgh Cardiff Boston Portland Toronto "
          "Sydney Galway Belfast".split(),
    "de": "Berlin München Köln Düsseldorf Hamburg Zürich Wien Stuttgart Lübeck Göttingen".split(),
    "other": "Rotterdam Utrecht Oslo Bergen Göteborg Malmö Torino Kraków Brno Ljubljana".split(),
}

FR_SECTORS = ("Boulangerie Pâtisserie Fromagerie Menuiserie Imprimerie Optique Garage Librairie "
              "Brasserie Cidrerie Atelier Cabinet Agence Transports Laboratoires Éditions Hôtel "
              "Domaine Vignobles Maison Société Clinique Coopérative Bureau Studio Conseil "
              "Ébénisterie Charcuterie Quincaillerie Serrurerie").split()
FR_WORDS = ("Lumière Horizon Étoile Océan Cœur Alpes Loire Bretagne Provence Azur Soleil Forêt "
            "Rivière Jardin Avenir Atlantique Méditerranée Vallée Montagne Clairière Écluse "
            "Fontaine Rivage Aurore Boréal Cèdre Olivier Tilleul Chêne Saule").split()
EN_WORDS = ("Blue Harbor Kestrel Pinecrest Redwood Maple Finch Silverline Copperfield Lakeside "
            "Oakridge Stonegate Thornbury Harborview Brightwater Northfield Westbrook Ironbridge "
            "Falcon Heron Willow Summit Granite Amber Cobalt Crimson Meadow Riverside Highland "
            "Foxglove Juniper Hawthorn Ember Lantern Beacon Anchor Compass").split()
EN_TRADES = ("Analytics Software Logistics Foods Dynamics Media Consulting Robotics Dental Outdoor "
             "Partners Systems Labs Studio Supplies Engineering Ventures Freight Design Energy "
             "Health Print Marine Textiles").split()
DE_WORDS = ("Nordlicht Alpenglühen Sonnenberg Waldhaus Bergquell Seeblick Morgenrot Eichenhof "
            "Lindenbaum Fichtel Rheinblick Elbufer Tannenhof").split()
DE_TRADES = ("Maschinenbau Logistik Bäckerei Druckerei Elektrotechnik Holzbau Metallbau Medizintechnik "
             "Brauerei Software Optik Spedition").split()

# Legal suffix: (canonical, variant spellings seen on other rows)
SUFFIX = {
    "fr": [("SARL", ["S.A.R.L.", "sarl"]), ("SAS", ["S.A.S.", "sas"]), ("SA", ["S.A.", "sa"]),
           ("EURL", ["E.U.R.L."]), ("SASU", ["S.A.S.U."]), ("SCOP", ["Scop"]), ("SNC", ["S.N.C."]),
           ("& Fils", []), ("& Cie", ["et Cie"]), ("", [])],
    "en": [("Ltd", ["Ltd.", "Limited", "LTD"]), ("Inc.", ["Inc", ", Inc.", "Incorporated"]),
           ("LLC", ["L.L.C.", "llc"]), ("LLP", ["L.L.P."]), ("plc", ["PLC"]),
           ("Corp.", ["Corporation", "Corp"]), ("Co.", ["Co", "& Co."]), ("Group", [""]),
           ("Pty Ltd", ["Pty. Ltd."]), ("", [])],
    "de": [("GmbH", ["G.m.b.H.", "GMBH"]), ("AG", ["A.G."]), ("KG", []), ("OHG", []),
           ("UG", []), ("GmbH & Co. KG", ["GmbH & Co KG"])],
    "other": [("B.V.", ["BV"]), ("N.V.", ["NV"]), ("AS", ["A/S"]), ("AB", []), ("Oy", ["OY"]),
              ("S.p.A.", ["SpA", "S.P.A."]), ("S.r.l.", ["Srl", "SRL"]), ("S.L.", ["SL"])],
}
LANGS = ["fr"] * 45 + ["en"] * 30 + ["de"] * 15 + ["other"] * 10

_TRANSLIT = str.maketrans({"ß": "ss", "ø": "o", "œ": "oe", "æ": "ae", "ł": "l", "đ": "d"})


def slug(s: str, sep: str = "-") -> str:
    s = s.lower().translate(_TRANSLIT)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", sep, s).strip(sep)


def make_companies(rng: random.Random, n: int):
    companies, keys = [], set()
    while len(companies) < n:
        lang = rng.choice(LANGS)
        if lang == "fr":
            base = rng.choice(FR_SECTORS) + " " + rng.choice(
                [rng.choice(LAST["fr"]), rng.choice(FR_WORDS), rng.choice(FR_WORDS) + " " + rng.choice(LAST["fr"])])
        elif lang == "en":
            pick = rng.random()
            if pick < 0.4:
                base = rng.choice(EN_WORDS) + " " + rng.choice(EN_TRADES)
            elif pick < 0.7:
                base = rng.choice(LAST["en"]) + " & " + rng.choice(LAST["en"] + ["Sons", "Daughters"])
            else:
                base = rng.choice(EN_WORDS) + rng.choice(EN_WORDS).lower() + " " + rng.choice(EN_TRADES)
        elif lang == "de":
            base = rng.choice([rng.choice(DE_WORDS) + " " + rng.choice(DE_TRADES),
                               rng.choice(DE_TRADES) + " " + rng.choice(LAST["de"]),
                               rng.choice(LAST["de"]) + " & " + rng.choice(LAST["de"])])
        else:
            base = rng.choice(LAST["other"]) + " " + rng.choice(EN_TRADES + DE_TRADES)
        suffix, variants = rng.choice(SUFFIX[lang])
        name = base + ((" " if not suffix.startswith(",") else "") + suffix if suffix else "")
        key = company_key(name)
        if not key or key in keys:
            continue
        spellings = [name, name.upper()]
        for v in variants:
            spellings.append(base + (("" if v.startswith(",") else " ") + v if v else ""))
        spellings = [s for s in spellings if company_key(s) == key]  # keep only true variants
        keys.add(key)
        domain = slug(base) + ".test"
        companies.append((spellings, lang, domain, rng.choice(CITIES[lang]),
                          rng.choice(["{f}.{l}", "{f}.{l}", "{f}{l}", "{i}{l}", "{f}"])))
    return companies


def make_rows(rng: random.Random, n_rows: int, companies):
    # A few big accounts, many small ones: weights fall off with rank.
    weights = [1.0 / (i + 20) ** 0.7 for i in range(len(companies))]
    picks = rng.choices(companies, weights=weights, k=n_rows)
    for spellings, lang, domain, city, pattern in picks:
        staff = lang if rng.random() < 0.85 else rng.choice(list(FIRST))
        first = rng.choice(FIRST[staff])
        last = rng.choice(LAST[staff])
        company = spellings[0] if len(spellings) == 1 or rng.random() < 0.88 else rng.choice(spellings[1:])
        email = ""
        if rng.random() < 0.25:
            f, l = slug(first), slug(last, "")
            email = pattern.format(f=f, l=l, i=f[:1]) + "@" + domain
        title_lang = lang if lang in TITLES else "en"
        yield [first, last, company, rng.choice(TITLES[title_lang]), email,
               city if rng.random() < 0.9 else rng.choice(CITIES[lang])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--companies", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="target/bench-data")
    ap.add_argument("--no-xlsx", action="store_true")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    companies = make_companies(rng, args.companies)
    rows = list(make_rows(rng, args.rows, companies))

    t = time.perf_counter()
    csv_path = os.path.join(args.out, f"prospects-{args.rows}.csv")
    with open(csv_path + ".part", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    os.replace(csv_path + ".part", csv_path)
    print(f"wrote {csv_path} ({len(rows)} rows, {len(companies)} companies) "
          f"in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    if not args.no_xlsx:
        from openpyxl import Workbook

        t = time.perf_counter()
        xlsx_path = os.path.join(args.out, f"prospects-{args.rows}.xlsx")
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Prospects")
        ws.append(HEADER)
        for row in rows:
            ws.append([v if v else None for v in row])
        wb.save(xlsx_path + ".part")
        os.replace(xlsx_path + ".part", xlsx_path)
        print(f"wrote {xlsx_path} in {time.perf_counter() - t:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
