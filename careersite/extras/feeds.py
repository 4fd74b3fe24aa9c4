"""Atom feeds: site-wide, per city and per profession.

Timestamps come from the articles' dates, never from the clock, so the same sources give
the same bytes; SOURCE_DATE_EPOCH gives the time of a feed without dated entries.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os

from .xml import escape, quoteattr

KINDS = ("feed",)
SITE_FEED = "feed.xml"


def term_feed(term) -> str:
    """Site-relative URL of a city's or profession's feed."""
    prefix = "stadt" if term.kind == "city" else "beruf"
    return f"feeds/{prefix}-{term.slug}.xml"


def files(site) -> list[tuple[str, str, str]]:
    out = [(SITE_FEED, "feed", "")]
    out.extend((term_feed(t), "feed", f"city:{s}") for s, t in sorted(site.cities.items()))
    out.extend((term_feed(t), "feed", f"profession:{s}") for s, t in sorted(site.professions.items()))
    return out


def source_date_epoch() -> str:
    """SOURCE_DATE_EPOCH as set (feeds depend on it; page keys include it)."""
    return os.environ.get("SOURCE_DATE_EPOCH", "").strip()


def _fallback_time() -> dt.datetime:
    epoch = source_date_epoch()
    seconds = int(epoch) if epoch.isdigit() else 0
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _stamp(date: dt.date | None, fallback: dt.datetime) -> str:
    if date is None:
        return fallback.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{date.isoformat()}T00:00:00Z"


def render(site, page) -> bytes:
    config = site.config
    base = config.base_url
    arts = site.articles
    if page.ref:
        kind, slug = page.ref.split(":", 1)
        term = (site.cities if kind == "city" else site.professions)[slug]
        title, alternate = f"{config.title}: {term.name}", base + term.url
        chosen = sorted((i for i in term.articles if not arts[i].draft), key=site.newest_key)
    else:
        title, alternate = config.title, base
        chosen = list(itertools.islice((i for i in site.newest_first() if not arts[i].draft), config.feed_entries))
    chosen = chosen[: config.feed_entries]
    fallback = _fallback_time()
    dates = [arts[i].modified for i in chosen if arts[i].modified]
    updated = _stamp(max(dates) if dates else None, fallback)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(config.language)}>\n',
        f"<title>{escape(title)}</title>\n",
        f"<id>{escape(base + page.relpath)}</id>\n",
        f"<link rel=\"self\" href={quoteattr(base + page.relpath)}/>\n",
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(alternate)}/>\n",
        f"<updated>{updated}</updated>\n",
        f"<author><name>{escape(config.title)}</name></author>\n",
    ]
    for i in chosen:
        a = arts[i]
        url = base + site.article_urls[i]
        parts.append(
            "<entry>\n"
            f"<title>{escape(a.title)}</title>\n"
            f"<id>{escape(url)}</id>\n"
            f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(url)}/>\n"
            + (f"<published>{_stamp(a.date, fallback)}</published>\n" if a.date else "")
            + f"<updated>{_stamp(a.modified, fallback)}</updated>\n"
            f"<summary>{escape(a.summary)}</summary>\n"
            "</entry>\n")
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")
