#!/usr/bin/env python3
"""Generate hailer's sample data in assets/ (all fictional, every domain ends in .test).

How to run (from the repository root):

    python3 assets/generate_samples.py              # CSV files only (Python stdlib)
    python3 -m venv /tmp/venv-samples && /tmp/venv-samples/bin/pip install openpyxl
    /tmp/venv-samples/bin/python assets/generate_samples.py   # CSV + XLSX

Without openpyxl the XLSX files are skipped with a note (pass --require-xlsx to
make that an error). The output is deterministic: a fixed random seed, and the
XLSX files are rewritten with fixed zip and document timestamps, so running it
twice gives byte-identical files.

Writes:
    prospects.csv      UTF-8, comma, LF; header firstname,lastname,company,title,domain,email,city
    messages.csv       UTF-8, comma, LF; header company,subject,body (multi-line quoted bodies)
    prospects.xlsx     sheet "Prospects": title in row 1, blank row 2, header in row 3
    messages.xlsx      sheet "Messages": same layout
    prospects-fr.csv   cp1252, semicolon, CRLF; header Prénom;Nom;Société;Fonction;Site web
    company_keys.csv   name,company_key for every company spelling used here (test vectors)

The company key algorithm lives in benches/hailer_norm.py (shared with the
import benchmark); this script checks that every spelling variant of one
company gives the same key and that distinct companies give distinct keys.
"""

import csv
import io
import os
import random
import re
import sys
import unicodedata
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "benches"))
from hailer_norm import EXAMPLES, cell, company_key, dedupe_key  # noqa: E402

SEED = 20240611
HEADER = ["firstname", "lastname", "company", "title", "domain", "email", "city"]
FR_HEADER = ["Prénom", "Nom", "Société", "Fonction", "Site web"]

# ---------------------------------------------------------------------------
# Name pools, by language of the company (staff are mostly local, some not).
# ---------------------------------------------------------------------------
FIRST = {
    "fr": [
        "Élodie", "François", "Hélène", "Zoë", "Jean-Pierre", "Marie-Claire", "Anaïs",
        "Céline", "Jérôme", "Loïc", "Gaëlle", "Benoît", "Stéphane", "Thérèse", "Noémie",
        "Maëlle", "Raphaël", "Clément", "Amélie", "Léa", "Chloé", "Inès", "Cécile",
        "Aurélien", "Hervé", "Sébastien", "Frédéric", "Agnès", "Béatrice", "Jean-Luc",
        "Anne-Sophie", "Pierre-Yves", "Marie-Hélène", "Camille", "Julien", "Sophie",
        "Nicolas", "Manon", "Mathilde", "Yannick", "Gwenaëlle", "Océane", "Joël", "Renée",
    ],
    "en": [
        "Emily", "Oliver", "Sophie", "Liam", "Grace", "Harry", "Chloe", "Noah", "Amelia",
        "Jack", "Isla", "Seán", "Siobhán", "Niamh", "Aoife", "Connor", "Zoë", "Ethan",
        "Olivia", "Lucy", "Mary-Kate", "Anne-Marie", "Rhys", "Ciarán", "Eilidh", "Oscar",
        "Hannah", "Daniel", "Priya", "Mei", "Tomás", "Chiamaka",
    ],
    "de": [
        "Jürgen", "Björn", "Käthe", "Jörg", "Lukas", "Anja", "Henrik", "Günther", "Lena",
        "Matthias", "Sönke", "Ute", "Hans-Peter", "Anna-Lena", "Zoë", "Maximilian", "Annika",
    ],
    "nl": ["Daan", "Sanne", "Joëlle", "Pieter", "Femke", "Sven", "Maarten", "Lieke"],
    "nordic": ["Ingrid", "Øystein", "Åsa", "Lars", "Sigrún", "Märta", "Eirik", "Solveig"],
    "it": ["Giulia", "Niccolò", "Francesca", "Matteo", "Chiara", "Lorenzo"],
}
LAST = {
    "fr": [
        "Dupont", "Martin", "Lefèvre", "Moreau", "Girard", "de la Fontaine", "Le Goff",
        "Le Bihan", "Besnard", "Rousseau", "Mercier", "Chevalier", "Garnier", "Faure",
        "Lemaître", "Bénard", "Pélissier", "Lévêque", "Hébert", "Gauthier", "Brûlé",
        "Dubois", "Lambert", "Bonnet", "Roux", "Da Silva", "Le Gall", "Kerjean", "Morvan",
        "Duchêne", "Saint-Clair", "du Pré", "Bérenger", "Thibault", "Lacôte", "Crémieux",
        "d'Arcy", "N'Diaye",
    ],
    "en": [
        "O'Brien", "d'Arcy", "Smith", "Taylor", "Brown", "Wilson", "Evans", "Thomas",
        "Roberts", "Walker", "Wright", "Hughes", "McAllister", "MacLeod", "O'Connor",
        "Fitzgerald", "Byrne", "Ní Bhriain", "Patel", "Okafor", "Nakamura", "Harrington",
        "Ashworth", "Kowalski", "St. John", "Fairweather",
    ],
    "de": [
        "Müller", "Schröder", "Weiß", "Groß", "Köhler", "Bäcker", "Schäfer", "Hoffmann",
        "Krüger", "Vogel", "Zimmermann", "Becker", "von Allmen", "Fuchs", "Öztürk",
    ],
    "nl": ["van der Berg", "de Vries", "van Dijk", "Jansen", "van den Heuvel", "Bakker"],
    "nordic": ["Håkansson", "Lindqvist", "Ødegård", "Berg", "Sjöberg", "Jónsdóttir"],
    "it": ["Rossi", "De Luca", "D'Angelo", "Bianchi", "Esposito", "Ferrari-Conti"],
}
TITLES = {
    "fr": [
        "PDG", "Responsable marketing", "Responsable achats", "Responsable des opérations",
        "Chef de projet digital", "Responsable RH", "DAF", "Direction commerciale",
        "Responsable communication", "Directeur·rice technique", "Acheteur·euse",
        "Co-fondateur·rice", "Responsable export",
    ],
    "en": [
        "Head of Sales", "CTO", "Marketing Manager", "Procurement Lead", "Operations Director",
        "CEO", "Office Manager", "VP Engineering", "Founder", "Head of Partnerships",
        "Finance Director", "Customer Success Lead",
    ],
    "de": ["Geschäftsführung", "Leitung Einkauf", "Vertriebsleitung", "Head of Marketing", "CTO"],
}
TITLES["nl"] = TITLES["nordic"] = TITLES["it"] = TITLES["en"]

# ---------------------------------------------------------------------------
# Companies: (spellings, language, domain, domain shown in prospects.csv,
#             city, hook sentence for the message, spelling used in messages.csv)
# The first spelling is the usual one; the others appear on some rows.
# msg is an index into spellings, or a new spelling of the same company.
# ---------------------------------------------------------------------------
C = []


def company(spellings, lang, domain, shown, city, hook, msg=0):
    C.append(dict(spellings=spellings, lang=lang, domain=domain + ".test", shown=shown,
                  city=city, hook=hook, msg=msg))


# French companies (French messages)
company(["Boulangerie Dupont SARL", "Boulangerie Dupont"], "fr", "boulangerie-dupont", True,
        "Rennes", "J'ai vu que vous proposez désormais la commande en ligne de vos viennoiseries.", 1)
company(["Groupe Lumière SAS", "GROUPE LUMIÈRE", "Lumière SAS"], "fr", "groupe-lumiere", False,
        "Lyon", "Votre nouvelle gamme d'éclairage pour les bureaux a retenu mon attention.", 2)
company(["Société Générale des Tests S.A.", "Societe Generale des Tests SA"], "fr",
        "generale-des-tests", True, "Paris",
        "Vos équipes qualité interviennent chez de plus en plus de clients industriels.", 1)
company(["NoMX SARL"], "fr", "nomx", True, "Nantes",
        "Votre activité de conseil en messagerie se développe vite.")
company(["Fromagerie Lefèvre & Fils"], "fr", "fromagerie-lefevre", False, "Annecy",
        "Vos fromages affinés sont maintenant chez plusieurs cavistes de la région.")
company(["Atelier Bérénice SAS"], "fr", "atelier-berenice", True, "Bordeaux",
        "Votre atelier de reliure artisanale a une très belle réputation.")
company(["Vignobles de la Fontaine SAS"], "fr", "vignobles-delafontaine", False, "Libourne",
        "Vos cuvées s'exportent de plus en plus, notamment vers le Canada.")
company(["L'Atelier d'Élise SARL"], "fr", "atelier-elise", True, "Nîmes",
        "Vos créations textiles sur mesure séduisent de nouveaux clients professionnels.",
        "L’Atelier d’Élise")
company(["Brasserie du Port SNC"], "fr", "brasserie-du-port", False, "Saint-Malo",
        "Votre brasserie accueille de plus en plus de séminaires d'entreprise.")
company(["Cabinet Morel & Associés SELARL"], "fr", "cabinet-morel", True, "Lille",
        "Votre cabinet accompagne de nombreuses PME de la région.")
company(["Transports Le Goff SA", "Transports Le Goff S.A."], "fr", "transports-legoff", True,
        "Brest", "Votre flotte dessert maintenant toute la Bretagne.")
company(["Imprimerie Moreau EURL"], "fr", "imprimerie-moreau", False, "Orléans",
        "Vous proposez désormais l'impression sur papier recyclé.")
company(["Optique Hébert SASU"], "fr", "optique-hebert", False, "Caen",
        "Votre magasin vient d'ouvrir un second point de vente.")
company(["Menuiserie Girard & Cie"], "fr", "menuiserie-girard", True, "Angers",
        "Vos aménagements sur mesure pour les commerces sont remarquables.")
company(["Coopérative Solaire SCOP"], "fr", "cooperative-solaire", False, "Montpellier",
        "Votre coopérative installe de plus en plus de toitures solaires.")
company(["Pâtisserie Zoë SARL"], "fr", "patisserie-zoe", True, "Toulouse",
        "Vos ateliers de pâtisserie pour les entreprises ont l'air très appréciés.")
company(["Librairie Les Mots Bleus"], "fr", "les-mots-bleus", False, "Quimper",
        "Votre librairie organise de nombreuses rencontres d'auteurs.")
company(["Éditions Chevalier SA", "EDITIONS CHEVALIER"], "fr", "editions-chevalier", False,
        "Paris", "Votre catalogue jeunesse s'agrandit à chaque saison.", 1)
company(["Clinique Vétérinaire des Alpes"], "fr", "clinique-veterinaire-alpes", True, "Chambéry",
        "Votre clinique propose maintenant des consultations à domicile.")
company(["Agence Rousseau Immobilier SAS"], "fr", "rousseau-immobilier", False, "Strasbourg",
        "Votre agence gère un nombre croissant de locaux professionnels.")
company(["Hôtel du Lac SARL"], "fr", "hotel-du-lac", True, "Annecy",
        "Votre hôtel accueille de plus en plus de groupes d'affaires.")
company(["Laboratoires Mercier SA"], "fr", "laboratoires-mercier", False, "Besançon",
        "Vos laboratoires recrutent pour de nouveaux projets de recherche.")
company(["Garage Faure & Fils"], "fr", "garage-faure", False, "Clermont-Ferrand",
        "Votre garage s'est spécialisé dans les véhicules électriques.")
company(["Cidrerie Le Bihan"], "fr", "cidrerie-lebihan", True, "Fouesnant",
        "Vos cidres bio sont désormais distribués dans toute la France.")
company(["Cœur de Loire SARL"], "fr", "coeur-de-loire", False, "Saumur",
        "Vos croisières fluviales attirent de plus en plus d'entreprises.")
company(["Domaine Saint-Clair SCI"], "fr", "domaine-saint-clair", False, "Uzès",
        "Votre domaine accueille désormais des séminaires.")

# English-speaking companies (English messages)
company(["Acme SA", "ACME S.A."], "en", "acme", True, "Geneva",
        "I noticed that your European sales team has been growing quickly.", 1)
company(["Catchall Corp"], "en", "catchall", True, "Boston",
        "I saw that you are expanding your customer support team.")
company(["Greylist Ltd"], "en", "greylist", True, "Leeds",
        "I noticed you recently launched a new email-security service.")
company(["Fallback Inc."], "en", "fallback", True, "Portland",
        "I saw that you recently opened a second data centre.")
company(["Blue Harbor Inc.", "Blue Harbor, Inc"], "en", "blueharbor", True, "Boston",
        "Congratulations on the new harbour-side office.", 1)
company(["Smith & Sons Ltd", "SMITH & SONS LTD."], "en", "smith-and-sons", True, "Bristol",
        "Your family joinery business has a great reputation in the South West.")
company(["Thornbury Analytics Ltd"], "en", "thornbury-analytics", False, "Manchester",
        "I enjoyed your recent report on retail footfall.")
company(["O'Brien Logistics Limited"], "en", "obrien-logistics", True, "Dublin",
        "Your fleet now covers the whole of Ireland.", "O’Brien Logistics Ltd")
company(["Kestrel Software LLC"], "en", "kestrel-software", False, "Toronto",
        "Your scheduling app has been getting great reviews.")
company(["Harborview Partners LLP"], "en", "harborview-partners", False, "Edinburgh",
        "Your firm advises a growing number of start-ups.")
company(["Pinecrest Foods Inc.", "Pinecrest Foods, Inc."], "en", "pinecrest-foods", True,
        "Portland", "Your new plant-based range is now in several grocery chains.",
        "Pinecrest Foods Incorporated")
company(["Redwood Dynamics Corp.", "Redwood Dynamics Corporation"], "en", "redwood-dynamics",
        False, "Sydney", "Your team is hiring engineers for the new robotics line.")
company(["Maple & Finch Co."], "en", "maple-finch", False, "Toronto",
        "Your stationery shop has just opened online.")
company(["Silverline Media plc"], "en", "silverline-media", True, "London",
        "Your podcast network keeps adding new shows.")
company(["Copperfield Consulting Pty Ltd"], "en", "copperfield-consulting", False, "Sydney",
        "Your consultancy works with more and more regional councils.")
company(["Lakeside Robotics Inc"], "en", "lakeside-robotics", True, "Boston",
        "Your warehouse robots were a highlight of a recent trade show.")
company(["Oakridge Dental Group"], "en", "oakridge-dental", False, "Cork",
        "Your practice has opened two new clinics this year.")
company(["Stonegate Outdoor Ltd"], "en", "stonegate-outdoor", True, "Cardiff",
        "Your hiking gear range has grown a lot this season.")
company(["d'Arcy & Webb Ltd"], "en", "darcy-webb", False, "Belfast",
        "Your architecture studio has just won a regional design award.")
company(["Group SA"], "en", "group-sa", False, "Luxembourg",
        "I saw that you recently took a stake in two regional start-ups.")

# German, Dutch, Nordic and Italian companies (English messages)
company(["Nordlicht GmbH", "NORDLICHT GMBH"], "de", "nordlicht-gmbh", True, "Hamburg",
        "Your solar lighting is now sold across Scandinavia.", "Nordlicht G.m.b.H.")
company(["DeadMX GmbH"], "de", "deadmx", True, "Berlin",
        "I saw that you are moving your infrastructure to new servers.")
company(["Bäckerei Müller KG"], "de", "baeckerei-mueller", False, "München",
        "Your bakery now delivers to offices across the city.")
company(["Weiß Maschinenbau AG"], "de", "weiss-maschinenbau", True, "Stuttgart",
        "Your new packaging machines caught my attention.")
company(["Köhler & Schröder OHG"], "de", "koehler-schroeder", False, "Köln",
        "Your engineering office keeps winning public tenders.")
company(["Alpenglühen UG"], "de", "alpengluehen", False, "Garmisch-Partenkirchen",
        "Your mountain guides now offer corporate retreats.")
company(["Van der Berg Logistiek B.V."], "nl", "vanderberg-logistiek", True, "Rotterdam",
        "Your warehouses near the port have doubled in size.")
company(["Fjordlys AS"], "nordic", "fjordlys", False, "Bergen",
        "Your lighting designs are getting attention abroad.")
company(["Sunnanvind AB"], "nordic", "sunnanvind", True, "Göteborg",
        "Your wind-farm maintenance team is expanding.")
company(["Tramonto S.p.A."], "it", "tramonto", False, "Torino",
        "Your furniture collection was a highlight of this year's design fair.")

# Fixed people (the mail rig knows jane.doe@acme.test and john.smith@acme.test).
FIXED = {
    "acme": [
        ("Jane", "Doe", "Acme SA", "Head of Sales", "jane.doe@acme.test"),
        ("John", "Smith", "Acme SA", "CTO", ""),
        ("Élodie", "Marchand", "ACME S.A.", "Marketing Manager", ""),
        ("Seán", "O'Brien", "ACME S.A.", "Procurement Lead", ""),
    ],
}

EMAIL_PATTERNS = ["{f}.{l}", "{f}.{l}", "{f}.{l}", "{f}", "{i}{l}", "{f}{l}", "{i}.{l}"]
_TRANSLIT = str.maketrans({"ß": "ss", "ø": "o", "œ": "oe", "æ": "ae", "đ": "d", "ł": "l"})


def ascii_part(s: str) -> str:
    s = s.lower().translate(_TRANSLIT)
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9-]", "", s)


def make_email(pattern, first, last, domain):
    f, l = ascii_part(first), ascii_part(last)
    return pattern.format(f=f, l=l, i=f[0]) + "@" + domain


def build_prospects(rng):
    rows = []  # dicts with HEADER keys
    for c in C:
        key = company_key(c["spellings"][0])
        c["key"] = key
        c["pattern"] = "{f}.{l}" if key == "acme" else rng.choice(EMAIL_PATTERNS)
        domain = c["domain"] if c["shown"] else ""
        people = []
        if key in FIXED:
            for first, last, comp, title, email in FIXED[key]:
                people.append(dict(firstname=first, lastname=last, company=comp, title=title,
                                   domain=domain, email=email, city=c["city"]))
        else:
            n = rng.randint(2, 7)
            seen = set()
            while len(people) < n:
                lang = c["lang"] if rng.random() < 0.85 else rng.choice(list(FIRST))
                first = rng.choice(FIRST[lang])
                last = rng.choice(LAST[lang if rng.random() < 0.9 else c["lang"]])
                if (first, last) in seen:
                    continue
                seen.add((first, last))
                spelling = c["spellings"][0]
                if len(c["spellings"]) > 1 and rng.random() < 0.4:
                    spelling = rng.choice(c["spellings"][1:])
                title_lang = c["lang"] if c["lang"] in ("fr", "de") else "en"
                people.append(dict(firstname=first, lastname=last, company=spelling,
                                   title=rng.choice(TITLES[title_lang]), domain=domain,
                                   email="", city=c["city"]))
        for p in people:
            p["_c"] = c
        rows.extend(people)

    # Emails on ~10% of rows: only where the company's domain is known.
    target = round(0.10 * (len(rows) + 4))
    have = sum(1 for r in rows if r["email"])
    eligible = [r for r in rows if r["domain"] and not r["email"]
                and not (r["firstname"], r["lastname"]) == ("John", "Smith")]
    for r in rng.sample(eligible, target - have):
        r["email"] = make_email(r["_c"]["pattern"], r["firstname"], r["lastname"], r["domain"])

    rng.shuffle(rows)

    # Quirks the importer must handle: two duplicates (spelled differently), two rows
    # that must be rejected, and a few padded cells.
    def find(comp_key, **kw):
        for i, r in enumerate(rows):
            if r["_c"]["key"] == comp_key and all(r[k] == v for k, v in kw.items()):
                return i
        raise LookupError(comp_key)

    # Duplicate 1: the same person, name in NFD form, company upper-cased.
    i = next(i for i, r in enumerate(rows) if r["_c"]["key"] == "fromagerie lefevre fils")
    orig = rows[i]
    dup = dict(orig, firstname=unicodedata.normalize("NFD", orig["firstname"]),
               lastname=unicodedata.normalize("NFD", orig["lastname"]),
               company="FROMAGERIE LEFÈVRE & FILS", email="", title="")
    rows.insert(rng.randint(i + 1, len(rows)), dup)
    # Duplicate 2: padded and differently cased person, company spelled with S.A.
    i = next(i for i, r in enumerate(rows) if r["_c"]["key"] == "transports le goff")
    orig = rows[i]
    dup = dict(orig, firstname=" " + orig["firstname"].lower() + " ",
               lastname=orig["lastname"].upper(), company="Transports Le Goff S.A. ",
               email="")
    rows.insert(rng.randint(i + 1, len(rows)), dup)
    # Two rows to reject: no last name, no company.
    hotel = next(c for c in C if c["key"] == "hotel du lac")
    rows.insert(rng.randrange(len(rows)), dict(
        firstname="Marc", lastname="", company="Hôtel du Lac SARL", title="Responsable RH",
        domain=hotel["domain"], email="", city="Annecy", _c=hotel))
    rows.insert(rng.randrange(len(rows)), dict(
        firstname="Nadia", lastname="Benali", company="", title="Consultante indépendante",
        domain="", email="", city="Marseille", _c=None))
    # Padded cells elsewhere (trimmed on import).
    i = next(i for i, r in enumerate(rows) if r["company"] == "Nordlicht GmbH")
    rows[i]["company"] = "  Nordlicht GmbH"
    i = next(i for i, r in enumerate(rows) if r["company"] == "Pâtisserie Zoë SARL")
    rows[i]["city"] = "Toulouse "
    return rows


def expected_import(rows):
    """What a correct import of prospects.csv stores (hailer's rules)."""
    seen, stored, rejected, dups = set(), 0, 0, 0
    for r in rows:
        first, last, comp = cell(r["firstname"]), cell(r["lastname"]), cell(r["company"])
        if not (first and last and comp):
            rejected += 1
            continue
        k = dedupe_key(first, last, company_key(comp))
        if k in seen:
            dups += 1
            continue
        seen.add(k)
        stored += 1
    return stored, rejected, dups


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------
FR_SUBJECTS = [
    "{prenom}, une idée pour {company}",
    "{company} : une question rapide",
    "Prospection simplifiée pour {company}",
    "{prenom|Bonjour}, un échange de 15 minutes ?",
]
EN_SUBJECTS = [
    "Quick question, {firstname|there}",
    "An idea for {company}",
    "{firstname}, 15 minutes next week?",
    "Outreach at {company}, made simpler",
]
FR_BODIES = [
    """Bonjour {prenom|à vous},

{hook}

Chez Hailer, nous aidons des équipes comme celle de {company} à **gagner du temps** sur la prospection, sans perdre le ton personnel.

Auriez-vous 15 minutes la semaine prochaine pour en parler ? Tout est présenté sur [notre site](https://hailer.test/).

Bien cordialement,
Camille Laurent
Hailer""",
    """Bonjour {prenom} {lastname},

Je me permets de vous écrire au sujet de {company}. {hook}

En bref :
- **mise en place** en une journée ;
- aucun engagement ;
- un interlocuteur unique.

Si le sujet vous intéresse, je vous propose un court échange. Plus d'informations sur [notre site](https://hailer.test/).

Cordialement,
Camille Laurent""",
    """Bonjour {prenom|à vous},

{hook}

Nous aidons les PME à envoyer des messages **courts et personnalisés** à leurs futurs clients. Seriez-vous la bonne personne pour en parler chez {company} ?

Merci d'avance pour votre réponse,
Camille""",
]
EN_BODIES = [
    """Hi {firstname|there},

{hook}

At Hailer we help teams like yours at {company} **save hours every week** on outreach while keeping every message personal.

Would you be open to a 15-minute call next week? There is a short overview on [our site](https://hailer.test/).

Best regards,
Camille Laurent
Hailer""",
    """Dear {firstname} {lastname},

I am reaching out about {company}. {hook}

In short:
- **set up** in a day
- no commitment
- one contact person

If this sounds useful, I would be glad to send more details. You can also have a look at [our site](https://hailer.test/).

Kind regards,
Camille Laurent""",
    """Hello {firstname|there},

{hook}

We help small teams send **short, personal** emails to the right people. Would you be the right person to talk to at {company}?

Thanks in advance,
Camille""",
]


def build_messages(rng):
    out = []
    for n, c in enumerate(C):
        name = c["msg"] if isinstance(c["msg"], str) else c["spellings"][c["msg"]]
        assert company_key(name) == c["key"], (name, c["key"])
        fr = c["lang"] == "fr"
        subject = rng.choice(FR_SUBJECTS if fr else EN_SUBJECTS)
        body = (FR_BODIES if fr else EN_BODIES)[n % 3].replace("{hook}", c["hook"])
        out.append(dict(company=name, subject=subject, body=body))
    return out


# ---------------------------------------------------------------------------
# French-header export (cp1252, semicolons)
# ---------------------------------------------------------------------------
SITE_FORMS = ["https://www.{d}/", "http://{d}", "www.{d}", "{d}", "https://{d}/contact", ""]


def build_fr(rows, rng):
    picked = []
    seen = set()
    for r in rows:
        c = r["_c"]
        if c is None or c["lang"] != "fr" or not r["lastname"] or r["firstname"] != r["firstname"].strip():
            continue
        k = (r["firstname"], r["lastname"], c["key"])
        if k in seen or unicodedata.is_normalized("NFC", r["firstname"] + r["lastname"]) is False:
            continue
        try:
            (r["firstname"] + r["lastname"] + r["title"]).encode("cp1252")
        except UnicodeEncodeError:
            continue
        seen.add(k)
        picked.append(r)
    # Keep the two companies whose names need cp1252 (œ, ’) and fill up to 30 rows.
    must = [r for r in picked if r["_c"]["key"] in ("cœur de loire", "latelier delise")]
    rest = [r for r in picked if r not in must]
    chosen = must + rng.sample(rest, 30 - len(must))
    rng.shuffle(chosen)
    out = []
    for r in chosen:
        comp = r["company"]
        if r["_c"]["key"] == "latelier delise":
            comp = "L’Atelier d’Élise SARL"  # typographic apostrophe (0x92 in cp1252)
        site = rng.choice(SITE_FORMS).format(d=r["_c"]["domain"])
        out.append([r["firstname"], r["lastname"], comp, r["title"], site])
    return out


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
def write_csv(path, header, rows, delimiter=",", encoding="utf-8", newline="\n"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    with open(path, "wb") as f:
        f.write(buf.getvalue().encode(encoding))  # strict: fails on an unencodable character


FIXED_DT = "2024-06-11T00:00:00Z"


def write_xlsx(path, sheet, title, header, rows, widths, wrap_col=None):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])  # row 2 stays blank
    ws.append(header)  # row 3
    for c in ws[3]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([v if v != "" else None for v in row])
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    if wrap_col is not None:
        for (c,) in ws.iter_rows(min_row=4, min_col=wrap_col, max_col=wrap_col):
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:{chr(ord('A') + len(header) - 1)}{3 + len(rows)}"
    wb.save(path)
    _make_reproducible(path)


def _make_reproducible(path):
    """Fixed zip entry dates and document timestamps, so reruns are byte-identical."""
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                              rb"\g<1>" + FIXED_DT.encode(), data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2024, 6, 11, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)


def main():
    rng = random.Random(SEED)
    rows = build_prospects(rng)
    messages = build_messages(rng)
    fr_rows = build_fr(rows, rng)

    # Checks: spellings group, companies stay distinct.
    keys = [c["key"] for c in C]
    assert len(set(keys)) == len(keys), "two companies share a key"
    for c in C:
        for s in c["spellings"]:
            assert company_key(s) == c["key"], (s, c["key"])
        assert c["domain"].endswith(".test")
    for r in rows:
        if r["email"]:
            assert r["email"].endswith("@" + r["_c"]["domain"]), r
    assert len(rows) >= 220 and len(C) >= 45

    table = [[r[h] for h in HEADER] for r in rows]
    msg_table = [[m["company"], m["subject"], m["body"]] for m in messages]
    write_csv(os.path.join(HERE, "prospects.csv"), HEADER, table)
    write_csv(os.path.join(HERE, "messages.csv"), ["company", "subject", "body"], msg_table)
    write_csv(os.path.join(HERE, "prospects-fr.csv"), FR_HEADER, fr_rows, delimiter=";",
              encoding="cp1252", newline="\r\n")

    spellings = sorted({r["company"] for r in rows if r["company"]}
                       | {m["company"] for m in messages} | {r[2] for r in fr_rows})
    vectors = [[s, company_key(s)] for s in spellings]
    vectors += [[n, k] for n, k in EXAMPLES if n and [n, k] not in vectors]
    write_csv(os.path.join(HERE, "company_keys.csv"), ["name", "company_key"], vectors)

    try:
        import openpyxl  # noqa: F401
        have_xlsx = True
    except ImportError:
        have_xlsx = False
        if "--require-xlsx" in sys.argv:
            sys.exit("openpyxl is not installed (see the top of this script)")
        print("note: openpyxl not installed, XLSX files not regenerated", file=sys.stderr)
    if have_xlsx:
        write_xlsx(os.path.join(HERE, "prospects.xlsx"), "Prospects",
                   "Prospects — sample data (fictional, .test domains)", HEADER, table,
                   [16, 18, 32, 26, 28, 36, 22])
        write_xlsx(os.path.join(HERE, "messages.xlsx"), "Messages",
                   "Messages — sample data (fictional, .test domains)",
                   ["company", "subject", "body"], msg_table, [32, 40, 90], wrap_col=3)

    stored, rejected, dups = expected_import(rows)
    n_keys = len({company_key(cell(r["company"])) for r in rows if cell(r["company"])})
    print(f"prospects.csv: {len(rows)} rows, {n_keys} companies (by key), "
          f"{sum(1 for c in C if c['shown'])} with a domain, "
          f"{sum(1 for r in rows if r['email'])} with an email; "
          f"a correct import stores {stored}, rejects {rejected}, skips {dups} duplicates")
    print(f"messages.csv: {len(messages)} messages; prospects-fr.csv: {len(fr_rows)} rows; "
          f"company_keys.csv: {len(vectors)} names; xlsx: {'written' if have_xlsx else 'skipped'}")


if __name__ == "__main__":
    main()
