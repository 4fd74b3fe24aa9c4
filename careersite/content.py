"""Finding and reading articles: discover(), read_article() -> Article.

An :class:`Article` is typed, frozen and validated against the front-matter contract
(schema v1, see README). Reading never stops at the first problem in a file when it can
go on: every problem found is returned with its file line and a hint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from . import frontmatter, markup
from . import salary as salary_mod
from .early import Source, discover  # noqa: F401 - re-exported: the sources are found early (see early.py)
from .errors import Problem, did_you_mean
from .records import pickled_as_tuple
from .salary import Level, Salary
from .urls import MAX_SEGMENT_BYTES, slugify

KEYS = ("role", "city", "title", "region", "state", "salary", "date", "updated", "tags", "summary", "draft")
# Names never become paths directly (slugify keeps only a-z, 0-9 and "-"), but a name that
# looks like a path ("../../etc", "/tmp", "a\\b") or holds control characters is surely a
# mistake. A slash inside a job title is ordinary German: "Kaufmann/-frau", "(m/w/d)".
_BAD_NAME = re.compile(r"[\\\x00-\x1f\x7f]|(^|/)\.{1,2}(/|$)|^/|/$|//")


@pickled_as_tuple
class Article(NamedTuple):
    """One validated article. ``body_key`` finds its rendered HTML in the cache."""

    source: str  # path relative to content/, POSIX separators
    role: str
    city: str
    title: str
    region: str | None
    state: str | None
    salary: Salary
    date: dt.date | None
    updated: dt.date | None
    tags: tuple[str, ...]
    summary: str
    draft: bool
    body_key: str
    headings: tuple[markup.Heading, ...]
    links: tuple[str, ...]
    words: int
    body_line: int
    role_slug: str  # stored, not derived on access: pages read them thousands of times
    city_slug: str
    content_hash: str  # of the file's bytes: changes whenever anything in the article changes
    card_hash: str  # of what lists and hubs show of it (see card()); unchanged by most body edits
    peer_hash: str  # of what the pages of other articles show of it (see peer()); a subset of the card

    def card(self) -> tuple:
        """What lists and hubs show of an article; a change here re-renders the pages that list it."""
        return (self.title, self.role, self.city, self.region, self.state, *self._salary_fields(), self.summary,
                str(self.date), str(self.updated), self.draft, self.tags)

    def peer(self) -> tuple:
        """What the article pages of its city and profession show of it or choose it by (the
        comparison and related lists: salary, draft badge, region and state for nearness, tags).
        Its title, summary and dates are not among them: editing those re-renders the hubs,
        not every article page of the city."""
        return (self.region, self.state, *self._salary_fields(), self.draft, self.tags)

    def _salary_fields(self) -> tuple:
        s = self.salary
        levels = tuple((lv.label, str(lv.min), str(lv.max)) for lv in s.levels)
        return (s.currency, s.period, str(s.min), str(s.max), levels)

    @property
    def modified(self) -> dt.date | None:
        return self.updated or self.date


class Shared:
    """Equal values that articles repeat (names, slugs, tags, amounts, dates, headings, level
    labels) as one object each. pickle stores an object that occurs twice once, so the sources
    of the build state of 10,000 articles shrink from 11.7 to 7.0 MB and load in 45 ms instead
    of 69, and the objects take less memory. Applied where the build receives articles (read_sources).
    """

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def article(self, a: Article) -> Article:
        values = self._values
        one = values.setdefault
        s = a.salary
        key = (Salary, s.currency, s.period, str(s.min), str(s.max), *(str(x) for lv in s.levels for x in lv))
        salary = values.get(key)
        if salary is None:  # keyed by each amount's text: Decimal("3300") == Decimal("3300.0"), printed otherwise
            salary = values[key] = Salary(one(s.currency, s.currency), one(s.period, s.period), s.min, s.max,
                                          tuple(Level(one(lv.label, lv.label), lv.min, lv.max) for lv in s.levels))
        headings = a.headings
        if headings:
            headings = one(headings, tuple(one(h, h) for h in headings))
        return Article(
            a.source, one(a.role, a.role), one(a.city, a.city), a.title, one(a.region, a.region),
            one(a.state, a.state), salary, one(a.date, a.date), one(a.updated, a.updated), one(a.tags, a.tags),
            a.summary, a.draft, a.body_key, headings, a.links, a.words, a.body_line,
            one(a.role_slug, a.role_slug), one(a.city_slug, a.city_slug), a.content_hash, a.card_hash, a.peer_hash)


def linked_source(source: str, path: str) -> str:
    """The content file a link written in ``source`` as ``path`` (``../essen/koch.md``) names."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), path))


def content_hash(data: bytes) -> str:
    """An article file's content hash (``Article.content_hash``): what its stored read result
    was made from (pipeline.read_sources compares a file's bytes with it)."""
    return hashlib.sha256(data).hexdigest()[:32]


@pickled_as_tuple
class ReadResult(NamedTuple):
    article: Article | None
    problems: tuple[Problem, ...]


def name_problem(key: str, name: str) -> tuple[str, str] | None:
    """What is wrong with a role, city, region or state name as the source of a URL, with a hint.

    Shared by reading articles and by ``new`` (scaffold.py), so both accept the same names.
    """
    if key in ("role", "city") and (_BAD_NAME.search(name) or name in (".", "..")):
        example = "Fachkraft für Lagerlogistik" if key == "role" else "Mülheim an der Ruhr"
        return (f"'{key}' looks like a file path or contains control characters: {name!r}",
                f"write the plain name, e.g. '{example}'")
    slug = slugify(name)
    if not slug:
        return f"'{key}' {name!r} gives an empty URL", "use letters or digits in the name"
    if len(slug.encode()) > MAX_SEGMENT_BYTES:
        return (f"'{key}' is too long for a URL ({len(slug)} characters after conversion)",
                f"shorten it to at most {MAX_SEGMENT_BYTES} characters")
    return None


def read_article(path: Path, source: str, shown: str, *, locale: str, currency: str, period: str,
                 raw_html: bool, render_body: Callable[[str, str], markup.Markup]) -> ReadResult:
    """Read and validate one article file.

    ``source`` is its path relative to content/, ``shown`` the path printed in messages;
    ``render_body(key, body)`` returns the body's :class:`~careersite.markup.Markup`
    (from the cache, or by converting it).
    """
    problems: list[Problem] = []

    def problem(line: int, column: int, message: str, hint: str = "") -> None:
        problems.append(Problem(shown, line, column, message, hint))

    try:
        data = path.read_bytes()
    except OSError as exc:
        problem(0, 0, f"cannot read the file: {exc.strerror}", "check that the file exists and is readable")
        return ReadResult(None, tuple(problems))
    try:
        doc, body, body_line = frontmatter.parse(frontmatter.decode(data))
    except frontmatter.FrontMatterProblem as exc:
        problem(exc.line, exc.column, exc.message, exc.hint)
        return ReadResult(None, tuple(problems))

    meta = doc.data

    def at(*path: Any) -> tuple[int, int]:
        mark = doc.mark(tuple(path))
        return mark.line, mark.column

    for dup_path, mark in doc.duplicates:
        problem(mark.line, mark.column, f"duplicate key '{'.'.join(map(str, dup_path))}'",
                "remove one of the two lines; only one value is allowed")
    for key in meta:
        if key not in KEYS:
            problem(*at(key, "<key>"), f"unknown key '{key}'",
                    did_you_mean(key, KEYS) or "allowed keys: " + ", ".join(KEYS))

    def text(key: str, required: bool = False) -> str | None:
        value = meta.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                where = at(key) if key in meta else (2, 1)
                problem(*where, f"'{key}' is {'empty' if key in meta else 'missing'}",
                        f"add a line '{key}: …' to the front matter" if key not in meta
                        else f"write a {key} after '{key}:'")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("role", "city"):
            value = str(value)
        if not isinstance(value, str):
            problem(*at(key), f"'{key}' must be text, not {_kind(value)}", f"write {key}: \"…\" with quotes")
            return None
        return " ".join(value.split())

    role = text("role", required=True)
    city = text("city", required=True)
    title = text("title")
    region = text("region")
    state = text("state")
    summary = text("summary")
    # region and state name pages too ("Rhein/Ruhr" is fine there: only role and city name files)
    for key, name in (("role", role), ("city", city), ("region", region), ("state", state)):
        issue = name_problem(key, name) if name is not None else None
        if issue:
            problem(*at(key), *issue)

    salary: Salary | None = None
    if meta.get("salary") in (None, "", {}):
        problem(*(at("salary") if "salary" in meta else (2, 1)),
                "'salary' is " + ("empty" if "salary" in meta else "missing"),
                "add 'salary:' with 'min:' and 'max:' below it, or one line like 'salary: 3.300–4.600 €'")
    else:
        raws = doc.raws(("salary",))
        try:
            salary = salary_mod.from_front_matter(meta["salary"], raws, currency, period, locale)
        except salary_mod.SalaryProblems as exc:
            for found in exc.problems:
                problem(*at("salary", *found.where), found.message, found.hint)

    date = _date(meta, "date", at, problem)
    updated = _date(meta, "updated", at, problem)
    if date and updated and updated < date:
        problem(*at("updated"), f"'updated' ({updated}) is before 'date' ({date})", "correct one of the two dates")

    tags: tuple[str, ...] = ()
    raw_tags = meta.get("tags")
    if isinstance(raw_tags, str):
        raw_tags = [raw_tags]
    if raw_tags is not None:
        if not isinstance(raw_tags, list) or not all(isinstance(t, (str, int)) and str(t).strip() for t in raw_tags):
            problem(*at("tags"), "'tags' must be a list of words", "write tags: [IT, Qualitätssicherung]")
        else:
            tags = tuple(dict.fromkeys(" ".join(str(t).split()) for t in raw_tags))
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        problem(*at("draft"), f"'draft' must be true or false, not {draft!r}", "write draft: true or draft: false")
        draft = False

    if problems or role is None or city is None or salary is None:
        return ReadResult(None, tuple(problems))
    key = markup.cache_key(body, raw_html)
    body_markup = render_body(key, body)
    article = Article(
        source=source, role=role, city=city, title=title or f"{role} in {city}", region=region, state=state,
        salary=salary, date=date, updated=updated, tags=tags,
        summary=summary or _shorten(body_markup.summary), draft=draft, body_key=key,
        headings=body_markup.headings, links=body_markup.links, words=body_markup.words, body_line=body_line,
        role_slug=slugify(role), city_slug=slugify(city), content_hash=content_hash(data),
        card_hash="", peer_hash="",
    )
    article = article._replace(card_hash=hashlib.sha256(repr(article.card()).encode()).hexdigest()[:32],
                               peer_hash=hashlib.sha256(repr(article.peer()).encode()).hexdigest()[:32])
    return ReadResult(article, ())


_GERMAN_DATE = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})")


def _date(meta: dict, key: str, at, problem) -> dt.date | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _GERMAN_DATE.fullmatch(value.strip())
        try:
            if match:
                return dt.date(int(match[3]), int(match[2]), int(match[1]))
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            problem(*at(key), f"'{key}' {value!r} is not a real date", "write YYYY-MM-DD, e.g. 2026-11-23")
            return None
    problem(*at(key), f"'{key}' must be a date, not {_kind(value)}", "write YYYY-MM-DD, e.g. 2026-11-23")
    return None


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def _shorten(text: str, limit: int = 160) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, adding an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:–- ")
    return cut + "…"
