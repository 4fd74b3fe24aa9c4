"""Markdown to HTML with one configured Python-Markdown instance per process.

Safe by default: raw HTML in Markdown is escaped (unless the site sets ``raw_html: true``),
and links or images with a scheme other than http, https, mailto or tel (``javascript:``,
``data:``, ``vbscript:`` …) lose their target. Links to other articles by their source
path (``../bochum/pflege.md``) are marked here and resolved to URLs when the page is
rendered, so that the cached HTML does not depend on where the article lives.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

import markdown
from markdown.extensions.toc import TocExtension
from markdown.treeprocessors import Treeprocessor

from .urls import slugify

#: Bump when the HTML produced for the same Markdown changes, to invalidate caches.
VERSION = "1"
EXTENSIONS = ("tables", "fenced_code", "sane_lists")
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: Prefix of a link to another article's source file, resolved at render time.
SOURCE_LINK = "careersite-source:"
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


# A NamedTuple, not a dataclass: the build state pickles ~12 of these per article, and
# tuples unpickle in C (a frozen slots dataclass restores each field in Python: 10x slower).
class Heading(NamedTuple):
    level: int
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Markup:
    """Rendered body: HTML plus what pages and checks need to know about it."""

    html: str
    headings: tuple[Heading, ...]
    summary: str  # plain text of the first paragraph
    links: tuple[str, ...]  # every link target as written, in order
    words: int


def cache_key(body: str, raw_html: bool) -> str:
    """Content hash of a body under the current Markdown settings."""
    h = hashlib.sha256()
    h.update(f"{VERSION}|{markdown.__version__}|{raw_html}|".encode())
    h.update(body.encode("utf-8"))
    return h.hexdigest()


class _Inspect(Treeprocessor):
    """Demote h1 to h2, neutralise unsafe URLs, and record summary and links."""

    def run(self, root: etree.Element) -> None:
        md = self.md
        md.cs_links = []
        md.cs_summary = ""
        for element in root.iter():
            if element.tag == "h1":
                element.tag = "h2"  # the page title is the only h1
            for attr in ("href", "src"):
                value = element.get(attr)
                if value is None:
                    continue
                md.cs_links.append(value)
                safe = _safe_url(value)
                if safe is None:
                    del element.attrib[attr]
                    if element.tag == "img":  # an img without src is invalid HTML: keep its text
                        element.tag, element.text = "span", element.attrib.pop("alt", "")
                        element.attrib.clear()
                else:
                    element.set(attr, safe)
        for child in root:
            if child.tag == "p":
                md.cs_summary = " ".join("".join(child.itertext()).split())
                break


def _safe_url(value: str) -> str | None:
    """The URL to keep, the article-source marker for ``*.md`` links, or None for unsafe ones."""
    probe = _CONTROL.sub("", htmllib.unescape(value)).lower()
    parts = urlsplit(probe)
    if parts.scheme:
        return value if parts.scheme in SAFE_SCHEMES else None
    if probe.startswith("//"):
        return value  # protocol-relative
    path = urlsplit(value).path
    if path.endswith(".md"):
        return SOURCE_LINK + value
    return value


def _new_instance(raw_html: bool) -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=[*EXTENSIONS, TocExtension(slugify=lambda text, sep: slugify(text) or "abschnitt",
                                              toc_depth="2-3")],
        output_format="html",
    )
    if not raw_html:
        # Without these two, HTML is treated as text and escaped on output.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    # after "inline" (20) made the links, before "toc" (5) collects the headings
    md.treeprocessors.register(_Inspect(md), "careersite_inspect", 7)
    return md


_instances: dict[bool, markdown.Markdown] = {}


def convert(body: str, raw_html: bool = False) -> Markup:
    """Render one Markdown body. Reuses this process's instance (creating it is slow)."""
    md = _instances.get(raw_html)
    if md is None:
        md = _instances[raw_html] = _new_instance(raw_html)
    md.reset()
    md.cs_links, md.cs_summary = [], ""  # convert() skips the tree processors for an empty body
    html = md.convert(body)
    headings = tuple(_flatten(md.toc_tokens))
    return Markup(html, headings, md.cs_summary, tuple(md.cs_links), len(body.split()))


def _flatten(tokens) -> list[Heading]:
    out = []
    for token in tokens:
        out.append(Heading(token["level"], token["id"], htmllib.unescape(token["name"])))
        out.extend(_flatten(token["children"]))
    return out


def resolve_source_links(html: str, resolve) -> str:
    """Replace article-source markers using ``resolve(target) -> href``."""
    if SOURCE_LINK not in html:
        return html
    return re.sub(r'(href|src)="' + re.escape(SOURCE_LINK) + r'([^"]*)"',
                  lambda m: f'{m[1]}="{resolve(m[2])}"', html)
