"""Pages: which exist (``plan``), and how each becomes bytes (``Renderer.render``). No I/O but templates.

Every page is a :class:`Page` with a *key*: a hash of the render settings (package
version, config, templates) and of the model digests the page reads. The incremental
build re-renders a page only when its key changes, so a page may read only data that
its key covers: an article page reads its article and, of the other articles of its city
and profession, only their "peer" fields (``Article.peer``: salary, draft, region, state,
tags; its rows hold nothing else, so a template cannot show more); a hub reads its term's
cards; site-wide pages read the site digest.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import html as htmllib
import itertools
import json
import os
import types
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import jinja2
import jinja2.meta
import jinja2.runtime
import markupsafe
from markupsafe import Markup

from . import __version__, charts, codegen, markup
from .config import Config
from .content import linked_source
from .early import display_path, unreadable, utf8_name
from .errors import BuildFailed, Problem
from .extras import feeds, sitemap, structured_data
from .model import RESERVED, Site, Term
from .records import pickled_as_tuple
from .salary import Salary, format_money, format_number, format_range
from .sealed import read_sealed, write_sealed
from .urls import relative_url, slugify, url_to_file


@pickled_as_tuple
class Page(NamedTuple):
    """One output file: where it goes, what it shows (kind, ref, number) and its change key.
    A tuple: 100,000 of them are made per build and kept in the cache's state."""

    relpath: str
    kind: str  # index | city | profession | region | state | article | professions | 404 | static | extra kinds
    ref: str = ""  # term slug, article index, or static file name
    number: int = 1  # page number of a paginated hub
    key: str = ""


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def theme_files(templates_dir: Path) -> list[tuple[str, bytes]]:
    """All files of the theme, sorted, with their bytes (templates and static files).

    Raises :class:`BuildFailed` naming every file or folder it cannot read (a symbolic link in
    a circle, no permission) and every name that is not UTF-8 (which no URL or template name
    can hold), rather than a traceback.
    """
    out = []
    problems: list[Problem] = []

    def problem(path: str, message: str, hint: str) -> None:
        problems.append(Problem(display_path(path), 0, 0, message, hint))

    def unlisted(exc: OSError) -> None:
        problem(exc.filename, f"cannot read the folder: {exc.strerror}",
                "make it readable (chmod a+rx), or move it out of the templates folder")

    for root, dirs, files in os.walk(templates_dir, onerror=unlisted):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in [d for d in dirs if not utf8_name(d)]:
            dirs.remove(name)
            problem(os.path.join(root, name), "the folder name is not valid UTF-8", _RENAME)
        for name in sorted(files):
            if name.startswith(".") or name.endswith("~"):
                continue
            path = Path(root, name)
            if not utf8_name(name):
                problem(str(path), "the file name is not valid UTF-8", _RENAME)
                continue
            try:
                out.append((path.relative_to(templates_dir).as_posix(), path.read_bytes()))
            except OSError as exc:
                problems.append(unreadable(display_path(path), exc))
    if problems:
        raise BuildFailed(problems)
    return out


_RENAME = "rename it: use letters, digits and hyphens"


@dataclass(frozen=True)
class Theme:
    """Fingerprinted static files and a digest of every theme file."""

    digest: str
    assets: dict[str, str]  # "style.css" -> "static/style.3f2a9c1b.css"
    static: dict[str, bytes]  # output relpath -> bytes
    templates: dict[str, bytes] = field(default_factory=dict)  # every other file of the theme
    static_digest: str = ""  # of the static files alone: what the plan of pages reads of the theme

    @classmethod
    def load(cls, templates_dir: Path) -> Theme:
        files = theme_files(templates_dir)
        assets, static, templates = {}, {}, {}
        for name, data in files:
            if name.startswith("static/"):
                stem, dot, ext = name.rpartition(".")
                fingerprinted = f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}.{ext}" if dot else name
                assets[name[len("static/"):]] = fingerprinted
                static[fingerprinted] = data
            else:
                templates[name] = data
        # the static files' names and bytes (a name without a dot has no fingerprint)
        static_digest = _hash([(name, hashlib.sha256(data).hexdigest()) for name, data in files
                               if name.startswith("static/")])
        return cls(_hash(files), assets, static, templates, static_digest)


def render_digest(config: Config, theme: Theme) -> str:
    """Everything besides content that can change any page."""
    return _hash(__version__, markup.VERSION, config.digest(), theme.digest)


def _content_base(config: Config) -> str:
    """What every page's key holds besides its data; the templates it uses are added by
    :func:`full_key` (see :func:`template_keys`)."""
    return _hash(__version__, markup.VERSION, config.digest())


_template_keys: dict[str, dict[str, str]] = {}  # theme digest -> template_keys() (the latest)


def template_keys(theme: Theme, env: jinja2.Environment) -> dict[str, str]:
    """For each page kind that a template renders, a digest of that template, of every template
    it extends, includes or imports (transitively), and of the static files' names (pages link
    to them fingerprinted). Editing ``city.html`` thus re-renders the city pages only, and
    editing ``base.html`` every page that extends it; feeds, the sitemap and static files use
    no template. A template that names another by a variable depends on every template.
    ~20 ms for the sample theme: kept per theme digest (and in the build state, see
    pipeline.model_snapshot).
    """
    known = _template_keys.get(theme.digest)
    if known is not None:
        return known
    refs: dict[str, set[str] | None] = {}
    for name, data in theme.templates.items():
        try:
            found = {_template_name(n) for n in jinja2.meta.find_referenced_templates(env.parse(data.decode(), name))}
        except (jinja2.TemplateSyntaxError, UnicodeDecodeError):
            found = {None}  # reported when compiled; the build stops there
        # a name not among the theme's files (missing, or spelt otherwise on a file system that
        # ignores case) counts as a name Jinja resolves at render time
        refs[name] = None if None in found or not found <= theme.templates.keys() else found
    keys = {}
    for name in refs:
        if not name.endswith(".html") or "/" in name:
            continue  # partials are no page kind
        used, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in used:
                continue
            used.add(current)
            named = refs.get(current, set())
            if named is None:  # dynamic: any template
                used.update(theme.templates)
                break
            todo.extend(named)
        keys[name[: -len(".html")]] = _hash(theme.static_digest,
                                            [(n, _hash(theme.templates.get(n))) for n in sorted(used)])
    _template_keys.clear()
    _template_keys[theme.digest] = keys
    return keys


def _template_name(name: str | None) -> str | None:
    """A template name as Jinja's loader resolves it ("./partials//x.html" -> "partials/x.html")."""
    if name is None:
        return None
    try:
        return "/".join(jinja2.loaders.split_template_path(name))
    except jinja2.TemplateNotFound:  # ".." in it: never loads
        return None


def known_template_keys(theme: Theme) -> dict[str, str] | None:
    """:func:`template_keys` of ``theme`` if already made (to keep them in the build state)."""
    return _template_keys.get(theme.digest)


def remember_template_keys(digest: str, keys: dict[str, str]) -> None:
    """Take the :func:`template_keys` of the theme with ``digest`` from a previous build's state."""
    if digest not in _template_keys and isinstance(keys, dict):
        _template_keys.clear()
        _template_keys[digest] = keys


def full_key(page: Page, keys: dict[str, str]) -> str:
    """The key a page's output is recorded with: its data's key and its templates' (if any)."""
    return page.key + keys.get(page.kind, "") if page.kind != "static" else page.key


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
    base = _content_base(config)
    pages: list[Page] = []
    owners: dict[str, tuple[str, str]] = {}  # casefolded relpath -> (what writes it, its content file)
    problems: list[Problem] = []

    def add(relpath: str, kind: str, ref: str = "", number: int = 1, deps: tuple = (), origin: str = "",
            source: str = "") -> None:
        """Register a page; ``source`` is the content file that brings it (reported on a clash)."""
        # No path check per page: slugs hold only a-z, 0-9 and "-", URL patterns are checked
        # when the config is loaded, and every write goes through urls.safe_join.
        folded = relpath.casefold()
        if folded in owners:
            first, first_source = owners[folded]
            where = source or first_source
            problems.append(Problem(where or relpath, 2 if where else 0, 1 if where else 0,
                                    f"'{relpath}' would be written twice: by {first} and by {origin}",
                                    "two sources map to one URL: rename the city or role, "
                                    "or change the URL patterns in config.yaml"))
            return
        owners[folded] = (origin or kind, source)
        pages.append(Page(relpath, kind, ref, number, _page_key(base, kind, relpath, ref, number, deps)))

    size = config.hub_page_size
    names = _Names(site)
    add("index.html", "index", deps=_deps(site, "index", "", names), origin="the start page")
    add("404.html", "404", origin="the 404 page")
    for name, relpath in sorted(theme.assets.items()):
        add(relpath, "static", ref=relpath, deps=(_hash(theme.static[relpath]),), origin=f"templates/static/{name}")
    for index, (article, url) in enumerate(zip(site.articles, site.article_urls, strict=True)):
        if _reserved(url):
            problems.append(Problem(article.source, 2, 1, f"the URL '{url}' is reserved for careersite's own files",
                                    "rename the city or role, or change the URL pattern"))
            continue
        add(url_to_file(url), "article", ref=str(index), deps=_deps(site, "article", str(index), names),
            origin=f"the article {article.source}", source=article.source)
    for kind, terms in (("city", site.cities), ("profession", site.professions), ("region", site.regions),
                        ("state", site.states)):
        for slug, term in sorted(terms.items()):
            count = page_count(len(_entries(site, term)), size)
            deps = _deps(site, kind, slug, names)
            for number in range(1, count + 1):
                add(url_to_file(paginated(term.url, number)), kind, ref=slug, number=number, deps=deps,
                    origin=f"the {kind} page of '{term.name}'",
                    source=site.articles[term.articles[0]].source if term.articles else "")
    for number in range(1, page_count(len(site.professions), size) + 1):
        add(url_to_file(paginated(professions_url(config), number)), "professions", number=number,
            deps=_deps(site, "professions", "", names), origin="the list of all professions")
    for relpath, kind, ref in [*sitemap.files(site), *feeds.files(site)]:
        add(relpath, kind, ref=ref, deps=_deps(site, kind, ref, names), origin=f"the {kind}")
    return pages, problems


def _page_key(base: str, kind: str, relpath: str, ref: str, number: int, deps: tuple) -> str:
    # An article page's ref is its index in the model, which moves whenever an article is
    # added or removed before it; its path and its article's digest identify it instead.
    return _hash(base, kind, relpath, "" if kind == "article" else ref, number, deps)


class _Names(dict):
    """cross_names() per (kind, slug) of a city or profession, computed when first asked for."""

    def __init__(self, site: Site):
        super().__init__()
        self.site = site

    def __missing__(self, key: tuple[str, str]) -> str:
        kind, slug = key
        terms = self.site.cities if kind == "city" else self.site.professions if kind == "profession" else None
        value = cross_names(self.site, terms[slug]) if terms is not None and slug in terms else ""
        self[key] = value
        return value


def _deps(site: Site, kind: str, ref: str, names: _Names) -> tuple:
    """The model digests a page of ``kind`` and ``ref`` reads (see the module docstring); the
    static files' keys come from their bytes instead."""
    if kind == "article":
        index = int(ref)
        article = site.articles[index]
        city, profession = site.cities[article.city_slug], site.professions[article.role_slug]
        # where its links to other articles' source files point now (they may move or go)
        linked = [source_index(site, article, link) for link in article.links if markup.is_source_link(link)]
        return (site.article_digests[index], city.peer_digest, profession.peer_digest,
                names[("city", city.slug)], names[("profession", profession.slug)],
                tuple(site.article_urls[i] if i is not None else None for i in linked))
    if kind in ("city", "profession", "region", "state"):
        term = getattr(site, _TERMS[kind])[ref]
        return (term.digest, names[(kind, ref)], _group_names(site, term))
    if kind == "feed":  # a city's or profession's feed shows only that term's cards
        term_kind, _, slug = ref.partition(":")
        # undated entries get the time of SOURCE_DATE_EPOCH
        return (getattr(site, _TERMS[term_kind])[slug].digest if ref else site.digest, feeds.source_date_epoch())
    if kind in ("404", "robots"):
        return ()
    if kind in ("sitemap", "sitemap-index"):
        return (site.sitemap_digest,)
    return (site.digest,)  # the start page, the A–Z list, the site-wide feed


_TERMS = {"city": "cities", "profession": "professions", "region": "regions", "state": "states"}


def _group_names(site: Site, term: Term) -> tuple:
    """The names of the regions and states a hub links to. Each is spelled as the model chose
    across all cities, so the hub's own digest does not cover it."""
    if term.kind == "city":
        region, state = site.regions.get(term.parent or ""), site.states.get(term.state or "")
        return (region.name if region else None, state.name if state else None)
    if term.kind == "region":
        state = site.states.get(term.parent or "")
        return (state.name if state else None,)
    if term.kind == "state":
        slugs = {site.cities[c].parent for c in term.children if site.cities[c].parent}
        return tuple(sorted((slug, site.regions[slug].name) for slug in slugs))
    return ()


def replan(site: Site, theme: Theme, pages: list[Page], articles: set[int], terms: set[tuple[str, str]],
           peers: set[tuple[str, str]], site_wide: bool) -> list[Page]:
    """``pages`` planned anew for ``site`` when only some digests changed, not its pages: the
    keys of the pages of ``articles`` (indexes), of the hubs and feeds of ``terms`` ((kind,
    slug)), of the article pages of the cities and professions in ``peers`` (whose peer
    digests changed) and, if ``site_wide``, of the pages that read the site digests. The same
    keys :func:`plan` gives, in a fraction of its time.
    """
    base = _content_base(site.config)
    names = _Names(site)
    refs = {str(i) for i in articles}
    for kind, slug in peers:
        refs.update(str(i) for i in getattr(site, _TERMS[kind])[slug].articles)
    out = list(pages)
    for n, page in enumerate(out):
        kind, ref = page.kind, page.ref
        if kind == "article":
            hit = ref in refs
        elif kind in _TERMS:
            hit = (kind, ref) in terms
        elif kind == "feed" and ref:
            hit = tuple(ref.split(":", 1)) in terms
        else:
            hit = site_wide and kind not in ("static", "404", "robots")
        if hit:
            deps = _deps(site, kind, ref, names)
            out[n] = Page(page.relpath, kind, ref, page.number,
                          _page_key(base, kind, page.relpath, ref, page.number, deps))
    return out


def page_count(rows: int, size: int) -> int:
    """How many pages a hub of ``rows`` entries has (at least one)."""
    return max(1, -(-rows // size))


def cross_names(site: Site, term: Term) -> str:
    """A digest of the names a city or profession page shows of the *other* terms of its articles.

    A city page names each article's profession, a profession page each article's city, as
    the model spells them (the most common spelling). Those names belong to other terms, so
    their digests do not cover them; this digest goes into the key of every page that shows them.
    """
    if term.kind == "city":
        return _hash([site.professions[site.articles[i].role_slug].name for i in term.articles])
    return _hash([site.cities[site.articles[i].city_slug].name for i in term.articles])


def professions_url(config: Config) -> str:
    """The A–Z list of all professions lives in the profession pattern's parent folder."""
    pattern = config.urls["profession"]
    parent = pattern.split("{role}")[0]
    return parent if parent and parent.endswith("/") else "berufe/"


_RESERVED_DIRS = frozenset(r for r in RESERVED if r.endswith("/"))


def _reserved(url: str) -> bool:
    relpath = url_to_file(url)
    return relpath.partition("/")[0] + "/" in _RESERVED_DIRS or relpath in RESERVED


def _entries(site: Site, term: Term) -> list:
    """The rows a hub lists: articles for a city or profession, cities for a region or state."""
    return list(term.children) if term.kind in ("region", "state") else list(term.articles)


# --- rendering ------------------------------------------------------------------------

#: At most this many other cities (comparison) and other professions (related) on an
#: article page; the hubs list them all. Keeps an article small in a site where a
#: profession exists in 100 cities and a city has 1,000 professions.
COMPARE_LIMIT = 10
RELATED_LIMIT = 10
#: Hubs with more entries than this get an A–Z letter navigation and letter groups.
AZ_MIN = 20


class PeerCard(NamedTuple):
    """An article as the pages of *other* articles show it (comparison and related lists).
    A tuple, not a dict: a render worker holds one per article of the site (~100,000)."""

    index: int
    role: str
    city: str
    url: str
    salary: Salary
    draft: bool
    role_url: str
    range_text: str
    median_text: str
    level_texts: tuple[tuple[str, str], ...]
    # the last two are set in comparison rows only (see Renderer._comparison): the row of the
    # page's own article, and the mid salary against its profession's median (same currency
    # and period), in %
    current: bool
    delta: Decimal | None


class Renderer:
    """Renders pages of one site. Create one per process; it owns the Jinja2 environment."""

    def __init__(self, site: Site, theme: Theme, body_html: Callable[[str], str],
                 env: jinja2.Environment | None = None):
        self.site = site
        self.config = site.config
        self.theme = theme
        self.body_html = body_html
        self.env = env or make_environment(self.config)
        # Per-term results shared by the pages of one term (a term's pages read only that term).
        self._memo: dict[tuple, Any] = {}
        self._templates: dict[str, jinja2.Template] = {}  # by page kind (get_template: ~12 µs a page)

    def render(self, page: Page) -> bytes:
        if page.kind == "static":
            return self.theme.static[page.ref]
        if page.kind in sitemap.KINDS:
            return sitemap.render(self.site, page)
        if page.kind in feeds.KINDS:
            return feeds.render(self.site, page)
        context = self._common(page)
        context.update(getattr(self, f"_ctx_{page.kind}")(page))
        context["heading"] = context["title"]  # the h1; <title> also names the page number
        if page.number > 1:
            suffix = context["words"]["page_of"].format(number=page.number, count=context["pager"]["count"])
            context["title"] = f"{context['title']} – {suffix}"
            context["description"] = f"{context['description']} {suffix}."
        template = self._templates.get(page.kind)
        if template is None:
            template = self._templates[page.kind] = self.env.get_template(f"{page.kind}.html")
        return template.render(context).encode("utf-8")

    def body_keys(self, pages: Iterable[Page]) -> list[str]:
        """The Markdown cache keys of the bodies these pages show (to read them in one go)."""
        return [self.site.articles[int(p.ref)].body_key for p in pages if p.kind == "article"]

    # each _ctx_* reads only what the page's key covers (see module docstring)

    def _common(self, page: Page) -> dict[str, Any]:
        config = self.config
        url = page_url(page.relpath)
        if page.kind == "404":
            # Served for any missing path, so relative links would break: use root-relative ones.
            root = urlsplit(config.base_url).path

            def link(target: str) -> str:
                return root + target
        else:
            prefix = "../" * page.relpath.count("/")  # relative_url's, once per page (~30 links)

            def link(target: str) -> str:
                return (prefix + target) or "./"
        return {
            "config": config, "words": config.words, "page_url": url,
            "canonical": config.base_url + url,
            "link": link,
            "asset": lambda name: link(self.theme.assets[name]),
            "home_url": link(""),
            "professions_url": link(professions_url(config)),
            "site_feed": link(feeds.SITE_FEED),
            "search": config.search, "pager": None, "feeds": [], "og_type": "website", "noindex": False,
        }

    def _ctx_404(self, page: Page) -> dict[str, Any]:
        return {"title": self.config.words["not_found_title"], "description": self.config.words["not_found_text"],
                "breadcrumbs": [], "jsonld": [], "noindex": True}

    def _ctx_index(self, page: Page) -> dict[str, Any]:
        site, words = self.site, self.config.words
        states = []
        for state in sorted(site.states.values(), key=lambda t: _sort_key(t.name)):
            region_slugs = {site.cities[c].parent for c in state.children if site.cities[c].parent}
            regions = sorted((site.regions[r] for r in region_slugs), key=lambda t: _sort_key(t.name))
            groups = [(region, [site.cities[c] for c in region.children if site.cities[c].state == state.slug])
                      for region in regions]
            loose = [site.cities[c] for c in state.children if not site.cities[c].parent]
            states.append((state, groups, _by_name(loose)))
        no_state = _by_name(t for t in site.cities.values() if not t.state)
        latest = site.newest_first()[: self.config.latest_count]
        professions = self._professions()
        size = self.config.hub_page_size
        crumbs = [(words["home"], "")]
        return {
            "title": self.config.title, "description": self.config.description, "breadcrumbs": [],
            "states": states, "cities_without_state": no_state,
            "professions": professions[:size], "more_professions": len(professions) > size,
            "letters": self._letters(page, professions, lambda t: t.name, professions_url(self.config), force=True)
            if len(professions) > size else [],
            "latest": [self._card(i) for i in latest],
            "jsonld": [structured_data.website(site), structured_data.breadcrumbs(site, crumbs)],
            "city_count": len(site.cities), "profession_count": len(site.professions),
            "article_count": len(site.articles),
        }

    def _ctx_professions(self, page: Page) -> dict[str, Any]:
        words = self.config.words
        professions = self._professions()
        url = professions_url(self.config)
        rows, pager = self._paginate(professions, page, url)
        title = words["professions_az"]
        crumbs = [(words["home"], ""), (words["all_professions"], url)]
        return {"title": title, "description": f"{title}: {_count(self.config, len(professions), 'profession_count')}.",
                "rows": rows, "pager": pager, "breadcrumbs": crumbs,
                "letters": self._letters(page, professions, lambda t: t.name, url),
                "groups": self._groups(page, professions, rows, lambda t: t.name),
                "jsonld": [structured_data.breadcrumbs(self.site, crumbs),
                           structured_data.item_list(self.site, [(t.name, t.url) for t in rows])]}

    def _ctx_article(self, page: Page) -> dict[str, Any]:
        site, config, words = self.site, self.config, self.config.words
        index = int(page.ref)
        article = site.articles[index]
        url = site.article_urls[index]
        city = site.cities[article.city_slug]
        profession = site.professions[article.role_slug]
        stat = self._group_stat(article.role_slug, article.salary.group)
        comparison, rank, peers = self._comparison(index, stat)
        related = self._related(index)
        html = markup.resolve_source_links(self.body_html(article.body_key), self._source_link(page, article))
        crumbs = [(words["home"], ""), (city.name, city.url), (profession.name, url)]
        headings = [h for h in article.headings if h.level == 2]
        median = stat.median if stat and stat.count > 1 else None
        verdict = ""
        if median is not None:
            mid = article.salary.mid
            delta = _delta(mid, median)
            key = "comparison_equal" if delta == 0 else "comparison_above" if delta > 0 else "comparison_below"
            verdict = words[key].format(city=city.name, value=self._money(mid, stat.currency),
                                        percent=format_number(abs(delta), config.locale) + "\u00a0%",
                                        count=stat.count, median=self._money(median, stat.currency))
            verdict += " " + words["comparison_rank"].format(city=city.name, rank=rank, count=peers)
        return {
            "title": article.title, "description": article.summary, "article": article, "body": Markup(html),
            "city": city, "profession": profession, "stat": stat, "verdict": verdict,
            "comparison": comparison, "comparison_total": peers, "related": related,
            "related_total": len(city.articles),
            "toc": headings if len(headings) >= config.toc_min_headings else [],
            "chart": charts.levels_chart(article, config, median),
            "breadcrumbs": crumbs,
            "jsonld": [structured_data.occupation(site, index), structured_data.breadcrumbs(site, crumbs)],
            "feeds": [(words["feed_of"].format(name=city.name), feeds.term_feed(city)),
                      (words["feed_of"].format(name=profession.name), feeds.term_feed(profession))],
            "og_type": "article",
        }

    def _comparison(self, index: int, stat) -> tuple[list[PeerCard], int, int]:
        """Up to COMPARE_LIMIT cities of the article's profession (same currency and period), its rank.

        The article's own city is always shown; the others are chosen by nearness (same region,
        then same state, then the rest, each by name) and shown by salary, highest first.
        """
        site = self.site
        article = site.articles[index]
        group = (article.role_slug, article.salary.group)
        memo = self._memo.get(("peers", group))
        if memo is None:  # shared by the profession's pages
            peers = [i for i in site.professions[article.role_slug].articles
                     if site.articles[i].salary.group == article.salary.group]
            by_salary = sorted(peers, key=lambda i: (-site.articles[i].salary.mid, self._city_key(i)))
            memo = self._memo[("peers", group)] = (peers, by_salary, {i: n for n, i in enumerate(by_salary, 1)})
        peers, by_salary, rank_of = memo
        rank = rank_of[index]
        if len(peers) < 2:
            return [], rank, len(peers)
        region = _slug(article.region) if article.region else None
        state = _slug(article.state) if article.state else None
        candidates = self._memo.get(("nearest", group, region, state))
        if candidates is None:  # the same for each article of the group in this region and state
            near = self._memo.get(("near", group))
            if near is None:  # the profession's cities A–Z, each with its region's and state's slug,
                # and those of each region and of each state (A–Z too)
                entries = [(i, _slug(site.articles[i].region or ""), _slug(site.articles[i].state or ""))
                           for i in sorted(peers, key=self._city_key)]
                by_region: dict[str, list[tuple[int, str, str]]] = {}
                by_state: dict[str, list[tuple[int, str, str]]] = {}
                for entry in entries:
                    by_region.setdefault(entry[1], []).append(entry)
                    by_state.setdefault(entry[2], []).append(entry)
                near = self._memo[("near", group)] = (entries, by_region, by_state)
            entries, by_region, by_state = near
            in_region = by_region.get(region, ()) if region is not None else ()
            in_state = by_state.get(state, ()) if state is not None else ()
            # same region and state, same region, same state, then the rest; A–Z each. Taken
            # lazily: at most COMPARE_LIMIT (the article's own city among them, or not), so the
            # rest is seldom looked through (a page's region and state are nearly its own key:
            # this runs for almost every page)
            tiers = ((i for i, _, s in in_region if s == state),
                     (i for i, _, s in in_region if s != state),
                     (i for i, r, _ in in_state if r != region),
                     (i for i, r, s in entries if r != region and s != state))
            candidates = self._memo[("nearest", group, region, state)] = list(
                itertools.islice(itertools.chain(*tiers), COMPARE_LIMIT))
        # its own city, then the nearest others
        chosen = {index}
        for i in candidates:
            if len(chosen) >= COMPARE_LIMIT:
                break
            chosen.add(i)
        # by salary, highest first, each with its deviation from the group's median
        median = stat.median if stat else None
        rows = []
        for i in sorted(chosen, key=rank_of.__getitem__):
            row = self._memo.get(("row", i, i == index))
            if row is None:  # a city's row recurs on the pages of up to COMPARE_LIMIT others
                c = self._peer_card(i)
                delta = None if median is None else _delta(c.salary.mid, median)
                row = self._memo["row", i, i == index] = PeerCard(*c[:-2], i == index, delta)
            rows.append(row)
        return rows, rank, len(peers)

    def _related(self, index: int) -> list[dict[str, Any]]:
        """Up to RELATED_LIMIT other professions in the article's city, shown A–Z.

        Chosen by the number of tags shared with the article, then by nearness in A–Z order.
        """
        site = self.site
        article = site.articles[index]
        city = site.cities[article.city_slug]
        tagged = self._memo.get(("tags", city.slug))
        if tagged is None:
            tagged = {}
            for i in city.articles:
                for tag in site.articles[i].tags:
                    tagged.setdefault(tag.casefold(), []).append(i)
            self._memo[("tags", city.slug)] = tagged
        ordered = self._sorted_cards(city, peer=True)
        position_of = self._memo[("position", "city", city.slug)]  # A–Z place of each of the city's articles
        position, count = position_of[index], len(ordered)
        tags = frozenset(t.casefold() for t in article.tags)
        groups = self._memo.get(("shared", city.slug, tags))
        if groups is None:  # the same for every article of the city with these tags
            shared = Counter(itertools.chain.from_iterable(tagged.get(tag, ()) for tag in tags))
            by_count: dict[int, list[int]] = {}
            for i, n in shared.items():
                by_count.setdefault(n, []).append(position_of[i])
            groups = self._memo[("shared", city.slug, tags)] = (
                [sorted(by_count[n]) for n in sorted(by_count, reverse=True)], frozenset(shared))
        ranked, shared_any = groups
        # Most shared tags first (the article itself aside); ties go to the professions that
        # follow this one in A–Z order (wrapping around), so that a tag every article shares
        # does not send every page to the same first few professions; then, if too few share
        # a tag, the following ones.
        best: list[int] = []  # A–Z positions
        for positions in ranked:
            start = bisect.bisect_right(positions, position)
            for step in range(len(positions)):
                if len(best) >= RELATED_LIMIT:
                    break
                at = positions[(start + step) % len(positions)]
                if at != position:
                    best.append(at)
        for step in range(1, count):
            if len(best) >= RELATED_LIMIT:
                break
            at = (position + step) % count
            if ordered[at].index not in shared_any:
                best.append(at)
        return [ordered[n] for n in sorted(best)]

    def _term_page(self, page: Page, term: Term, rows: list, name_of: Callable[[Any], str]) -> dict[str, Any]:
        words = self.config.words
        shown, pager = self._paginate(rows, page, term.url)
        crumbs = [(words["home"], "")]
        state_slug = term.state if term.kind == "city" else term.parent if term.kind == "region" else None
        if state_slug and state_slug in self.site.states:
            crumbs.append((self.site.states[state_slug].name, self.site.states[state_slug].url))
        crumbs.append((term.name, term.url))
        items = [(r["title"], r["url"]) if isinstance(r, dict) else (r.name, r.url) for r in shown]
        return {"term": term, "rows": shown, "pager": pager, "stats": self.site.stats(term),
                "breadcrumbs": crumbs,
                "letters": self._letters(page, rows, name_of, term.url),
                "groups": self._groups(page, rows, shown, name_of),
                "jsonld": [structured_data.breadcrumbs(self.site, crumbs), structured_data.item_list(self.site, items)],
                "feeds": [(words["feed_of"].format(name=term.name), feeds.term_feed(term))]
                if term.kind in ("city", "profession") else []}

    def _ctx_city(self, page: Page) -> dict[str, Any]:
        words = self.config.words
        term = self.site.cities[page.ref]
        rows = self._sorted_cards(term)
        ctx = self._term_page(page, term, rows, lambda c: c["role"])
        ctx["title"] = words["city_title"].format(city=term.name)
        ctx["description"] = _describe(self.config, term, ctx["stats"],
                                       _count(self.config, len(rows), "profession_count"))
        ctx["region"] = self.site.regions.get(term.parent) if term.parent else None
        ctx["state"] = self.site.states.get(term.state) if term.state else None
        return ctx

    def _ctx_profession(self, page: Page) -> dict[str, Any]:
        words = self.config.words
        term = self.site.professions[page.ref]
        rows = self._sorted_cards(term)
        ctx = self._term_page(page, term, rows, lambda c: c["city"])
        stat = ctx["stats"][0] if ctx["stats"] else None
        def with_delta(row: dict[str, Any]) -> dict[str, Any]:
            same = stat is not None and row["salary"].group == (stat.currency, stat.period)
            return {**row, "delta": _delta(row["salary"].mid, stat.median) if same else None}

        ctx["rows"] = [with_delta(r) for r in ctx["rows"]]
        ctx["groups"] = [(letter, anchor, [with_delta(r) for r in rows]) for letter, anchor, rows in ctx["groups"]]
        ctx["title"] = words["profession_title"].format(role=term.name)
        ctx["description"] = _describe(self.config, term, ctx["stats"],
                                       _count(self.config, len(rows), "city_count"))
        charted = [(r["city"], r["salary"]) for r in ctx["rows"] if stat and r["delta"] is not None]
        median = stat.median if stat and stat.count > 1 else None
        ctx["chart"] = charts.comparison_chart("chart-cities", words["chart_title"].format(name=term.name),
                                               charted, self.config, median)
        ctx["chart_has_levels"] = any(s.levels for _, s in charted)
        mids = [r["salary"].mid for r in rows if stat and r["salary"].group == (stat.currency, stat.period)]
        ctx["mid_spread"] = (min(mids), max(mids)) if len(mids) > 1 else None
        return ctx

    def _group_page(self, page: Page, term: Term) -> dict[str, Any]:
        site, words = self.site, self.config.words
        cities = _by_name(site.cities[c] for c in term.children)
        ctx = self._term_page(page, term, cities, lambda t: t.name)
        ctx["title"] = words["group_title"].format(name=term.name)
        ctx["description"] = _describe(self.config, term, ctx["stats"],
                                       _count(self.config, len(term.children), "city_count"))
        ctx["city_stats"] = {t.slug: (site.stats(t)[0] if site.stats(t) else None) for t in ctx["rows"]}
        ctx["state"] = site.states.get(term.parent) if term.kind == "region" and term.parent else None
        regions = {site.cities[c].parent for c in term.children if site.cities[c].parent}
        ctx["regions"] = _by_name(site.regions[r] for r in regions) if term.kind == "state" else []
        return ctx

    def _ctx_region(self, page: Page) -> dict[str, Any]:
        return self._group_page(page, self.site.regions[page.ref])

    def _ctx_state(self, page: Page) -> dict[str, Any]:
        return self._group_page(page, self.site.states[page.ref])

    # --- helpers -----------------------------------------------------------------------

    def _card(self, index: int) -> dict[str, Any]:
        a = self.site.articles[index]
        return {"index": index, "title": a.title, "summary": a.summary, "date": a.date, "modified": a.modified,
                **self._peer_card(index)._asdict()}

    def _peer_card(self, index: int) -> PeerCard:
        """The part of a card that article pages may show of *other* articles (see Article.peer),
        with its salary as the tables show it (formatted here once, not by filters in every row)."""
        key = ("peer", index)
        card = self._memo.get(key)
        if card is None:
            a, locale = self.site.articles[index], self.config.locale
            s = a.salary
            card = self._memo[key] = PeerCard(
                index, self.site.professions[a.role_slug].name, self.site.cities[a.city_slug].name,
                self.site.article_urls[index], s, a.draft, self.site.professions[a.role_slug].url,
                format_range(s.min, s.max, s.currency, locale), format_money(s.mid, s.currency, locale),
                tuple((lv.label, format_range(lv.min, lv.max, s.currency, locale)) for lv in s.levels), False, None)
        return card

    def _group_stat(self, role_slug: str, group: tuple[str, str]):
        """The statistics of a profession's salaries in one currency and period, or None."""
        key = ("stat", role_slug, group)
        if key not in self._memo:
            self._memo[key] = next((s for s in self.site.stats(self.site.professions[role_slug])
                                    if (s.currency, s.period) == group), None)
        return self._memo[key]

    def _sorted_cards(self, term: Term, peer: bool = False) -> list[dict[str, Any]]:
        """A city's articles by profession, a profession's by city (A–Z), memoised per term.

        ``peer``: the rows hold only the fields of :meth:`_peer_card` (for article pages).
        """
        key = ("cards", term.kind, term.slug, peer)
        if key not in self._memo:
            order = self._role_key if term.kind == "city" else self._city_key
            make = self._peer_card if peer else self._card
            ordered = sorted(term.articles, key=order)
            cards = [make(i) for i in ordered]
            self._memo[key] = cards
            self._memo[("position", term.kind, term.slug)] = {i: n for n, i in enumerate(ordered)}
        return self._memo[key]  # shared: pages that add fields copy the rows they show

    def _professions(self) -> list[Term]:
        if "professions" not in self._memo:
            self._memo["professions"] = sorted(self.site.professions.values(), key=lambda t: _sort_key(t.name))
        return self._memo["professions"]

    def _role_key(self, index: int) -> tuple:
        return _sort_key(self.site.professions[self.site.articles[index].role_slug].name)

    def _city_key(self, index: int) -> tuple:
        return _sort_key(self.site.cities[self.site.articles[index].city_slug].name)

    def _money(self, amount: Decimal, currency: str) -> str:
        return format_money(amount, currency, self.config.locale)

    def _paginate(self, rows: list, page: Page, base_url: str) -> tuple[list, dict[str, Any] | None]:
        size = self.config.hub_page_size
        count = page_count(len(rows), size)
        shown = rows[(page.number - 1) * size: page.number * size]
        if count == 1:
            return shown, None
        return shown, {"number": page.number, "count": count,
                       "pages": [(n, paginated(base_url, n)) for n in range(1, count + 1)]}

    def _letters(self, page: Page, rows: list, name_of: Callable[[Any], str], base_url: str,
                 force: bool = False) -> list[tuple[str, str | None]]:
        """The A–Z navigation of a hub: (letter, link or None) for A–Z, links to the letter's first entry.

        Empty for hubs with at most AZ_MIN entries (unless ``force``).
        """
        if len(rows) <= AZ_MIN and not force:
            return []
        size = self.config.hub_page_size
        first: dict[str, int] = {}
        for n, row in enumerate(rows):
            first.setdefault(letter_of(name_of(row)), n)
        out = []
        for letter in (["#"] if "#" in first else []) + [chr(c) for c in range(ord("A"), ord("Z") + 1)]:
            if letter not in first:
                out.append((letter, None))
                continue
            number = first[letter] // size + 1
            anchor = "#" + letter_id(letter)
            same_page = page.kind not in ("index",) and number == page.number
            out.append((letter, anchor if same_page else paginated(base_url, number) + anchor))
        return out

    def _groups(self, page: Page, rows: list, shown: list,
                name_of: Callable[[Any], str]) -> list[tuple[str | None, str | None, list]]:
        """The shown rows in letter groups: (letter, anchor id or None, rows).

        One group without a letter when the hub has no letter navigation. The anchor is set on
        the group that holds the first entry of its letter in the whole hub.
        """
        if len(rows) <= AZ_MIN:
            return [(None, None, shown)]
        size = self.config.hub_page_size
        before = rows[(page.number - 1) * size - 1] if page.number > 1 else None
        groups: list[tuple[str | None, str | None, list]] = []
        previous = letter_of(name_of(before)) if before is not None else None
        for row in shown:
            letter = letter_of(name_of(row))
            if not groups or groups[-1][0] != letter:
                groups.append((letter, letter_id(letter) if letter != previous else None, []))
            previous = letter
            groups[-1][2].append(row)
        return groups

    def _source_link(self, page: Page, article) -> Callable[[str], str]:
        site = self.site

        def resolve(target: str) -> str:  # ``target`` as it stands in the HTML (escaped)
            _, _, fragment = target.partition("#")
            index = source_index(site, article, htmllib.unescape(target))
            if index is None:
                return target  # reported by ``check``; keep the author's link
            url = relative_url(page.relpath, site.article_urls[index])
            return url + ("#" + fragment if fragment else "")
        return resolve


def source_index(site: Site, article, target: str) -> int | None:
    """The article that a link to a source file (``../essen/koch.md#aufgaben``) in ``article``
    points to, or None."""
    return site.by_source.get(linked_source(article.source, target.partition("#")[0]))


_slug = functools.lru_cache(maxsize=4096)(slugify)  # region and state names repeat on every article


@functools.lru_cache(maxsize=65536)
def _sort_key(text: str) -> tuple:
    """German A–Z order: umlauts sort with their base letter (Ärztin with A), case-insensitive."""
    base = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return (base, text)


def _by_name(terms) -> list[Term]:
    return sorted(terms, key=lambda t: _sort_key(t.name))


def letter_of(name: str) -> str:
    """The A–Z group of a name ("Ärztin" -> "A"); "#" for names that do not start with a letter."""
    first = _sort_key(name)[0][:1].upper()
    return first if "A" <= first <= "Z" else "#"


def letter_id(letter: str) -> str:
    return "az_" + ("0" if letter == "#" else letter.lower())


def _delta(value: Decimal, median: Decimal) -> Decimal:
    """``value`` against ``median`` in whole percent."""
    return ((value - median) / median * 100).quantize(Decimal(1)) if median else Decimal(0)


def _describe(config: Config, term: Term, stats: list, count: str) -> str:
    """A hub's meta description: what it lists and its salary range, e.g. for a city page
    "Bochum: 4 Berufe, Gehälter 2.650–4.300 € brutto im Monat (Median 3.475 €)."."""
    words = config.words
    if not stats:
        return f"{term.name}: {count}."
    s = stats[0]
    per = {"month": words["per_month"], "year": words["per_year"], "hour": words["per_hour"]}[s.period]
    return words["hub_description"].format(
        name=term.name, count=count, range=format_range(s.lowest, s.highest, s.currency, config.locale),
        period=per, median=format_money(s.median, s.currency, config.locale))


def _count(config: Config, n: int, key: str) -> str:
    """The count in words ("1 Stadt", "3 Städte"): the word ``key``, or ``key_one`` for one."""
    words = config.words
    return words[f"{key}_one" if n == 1 and f"{key}_one" in words else key].format(count=n)


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates in the build cache (compiling them costs ~0.1 s per build).

    Jinja checks each entry against a hash of the template's source, but not the compiled
    code it then loads: a damaged byte in a string constant would be printed on every page.
    So each file is sealed (Jinja's own format, see sealed.py); an entry that does not
    match is compiled anew.
    """

    def get_source_checksum(self, source: str) -> str:
        # Jinja's checksum covers the template's source only, not the Jinja or the code (ours:
        # codegen.py, _Template) that compiled it: code compiled by another would be loaded
        from .cache import code_version  # (careersite's own source files, hashed once)
        return super().get_source_checksum(f"{jinja2.__version__}|{code_version()}|{source}")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = read_sealed(self._get_cache_filename(bucket))
        except OSError:  # none yet
            return
        except ValueError:
            bucket.reset()
            return
        try:
            bucket.bytecode_from_string(data)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            write_sealed(self._get_cache_filename(bucket), bucket.bytecode_to_string())
        except OSError:
            pass  # a read-only cache folder: compile again next time


_DICT_ATTRIBUTES = frozenset(dir(dict))
_TUPLE_GETITEM = tuple.__getitem__
_escape_inner = getattr(markupsafe, "_escape_inner", None)  # MarkupSafe 3: escape() is Python around it


def _escape(value: Any, _markup=Markup, _str=str) -> str:
    """``markupsafe.escape`` for a compiled template's ``{{ … }}``, quicker for the two types
    templates print most.

    Jinja's code calls it only where a value is printed: its result is joined into the page
    (or into the buffer of a macro or ``{% set %}`` block, which Jinja makes Markup as a whole),
    so an escaped text need not be a Markup: the same bytes without a Markup made per value.
    """
    kind = type(value)
    if kind is _str:
        return _escape_inner(value)
    if kind is _markup:
        return value
    return markupsafe.escape(value)


_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
# json.dumps(value, sort_keys=True), Jinja's own setting for tojson, without making a
# JSONEncoder and its C encoder on every call (~4 µs each, two calls per page: 20% of their
# time). No circular-reference check: a cycle ends in a RecursionError instead of a ValueError.
_json_sorted = _c_make_encoder and _c_make_encoder(
    None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ", True, False, True)


def _tojson_filter(env: jinja2.Environment) -> Callable:
    """Jinja's ``tojson`` filter with a quicker path for its default settings (same output)."""
    stock = env.filters["tojson"]
    policies = env.policies

    @jinja2.pass_eval_context
    def tojson(eval_ctx, value: Any, indent: int | None = None) -> Markup:
        if (indent is not None or _json_sorted is None or policies["json.dumps_function"] is not None
                or policies["json.dumps_kwargs"] != {"sort_keys": True}):
            return stock(eval_ctx, value, indent)
        return Markup("".join(_json_sorted(value, 0)).replace("<", "\\u003c").replace(">", "\\u003e")
                      .replace("&", "\\u0026").replace("'", "\\u0027"))  # as jinja2.utils.htmlsafe_json_dumps
    return tojson


class _Template(jinja2.Template):
    """Templates whose ``{{ … }}`` escape with :func:`_escape` (~170 values per article page)."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):  # type: ignore[override]
        if _escape_inner is not None and namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = _escape  # the name the compiled template's code looks up
        return super()._from_namespace(environment, namespace, globals)


class _Environment(jinja2.Environment):
    """Jinja2's environment with a quicker ``x.name`` (~180 per article page) and ``x[name]``.

    Jinja tries ``getattr(x, "name")`` first and ``x["name"]`` after it fails; for a dict the
    first try raises and catches an AttributeError every time. A plain dict has no attributes
    but those of its type, so for any other name the item lookup is what Jinja ends with
    anyway: the same result, without the exception. Anything else (the named tuples) takes
    Jinja's own steps here, without the extra method call.

    Templates compile with careersite/codegen.py: their functions return lists instead of
    yielding every piece of text (same text, 13–18% less time a page).
    """

    def _generate(self, source, name, filename, defer_init=False):  # type: ignore[override]
        return codegen.generate(self, source, name, filename, defer_init)  # (Jinja's hook for this)

    def make_globals(self, d: dict[str, Any] | None) -> dict[str, Any]:
        """A template's globals as one plain dict, not Jinja's ChainMap over the environment's:
        each page's context copies them (``dict(globals, **vars)``, ``set(globals)``), which a
        ChainMap makes Python-level iteration and lookups, ~5% of rendering a page. The same
        names and values: the environment's globals are complete before any template loads
        (make_environment), as Jinja asks ("avoid modifying any globals after a template is loaded")."""
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            if attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)
        # Jinja's own steps (Environment.getattr), without a second method call per card field
        try:
            return getattr(obj, attribute)  # the builtin: a method's name is not a global
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        # ``row[first_col]`` on a named tuple: Jinja's lookup by item always fails there (a
        # TypeError) before it tries the attribute, as this does directly
        if type(argument) is str and isinstance(obj, tuple) and type(obj).__getitem__ is _TUPLE_GETITEM:
            try:
                return getattr(obj, argument)
            except AttributeError:
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)


class _Context(jinja2.runtime.Context):
    """Jinja2's context with a quicker ``{{ f(x) }}`` for plain functions (``link`` and ``asset``:
    ~30 calls per article page).

    For a function not marked with ``@pass_context`` and the like, Jinja's ``Context.call``
    asks twice whether it wants an argument passed (attribute lookups that fail) and then calls
    it; this does the same without asking where the function's ``__dict__`` says no.
    """

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        if type(__obj) is types.FunctionType and "jinja_pass_arg" not in __obj.__dict__:
            if kwargs:
                kwargs.pop("_loop_vars", None)
                kwargs.pop("_block_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)


_Environment.template_class = _Template
_Environment.context_class = _Context


@jinja2.pass_context
def _link_filter(context: jinja2.runtime.Context, target: str) -> str:
    """``{{ url|link }}``: the page's ``link(url)``, its URL relative to the page. The same
    function, called as a filter: ~0.5 µs less than a call from a template (which Jinja routes
    through the context, and inside a loop looks ``link`` up again on every pass), ~30 a page.
    Where no ``link`` is in sight (a macro imported without context), Jinja's undefined, as
    ``link(url)`` gives there."""
    variables = context.vars
    link = variables["link"] if "link" in variables else context.parent.get("link", jinja2.runtime.missing)
    if link is jinja2.runtime.missing:
        return context.environment.undefined(name="link")
    return link(target)


def _long_date(date: dt.date, locale: str) -> str:
    """"23. November 2026" (babel.dates is imported here: ~6 ms that a build without dates to show saves)."""
    from babel.dates import format_date
    return format_date(date, format="long", locale=locale)


def make_environment(config: Config) -> jinja2.Environment:
    """The Jinja2 environment: autoescaping, StrictUndefined, and the German formatting filters."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(config.templates_dir)),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, auto_reload=False,
        # a plain dict, not Jinja's LRU cache with its lock: {% extends %} and {% include %}
        # look their template up on every page (a build loads each template once anyway)
        cache_size=-1,
        bytecode_cache=_BytecodeCache(str(config.cache_dir / "templates")),
    )
    locale = config.locale
    words = config.words
    per = {"month": words["per_month"], "year": words["per_year"], "hour": words["per_hour"]}
    env.filters["tojson"] = _tojson_filter(env)
    env.filters["link"] = _link_filter
    env.filters.update(
        money=lambda amount, currency=config.currency: format_money(Decimal(amount), currency, locale),
        money_range=lambda s: format_range(s.min, s.max, s.currency, locale),
        range=lambda low, high, currency: format_range(Decimal(low), Decimal(high), currency, locale),
        number=lambda n: format_number(Decimal(n), locale),
        longdate=functools.lru_cache(maxsize=4096)(
            lambda d: _long_date(d, locale) if d else ""),
        isodate=lambda d: d.isoformat() if d else "",
        per=lambda period: per[period],
        word=lambda key, **kw: words[key].format(**kw),
        # "{count} Städte" with "city_count", "1 Stadt" with "city_count_one"
        count=lambda n, key: _count(config, n, key),
        # by value (a row's deviation recurs on up to 10 pages; -0 and 0 print alike)
        percent=functools.lru_cache(maxsize=4096)(
            lambda d: ("+" if d > 0 else "\u2212" if d < 0 else "\u00b1") + format_number(abs(Decimal(d)), locale)
            + "\u00a0%"),
    )
    return env
