"""Pages: which exist (``plan``), and how each becomes bytes (``Renderer.render``). No I/O but templates.

Every page is a :class:`Page` with a *key*: a hash of the render settings (package
version, config, templates) and of the model digests the page reads. The incremental
build re-renders a page only when its key changes, so a page may read only data that
its key covers: an article page reads its article, its city's cards and its
profession's cards; a hub reads its term's cards; site-wide pages read the site digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import jinja2
from babel.dates import format_date
from markupsafe import Markup

from . import __version__, charts, markup
from .config import Config
from .errors import Problem
from .extras import feeds, sitemap, structured_data
from .model import RESERVED, Site, Term
from .salary import format_money, format_number, format_range
from .urls import check_relpath, relative_url, url_to_file


@dataclass(frozen=True, slots=True)
class Page:
    """One output file: where it goes, what it shows (kind, ref, number) and its change key."""

    relpath: str
    kind: str  # index | city | profession | region | state | article | professions | 404 | static | extra kinds
    ref: str = ""  # term slug, article index, or static file name
    number: int = 1  # page number of a paginated hub
    key: str = ""


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def theme_files(templates_dir: Path) -> list[tuple[str, bytes]]:
    """All files of the theme, sorted, with their bytes (templates and static files)."""
    out = []
    for root, dirs, files in os.walk(templates_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith("~"):
                continue
            path = Path(root, name)
            out.append((path.relative_to(templates_dir).as_posix(), path.read_bytes()))
    return out


@dataclass(frozen=True)
class Theme:
    """Fingerprinted static files and a digest of every theme file."""

    digest: str
    assets: dict[str, str]  # "style.css" -> "static/style.3f2a9c1b.css"
    static: dict[str, bytes]  # output relpath -> bytes

    @classmethod
    def load(cls, templates_dir: Path) -> Theme:
        files = theme_files(templates_dir)
        assets, static = {}, {}
        for name, data in files:
            if name.startswith("static/"):
                stem, dot, ext = name.rpartition(".")
                fingerprinted = f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}.{ext}" if dot else name
                assets[name[len("static/"):]] = fingerprinted
                static[fingerprinted] = data
        return cls(_hash(files), assets, static)


def render_digest(config: Config, theme: Theme) -> str:
    """Everything besides content that can change any page."""
    return _hash(__version__, markup.VERSION, config.digest(), theme.digest)


def page_url(relpath: str) -> str:
    """Site-relative URL of a file: "a/index.html" -> "a/"."""
    if relpath == "index.html":
        return ""
    return relpath[: -len("index.html")] if relpath.endswith("/index.html") else relpath


def paginated(url: str, number: int) -> str:
    """URL of page ``number`` of a hub at ``url`` ("bochum/" -> "bochum/seite-2/")."""
    if number == 1:
        return url
    if url.endswith(".html"):
        return f"{url[:-5]}-seite-{number}.html"
    return f"{url}seite-{number}/"


def plan(site: Site, theme: Theme) -> tuple[list[Page], list[Problem]]:
    """Every page of the site with its key, in a fixed order; and URL collisions as problems."""
    config = site.config
    base = render_digest(config, theme)
    pages: list[Page] = []
    owners: dict[str, str] = {}
    problems: list[Problem] = []

    def add(relpath: str, kind: str, ref: str = "", number: int = 1, deps: tuple = (), origin: str = "") -> None:
        issue = check_relpath(relpath)
        if issue:
            problems.append(Problem(origin or relpath, 0, 0, f"output path '{relpath}' {issue}",
                                    "change the URL pattern in config.yaml"))
            return
        folded = relpath.casefold()
        if folded in owners:
            problems.append(Problem(origin or relpath, 0, 0,
                                    f"'{relpath}' would be written twice: by {owners[folded]} and by {origin}",
                                    "two sources map to one URL; rename one of them"))
            return
        owners[folded] = origin or kind
        pages.append(Page(relpath, kind, ref, number, _hash(base, kind, relpath, ref, number, deps)))

    size = config.hub_page_size
    add("index.html", "index", deps=(site.digest,), origin="the start page")
    add("404.html", "404", origin="the 404 page")
    for name, relpath in sorted(theme.assets.items()):
        add(relpath, "static", ref=relpath, deps=(_hash(theme.static[relpath]),), origin=f"templates/static/{name}")
    for index, (article, url) in enumerate(zip(site.articles, site.article_urls)):
        if _reserved(url):
            problems.append(Problem(article.source, 2, 1, f"the URL '{url}' is reserved for careersite's own files",
                                    "rename the city or role, or change the URL pattern"))
            continue
        deps = (site.article_digests[index], site.cities[article.city_slug].digest,
                site.professions[article.role_slug].digest)
        add(url_to_file(url), "article", ref=str(index), deps=deps, origin=f"article {article.source}")
    for kind, terms in (("city", site.cities), ("profession", site.professions), ("region", site.regions),
                        ("state", site.states)):
        for slug, term in sorted(terms.items()):
            count = max(1, -(-len(_entries(site, term)) // size))
            for number in range(1, count + 1):
                add(url_to_file(paginated(term.url, number)), kind, ref=slug, number=number, deps=(term.digest,),
                    origin=f"the {kind} page of '{term.name}'")
    prof_count = max(1, -(-len(site.professions) // size))
    for number in range(1, prof_count + 1):
        add(url_to_file(paginated(professions_url(config), number)), "professions", number=number,
            deps=(site.digest,), origin="the list of all professions")
    for relpath, kind, ref in [*sitemap.files(site), *feeds.files(site)]:
        add(relpath, kind, ref=ref, deps=(site.digest,), origin=f"the {kind}")
    return pages, problems


def professions_url(config: Config) -> str:
    """The A–Z list of all professions lives in the profession pattern's parent folder."""
    pattern = config.urls["profession"]
    parent = pattern.split("{role}")[0]
    return parent if parent and parent.endswith("/") else "berufe/"


def _reserved(url: str) -> bool:
    relpath = url_to_file(url)
    return any(relpath == r or relpath.startswith(r) for r in RESERVED if r.endswith("/")) or relpath in RESERVED


def _entries(site: Site, term: Term) -> list:
    """The rows a hub lists: articles for a city or profession, cities for a region or state."""
    return list(term.children) if term.kind in ("region", "state") else list(term.articles)


# --- rendering ------------------------------------------------------------------------

class Renderer:
    """Renders pages of one site. Create one per process; it owns the Jinja2 environment."""

    def __init__(self, site: Site, theme: Theme, body_html: Callable[[str], str]):
        self.site = site
        self.config = site.config
        self.theme = theme
        self.body_html = body_html
        self.env = make_environment(self.config)

    def render(self, page: Page) -> bytes:
        if page.kind == "static":
            return self.theme.static[page.ref]
        if page.kind in sitemap.KINDS:
            return sitemap.render(self.site, page)
        if page.kind in feeds.KINDS:
            return feeds.render(self.site, page)
        context = getattr(self, f"_ctx_{page.kind}")(page)
        context.update(self._common(page))
        template = self.env.get_template(f"{page.kind}.html")
        return template.render(context).encode("utf-8")

    # each _ctx_* reads only what the page's key covers (see module docstring)

    def _common(self, page: Page) -> dict[str, Any]:
        config = self.config
        url = page_url(page.relpath)
        return {
            "config": config, "words": config.words, "page_url": url,
            "canonical": config.base_url + url,
            "link": lambda target: relative_url(page.relpath, target),
            "asset": lambda name: relative_url(page.relpath, self.theme.assets[name]),
            "home_url": relative_url(page.relpath, ""),
            "professions_url": relative_url(page.relpath, professions_url(config)),
            "site_feed": relative_url(page.relpath, feeds.SITE_FEED),
            "search": config.search,
        }

    def _ctx_404(self, page: Page) -> dict[str, Any]:
        return {"title": self.config.words["not_found_title"], "description": self.config.words["not_found_text"],
                "breadcrumbs": [], "jsonld": [], "feeds": [], "noindex": True}

    def _ctx_index(self, page: Page) -> dict[str, Any]:
        site = self.site
        states = []
        for state_slug, state in sorted(site.states.items(), key=lambda kv: kv[1].name):
            regions = sorted({site.cities[c].parent for c in state.children if site.cities[c].parent})
            groups = [(site.regions[r], [site.cities[c] for c in site.regions[r].children
                                         if site.cities[c].state == state_slug]) for r in regions]
            loose = [site.cities[c] for c in state.children if not site.cities[c].parent]
            states.append((state, groups, loose))
        no_state = sorted((t for t in site.cities.values() if not t.state), key=lambda t: t.name)
        latest = sorted(range(len(site.articles)), key=lambda i: (
            -(site.articles[i].modified or dt.date.min).toordinal(), site.article_urls[i]))[: self.config.latest_count]
        professions = sorted(site.professions.values(), key=lambda t: _sort_key(t.name))
        return {
            "title": self.config.title, "description": self.config.description, "breadcrumbs": [],
            "states": states, "cities_without_state": no_state,
            "professions": professions[: self.config.hub_page_size],
            "more_professions": len(professions) > self.config.hub_page_size,
            "latest": [self._card(i) for i in latest],
            "jsonld": [structured_data.website(site)], "feeds": [],
            "city_count": len(site.cities), "profession_count": len(site.professions),
            "article_count": len(site.articles),
        }

    def _ctx_professions(self, page: Page) -> dict[str, Any]:
        professions = sorted(self.site.professions.values(), key=lambda t: _sort_key(t.name))
        rows, pager = self._paginate(professions, page, professions_url(self.config))
        title = self.config.words["all_professions"]
        crumbs = [(self.config.words["home"], ""), (title, professions_url(self.config))]
        return {"title": title, "description": f"{title}: {len(professions)}", "rows": rows, "pager": pager,
                "breadcrumbs": crumbs, "jsonld": [structured_data.breadcrumbs(self.site, crumbs)], "feeds": []}

    def _ctx_article(self, page: Page) -> dict[str, Any]:
        site, words = self.site, self.config.words
        index = int(page.ref)
        article = site.articles[index]
        url = site.article_urls[index]
        city = site.cities[article.city_slug]
        profession = site.professions[article.role_slug]
        prof_stats = site.stats(profession)
        stat = next((s for s in prof_stats if (s.currency, s.period) == article.salary.group), None)
        comparison = []
        for i in profession.articles:
            other = site.articles[i]
            if other.salary.group != article.salary.group:
                continue
            delta = None
            if stat and stat.median:
                delta = ((other.salary.mid - stat.median) / stat.median * 100).quantize(Decimal(1))
            comparison.append({**self._card(i), "delta": delta, "current": i == index})
        related = [self._card(i) for i in city.articles if i != index]
        related.sort(key=lambda c: _sort_key(c["role"]))
        html = markup.resolve_source_links(self.body_html(article.body_key), self._source_link(page, article))
        crumbs = [(words["home"], ""), (city.name, city.url), (article.role, url)]
        headings = [h for h in article.headings if h.level == 2]
        return {
            "title": article.title, "description": article.summary, "article": article, "body": Markup(html),
            "city": city, "profession": profession, "stat": stat, "comparison": comparison, "related": related,
            "toc": headings if len(headings) >= self.config.toc_min_headings else [],
            "chart": charts.levels_chart(article, self.config),
            "breadcrumbs": crumbs,
            "jsonld": [structured_data.occupation(site, index), structured_data.breadcrumbs(site, crumbs)],
            "feeds": [(words["feed_of"].format(name=city.name), feeds.term_feed(city)),
                      (words["feed_of"].format(name=profession.name), feeds.term_feed(profession))],
            "og_type": "article",
        }

    def _term_page(self, page: Page, term: Term, rows: list, title: str) -> dict[str, Any]:
        words = self.config.words
        shown, pager = self._paginate(rows, page, term.url)
        crumbs = [(words["home"], "")]
        if term.kind == "city" and term.state and term.state in self.site.states:
            crumbs.append((self.site.states[term.state].name, self.site.states[term.state].url))
        if term.kind == "region" and term.parent and term.parent in self.site.states:
            crumbs.append((self.site.states[term.parent].name, self.site.states[term.parent].url))
        crumbs.append((term.name, term.url))
        return {"title": title, "term": term, "rows": shown, "pager": pager, "stats": self.site.stats(term),
                "breadcrumbs": crumbs,
                "jsonld": [structured_data.breadcrumbs(self.site, crumbs),
                           structured_data.item_list(self.site, [(r["title"], r["url"]) for r in shown]
                                                     if shown and isinstance(shown[0], dict) else
                                                     [(t.name, t.url) for t in shown])],
                "feeds": [(words["feed_of"].format(name=term.name), feeds.term_feed(term))]
                if term.kind in ("city", "profession") else []}

    def _ctx_city(self, page: Page) -> dict[str, Any]:
        term = self.site.cities[page.ref]
        rows = sorted((self._card(i) for i in term.articles), key=lambda c: _sort_key(c["role"]))
        ctx = self._term_page(page, term, rows, f"{self.config.words['salary']}: {term.name}")
        ctx["title"] = f"Berufe und Gehälter in {term.name}" if self.config.language == "de" else term.name
        ctx["description"] = _describe(self.config, term, self.site.stats(term), len(rows))
        ctx["region"] = self.site.regions.get(term.parent) if term.parent else None
        ctx["state"] = self.site.states.get(term.state) if term.state else None
        return ctx

    def _ctx_profession(self, page: Page) -> dict[str, Any]:
        term = self.site.professions[page.ref]
        rows = sorted((self._card(i) for i in term.articles), key=lambda c: _sort_key(c["city"]))
        ctx = self._term_page(page, term, rows, term.name)
        ctx["title"] = f"{term.name}: Gehalt im Städtevergleich" if self.config.language == "de" else term.name
        ctx["description"] = _describe(self.config, term, self.site.stats(term), len(rows))
        ctx["chart"] = charts.comparison_chart(term, rows, self.config)
        return ctx

    def _group_page(self, page: Page, term: Term) -> dict[str, Any]:
        cities = [self.site.cities[c] for c in term.children]
        cities.sort(key=lambda t: _sort_key(t.name))
        ctx = self._term_page(page, term, cities, term.name)
        ctx["description"] = _describe(self.config, term, self.site.stats(term), len(cities))
        return ctx

    def _ctx_region(self, page: Page) -> dict[str, Any]:
        return self._group_page(page, self.site.regions[page.ref])

    def _ctx_state(self, page: Page) -> dict[str, Any]:
        return self._group_page(page, self.site.states[page.ref])

    def _card(self, index: int) -> dict[str, Any]:
        a = self.site.articles[index]
        return {"title": a.title, "role": a.role, "city": self.site.cities[a.city_slug].name,
                "url": self.site.article_urls[index], "salary": a.salary, "summary": a.summary,
                "date": a.date, "modified": a.modified, "draft": a.draft,
                "role_url": self.site.professions[a.role_slug].url}

    def _paginate(self, rows: list, page: Page, base_url: str) -> tuple[list, dict[str, Any] | None]:
        size = self.config.hub_page_size
        count = max(1, -(-len(rows) // size))
        shown = rows[(page.number - 1) * size: page.number * size]
        if count == 1:
            return shown, None
        return shown, {"number": page.number, "count": count,
                       "pages": [(n, paginated(base_url, n)) for n in range(1, count + 1)]}

    def _source_link(self, page: Page, article) -> Callable[[str], str]:
        site = self.site

        def resolve(target: str) -> str:
            path, _, fragment = target.partition("#")
            source = os.path.normpath(os.path.join(os.path.dirname(article.source), path)).replace(os.sep, "/")
            index = site.by_source.get(source)
            if index is None:
                return target  # reported by ``check``; keep the author's link
            url = relative_url(page.relpath, site.article_urls[index])
            return url + ("#" + fragment if fragment else "")
        return resolve


def _sort_key(text: str) -> tuple:
    """German A–Z order: umlauts sort with their base letter (Ärztin with A), case-insensitive."""
    import unicodedata
    base = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return (base, text)


def _describe(config: Config, term: Term, stats: list, count: int) -> str:
    words = config.words
    if not stats:
        return term.name
    s = stats[0]
    return (f"{term.name}: {count} {words['entries']}, {words['salary']} "
            f"{format_range(s.lowest, s.highest, s.currency, config.locale)} "
            f"({words['median']} {format_money(s.median, s.currency, config.locale)}).")


def make_environment(config: Config) -> jinja2.Environment:
    """The Jinja2 environment: autoescaping, StrictUndefined, and the German formatting filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(config.templates_dir)),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, auto_reload=False,
    )
    locale = config.locale
    words = config.words
    per = {"month": words["per_month"], "year": words["per_year"], "hour": words["per_hour"]}
    env.filters.update(
        money=lambda amount, currency=config.currency: format_money(Decimal(amount), currency, locale),
        money_range=lambda s: format_range(s.min, s.max, s.currency, locale),
        number=lambda n: format_number(Decimal(n), locale),
        longdate=lambda d: format_date(d, format="long", locale=locale) if d else "",
        isodate=lambda d: d.isoformat() if d else "",
        per=lambda period: per[period],
        word=lambda key, **kw: words[key].format(**kw),
        percent=lambda d: ("+" if d > 0 else "−" if d < 0 else "±") + format_number(abs(Decimal(d)), locale)
        + "\u00a0%",
    )
    return env
