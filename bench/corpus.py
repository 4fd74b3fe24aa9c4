"""Deterministic benchmark corpus generator for careersite.

Writes ``N`` Markdown articles (YAML front matter + German body text) to
``DIR/<city-slug>/<role-slug>.md``::

    python bench/corpus.py --articles 10000 --out /tmp/corpus [--seed 1] [--words 750]

or, from Python (repository root on ``sys.path``)::

    from bench.corpus import generate
    generate(Path("/tmp/corpus"), 10_000, seed=1, words=750)   # returns 10_000

Output is byte-identical for the same (n, seed, words): all randomness comes
from a single ``random.Random(seed)`` consumed in article order, and nothing
depends on the clock, the environment or hash ordering.  ``--words`` is a
target for the body (typically within +/-10 %); headings, intro, bullet list
and table put a floor of roughly 250 words under it.

Grid mapping
------------
The corpus is a (role x city) grid, so that the site sees realistic fan-out
in both dimensions (many roles per city page, many cities per role page)::

    C = min(len(CITIES), max(4, round(sqrt(N) / 3)))   # cities used
    C = max(C, ceil(N / len(ROLES)))                  # only if roles run out
    R = ceil(N / C)                                   # roles used

    article i  ->  city  CITIES[i % C],  role  ROLES[i // C]

Because ``(i % C, i // C)`` is a bijection between ``range(N)`` and grid
cells, every (role, city) pair - and therefore every output path - is unique.
Typical sizes: N=1,000 -> 11 cities x 91 roles; N=10,000 -> 33 x 304;
N=100,000 -> 105 x 953.  The first cities in ``CITIES`` are deliberately a
mix of states and of umlaut/ß names so that small corpora exercise slugging
too.  N larger than ``len(CITIES) * len(ROLES)`` raises ``ValueError``.

Roles are the base roles on their own followed by every base role x
specialisation combination (``"IT-Koordinator (Qualitätssicherung)"``),
enumerated diagonally so that the first few hundred roles already cover all
base roles and many specialisations.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import json
import math
import os
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

__all__ = ["CITIES", "ROLES", "generate", "grid", "slugify"]

# ---------------------------------------------------------------------------
# Slugs
# ---------------------------------------------------------------------------

# German transliteration must happen before NFKD, otherwise "ü" would decay to
# "u" instead of the conventional "ue".
_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
     "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"}
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lowercase ASCII slug: umlauts transliterated, other accents stripped."""
    text = text.translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", text.lower()).strip("-")


# ---------------------------------------------------------------------------
# Cities: (name, region, state)
# ---------------------------------------------------------------------------

_NRW = "Nordrhein-Westfalen"
_BY = "Bayern"
_BW = "Baden-Württemberg"
_NI = "Niedersachsen"
_HE = "Hessen"
_SN = "Sachsen"
_RP = "Rheinland-Pfalz"
_SH = "Schleswig-Holstein"
_MV = "Mecklenburg-Vorpommern"
_BB = "Brandenburg"
_ST = "Sachsen-Anhalt"
_TH = "Thüringen"
_SL = "Saarland"

CITIES: tuple[tuple[str, str, str], ...] = (
    # Leading block: mixed states and umlaut/ß names (used even for tiny N).
    ("Oberhausen", "Ruhrgebiet", _NRW),
    ("München", "Oberbayern", _BY),
    ("Münster", "Münsterland", _NRW),
    ("Osnabrück", "Osnabrücker Land", _NI),
    ("Leipzig", "Leipzig-Westsachsen", _SN),
    ("Mülheim an der Ruhr", "Ruhrgebiet", _NRW),
    ("Gießen", "Mittelhessen", _HE),
    ("Würzburg", "Unterfranken", _BY),
    ("Lüneburg", "Lüneburger Heide", _NI),
    ("Görlitz", "Oberlausitz", _SN),
    ("Fürth", "Mittelfranken", _BY),
    ("Stuttgart", "Mittlerer Neckar", _BW),
    ("Berlin", "Berlin-Brandenburg", "Berlin"),
    ("Hamburg", "Hamburg und Umland", "Hamburg"),
    ("Köln", "Rheinland", _NRW),
    ("Frankfurt am Main", "Rhein-Main", _HE),
    ("Dresden", "Oberes Elbtal", _SN),
    ("Bremen", "Bremen und Umland", "Bremen"),
    ("Hannover", "Calenberger Land", _NI),
    ("Erfurt", "Mittelthüringen", _TH),
    ("Rostock", "Mittleres Mecklenburg", _MV),
    ("Magdeburg", "Magdeburger Börde", _ST),
    ("Potsdam", "Havelland-Fläming", _BB),
    ("Kiel", "Kieler Förde", _SH),
    ("Mainz", "Rheinhessen", _RP),
    ("Saarbrücken", "Saarbrücker Land", _SL),
    ("Dessau-Roßlau", "Anhalt", _ST),
    ("Düsseldorf", "Rheinland", _NRW),
    ("Nürnberg", "Mittelfranken", _BY),
    ("Freiburg im Breisgau", "Südlicher Oberrhein", _BW),
    ("Frankfurt (Oder)", "Oderland-Spree", _BB),
    ("Zweibrücken", "Westpfalz", _RP),
    ("Lüdenscheid", "Sauerland", _NRW),
    # Remaining cities, roughly grouped by state.
    ("Dortmund", "Ruhrgebiet", _NRW),
    ("Essen", "Ruhrgebiet", _NRW),
    ("Duisburg", "Ruhrgebiet", _NRW),
    ("Bochum", "Ruhrgebiet", _NRW),
    ("Gelsenkirchen", "Ruhrgebiet", _NRW),
    ("Hagen", "Ruhrgebiet", _NRW),
    ("Hamm", "Ruhrgebiet", _NRW),
    ("Recklinghausen", "Ruhrgebiet", _NRW),
    ("Bottrop", "Ruhrgebiet", _NRW),
    ("Bielefeld", "Ostwestfalen-Lippe", _NRW),
    ("Paderborn", "Ostwestfalen-Lippe", _NRW),
    ("Gütersloh", "Ostwestfalen-Lippe", _NRW),
    ("Bonn", "Rheinland", _NRW),
    ("Neuss", "Rheinland", _NRW),
    ("Leverkusen", "Rheinland", _NRW),
    ("Aachen", "Aachener Land", _NRW),
    ("Düren", "Aachener Land", _NRW),
    ("Wuppertal", "Bergisches Land", _NRW),
    ("Solingen", "Bergisches Land", _NRW),
    ("Remscheid", "Bergisches Land", _NRW),
    ("Krefeld", "Niederrhein", _NRW),
    ("Mönchengladbach", "Niederrhein", _NRW),
    ("Siegen", "Siegerland", _NRW),
    ("Augsburg", "Schwaben", _BY),
    ("Regensburg", "Oberpfalz", _BY),
    ("Ingolstadt", "Oberbayern", _BY),
    ("Rosenheim", "Oberbayern", _BY),
    ("Erlangen", "Mittelfranken", _BY),
    ("Bamberg", "Oberfranken", _BY),
    ("Bayreuth", "Oberfranken", _BY),
    ("Passau", "Niederbayern", _BY),
    ("Landshut", "Niederbayern", _BY),
    ("Kempten (Allgäu)", "Allgäu", _BY),
    ("Aschaffenburg", "Unterfranken", _BY),
    ("Schweinfurt", "Unterfranken", _BY),
    ("Karlsruhe", "Mittlerer Oberrhein", _BW),
    ("Mannheim", "Rhein-Neckar", _BW),
    ("Heidelberg", "Rhein-Neckar", _BW),
    ("Ulm", "Donau-Iller", _BW),
    ("Heilbronn", "Heilbronn-Franken", _BW),
    ("Pforzheim", "Nordschwarzwald", _BW),
    ("Reutlingen", "Neckar-Alb", _BW),
    ("Tübingen", "Neckar-Alb", _BW),
    ("Konstanz", "Bodensee", _BW),
    ("Esslingen am Neckar", "Mittlerer Neckar", _BW),
    ("Ludwigsburg", "Mittlerer Neckar", _BW),
    ("Wiesbaden", "Rhein-Main", _HE),
    ("Offenbach am Main", "Rhein-Main", _HE),
    ("Darmstadt", "Südhessen", _HE),
    ("Kassel", "Nordhessen", _HE),
    ("Marburg", "Mittelhessen", _HE),
    ("Fulda", "Osthessen", _HE),
    ("Braunschweig", "Braunschweiger Land", _NI),
    ("Wolfsburg", "Braunschweiger Land", _NI),
    ("Salzgitter", "Braunschweiger Land", _NI),
    ("Göttingen", "Südniedersachsen", _NI),
    ("Hildesheim", "Hildesheimer Börde", _NI),
    ("Oldenburg", "Oldenburger Land", _NI),
    ("Emden", "Ostfriesland", _NI),
    ("Wilhelmshaven", "Jade-Weser", _NI),
    ("Celle", "Lüneburger Heide", _NI),
    ("Lingen (Ems)", "Emsland", _NI),
    ("Bremerhaven", "Unterweser", "Bremen"),
    ("Chemnitz", "Südwestsachsen", _SN),
    ("Zwickau", "Südwestsachsen", _SN),
    ("Plauen", "Vogtland", _SN),
    ("Bautzen", "Oberlausitz", _SN),
    ("Jena", "Ostthüringen", _TH),
    ("Gera", "Ostthüringen", _TH),
    ("Weimar", "Mittelthüringen", _TH),
    ("Halle (Saale)", "Saalekreis", _ST),
    ("Cottbus", "Lausitz", _BB),
    ("Brandenburg an der Havel", "Havelland-Fläming", _BB),
    ("Schwerin", "Westmecklenburg", _MV),
    ("Greifswald", "Vorpommern", _MV),
    ("Stralsund", "Vorpommern", _MV),
    ("Neubrandenburg", "Mecklenburgische Seenplatte", _MV),
    ("Lübeck", "Lübecker Bucht", _SH),
    ("Flensburg", "Flensburger Förde", _SH),
    ("Koblenz", "Mittelrhein", _RP),
    ("Trier", "Mosel", _RP),
    ("Kaiserslautern", "Westpfalz", _RP),
    ("Ludwigshafen am Rhein", "Rhein-Neckar", _RP),
    ("Homburg", "Saarpfalz", _SL),
)

# Monthly salary offset (EUR) by state, so that e.g. Bavaria and Saxony differ
# visibly in the generated data instead of being uniform noise.
_STATE_OFFSET = {
    _BY: 200, _BW: 250, _HE: 200, "Hamburg": 250, "Berlin": 50, "Bremen": 50,
    _NRW: 100, _NI: 0, _RP: 0, _SL: -50, _SH: -50,
    _SN: -250, _TH: -300, _ST: -300, _BB: -250, _MV: -300,
}
_CITY_OFFSET = {"München": 350, "Stuttgart": 200, "Frankfurt am Main": 250,
                "Hamburg": 150, "Düsseldorf": 150, "Wolfsburg": 250, "Ingolstadt": 200}

# ---------------------------------------------------------------------------
# Roles: (base role, tag, base monthly entry salary)
# ---------------------------------------------------------------------------

_BASE_ROLES: tuple[tuple[str, str, int], ...] = (
    ("IT-Koordinator", "IT", 3800),
    ("Fachkraft für Lagerlogistik", "Logistik", 2700),
    ("Elektroniker für Betriebstechnik", "Elektrotechnik", 3200),
    ("Gesundheits- und Krankenpfleger", "Pflege", 3300),
    ("Fachinformatiker für Anwendungsentwicklung", "IT", 3600),
    ("Fachinformatiker für Systemintegration", "IT", 3500),
    ("Softwareentwickler", "IT", 4300),
    ("Berufskraftfahrer", "Logistik", 2700),
    ("Kaufmann für Spedition und Logistikdienstleistung", "Logistik", 2900),
    ("Mechatroniker", "Technik", 3200),
    ("Industriemechaniker", "Technik", 3100),
    ("Zerspanungsmechaniker", "Metall", 3000),
    ("Anlagenmechaniker für Sanitär-, Heizungs- und Klimatechnik", "Handwerk", 2900),
    ("Kfz-Mechatroniker", "Kfz", 2800),
    ("Altenpfleger", "Pflege", 3100),
    ("Pflegefachkraft", "Pflege", 3300),
    ("Medizinischer Fachangestellter", "Gesundheit", 2600),
    ("Physiotherapeut", "Gesundheit", 2900),
    ("Erzieher", "Soziales", 3200),
    ("Sozialarbeiter", "Soziales", 3500),
    ("Industriekaufmann", "Kaufmännisch", 3100),
    ("Kaufmann für Büromanagement", "Kaufmännisch", 2700),
    ("Buchhalter", "Finanzen", 3300),
    ("Steuerfachangestellter", "Finanzen", 3000),
    ("Bankkaufmann", "Finanzen", 3400),
    ("Verwaltungsfachangestellter", "Verwaltung", 3000),
    ("Sachbearbeiter", "Verwaltung", 2900),
    ("Personalreferent", "Personal", 3900),
    ("Vertriebsmitarbeiter im Außendienst", "Vertrieb", 3500),
    ("Einzelhandelskaufmann", "Handel", 2500),
    ("Koch", "Gastronomie", 2400),
    ("Hotelfachmann", "Gastronomie", 2400),
    ("Bauleiter", "Bau", 4300),
    ("Maurer", "Bau", 2900),
    ("Tischler", "Handwerk", 2700),
    ("Maler und Lackierer", "Handwerk", 2600),
    ("Chemielaborant", "Labor", 3300),
    ("Maschinen- und Anlagenführer", "Produktion", 2800),
    ("Produktionshelfer", "Produktion", 2400),
    ("Projektmanager", "Management", 4500),
    ("Technischer Zeichner", "Technik", 3000),
    ("Mediengestalter Digital und Print", "Medien", 2700),
)

_SPECIALISATIONS: tuple[str, ...] = (
    "Qualitätssicherung", "Automobilindustrie", "Maschinenbau", "Energiewirtschaft",
    "Chemieindustrie", "Lebensmittelindustrie", "Öffentlicher Dienst", "Krankenhaus",
    "Rehabilitation", "Logistikzentrum", "Onlinehandel", "Bauwesen",
    "Facility Management", "Luftfahrt", "Schienenverkehr", "Hafenwirtschaft",
    "Medizintechnik", "Pharmaindustrie", "Kundenservice", "Einkauf",
    "Controlling", "Digitalisierung", "Erneuerbare Energien", "Stahlindustrie",
    "Wasserwirtschaft", "Entsorgung und Recycling", "Tourismus",
    "Forschung und Entwicklung", "Versicherungswesen", "Immobilienwirtschaft",
    "Kommunalverwaltung", "Gebäudetechnik",
)


def _build_roles() -> tuple[tuple[str, int], ...]:
    """Return (role name, base-role index) for bases, then all combinations."""
    nb, ns = len(_BASE_ROLES), len(_SPECIALISATIONS)
    roles = [(name, b) for b, (name, _tag, _pay) in enumerate(_BASE_ROLES)]
    # Diagonal enumeration: (k % nb, (k // nb + k % nb) % ns) is a bijection on
    # nb x ns and varies both the base and the specialisation from k to k+1, so
    # a small prefix of ROLES is already diverse.
    for k in range(nb * ns):
        b = k % nb
        s = (k // nb + b) % ns
        roles.append((f"{_BASE_ROLES[b][0]} ({_SPECIALISATIONS[s]})", b))
    return tuple(roles)


ROLES = _build_roles()


def _check_unique(names, what):
    slugs = [slugify(n) for n in names]
    if len(set(slugs)) != len(slugs):
        raise AssertionError(f"duplicate {what} slugs")
    return slugs


_CITY_SLUGS = _check_unique([c[0] for c in CITIES], "city")
_ROLE_SLUGS = _check_unique([r[0] for r in ROLES], "role")

# ---------------------------------------------------------------------------
# YAML scalars
# ---------------------------------------------------------------------------

# Conservative whitelist for plain scalars; anything else is double-quoted.
# Commas are excluded because tags/levels are emitted in flow collections.
_PLAIN_OK = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-z0-9ÄÖÜäöüßé .()/–-]*")
# YAML 1.1 resolves these to booleans/null in PyYAML even when unquoted.
_YAML_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _yaml_str(s: str) -> str:
    if (_PLAIN_OK.fullmatch(s) and not s.endswith(" ")
            and s.lower() not in _YAML_RESERVED):
        return s
    # A JSON string literal is a valid YAML double-quoted scalar.
    return json.dumps(s, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Text pools. Placeholders: {role} {city} {region} {state}.
# ---------------------------------------------------------------------------

_INTRO = (
    "Sie interessieren sich für eine Stelle als {role} in {city}? Dieser Ratgeber "
    "fasst zusammen, was Sie über Aufgaben, Ausbildung und Verdienst wissen sollten.",
    "Als {role} in {city} arbeiten Sie in einem Umfeld, das sich in den letzten Jahren "
    "spürbar verändert hat. Wir zeigen, worauf es heute ankommt.",
    "Wer in {city} als {role} durchstarten möchte, findet in der Region {region} "
    "gute Voraussetzungen. Hier erfahren Sie, wie der Berufsalltag aussieht.",
    "{city} bietet Fachkräften im Beruf {role} vielfältige Möglichkeiten. Dieser Überblick hilft Ihnen "
    "bei der Orientierung und beim nächsten Karriereschritt.",
)

# (heading template, sentence pool); the application section is optional so
# that articles have 5 or 6 sections.
_WORK = (
    "Der Arbeitsalltag ist abwechslungsreich und verlangt ein hohes Maß an Sorgfalt.",
    "Viele Betriebe in {city} setzen auf feste Teams, in denen Aufgaben klar verteilt sind.",
    "Typisch sind wechselnde Schichten, die durch Zuschläge gut ausgeglichen werden.",
    "Wer als {role} tätig ist, übernimmt schon früh Verantwortung für eigene Abläufe.",
    "Digitale Werkzeuge gehören inzwischen selbstverständlich zum täglichen Handwerkszeug.",
    "Die Abstimmung mit Kolleginnen und Kollegen anderer Abteilungen nimmt viel Zeit in Anspruch.",
    "Gerade in größeren Unternehmen sind die Prozesse genau dokumentiert und werden regelmäßig überprüft.",
    "Körperliche Belastbarkeit und Konzentration sind an langen Arbeitstagen gleichermaßen gefragt.",
    "Viele Arbeitgeber ermöglichen inzwischen flexible Arbeitszeiten und teilweise mobiles Arbeiten.",
    "Im Kontakt mit Kundinnen und Kunden zählen Freundlichkeit, Geduld und eine klare Sprache.",
    "Sicherheitsvorschriften spielen eine große Rolle und werden in regelmäßigen Unterweisungen geschult.",
)
_TRAINING = (
    "Der Einstieg erfolgt meist über eine duale Ausbildung, die drei Jahre dauert.",
    "Während der Ausbildung wechseln sich Praxisphasen im Betrieb und Unterricht in der Berufsschule ab.",
    "Ein mittlerer Schulabschluss ist häufig gewünscht, aber nicht überall zwingend vorgeschrieben.",
    "Quereinsteigerinnen und Quereinsteiger können sich über eine Umschulung qualifizieren.",
    "Die Abschlussprüfung wird vor der zuständigen Kammer abgelegt und ist bundesweit anerkannt.",
    "Praktika vor der Ausbildung helfen dabei, den Beruf realistisch einzuschätzen.",
    "Viele Ausbildungsbetriebe in {city} übernehmen ihre Auszubildenden nach bestandener Prüfung.",
    "Gute Noten in Mathematik und Deutsch erleichtern den Start in die Ausbildung spürbar.",
    "Die Ausbildungsvergütung steigt mit jedem Lehrjahr und liegt oft über dem Branchendurchschnitt.",
    "Für ausländische Abschlüsse gibt es ein geregeltes Verfahren zur Anerkennung.",
)
_SALARY = (
    "Das Gehalt hängt stark von Betriebsgröße, Tarifbindung und Berufserfahrung ab.",
    "In tarifgebundenen Unternehmen sind die Gehaltsstufen transparent und planbar.",
    "Zuschläge für Nacht-, Sonn- und Feiertagsarbeit können das Einkommen deutlich erhöhen.",
    "Im Vergleich zum Bundesdurchschnitt liegen die Löhne in {state} im soliden Mittelfeld.",
    "Mit wachsender Berufserfahrung steigt das monatliche Bruttogehalt in der Regel spürbar.",
    "Viele Arbeitgeber zahlen zusätzlich Urlaubs- und Weihnachtsgeld.",
    "Betriebliche Altersvorsorge und Zuschüsse zum Deutschlandticket sind weit verbreitet.",
    "Wer Verantwortung für ein Team übernimmt, kann mit einem deutlichen Gehaltssprung rechnen.",
    "Die folgenden Werte beruhen auf ausgeschriebenen Stellen und sind als Orientierung gedacht.",
    "Verhandlungsgeschick lohnt sich besonders beim Wechsel des Arbeitgebers.",
    "Auch in {city} unterscheiden sich die Gehälter je nach Branche um mehrere hundert Euro.",
)
_REGION = (
    "Die Region {region} ist geprägt von mittelständischen Betrieben mit langer Tradition.",
    "Gute Verkehrsanbindungen machen das Pendeln zwischen {city} und dem Umland einfach.",
    "Die Lebenshaltungskosten in {city} sind im Vergleich zu vielen Großstädten moderat.",
    "In {state} investieren Land und Kommunen gezielt in Fachkräftesicherung.",
    "Der regionale Arbeitsmarkt hat sich in den vergangenen Jahren stabil entwickelt.",
    "Zahlreiche Hochschulen und Berufskollegs sorgen für gut ausgebildeten Nachwuchs.",
    "Freizeitangebote, Grünflächen und ein lebendiges Vereinsleben erhöhen die Lebensqualität.",
    "Viele Unternehmen in der Region {region} suchen händeringend nach qualifiziertem Personal.",
    "Der Strukturwandel hat neue Branchen angezogen und alte Industrien verändert.",
    "Für Familien bietet {city} ein breites Angebot an Kitas und Schulen.",
)
_CAREER = (
    "Eine Weiterbildung zum Meister oder Techniker eröffnet zusätzliche Karrierewege.",
    "Berufsbegleitende Studiengänge erlauben den Aufstieg, ohne den Job aufgeben zu müssen.",
    "Wer sich spezialisiert, wird für Arbeitgeber schnell zu einer gefragten Fachkraft.",
    "Das Aufstiegs-BAföG unterstützt viele Fortbildungen finanziell.",
    "Führungspositionen setzen neben Fachwissen auch Kommunikationsstärke voraus.",
    "Regelmäßige Schulungen halten das Wissen auf dem neuesten Stand der Technik.",
    "Als {role} haben Sie auch die Möglichkeit, sich später selbstständig zu machen.",
    "Netzwerke und Fachverbände in der Region {region} bieten wertvolle Kontakte für den nächsten Schritt.",
    "Die Digitalisierung schafft neue Aufgabenfelder, für die Zusatzqualifikationen gefragt sind.",
)
_APPLICATION = (
    "Eine vollständige Bewerbung besteht aus Anschreiben, Lebenslauf und aktuellen Zeugnissen.",
    "Immer mehr Unternehmen setzen auf kurze Online-Bewerbungen ohne Anschreiben.",
    "Im Vorstellungsgespräch sollten Sie konkrete Beispiele aus Ihrer bisherigen Praxis nennen.",
    "Jobmessen in {city} sind eine gute Gelegenheit, Arbeitgeber persönlich kennenzulernen.",
    "Die Agentur für Arbeit berät kostenlos zu offenen Stellen und Fördermöglichkeiten.",
    "Ein Probearbeitstag hilft beiden Seiten, einen realistischen Eindruck zu gewinnen.",
    "Achten Sie im Vertrag auf Probezeit, Kündigungsfristen und die Regelung von Überstunden.",
    "Initiativbewerbungen haben bei kleineren Betrieben in der Region {region} oft gute Chancen.",
)
_BULLETS = (
    "Abgeschlossene Berufsausbildung oder vergleichbare Qualifikation",
    "Zuverlässigkeit und Teamfähigkeit",
    "Führerschein der Klasse B",
    "Sichere Deutschkenntnisse in Wort und Schrift",
    "Grundkenntnisse in gängiger Bürosoftware",
    "Bereitschaft zur Schichtarbeit",
    "Sorgfältige und strukturierte Arbeitsweise",
    "Freude am Umgang mit Menschen",
    "Technisches Verständnis",
    "Belastbarkeit auch in stressigen Situationen",
    "Interesse an Weiterbildung",
    "Erste Berufserfahrung von Vorteil",
)
_SECTIONS = (
    ("## Aufgaben und Arbeitsalltag", _WORK),
    ("## Ausbildung und Voraussetzungen", _TRAINING),
    ("## Gehalt in {city}", _SALARY),
    ("## Arbeitsmarkt in der Region {region}", _REGION),
    ("## Weiterbildung und Perspektiven", _CAREER),
)
_OPTIONAL_SECTION = ("## Bewerbung und Einstieg", _APPLICATION)

_SUMMARIES = (
    "Gehalt, Aufgaben und Perspektiven für {role} in {city} und der Region {region}.",
    "Als {role} in {city} verdienen Sie zwischen {lo} und {hi} Euro brutto im Monat.",
    "Gehaltscheck {role} in {city}: Einstieg ab {lo} Euro brutto im Monat.",
    "So sieht der Arbeitsmarkt für {role} in {city} ({state}) aktuell aus.",
    "Ratgeber „{role}“ in {city}: Gehalt, Weiterbildung und Bewerbungstipps.",
    "Alles Wichtige zu Ausbildung, Gehalt und Jobchancen als {role} in {city}.",
)


def _wc(template: str) -> int:
    # Placeholders count as two words: role names average ~3, cities ~1.5.
    return len(template.split()) + template.count("{")


_MAX_PARA = 4  # sentences per paragraph: 2..4, the last one may be cut to 1


def _pool(sentences):
    """Precompute every paragraph a pool can yield.

    ``paras[start][j]`` is (text, words) for the ``j`` sentences starting at
    ``start`` (cyclically), so assembling a section is a few table lookups
    rather than a join per paragraph.
    """
    m = len(sentences)
    paras = []
    for start in range(m):
        row = [("", 0)]
        for j in range(1, _MAX_PARA + 1):
            chunk = [sentences[(start + x) % m] for x in range(j)]
            row.append((" ".join(chunk), sum(_wc(c) for c in chunk)))
        paras.append(tuple(row))
    return tuple(paras), m


_SECTION_POOLS = tuple((h, _pool(p)) for h, p in _SECTIONS)
_OPTIONAL_POOL = (_OPTIONAL_SECTION[0], _pool(_OPTIONAL_SECTION[1]))
_INTRO_WC = sum(_wc(t) for t in _INTRO) // len(_INTRO)
# Headings, bullet list, table and lead-in sentences, plus ~20 words for the
# average half-sentence by which each section overshoots its budget.
_FIXED_WC = _INTRO_WC + 30 + 35 + 25 + 20
_NB = len(_BULLETS)
_BULLET_LEAD = ("Diese Voraussetzungen werden in Stellenanzeigen im Beruf {role} "
                "besonders häufig genannt:")
_TABLE_LEAD = "Die Tabelle zeigt typische Monatsgehälter (brutto) in {city}:"
_BULLET_LISTS = tuple(
    "\n".join("- " + _BULLETS[(b + j) % _NB] for j in range(4)) for b in range(_NB)
)

_DATE_START = _dt.date(2025, 1, 1)
_DATES = tuple(
    (_DATE_START + _dt.timedelta(days=d)).isoformat()
    for d in range((_dt.date(2026, 11, 23) - _DATE_START).days + 1)
)
_ND = len(_DATES)

# German thousands separator for every amount the generator can produce.
_EUR = {x: f"{x:,}".replace(",", ".") for x in range(0, 10_001, 50)}


def _paragraphs(rand, pool, budget: int, out: list[str]) -> None:
    paras, m = pool
    start = int(rand() * m)
    used = 0
    while used < budget:
        k = min(m, 2 + int(rand() * 3))
        row = paras[start]
        # Cut the last paragraph short once the budget is met, so the
        # overshoot is at most one sentence per section, not one paragraph.
        need = budget - used
        j = 1
        while j < k and row[j][1] < need:
            j += 1
        text, wc = row[j]
        out.append(text)
        used += wc
        start = (start + j) % m


@functools.cache
def _localised(city: tuple[str, str, str]):
    """Text pools with {city}/{region}/{state} already filled in.

    Substituting over a whole ~6 kB body costs several microseconds per
    placeholder kind; doing it once per city leaves only {role} per article.
    """
    name, region, state = city

    def sub(t: str) -> str:
        return t.replace("{city}", name).replace("{region}", region).replace("{state}", state)

    def pool(p):
        paras, m = p
        return tuple(tuple((sub(t), wc) for t, wc in row) for row in paras), m

    return (
        tuple(sub(t) for t in _INTRO),
        tuple((sub(h), pool(p)) for h, p in _SECTION_POOLS),
        (sub(_OPTIONAL_POOL[0]), pool(_OPTIONAL_POOL[1])),
        sub(_TABLE_LEAD),
    )


@functools.cache
def _yaml_name(s: str) -> str:
    # Names repeat across articles; only the summary is unique per article.
    return _yaml_str(s)


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def grid(n: int) -> tuple[int, int]:
    """Return (cities, roles) used for ``n`` articles; see module docstring."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if n > len(CITIES) * len(ROLES):
        raise ValueError(f"at most {len(CITIES) * len(ROLES)} articles supported")
    c = min(len(CITIES), max(4, round(math.sqrt(n) / 3)))
    c = max(c, -(-n // len(ROLES)))
    return c, -(-n // c) if n else 0


def _article(rand, role: str, base: int, city: tuple[str, str, str], words: int) -> bytes:
    # ``rand`` is Random.random: int(rand() * k) is a fully deterministic
    # draw from range(k) and several times cheaper than randrange().
    city_name, region, state = city
    _base_name, tag, pay = _BASE_ROLES[base]

    lo = pay + _STATE_OFFSET[state] + _CITY_OFFSET.get(city_name, 0) + 50 * (int(rand() * 13) - 6)
    lo = min(5200, max(2400, 50 * round(lo / 50)))
    spread = 12 + int(rand() * 21)                       # 600..1600 in 50s
    hi = lo + 50 * spread
    entry_max = lo + 50 * (2 + int(rand() * (spread - 5)))   # lo+100..hi-200
    exp_min = entry_max + 50 * int(rand() * 3)               # <= hi-100
    e_lo, e_hi, e_em, e_xm = _EUR[lo], _EUR[hi], _EUR[entry_max], _EUR[exp_min]

    yrole = _yaml_name(role)
    yregion = _yaml_name(region)
    summary = (_SUMMARIES[int(rand() * len(_SUMMARIES))]
               .replace("{role}", role).replace("{city}", city_name)
               .replace("{region}", region).replace("{state}", state)
               .replace("{lo}", e_lo).replace("{hi}", e_hi))
    fm = "\n".join((
        "---",
        "role: " + yrole,
        "city: " + _yaml_name(city_name),
        "region: " + yregion,
        "state: " + _yaml_name(state),
        "salary:",
        "  currency: EUR",
        "  period: month",
        f"  min: {lo}",
        f"  max: {hi}",
        "  levels:",
        f"    - {{label: Berufseinstieg, min: {lo}, max: {entry_max}}}",
        f"    - {{label: Mit Berufserfahrung, min: {exp_min}, max: {hi}}}",
        "date: " + _DATES[int(rand() * _ND)],
        f"tags: [{_yaml_name(tag)}, {yregion}]",
        "summary: " + _yaml_str(summary),
        "---",
        "",
    ))

    intros, pools, optional, table_lead = _localised(city)
    sections = pools + (optional,) if rand() < 0.5 else pools
    budget = max(20, (words - _FIXED_WC) // len(sections))

    # The salary table is kept out of the joined body text: its "€" would
    # widen the whole ~6 kB string to UCS-2, which makes join, replace and
    # encode measurably slower (about a third of the generation time).
    head = [intros[int(rand() * len(intros))]]
    parts = head
    for idx, (heading, pool) in enumerate(sections):
        parts.append(heading)
        _paragraphs(rand, pool, budget, parts)
        if idx == 1:
            parts.append(_BULLET_LEAD)
            parts.append(_BULLET_LISTS[int(rand() * _NB)])
        elif idx == 2:
            parts.append(table_lead)
            parts = tail = []
    table = (
        "| Stufe | Von | Bis |\n"
        "| --- | ---: | ---: |\n"
        f"| Berufseinstieg | {e_lo} € | {e_em} € |\n"
        f"| Mit Berufserfahrung | {e_xm} € | {e_hi} € |"
    )
    return b"".join((
        fm.encode(), b"\n",
        "\n\n".join(head).replace("{role}", role).encode(), b"\n\n",
        table.encode(), b"\n\n",
        "\n\n".join(tail).replace("{role}", role).encode(), b"\n",
    ))


def generate(out_dir: Path, n: int, seed: int = 1, words: int = 750) -> int:
    """Write ``n`` articles below ``out_dir`` and return ``n``.

    Existing files at the same paths are overwritten; nothing is deleted.
    """
    _write(out_dir, n, seed, words)
    return n


def _write(out_dir: Path, n: int, seed: int, words: int) -> int:
    """Implementation of :func:`generate`; returns total bytes written."""
    c, r = grid(n)
    rand = random.Random(seed).random
    out = os.fspath(out_dir)
    city_dirs = []
    for ci in range(min(c, n)):
        d = os.path.join(out, _CITY_SLUGS[ci])
        os.makedirs(d, exist_ok=True)
        city_dirs.append(d + os.sep)
    total = 0
    for i in range(n):
        ci, ri = i % c, i // c
        role, base = ROLES[ri]
        data = _article(rand, role, base, CITIES[ci], words)
        # Plain binary write: no newline translation, so output is
        # byte-identical across platforms, and it avoids TextIOWrapper cost.
        with open(city_dirs[ci] + _ROLE_SLUGS[ri] + ".md", "wb") as f:
            f.write(data)
        total += len(data)
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, required=True, help="number of articles")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--words", type=int, default=750, help="approx. body words per article")
    a = p.parse_args(argv)
    try:
        c, r = grid(a.articles)
    except ValueError as e:
        p.error(str(e))
    t0 = time.perf_counter()
    size = _write(a.out, a.articles, a.seed, a.words)
    dt = time.perf_counter() - t0
    print(f"articles={a.articles} cities={min(c, a.articles)} roles={r} "
          f"size={size / 1e6:.1f} MB seconds={dt:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
