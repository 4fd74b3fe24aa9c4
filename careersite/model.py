"""The site model: cities, professions, regions and states, their URLs, and change digests.

``build_site(articles, config)`` is pure: it groups validated articles into terms,
assigns every page its output path, reports collisions (two sources, one URL) and
computes the digests the incremental build uses to decide which pages to re-render.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .config import Config
from .content import Article
from .errors import Problem
from .salary import Stats, statistics
from .urls import expand, slugify

_MIN_DATE = dt.date.min

#: Output paths below these prefixes belong to careersite itself.
RESERVED = ("static/", "pagefind/", "feeds/", "404.html", "sitemap", "robots.txt", "feed.xml", "index.html")


class LazyArticles(Sequence):
    """A site's articles, each fetched when first asked for: ``get(source)`` (cache.Reads.article).

    A rebuild after a few edits renders a handful of pages, which look at a few hundred
    articles (the edited ones' peers); the model it updates came from the state without them.
    A build that renders many pages makes a tuple of them all first (see :meth:`materialize`).
    """

    __slots__ = ("sources", "_get", "_bulk", "_items")

    def __init__(self, sources: list[str], get: Callable[[str], Article | None],
                 bulk: Callable[[list[str]], list[Article | None]], items: list[Article | None] | None = None):
        self.sources = sources
        self._get = get  # one article by its source
        self._bulk = bulk  # the articles of many sources (cache.Reads.articles)
        self._items = [None] * len(sources) if items is None else items

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.materialize()[index]
        item = self._items[index]
        if item is None:
            item = self._items[index] = self._get(self.sources[index])
        return item

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self) -> Iterator[Article]:
        return iter(self.materialize())

    def materialize(self) -> tuple[Article, ...]:
        items, sources = self._items, self.sources
        missing = [index for index, item in enumerate(items) if item is None]
        for index, article in zip(missing, self._bulk([sources[i] for i in missing]), strict=True):
            items[index] = article
        return tuple(items)  # type: ignore[arg-type]

    def replaced(self, changes: dict[int, Article]) -> LazyArticles:
        items = list(self._items)
        for index, article in changes.items():
            items[index] = article
        return LazyArticles(self.sources, self._get, self._bulk, items)


def article_sources(articles: Sequence[Article]) -> list[str]:
    """The sources of ``articles`` in order, without fetching lazy ones."""
    if isinstance(articles, LazyArticles):
        return list(articles.sources)
    return [a.source for a in articles]


def materialized(site: Site) -> Site:
    """``site`` with its articles in a tuple (for a build that renders many pages)."""
    if isinstance(site.articles, LazyArticles):
        return dataclasses.replace(site, articles=site.articles.materialize())
    return site


@dataclass(frozen=True, slots=True)
class Term:
    """A city, profession, region or state with the articles (indexes into Site.articles) it holds."""

    kind: str  # "city" | "profession" | "region" | "state"
    name: str
    slug: str
    url: str  # site-relative, e.g. "bochum/"
    articles: tuple[int, ...]
    parent: str | None = None  # a city's region slug, a region's state slug
    state: str | None = None  # a city's state slug
    children: tuple[str, ...] = ()  # a state's or region's city slugs
    digest: str = ""  # of everything its hub pages show (the cards of its articles)
    peer_digest: str = ""  # of what its articles' pages show of each other (see Article.peer)
    region_name: str | None = None  # a city's region, as written
    state_name: str | None = None  # a city's (or region's) state, as written


@dataclass(frozen=True)
class Site:
    """Everything the renderer needs. Articles are sorted by (city slug, role slug)."""

    config: Config
    articles: Sequence[Article]  # a tuple, or LazyArticles in a rebuild that updated the last model
    article_urls: tuple[str, ...]
    article_digests: tuple[str, ...]
    cities: dict[str, Term]
    professions: dict[str, Term]
    regions: dict[str, Term]
    states: dict[str, Term]
    by_source: dict[str, int]
    digest: str  # changes whenever any card (what lists show of an article) changes
    sitemap_digest: str  # of what the sitemap shows: every article's URL, last change and draft flag
    warnings: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # stats and orders, computed once

    def newest_key(self, index: int) -> tuple:
        """Sort key of an article: last change, newest first; ties by URL."""
        return (-(self.articles[index].modified or _MIN_DATE).toordinal(), self.article_urls[index])

    def newest_first(self) -> list[int]:
        """Every article index by :meth:`newest_key`, memoised: the start page and the site-wide
        feed take their first entries."""
        key = ("newest_first",)
        if key not in self.memo:
            self.memo[key] = sorted(range(len(self.articles)), key=self.newest_key)
        return self.memo[key]

    def stats(self, term: Term) -> list[Stats]:
        """Salary statistics of a term's articles (memoised)."""
        key = (term.kind, term.slug)
        if key not in self.memo:
            self.memo[key] = statistics(self.articles[i].salary for i in term.articles)
        return self.memo[key]


def _display(path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _article_digest(article: Article, url: str) -> str:
    return article.content_hash + article.card_hash + url


def _digests(articles, urls) -> tuple[list[str], list[str]]:
    """Per article: what lists show of it (card) and what its peers' pages show (peer), with its URL."""
    return ([a.card_hash + u for a, u in zip(articles, urls, strict=True)],
            [a.peer_hash + u for a, u in zip(articles, urls, strict=True)])


def _term_digests(term: Term, cards: list[str], peers: list[str]) -> tuple[str, str]:
    """(digest, peer_digest) of a city or profession."""
    head = (term.name, term.region_name, term.state_name) if term.kind == "city" else (term.name,)
    return (_hash(*head, [cards[i] for i in term.articles]), _hash(*head, [peers[i] for i in term.articles]))


def _sitemap_digest(articles, urls, terms: list[dict[str, Term]]) -> str:
    """The sitemap lists hubs (with pages from the number of their entries; dates from their
    articles) and articles, with dates."""
    return _hash(urls, [str(a.modified) for a in articles], [a.draft for a in articles],
                 [(t.url, t.articles, t.children) for group in terms for t in group.values()])


def _group_digest(name: str, parent: str | None, cities: list[Term]) -> str:
    return _hash(name, parent, [c.digest for c in cities])


def update_articles(site: Site, changes: dict[int, Article]
                    ) -> tuple[Site, set[tuple[str, str]], set[tuple[str, str]], bool] | None:
    """``site`` with ``site.articles[i]`` replaced by ``changes[i]``: what :func:`build_site` would
    give, computed from the old site when every new article has the same source, slugs and
    names (role, city, region and state as written) as the one it replaces, so that no term,
    URL, name, warning or problem changes; only digests. None when that does not hold.

    Also returns the (kind, slug) of the terms whose digests changed, of the cities and
    professions whose peer digests changed, and whether the site digest did.
    """
    digests = list(site.article_digests)
    cards_changed = False
    touched: set[tuple[str, str]] = set()
    peers_touched: set[tuple[str, str]] = set()
    for index, new in changes.items():
        old = site.articles[index]
        if (new.source, new.city_slug, new.role_slug, new.role, new.city, new.region, new.state, new.draft) != (
                old.source, old.city_slug, old.role_slug, old.role, old.city, old.region, old.state, old.draft):
            return None  # (drafts: the sitemap's size, and so its files, may change)
        if (new.card_hash, new.peer_hash) != (old.card_hash, old.peer_hash):
            cards_changed = True
            touched.update({("city", new.city_slug), ("profession", new.role_slug)})
            if new.peer_hash != old.peer_hash:
                peers_touched.update({("city", new.city_slug), ("profession", new.role_slug)})
        digests[index] = _article_digest(new, site.article_urls[index])
    if isinstance(site.articles, LazyArticles):
        articles: Sequence[Article] = site.articles.replaced(changes)
    else:
        articles = tuple(changes.get(i, a) for i, a in enumerate(site.articles))
    if not cards_changed:
        return (dataclasses.replace(site, articles=articles, article_digests=tuple(digests)),
                set(), set(), False)
    cards, peers = _digests(articles, site.article_urls)
    sitemap_digest = site.sitemap_digest  # the same inputs unless a date changed (drafts and terms do not)
    if any(new.modified != site.articles[i].modified for i, new in changes.items()):
        sitemap_digest = _sitemap_digest(articles, site.article_urls,
                                         [site.cities, site.professions, site.regions, site.states])
    cities, professions = dict(site.cities), dict(site.professions)
    for kind, slug in touched:
        terms = cities if kind == "city" else professions
        digest, peer_digest = _term_digests(terms[slug], cards, peers)
        terms[slug] = dataclasses.replace(terms[slug], digest=digest, peer_digest=peer_digest)
    groups = {"region": dict(site.regions), "state": dict(site.states)}
    for kind, terms in groups.items():
        for slug, term in terms.items():
            if any(("city", c) in touched for c in term.children):
                terms[slug] = dataclasses.replace(
                    term, digest=_group_digest(term.name, term.parent, [cities[c] for c in term.children]))
                touched.add((kind, slug))
    site = dataclasses.replace(site, articles=articles, article_digests=tuple(digests), cities=cities,
                               professions=professions, regions=groups["region"], states=groups["state"],
                               digest=_hash(cards), sitemap_digest=sitemap_digest,
                               memo={})
    return site, touched, peers_touched, True


def build_site(articles: Iterable[Article], config: Config, shown=lambda source: source) -> Site:
    """Group ``articles`` into a :class:`Site`; collisions and conflicts become problems.

    ``shown(source)`` turns a content-relative path into the path printed in messages.
    """
    ordered = sorted(articles, key=lambda a: (a.city_slug, a.role_slug, a.source))
    problems: list[Problem] = []
    warnings: list[Problem] = []

    # Two sources for one article URL: report all files, keep the first so the rest can be checked.
    seen: dict[tuple[str, str], list[Article]] = {}
    for article in ordered:
        seen.setdefault((article.city_slug, article.role_slug), []).append(article)
    kept: list[Article] = []
    for group in seen.values():
        kept.append(group[0])
        if len(group) > 1:
            # name the files as the author opens them (like the problem's own path), not relative to content/
            names = ", ".join(_display(config.content_dir / a.source) for a in group)
            for a in group[1:]:
                problems.append(Problem(shown(a.source), 2, 1,
                                        f"'{a.role}' in '{a.city}' has more than one article: {names}",
                                        "role and city together must be unique (case, umlauts and "
                                        "ae/oe/ue spellings count as the same); merge or rename one"))
    ordered = kept
    urls = config.urls
    article_urls = tuple(expand(urls["article"], city=a.city_slug, role=a.role_slug) for a in ordered)
    # digests combine hashes computed once when each article was read (cheap at 100,000 articles)
    card_digests, peer_digests = _digests(ordered, article_urls)
    article_digests = tuple(_article_digest(a, u) for a, u in zip(ordered, article_urls, strict=True))

    city_members: dict[str, list[int]] = {}
    prof_members: dict[str, list[int]] = {}
    for i, a in enumerate(ordered):
        city_members.setdefault(a.city_slug, []).append(i)
        prof_members.setdefault(a.role_slug, []).append(i)

    def pick(values: list[str | None], what: str, slug: str, members: list[int]) -> str | None:
        """The most common spelling (ties: alphabetical); a warning names a file with another one."""
        counts = Counter(v for v in values if v)
        if not counts:
            return None
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(best) > 1:
            odd = next(i for i, v in zip(members, values, strict=True) if v == best[1][0])
            warnings.append(Problem(shown(ordered[odd].source), 2, 1,
                                    f"{what} of '{slug}' is written differently: "
                                    + ", ".join(f"'{v}' ({n}×)" for v, n in best) + f"; using '{best[0][0]}'",
                                    f"write the same {what.removeprefix('the ')} in every article of '{slug}'",
                                    "warning"))
        return best[0][0]

    cities: dict[str, Term] = {}
    regions_of: dict[str, list[str]] = {}
    states_of: dict[str, list[str]] = {}
    region_state: dict[str, list[str]] = {}
    for slug, members in city_members.items():
        arts = [ordered[i] for i in members]
        name = pick([a.city for a in arts], "the city name", slug, members) or slug
        region = pick([a.region for a in arts], "the region", name, members)
        state = pick([a.state for a in arts], "the state", name, members)
        region_slug = slugify(region) if region else None
        state_slug = slugify(state) if state else None
        if region_slug:
            regions_of.setdefault(region_slug, []).append(slug)
            region_state.setdefault(region_slug, []).append(state or "")
        if state_slug:
            states_of.setdefault(state_slug, []).append(slug)
        city = Term("city", name, slug, expand(urls["city"], city=slug), tuple(members),
                    parent=region_slug, state=state_slug, region_name=region, state_name=state)
        digest, peer_digest = _term_digests(city, card_digests, peer_digests)
        cities[slug] = dataclasses.replace(city, digest=digest, peer_digest=peer_digest)

    professions: dict[str, Term] = {}
    for slug, members in prof_members.items():
        name = pick([ordered[i].role for i in members], "the profession name", slug, members) or slug
        profession = Term("profession", name, slug, expand(urls["profession"], role=slug), tuple(members))
        digest, peer_digest = _term_digests(profession, card_digests, peer_digests)
        professions[slug] = dataclasses.replace(profession, digest=digest, peer_digest=peer_digest)

    region_names = {slugify(t.region_name): t.region_name for t in cities.values() if t.region_name}
    state_names = {slugify(t.state_name): t.state_name for t in cities.values() if t.state_name}

    def group(kind: str, members_of: dict[str, list[str]], names: dict[str, str]) -> dict[str, Term]:
        out = {}
        for slug, city_slugs in sorted(members_of.items()):
            city_slugs = sorted(city_slugs)
            arts = tuple(sorted(i for c in city_slugs for i in cities[c].articles))
            parent = None
            if kind == "region":
                states = [s for s in region_state[slug] if s]
                parent = slugify(Counter(states).most_common(1)[0][0]) if states else None
            digest = _group_digest(names[slug], parent, [cities[c] for c in city_slugs])
            out[slug] = Term(kind, names[slug], slug, expand(urls[kind], **{kind: slug}), arts, parent=parent,
                             children=tuple(city_slugs), digest=digest,
                             state_name=state_names.get(parent) if parent else None)
        return out

    regions = group("region", regions_of, region_names)
    states = group("state", states_of, state_names)

    by_source = {a.source: i for i, a in enumerate(ordered)}
    site = Site(config, tuple(ordered), article_urls, article_digests, cities, professions, regions, states,
                by_source, digest=_hash(card_digests),
                sitemap_digest=_sitemap_digest(ordered, article_urls, [cities, professions, regions, states]),
                warnings=tuple(warnings), problems=tuple(problems))
    return site
