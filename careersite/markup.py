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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import markdown
from markdown import util as md_util
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension, TableProcessor
from markdown.extensions.toc import TocExtension, TocTreeprocessor, nest_toc_tokens, unique
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from .records import pickled_as_tuple
from .urls import slugify

#: Bump when the HTML produced for the same Markdown changes, to invalidate caches.
VERSION = "1"
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: Prefix of a link to another article's source file, resolved at render time.
SOURCE_LINK = "careersite-source:"
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")  # as urlsplit() finds it, without its ValueErrors


# A NamedTuple, not a dataclass: the build state pickles ~12 of these per article, and
# tuples unpickle in C (a frozen slots dataclass restores each field in Python: 10x slower).
@pickled_as_tuple
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
    scheme = _SCHEME.match(probe)
    if scheme:
        return value if scheme[1] in SAFE_SCHEMES else None
    if probe.startswith("//"):
        return value  # protocol-relative
    try:
        path = urlsplit(value).path
    except ValueError:  # "[x](a[b)": urlsplit rejects brackets it takes for an IPv6 host
        return value
    if path.endswith(".md"):
        return SOURCE_LINK + value
    return value


#: What each of Python-Markdown's inline patterns needs in a text before its regular
#: expression can match, keyed by the expression itself (so a changed or unknown pattern
#: is never skipped). Every alternative of each expression contains one of these strings.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)": ("`",),  # backtick
    r"\\(.)": ("\\",),  # escape
    r"(?<!\!)\[": ("[",),  # reference, link, short_reference
    r"\!\[": ("![",),  # image_link, image_reference, short_image_ref
    r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("<",),  # autolink
    r"<([^<> !]+@[^@<> ]+)>": ("<",),  # automail
    r"  \n": ("  \n",),  # linebreak
    r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entity
    r'''(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)''': ("<",),  # noqa: E501 html (raw_html: true)
    r"\*|_": ("*", "_"),  # em_strong (DelimiterProcessor)
}


class _FastInline(InlineProcessor):
    """Python-Markdown's inline processor, minus the patterns that cannot match.

    The stock processor tries all 13 inline patterns on every text node (a Python call,
    a regex scan and bookkeeping each): 60% of the time of converting a typical article,
    although most nodes are plain prose. This one skips a pattern when the text lacks
    the character(s) its expression needs (see _TRIGGERS), which gives exactly the
    stock result (tests/test_markup.py compares the two on many inputs) in 0.6x the
    time. If any registered pattern is not one it knows, it skips nothing.
    """

    _triggers: list[tuple[str, ...] | None] = []

    def run(self, tree, ancestors=None):
        triggers: list[tuple[str, ...] | None] = []
        for pattern in self.inlinePatterns:
            triggers.append(_TRIGGERS.get(getattr(pattern, "pattern", None)))
        self._triggers = [] if None in triggers else triggers
        return super().run(tree, ancestors)

    # Overrides the name-mangled InlineProcessor.__handleInline (same code, plus the skip);
    # _new_instance() only installs this class when the upstream method exists.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if not isinstance(data, md_util.AtomicString):
            triggers = self._triggers
            patterns = self.inlinePatterns
            apply = self._InlineProcessor__applyPattern
            start = 0
            count = len(patterns)
            while patternIndex < count:
                if triggers:
                    need = triggers[patternIndex]
                    if need[0] not in data and (len(need) == 1 or not any(n in data for n in need)):
                        patternIndex += 1
                        start = 0
                        continue
                data, matched, start = apply(patterns[patternIndex], data, patternIndex, start)
                if not matched:
                    patternIndex += 1
        return data


_NOT_PLAIN = re.compile(r"[&<>\\\x02\x03]")


class _FastToc(TocTreeprocessor):
    """Python-Markdown's toc processor for documents whose headings are plain text.

    The stock processor serialises every heading to find its text and builds and serialises
    a table-of-contents ``<div>`` that careersite never uses (its pages list the headings
    themselves): ~10% of converting an article. For a heading with no markup, no entity and
    no placeholder, the text is the same as the one the stock processor derives, so this
    gives the same ids and ``toc_tokens``. Any other document (a heading with markup, an id
    set already, a "[TOC]" marker) goes through the stock code. ``md.toc`` stays empty.
    """

    def run(self, doc) -> None:
        headings = [el for el in doc.iter() if isinstance(el.tag, str) and self.header_rgx.match(el.tag)]
        if any(len(el) or _NOT_PLAIN.search(el.text or "") for el in headings) or any(
                "id" in el.attrib or (self.marker and (el.text or "").strip() == self.marker) for el in doc.iter()):
            super().run(doc)
            return
        used_ids: set[str] = set()
        counters: dict[str, int] = {}
        tokens = []
        for el in headings:
            self.set_level(el)
            text = el.text or ""
            name = " ".join(text.split())
            el.attrib["id"] = unique(self.slugify(name, self.sep), used_ids, counters)
            level = int(el.tag[-1])
            if self.toc_top <= level <= self.toc_bottom:
                tokens.append({"level": level, "id": el.attrib["id"], "name": name, "html": text.strip(),
                               "data-toc-label": ""})
        self.md.toc_tokens = nest_toc_tokens(tokens)
        self.md.toc = ""


def is_source_link(value: str) -> bool:
    """True for a link target written as another article's source file (``../essen/koch.md#x``)."""
    return ".md" in value and (_safe_url(value) or "").startswith(SOURCE_LINK)


# Block processors whose test scans the whole block with a regular expression that starts
# with a ``(?:^|\n)`` or ``^`` alternative, which the regex engine tries at every character
# (~3–5 µs a block; a typical article has ~30 blocks and most are plain paragraphs that each
# such test is asked about). Each gets a check made of string operations that every block the
# expression can match passes: a block that fails it skips the scan, whose answer would be
# False. Keyed by the processor's name and its expression, so that a Python-Markdown with
# another expression keeps its own test.
_HR_LINE = re.compile(r"\n {0,3}[-_*]")  # a literal first: the engine finds "\n" by a fast scan
_BLOCK_CHECKS: dict[tuple[str, str], Callable[[str], bool]] = {
    # "#" at the start of the block or of a line
    ("hashheader", r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)"):
        lambda block: block[:1] == "#" or "\n#" in block,
    # the second line starts with "=" or "-"
    ("setextheader", r"^.*?\n(?:=+|-+)[ ]*(\n|$)"): lambda block: "\n=" in block or "\n-" in block,
    # a line that starts (after up to 3 spaces) with "-", "_" or "*"
    ("hr", r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))(?P=atomicgroup)[ ]*$"):
        lambda block: block.lstrip(" ")[:1] in ("-", "_", "*") or _HR_LINE.search(block) is not None,
    ("quote", r"(^|\n)[ ]{0,3}>[ ]?(.*)"): lambda block: ">" in block,
}

_REFERENCE = r"""^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$"""


def _checked_test(test: Callable[[Any, str], bool], check: Callable[[str], bool]) -> Callable[[Any, str], bool]:
    def checked(parent: Any, block: str) -> bool:
        return check(block) and test(parent, block)
    return checked


def _check_blocks(md: markdown.Markdown) -> None:
    """Put the checks of _BLOCK_CHECKS before the tests (and the table's: a table has a "|"; a
    reference definition has a "]:")."""
    processors = md.parser.blockprocessors
    for (name, expression), check in _BLOCK_CHECKS.items():
        if name in processors:
            processor = processors[name]
            regex = getattr(processor, "SEARCH_RE", None) or getattr(processor, "RE", None)
            if getattr(regex, "pattern", None) == expression:
                processor.test = _checked_test(processor.test, check)
    reference = processors["reference"] if "reference" in processors else None
    if getattr(getattr(reference, "RE", None), "pattern", None) == _REFERENCE:
        # its test takes every block and its run scans it for a "[id]: url" line
        run = reference.run
        reference.run = lambda parent, blocks: "]:" in blocks[0] and run(parent, blocks)
    if "table" in processors and type(processors["table"]) is TableProcessor:
        # its test splits the first rows at "|" (a border needs one too)
        processors["table"].test = _checked_test(processors["table"].test, lambda block: "|" in block)


def _new_instance(raw_html: bool, fast: bool = True) -> markdown.Markdown:
    # imported here, with the first instance: fenced_code imports codehilite and with it
    # Pygments, ~40 ms that a build converting no Markdown (a template edit) saves
    from markdown.extensions.fenced_code import FencedCodeExtension

    md = markdown.Markdown(
        # extension classes, not names: a name is looked up among the installed packages'
        # entry points, which costs ~25 ms per process
        extensions=[TableExtension(), FencedCodeExtension(), SaneListExtension(),
                    TocExtension(slugify=lambda text, sep: slugify(text) or "abschnitt", toc_depth="2-3")],
        output_format="html",
    )
    if not raw_html:
        # Without these two, HTML is treated as text and escaped on output.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    if fast and hasattr(InlineProcessor, "_InlineProcessor__handleInline") and hasattr(
            InlineProcessor, "_InlineProcessor__applyPattern"):
        md.treeprocessors.register(_FastInline(md), "inline", 20)
    if fast:
        _check_blocks(md)
        stock = md.treeprocessors["toc"]
        toc = _FastToc.__new__(_FastToc)
        toc.__dict__.update(stock.__dict__)  # the stock processor's settings
        md.treeprocessors.register(toc, "toc", 5)
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
