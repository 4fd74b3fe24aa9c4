"""sitemap.xml (with a sitemap index above 50,000 URLs) and robots.txt."""

from __future__ import annotations

import datetime as dt

from .xml import escape

KINDS = ("sitemap", "sitemap-index", "robots")
MAX_URLS = 50_000  # per sitemap file, from the sitemaps protocol
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def entries(site) -> list[tuple[str, dt.date | None]]:
    """(site-relative URL, lastmod) of every canonical page, in a fixed order."""
    arts = site.articles

    def newest(indexes) -> dt.date | None:
        dates = [arts[i].modified for i in indexes if arts[i].modified]
        return max(dates) if dates else None

    from ..render import page_count, paginated, professions_url  # render imports this module

    size = site.config.hub_page_size
    everything = newest(range(len(arts)))
    out: list[tuple[str, dt.date | None]] = [("", everything)]
    for number in range(1, page_count(len(site.professions), size) + 1):
        out.append((paginated(professions_url(site.config), number), everything))
    for terms in (site.states, site.regions, site.cities, site.professions):
        for _, t in sorted(terms.items()):
            rows = len(t.children) if t.kind in ("region", "state") else len(t.articles)
            lastmod = newest(t.articles)
            out.extend((paginated(t.url, n), lastmod) for n in range(1, page_count(rows, size) + 1))
    out.extend((url, a.modified) for a, url in zip(arts, site.article_urls, strict=True) if not a.draft)
    return out


def count(site) -> int:
    """``len(entries(site))`` without building the entries (runs on every build, even a warm one)."""
    from ..render import page_count

    size = site.config.hub_page_size
    total = 1 + page_count(len(site.professions), size)
    for terms in (site.states, site.regions, site.cities, site.professions):
        for t in terms.values():
            total += page_count(len(t.children) if t.kind in ("region", "state") else len(t.articles), size)
    return total + sum(1 for a in site.articles if not a.draft)


def files(site) -> list[tuple[str, str, str]]:
    """The (relpath, kind, ref) of each file this module writes."""
    count_ = count(site)
    out = [("robots.txt", "robots", "")]
    if count_ <= MAX_URLS:
        out.append(("sitemap.xml", "sitemap", "0"))
    else:
        out.append(("sitemap.xml", "sitemap-index", ""))
        out.extend((f"sitemap-{n}.xml", "sitemap", str(n)) for n in range(1, -(-count_ // MAX_URLS) + 1))
    return out


def render(site, page) -> bytes:
    base = site.config.base_url
    if page.kind == "robots":
        return f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n".encode()
    all_entries = entries(site)
    if page.kind == "sitemap-index":
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_NS}">\n']
        for n in range(1, -(-len(all_entries) // MAX_URLS) + 1):
            chunk = all_entries[(n - 1) * MAX_URLS: n * MAX_URLS]
            dates = [d for _, d in chunk if d]
            lastmod = f"<lastmod>{max(dates).isoformat()}</lastmod>" if dates else ""
            parts.append(f"<sitemap><loc>{escape(base)}sitemap-{n}.xml</loc>{lastmod}</sitemap>\n")
        parts.append("</sitemapindex>\n")
        return "".join(parts).encode()
    number = int(page.ref)
    chunk = all_entries if number == 0 else all_entries[(number - 1) * MAX_URLS: number * MAX_URLS]
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_NS}">\n']
    for url, lastmod in chunk:
        date = f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else ""
        parts.append(f"<url><loc>{escape(base + url)}</loc>{date}</url>\n")
    parts.append("</urlset>\n")
    return "".join(parts).encode()
