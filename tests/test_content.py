"""careersite.content: discovering articles and reading them against the front-matter contract."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careersite import markup
from careersite.content import KEYS, Article, discover, read_article

VALID = "---\nrole: Bäcker\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\nText.\n"


def read(tmp_path: Path, text: str | bytes, locale: str = "de_DE", name: str = "x.md"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_article(path, name, name, locale=locale, currency="EUR", period="month", raw_html=False,
                        render_body=lambda key, body: markup.convert(body))


def ok(tmp_path: Path, text: str | bytes, **kw) -> Article:
    result = read(tmp_path, text, **kw)
    assert result.problems == ()
    assert result.article is not None
    return result.article


def found(tmp_path: Path, text: str | bytes, **kw) -> list[str]:
    """Every problem of one file as 'line:column: message | hint' (all must have a hint)."""
    result = read(tmp_path, text, **kw)
    assert result.article is None
    assert all(p.hint for p in result.problems), result.problems
    assert all(p.path == "x.md" for p in result.problems)
    return [f"{p.line}:{p.column}: {p.message} | {p.hint}" for p in result.problems]


def one(tmp_path: Path, text: str | bytes, **kw) -> str:
    (problem,) = found(tmp_path, text, **kw)
    return problem


FM = "---\nrole: Bäcker\ncity: Essen\n"  # the salary starts on line 4


# --- discover ---------------------------------------------------------------------------

def test_discover_finds_md_files_sorted_and_ignores_the_rest(tmp_path):
    content = tmp_path / "content"
    for name in ["essen/b.md", "essen/a.md", "bochum/z.md", "top.md", "essen/a.md~", "essen/.a.md.swp",
                 "essen/#a.md#", ".DS_Store", "essen/.DS_Store", ".git/x.md", "essen/.hidden.md", "bild.png",
                 "notes.markdown", "essen/a.md.bak", "essen/a.MD.orig"]:
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(VALID)
    (content / "dir.md").mkdir()  # a folder named like an article is no article
    found_paths = [s.relpath for s in discover(content)]
    assert found_paths == ["bochum/z.md", "essen/a.md", "essen/b.md", "top.md"]


def test_discover_records_stat(tmp_path):
    (tmp_path / "a.md").write_text(VALID)
    (source,) = discover(tmp_path)
    st = (tmp_path / "a.md").stat()
    assert (source.mtime_ns, source.size, source.inode, source.ctime_ns) == (
        st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)
    assert source.changed_ns == max(st.st_mtime_ns, st.st_ctime_ns)


def test_discover_does_not_follow_symlinked_folders(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(VALID)
    content = tmp_path / "content"
    content.mkdir()
    (content / "loop").symlink_to(content)
    (content / "out").symlink_to(outside)
    (content / "a.md").write_text(VALID)
    assert [s.relpath for s in discover(content)] == ["a.md"]


def test_discover_reports_what_it_cannot_take(tmp_path, monkeypatch):
    """Entries it cannot use are problems for the build to report, not a crash (they were a
    traceback before): a link in a circle, names that are not UTF-8, a folder it cannot list."""
    from careersite import early
    from careersite.errors import Problem
    content = tmp_path / "content"
    (content / "essen").mkdir(parents=True)
    (content / "essen" / "a.md").write_text(VALID)
    (content / "essen" / "kreis.md").symlink_to("kreis.md")  # a link to itself
    (content / "essen" / "zu.md").symlink_to("nirgends.md")  # a link to nothing
    (content / "essen" / "ordner.md").symlink_to(content / "essen")  # a link to a folder: ignored
    raw = os.fsencode(content)
    os.mkdir(raw + b"/m\xfcnster")  # Latin-1, not UTF-8
    with open(raw + b"/m\xfcnster/b.md", "w") as fh:
        fh.write(VALID)
    with open(raw + b"/essen/caf\xe9.md", "w") as fh:
        fh.write(VALID)
    with open(raw + b"/essen/bild\xe9.png", "w") as fh:  # not an article: ignored, whatever its name
        fh.write("x")
    (content / "geheim").mkdir()
    (content / "geheim" / "c.md").write_text(VALID)
    real_scandir = os.scandir

    def scandir(path):  # (the tests run as root, whom permissions do not stop)
        if str(path).endswith("geheim"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)
    monkeypatch.setattr(early.os, "scandir", scandir)
    found = discover(content)
    assert [s.relpath for s in found] == ["essen/a.md"]
    assert found.problems == [
        Problem("essen/caf\\xe9.md", 0, 0, "the file name is not valid UTF-8",
                "rename it: use letters, digits and hyphens (umlauts are fine in UTF-8)"),
        Problem("essen/kreis.md", 0, 0, "cannot read the file: Too many levels of symbolic links",
                "a symbolic link that leads to itself or in a circle: replace it with the file"),
        Problem("essen/zu.md", 0, 0, "a symbolic link to a file that does not exist",
                "point it at an existing article, or delete it (it points to nirgends.md)"),
        Problem("geheim/", 0, 0, "cannot read the folder: Permission denied",
                "make it readable (chmod a+rx), or move it out of the content folder"),
        Problem("m\\xfcnster/", 0, 0, "the folder name is not valid UTF-8",
                "rename it: use letters, digits and hyphens (umlauts are fine in UTF-8)"),
    ]
    assert pickle.loads(pickle.dumps(found)).problems == found.problems  # (found in a child process)


def test_discover_without_a_content_folder(tmp_path):
    from careersite.errors import Problem
    hint = ("create it (python build.py new makes the first article), or set content_dir in "
            "config.yaml or --content to the folder that holds the articles")
    found = discover(tmp_path / "missing")
    assert found == [] and found.problems == [Problem("./", 0, 0, "the content folder does not exist", hint)]
    (tmp_path / "file").write_text("x")
    assert discover(tmp_path / "file").problems == [Problem("./", 0, 0, "the content folder is not a folder", hint)]


# --- a valid article ------------------------------------------------------------------------

def test_full_article(tmp_path):
    a = ok(tmp_path, """\
---
role: " IT-Koordinator   Qualitätssicherung "
city: Oberhausen
title: IT in Oberhausen
region: Ruhrgebiet
state: Nordrhein-Westfalen
salary:
  currency: EUR
  period: month
  min: 3300
  max: 4600
  levels:
    - {label: Berufseinstieg, min: 3300, max: 3800}
    - {label: Mit Berufserfahrung, min: 4000, max: 4600}
date: 2026-11-23
updated: 2026-11-24
tags: [IT, Qualitätssicherung, IT]
summary: Kurzer Teaser.
draft: false
---
## Aufgaben

Erster Absatz.
""")
    assert (a.role, a.city, a.title) == ("IT-Koordinator Qualitätssicherung", "Oberhausen", "IT in Oberhausen")
    assert (a.role_slug, a.city_slug) == ("it-koordinator-qualitaetssicherung", "oberhausen")
    assert (a.region, a.state) == ("Ruhrgebiet", "Nordrhein-Westfalen")
    assert (a.salary.min, a.salary.max, len(a.salary.levels)) == (3300, 4600, 2)
    assert (a.date, a.updated, a.modified) == (dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    assert a.tags == ("IT", "Qualitätssicherung")
    assert a.summary == "Kurzer Teaser." and a.draft is False
    assert a.headings[0].id == "aufgaben" and a.body_line == 21
    assert a.source == "x.md"


def test_defaults(tmp_path):
    a = ok(tmp_path, VALID)
    assert a.title == "Bäcker in Essen"
    assert a.summary == "Text."  # the first paragraph
    assert (a.region, a.state, a.date, a.updated, a.modified, a.tags, a.draft) == (None,) * 5 + ((), False)


def test_an_article_may_have_no_body(tmp_path):
    a = ok(tmp_path, "---\nrole: Bäcker\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n")
    assert a.summary == "" and a.headings == ()


def test_long_first_paragraph_is_shortened_for_the_summary(tmp_path):
    a = ok(tmp_path, VALID.replace("Text.", "Wort " * 60))
    assert len(a.summary) <= 160 and a.summary.endswith("…")


def test_draft_is_read(tmp_path):
    assert ok(tmp_path, VALID.replace("---\nText", "draft: true\n---\nText")).draft is True


def test_german_date_is_accepted(tmp_path):
    assert ok(tmp_path, VALID.replace("---\nText", "date: 23.11.2026\n---\nText")).date == dt.date(2026, 11, 23)


def test_datetime_becomes_a_date(tmp_path):
    text = VALID.replace("---\nText", "date: 2026-11-23 10:30:00\n---\nText")
    assert ok(tmp_path, text).date == dt.date(2026, 11, 23)


def test_numbers_as_optional_text_are_allowed(tmp_path):
    a = ok(tmp_path, VALID.replace("---\nText", "region: 2026\ntags: [2026, IT]\n---\nText"))
    assert a.region == "2026" and a.tags == ("2026", "IT")


def test_one_line_salary_uses_the_site_locale(tmp_path):
    text = FM + "salary: 3.300–4.600 €\n---\n"
    assert (ok(tmp_path, text).salary.min, ok(tmp_path, text).salary.max) == (3300, 4600)
    text = FM + "salary: 3,300–4,600 €\n---\n"
    assert ok(tmp_path, text, locale="en_US").salary.min == 3300
    assert one(tmp_path, text) == ("4:9: amount 3.3 is implausible for a monthly salary ('3,300' read with locale "
                                   "de_DE) | write 3300")


@pytest.mark.parametrize("data", [
    VALID.encode(),
    b"\xef\xbb\xbf" + VALID.encode(),
    VALID.replace("\n", "\r\n").encode(),
    b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode(),
])
def test_bom_and_crlf(tmp_path, data):
    assert ok(tmp_path, data).role == "Bäcker"


def test_nfd_text_reads_like_nfc(tmp_path):
    a = ok(tmp_path, unicodedata.normalize("NFD", VALID))
    assert a.role_slug == "baecker"


def test_conftest_article_is_valid(tmp_path):
    a = ok(tmp_path, article("Straßenbauer", "Bochum", 3000, 4000))
    assert a.salary.levels[0].max == Decimal(3500)


# --- problems: each names the line, the column, what is wrong and how to fix it ---------------------

@pytest.mark.parametrize("text, expected", [
    (FM.replace("role: Bäcker\n", "") + "salary: {min: 3000, max: 4000}\n---\n",
     "2:1: 'role' is missing | add a line 'role: …' to the front matter"),
    (FM.replace("role: Bäcker", "role:") + "salary: {min: 3000, max: 4000}\n---\n",
     "2:6: 'role' is empty | write a role after 'role:'"),
    (FM.replace("role: Bäcker", "role: '  '") + "salary: {min: 3000, max: 4000}\n---\n",
     "2:7: 'role' is empty | write a role after 'role:'"),
    (FM.replace("city: Essen\n", "") + "salary: {min: 3000, max: 4000}\n---\n",
     "2:1: 'city' is missing | add a line 'city: …' to the front matter"),
    (FM.replace("city: Essen", "city: ''") + "salary: {min: 3000, max: 4000}\n---\n",
     "3:7: 'city' is empty | write a city after 'city:'"),
    (FM + "---\n", "2:1: 'salary' is missing | add 'salary:' with 'min:' and 'max:' below it"),
    (FM + "salary:\n---\n", "4:8: 'salary' is empty | add 'salary:' with 'min:' and 'max:' below it"),
    (FM + "salary:\n  min: 4000\n  max: 3000\n---\n",
     "5:8: salary min (4000) is greater than max (3000) | swap the two values"),
    (FM + "salary:\n  min: -3000\n  max: 3000\n---\n",
     "5:8: amount -3000 must be greater than 0 | write a positive number such as 3300"),
    (FM + "salary:\n  min: 0\n  max: 3000\n---\n", "5:8: amount 0 must be greater than 0"),
    (FM + "salary:\n  min: dreitausend\n  max: 3000\n---\n",
     "5:8: amount 'dreitausend' is not a number | write a plain number such as 3300"),
    (FM + "salary:\n  min: 3000\n  max: 4000\n  period: week\n---\n",
     "7:11: unknown period 'week' | use one of: hour, month, year"),
    (FM + "salary:\n  currency: Euro\n  min: 3000\n  max: 4000\n---\n",
     "5:13: unknown currency 'Euro' | use an ISO 4217 code such as EUR"),
    (FM + "salary:\n  min: 3000\n  max: 4000\n  levels: Einstieg\n---\n",
     "7:11: 'salary.levels' must be a list | write each level as '- {label: Berufseinstieg, min: 3300, max: 3800}'"),
    (FM + "salary:\n  min: 3000\n  max: 4000\n  levels:\n    - Einstieg\n---\n",
     "8:7: level 1 must be a mapping with label, min and max"),
    (FM + "salary:\n  min: 3000\n  max: 4000\n  levels:\n    - {min: 3000, max: 3500}\n---\n",
     "8:7: level 1 needs a label | add 'label: Berufseinstieg'"),
    (FM + "salary:\n  min: 3000\n  max: 4000\n  levels:\n    - {label: A, min: 2500, max: 3500}\n---\n",
     "8:7: level 'A' (2500–3500) lies outside the salary range (3000–4000) | widen salary min/max"),
    (FM + "salary:\n  min: 3.300\n  max: 4600\n---\n",
     "5:8: '3.300' is read as 3.3, not as 3300 | write 3300 (no thousands separator)"),
    (FM + "title: Pflege: ein Beruf\nsalary: {min: 3000, max: 4000}\n---\n",
     "4:14: YAML syntax error: mapping values are not allowed in this context | a value that contains ': ' must"),
    (FM + "salary:\n\tmin: 3000\n---\n",
     "5:1: tab character used for indentation | indent with spaces only"),
    (FM + "city: Bochum\nsalary: {min: 3000, max: 4000}\n---\n",
     "4:1: duplicate key 'city' | remove one of the two lines"),
    (FM + "salary: {min: 3000, max: 4000}\nText ohne Ende\n", "1:1: the front matter is not closed | add a line '---'"),
    ("Nur Text.\n", "1:1: the file does not start with front matter | the first line must be '---'"),
    ("", "1:0: the file is empty | start with front matter"),
    ("---\n---\nText\n", "2:1: the front matter is empty | add at least role, city and salary"),
    (FM + "salary: {min: 3000, max: 4000}\nfarbe: blau\n---\n",
     "5:1: unknown key 'farbe' | allowed keys: role, city, title"),
    (FM + "salary: {min: 3000, max: 4000}\nsumary: x\n---\n", "5:1: unknown key 'sumary' | did you mean 'summary'?"),
    (FM + "salary: {min: 3000, max: 4000}\ndate: 2026-02-30\n---\n",
     "5:7: 'date' '2026-02-30' is not a real date | write YYYY-MM-DD, e.g. 2026-11-23"),
    (FM + "salary: {min: 3000, max: 4000}\ndate: 31.04.2026\n---\n", "5:7: 'date' '31.04.2026' is not a real date"),
    (FM + "salary: {min: 3000, max: 4000}\ndate: gestern\n---\n", "5:7: 'date' 'gestern' is not a real date"),
    (FM + "salary: {min: 3000, max: 4000}\ndate: 2026\n---\n", "5:7: 'date' must be a date, not a number"),
    (FM + "salary: {min: 3000, max: 4000}\ndate: 2026-11-23\nupdated: 2026-11-01\n---\n",
     "6:10: 'updated' (2026-11-01) is before 'date' (2026-11-23) | correct one of the two dates"),
    (FM + "salary: {min: 3000, max: 4000}\ntags: {a: 1}\n---\n", "5:7: 'tags' must be a list of words"),
    (FM + "salary: {min: 3000, max: 4000}\ndraft: ja\n---\n", "5:8: 'draft' must be true or false, not 'ja'"),
    (FM + "salary: {min: 3000, max: 4000}\ntitle: [a]\n---\n", "5:8: 'title' must be text, not a list"),
    (FM + "salary: !!python/object:os.system {}\n---\n", "4:9: unsupported YAML tag '!!python/object:os.system'"),
    ("---\nrole: 42\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n", "2:7: 'role' must be text, not a number"),
    ("---\nrole: ../../a\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n",
     "2:7: 'role' looks like a file path or contains control characters: '../../a' | write the plain name, "
     "e.g. 'Fachkraft für Lagerlogistik'"),
    ("---\nrole: Bäcker\ncity: ..\nsalary: {min: 3000, max: 4000}\n---\n", "3:7: 'city' looks like a file path"),
    ("---\nrole: \"a\\0b\"\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n", "2:7: 'role' looks like a file path"),
    ("---\nrole: '!!!'\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n",
     "2:7: 'role' '!!!' gives an empty URL | use letters or digits in the name"),
    ("---\nrole: " + "Sehr lange Berufsbezeichnung " * 8 + "\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n",
     "2:7: 'role' is too long for a URL (231 characters after conversion) | shorten it to at most 200"),
    ("---\nrole: Bäcker\ncity: Essen\nsalary: {min: 3000, max: 4000}\n---\n".encode("latin-1"),
     "2:0: the file is not UTF-8 (byte 0xe4 at line 2) | save the file as UTF-8"),
])
def test_problem_messages(tmp_path, text, expected):
    assert one(tmp_path, text).startswith(expected)


def test_every_problem_of_a_file_is_reported(tmp_path):
    text = """\
---
role:
city: Essen
salery: 1
salary:
  min: 3.300
  max: 4.600
  period: woche
date: 2026-13-01
tags: {a: 1}
draft: vielleicht
city: Bochum
---
"""
    assert [p.split(" | ")[0] for p in found(tmp_path, text)] == [
        "12:1: duplicate key 'city'",
        "4:1: unknown key 'salery'",
        "2:6: 'role' is empty",
        "8:11: unknown period 'woche'",
        "6:8: '3.300' is read as 3.3, not as 3300",
        "7:8: '4.600' is read as 4.6, not as 4600",
        "9:7: 'date' '2026-13-01' is not a real date",
        "10:7: 'tags' must be a list of words",
        "11:8: 'draft' must be true or false, not 'vielleicht'",
    ]


def test_line_numbers_are_file_lines_with_bom_and_crlf(tmp_path):
    text = ("\ufeff---\r\nrole: Bäcker\r\ncity: Essen\r\n\r\n# Kommentar\r\nsalary:\r\n  min: 3.300\r\n"
            "  max: 4600\r\n---\r\n")
    assert one(tmp_path, text.encode()).startswith("7:8: '3.300' is read as 3.3")


def test_unreadable_file(tmp_path):
    result = read_article(tmp_path / "missing.md", "missing.md", "missing.md", locale="de_DE", currency="EUR",
                          period="month", raw_html=False, render_body=lambda key, body: markup.convert(body))
    assert result.article is None
    assert result.problems[0].message.startswith("cannot read the file")


def test_keys_constant_matches_the_contract():
    assert KEYS == ("role", "city", "title", "region", "state", "salary", "date", "updated", "tags", "summary",
                    "draft")


@given(padding=st.lists(st.sampled_from(["", "# Kommentar", "tags: [a]", "region: Ruhrgebiet"]), max_size=6,
                        unique=True),
       crlf=st.booleans(), bom=st.booleans(), body_lines=st.integers(0, 3))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_reported_line_is_the_line_in_the_file(tmp_path, padding, crlf, bom, body_lines):
    lines = ["---", "role: Bäcker", *padding, "city: Essen", "salary:", "  min: 3.300", "  max: 4600", "---",
             *["Text."] * body_lines]
    text = "\n".join(lines) + "\n"
    data = ("\ufeff" if bom else "").encode() + (text.replace("\n", "\r\n") if crlf else text).encode()
    expected_line = lines.index("  min: 3.300") + 1
    assert one(tmp_path, data).startswith(f"{expected_line}:8: '3.300' is read as 3.3")


def test_shared_values_are_equal_and_print_the_same(tmp_path):
    """Shared (used where the build receives articles) gives one object per repeated value
    and changes nothing else: amounts equal in value but written otherwise stay apart."""
    from careersite.content import Shared
    first = ok(tmp_path, article(role="Koch", city="Essen"), name="koch-essen.md")
    second = ok(tmp_path, article(role="Koch", city="Bochum"), name="koch-bochum.md")
    shared = Shared()
    a, b = shared.article(first), shared.article(second)
    assert (a, b) == (first, second) and (repr(a), repr(b)) == (repr(first), repr(second))
    assert a.role is b.role and a.salary is b.salary and a.headings is b.headings and a.region is b.region
    assert a.city is not b.city and a.source is not b.source
    c = shared.article(first._replace(salary=first.salary._replace(max=Decimal("4000.0"))))
    assert c.salary == a.salary and c.salary is not a.salary and str(c.salary.max) == "4000.0"
