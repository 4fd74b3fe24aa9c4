"""``python build.py check``: every problem a build would find, and broken links, without writing output/.

It runs the build's own stages up to rendering (reading with the build cache, the site
model, the page plan, the template compilation), renders one page of each kind in
memory to catch template errors that only show when a template runs, and checks the
links of every Markdown body:

* ``../essen/baecker.md`` (an article by its source file, relative to the linking file),
* ``/essen/baecker/`` or ``../../essen/baecker/`` (a page by its URL), and
* ``#aufgaben`` or ``…#aufgaben`` (a heading of the target article, or an id on its page)

must resolve; links to other sites are not fetched. A link that only works because
drafts are shown (``--drafts``) counts as broken.
"""

from __future__ import annotations

import html as htmllib
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .cache import CacheDamaged, MarkupStore, State, load_state
from .config import Config
from .content import Article, discover, linked_source
from .early import cache_folder
from .errors import BuildFailed, Problem, did_you_mean
from .extras import search
from .markup import SAFE_SCHEMES
from .model import Site
from .pipeline import BuildOptions, analyse, drop_damaged, render_problem, shown
from .render import Page, Renderer, page_url
from .urls import expand, url_to_file

_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""")


def check(config: Config, jobs: int = 0) -> tuple[list[Problem], list[Problem]]:
    """``(errors, warnings)`` for the site of ``config``; nothing is written to output/.

    The Markdown cache and the last build's parse results are reused (and the cache is
    updated), so a check after a build only reads the files that changed.
    """
    cache_folder(config.cache_dir)  # (a BuildFailed where it cannot be used)
    try:
        return _check(config, load_state(config.cache_dir, config.output_dir), jobs)
    except CacheDamaged:  # as a build does: start again without the state
        drop_damaged(config)
        return _check(config, State(), jobs)


def _check(config: Config, state: State, jobs: int) -> tuple[list[Problem], list[Problem]]:
    store = MarkupStore(config.cache_dir / "markup.sqlite3")
    try:
        found = analyse(discover(config.content_dir), config, state, store, BuildOptions(jobs=jobs))
        site, pages = found.site, found.pages
        every = [r.article for _, r in found.read.values() if r.article]
        problems = [*found.problems, *_search_problems(config)]
        renderer = Renderer(site, found.theme, store.html, found.env)
        if found.templates_ok:
            problems += render_samples(renderer, pages)
        problems += LinkChecker(site, pages, every, renderer).problems()
    finally:
        store.close()
    return sorted({shown(config, p) for p in problems}), sorted(shown(config, p) for p in site.warnings)


def _search_problems(config: Config) -> list[Problem]:
    """With search on, the build needs the Pagefind binary: say so now rather than at build time."""
    if not config.search:
        return []
    try:
        search.pagefind_binary(config)
    except BuildFailed as exc:
        return list(exc.problems)
    return []


def render_samples(renderer: Renderer, pages: list[Page]) -> list[Problem]:
    """Render the first page of each kind in memory; a template error becomes a problem."""
    problems = []
    seen: set[str] = set()
    for page in pages:
        if page.kind in seen:
            continue
        seen.add(page.kind)
        try:
            renderer.render(page)
        except CacheDamaged:
            raise
        except Exception as exc:  # a template error: located in the template by the pipeline's helper
            problems.append(render_problem(renderer.config, page, exc))
    return problems


@dataclass(frozen=True)
class _Target:
    relpath: str  # the output file
    article: Article | None  # set when the target is an article page
    fragment: str


class LinkChecker:
    """Resolves every link of every article (see the module docstring)."""

    def __init__(self, site: Site, pages: list[Page], every: list[Article], renderer: Renderer):
        self.site = site
        self.config = site.config
        self.renderer = renderer
        self.pages = {p.relpath: p for p in pages}
        self.article_of = {p.relpath: site.articles[int(p.ref)] for p in pages if p.kind == "article"}
        self.published = set(site.by_source)
        self.by_source = {a.source: a for a in every}
        self.base_path = urlsplit(self.config.base_url).path or "/"
        self._ids: dict[str, set[str]] = {}

    def url_of(self, article: Article) -> str:
        return expand(self.config.urls["article"], city=article.city_slug, role=article.role_slug)

    def problems(self) -> list[Problem]:
        out = []
        for article in self.by_source.values():
            lines = None
            searched: dict[str, tuple[int, int]] = {}  # where the next occurrence of a link may start
            for link in article.links:
                issue = self.check_link(article, link)
                if issue is None:
                    continue
                if lines is None:
                    lines = _read_lines(self.config.content_dir / article.source)
                line, column = _locate(lines, link, searched.get(link, (article.body_line, 0)))
                searched[link] = (line, column)
                message, hint = issue
                out.append(Problem(article.source, line, column, message, hint))
        return out

    def check_link(self, article: Article, link: str) -> tuple[str, str] | None:
        """None if ``link`` resolves, else ``(message, hint)``."""
        probe = _CONTROL.sub("", htmllib.unescape(link))
        try:
            parts = urlsplit(probe)
        except ValueError:  # "http://[": brackets taken for an IPv6 host
            return (f"link '{link}' is not a valid address",
                    "remove the '[' or ']' from the link target, or write them as %5B and %5D")
        if parts.scheme:
            if parts.scheme.lower() not in SAFE_SCHEMES:
                return (f"link '{link}' uses the scheme '{parts.scheme}:', which is removed from the page",
                        "write a link starting with https://, mailto: or tel:")
            if not probe.startswith(self.config.base_url):
                return None  # another site: not fetched
            probe = "/" + probe[len(self.config.base_url):].lstrip("/")
            parts = urlsplit(probe)
        elif probe.startswith("//"):
            return None
        path, fragment = unquote(parts.path), unquote(parts.fragment)
        if not path:
            target: _Target | tuple[str, str] = _Target(url_to_file(self.url_of(article)), article, fragment)
        elif path.endswith(".md"):
            target = self._source_target(article, link, path, fragment)
        else:
            target = self._url_target(article, link, path, fragment)
        if isinstance(target, tuple):
            return target
        if target.fragment and not self._has_id(target):
            heads = [h.id for h in target.article.headings] if target.article else []
            hint = did_you_mean(target.fragment, heads).replace("'", "'#", 1)
            if not hint:
                hint = ("its headings are: " + ", ".join("#" + h for h in heads[:8])) if heads else \
                    "the target has no headings with ids"
            where = "this article" if target.article is article else f"/{page_url(target.relpath)}"
            return f"link '{link}': {where} has no heading '#{target.fragment}'", hint
        return None

    def _source_target(self, article: Article, link: str, path: str, fragment: str) -> _Target | tuple[str, str]:
        source = linked_source(article.source, path)
        target = self.by_source.get(source)
        if target is None:
            here = posixpath.dirname(article.source) or "."
            hint = did_you_mean(source, self.by_source)
            close = re.search(r"'(.*)'", hint)
            if close:  # suggest the link as the author would write it, relative to this file
                hint = f"did you mean '{posixpath.relpath(close[1], here)}'?"
            return (f"link '{link}' points to a missing article (content/{source})",
                    hint or "link to an article by its file, e.g. ../essen/baecker.md, relative to this file")
        if source not in self.published:
            return self._draft(link, article)
        return _Target(url_to_file(self.url_of(target)), target, fragment)

    def _url_target(self, article: Article, link: str, path: str, fragment: str) -> _Target | tuple[str, str]:
        if path.startswith("/"):
            if not (path + "/").startswith(self.base_path):
                return (f"link '{link}' points outside the site (its pages start with {self.base_path})",
                        f"write the path as {self.base_path}…, or as a relative link")
            site_path = path[len(self.base_path):]
        else:
            here = url_to_file(self.url_of(article))
            resolved = urlsplit(urljoin("http://site/" + here, path)).path
            site_path = resolved.lstrip("/")
        for candidate in (site_path, url_to_file(site_path), site_path.rstrip("/") + "/index.html"):
            if candidate in self.pages:
                return _Target(candidate, self.article_of.get(candidate), fragment)
        drafts = {url_to_file(self.url_of(a)) for a in self.by_source.values() if a.source not in self.published}
        if url_to_file(site_path) in drafts or site_path.rstrip("/") + "/index.html" in drafts:
            return self._draft(link, article)
        urls = [page_url(p) for p in self.pages]
        hint = did_you_mean(site_path, urls)
        return (f"link '{link}' points to a page that does not exist (/{site_path})",
                hint.replace("'", "'/", 1) if hint else
                "link to an article by its URL (e.g. /essen/baecker/) or by its file (e.g. ../essen/baecker.md)")

    def _draft(self, link: str, article: Article) -> tuple[str, str] | _Target:
        if article.draft:
            return _Target("", None, "")  # a draft may link to a draft: they are published together
        return (f"link '{link}' points to a draft, which is not published",
                "publish the target (draft: false) or remove the link until it is")

    def _has_id(self, target: _Target) -> bool:
        if not target.relpath:
            return True
        if target.article and any(h.id == target.fragment for h in target.article.headings):
            return True
        if target.relpath not in self._ids:  # ids the template adds (sections, tables): render the page once
            page = self.pages.get(target.relpath)
            ids: set[str] = set()
            if page is not None and target.relpath.endswith(".html"):
                try:
                    ids = set(_ID.findall(self.renderer.render(page).decode("utf-8", "replace")))
                except CacheDamaged:
                    raise
                except Exception:  # reported by render_samples or the build
                    ids = set()
            self._ids[target.relpath] = ids
        return target.fragment in self._ids[target.relpath]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return []


def _locate(lines: list[str], link: str, after: tuple[int, int]) -> tuple[int, int]:
    """(line, column) of ``link`` in the file after the position ``after``; ``after``'s line if not found.

    An occurrence written as a link target (after "(", "<" or "]: ") wins over the same text
    inside another link (``/essen/`` inside ``/karriere/essen/``).
    """
    start, skip = max(after[0], 1), after[1]
    try:
        path = urlsplit(link).path
    except ValueError:
        path = ""
    for needle in dict.fromkeys((link, htmllib.unescape(link), path)):
        if not needle:
            continue
        target = re.compile(r"(?:(?<=\()|(?<=<)|(?<=\]: ))" + re.escape(needle))
        for pattern in (target, re.compile(re.escape(needle))):
            for number in range(start, len(lines) + 1):
                found = pattern.search(lines[number - 1], skip if number == start else 0)
                if found:
                    return number, found.start() + 1
    return start, 0
