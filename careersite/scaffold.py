"""``python build.py new "ROLE" "CITY"``: a new article with a complete front-matter skeleton.

The file lands at ``content/<city-slug>/<role-slug>.md``, as a draft dated today, with
region and state taken from the other articles of that city when they name them, and
salary placeholders (``min: 0``) that fail validation until real amounts are filled in,
so an unfinished article cannot be published by accident. An existing file is never
overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path

import yaml

from . import frontmatter
from .config import Config
from .content import name_problem
from .errors import SiteError, UsageError
from .urls import slugify

SKELETON = """\
---
role: {role}
city: {city}
{region}
{state}
salary:
  period: {period}
  min: 0  # TODO: Bruttogehalt zum Berufseinstieg eintragen, z. B. 3300
  max: 0  # TODO: Bruttogehalt mit Berufserfahrung eintragen, z. B. 4600
  # levels:  # optional, jede Stufe innerhalb von min und max
  #   - {{label: Berufseinstieg, min: 3300, max: 3800}}
  #   - {{label: Mit Berufserfahrung, min: 4000, max: 4600}}
date: {date}
tags: []
# title: {title}  # optional; so lautet der Titel ohne diese Zeile
# summary: Kurzer Teaser für Übersichten  # optional; sonst der erste Absatz
draft: true  # auf false setzen, um den Artikel zu veröffentlichen
---
TODO: Zwei, drei Sätze zur Einleitung: Was macht man als {role_text} in {city_text}, und für wen passt der Beruf? \
Dieser erste Absatz erscheint als Teaser in den Übersichten.

## Aufgaben im Alltag

TODO: Typische Tätigkeiten, Arbeitsorte und Arbeitszeiten.

## Ausbildung und Einstieg

TODO: Ausbildung oder Studium, Dauer, Voraussetzungen, Quereinstieg.

## Gehalt in {city_text}

TODO: Einordnung der Gehaltsspanne oben: Tarifverträge, Unterschiede nach Erfahrung und Branche.

## Arbeitgeber und Branchen vor Ort

TODO: Wichtige Arbeitgeber und Branchen in {city_text} und der Umgebung.

## Perspektiven

TODO: Weiterbildung, Aufstieg, Spezialisierung und die Nachfrage in der Region.
"""


def new_article(config: Config, role: str, city: str, today: dt.date | None = None) -> Path:
    """Create the article for ``role`` in ``city`` and return its path.

    Raises :class:`~careersite.errors.UsageError` for a name that cannot become a URL and
    :class:`~careersite.errors.SiteError` when the file, or another article for the same
    role and city, already exists.

    >>> new_article(config, "Fachinformatiker Systemintegration", "Bochum")  # doctest: +SKIP
    PosixPath('content/bochum/fachinformatiker-systemintegration.md')
    """
    role, city = _name(role, "role"), _name(city, "city")
    city_slug, role_slug = slugify(city), slugify(role)
    folder = config.content_dir / city_slug
    path = folder / f"{role_slug}.md"
    if path.exists():
        raise SiteError(f"{_shown(path)} already exists; nothing was written (open it, or choose another name)")
    known = _city_articles(folder, city_slug)
    for other, meta in known:
        if slugify(str(meta.get("role", ""))) == role_slug:
            raise SiteError(f"{_shown(other)} already is the article for '{meta['role']}' in '{meta['city']}'; "
                            "nothing was written")
    city = _most_common([str(m["city"]) for _, m in known]) or city  # the spelling the site already uses
    region = _most_common([m.get("region") for _, m in known])
    state = _most_common([m.get("state") for _, m in known])
    text = SKELETON.format(
        role=_scalar(role), city=_scalar(city), period=config.period,
        region=f"region: {_scalar(region)}" if region else "region:  # optional, z. B. Ruhrgebiet",
        state=f"state: {_scalar(state)}" if state else "state:  # optional, z. B. Nordrhein-Westfalen",
        date=(today or dt.date.today()).isoformat(), title=f"{role} in {city}", role_text=role, city_text=city,
    )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite, even in a race
            fh.write(text)
    except FileExistsError:
        raise SiteError(f"{_shown(path)} already exists; nothing was written") from None
    return path


def _name(value: str, what: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise UsageError(f"the {what} is empty")
    issue = name_problem(what, name)
    if issue:
        message, hint = issue
        raise UsageError(f"{message}; {hint}")
    return name


def _city_articles(folder: Path, city_slug: str) -> list[tuple[Path, dict]]:
    """Front matter of the readable articles in the city's folder that belong to that city."""
    found = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.md")):
        try:
            doc, _body, _line = frontmatter.parse(frontmatter.decode(path.read_bytes()))
        except (OSError, frontmatter.FrontMatterProblem):
            continue  # a broken neighbour is reported by check/build, not here
        meta = doc.data
        if isinstance(meta.get("city"), str) and slugify(meta["city"]) == city_slug:
            found.append((path, meta))
    return found


def _most_common(values: list) -> str | None:
    counts = Counter(" ".join(v.split()) for v in values if isinstance(v, str) and v.strip())
    if not counts:
        return None
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def _scalar(text: str) -> str:
    """``text`` as a YAML value: plain when it reads back unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"k: {text}") == {"k": text} and "#" not in text:
            return text
    except yaml.YAMLError:
        pass
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
