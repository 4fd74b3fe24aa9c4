"""The build cache: rendered Markdown by content hash, and the state of the last build.

Layout of the cache folder (default ``.cache/careersite/``, safe to delete at any time):

``markup.sqlite3``
    Markdown HTML keyed by a hash of the body and the Markdown settings, so a template
    or front-matter change never re-runs Markdown. SQLite gives atomic, crash-safe
    writes from several worker processes at once.
``state-<hash of output path>.pickle`` and ``….sources-NN-….pickle``
    What the last successful build into that output folder read (each source's stat and
    parsed article, in 64 chunk files so one edit rewrites one chunk) and wrote (each
    output file's page key, content hash, size, mtime), and the site model and page plan it
    made (without the articles), which the next build updates for a few edited articles
    instead of making them anew. The head file names its chunks and is replaced atomically
    last; a missing, unreadable or foreign state only makes the next build a cold one.
    Every part is sealed with a CRC-32 (the head, each chunk's index, each stored article:
    see sealed.py), so a damaged byte is found where it is read, never shown on a page.
``templates/``
    Compiled templates (Jinja's bytecode cache, checked against each template's source and
    a CRC-32 of the compiled code).
``lock``
    Held for the whole build, so two builds into one cache never race.

Nothing here is trusted beyond what it can prove: a source is re-read when its stat
changed or is too recent to trust, an output file is rewritten when its size or mtime
is not what the state recorded, and every key includes the package version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import marshal
import mmap
import os
import pickle
import sqlite3
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__, markup
from .content import Article, ReadResult, Source
from .early import build_lock  # noqa: F401 - re-exported
from .errors import Problem, SiteError
from .markup import Heading
from .salary import Level, Salary
from .sealed import seal, unseal

STATE_FORMAT = 9
SOURCE_CHUNKS = 64
MARKUP_SCHEMA = "2"


class OutputFile(NamedTuple):  # a tuple: 10^5 of them are pickled per build (as plain tuples: _tuples)
    key: str  # the page key it was rendered with
    sha: str  # sha256 of its bytes
    size: int
    mtime_ns: int


class CacheDamaged(SiteError):
    """A part of the cache a build relies on is damaged or gone (a stored article, a
    Markdown result): the build starts again without the state, cold. Raised again there
    (the cache folder changed during the build), it is reported as an error."""


# A stored entry, as loaded from a chunk file: what every build needs of every source, and
# the stored read result, decoded when first asked for (see Reads).
# (source, problems, body_key or None without an article, draft, (chunk blob,), start, end);
# blob[start:end] is the read result as _dump_read made it, sealed (see sealed.py)
_STORED = 7


def same_read(a: tuple | None, b: tuple | None) -> bool:
    """True when two raw entries (see Reads) hold the same read result; their sources' stat
    may differ (a file found unchanged by its bytes). Stored entries are compared by the
    span of the blob they share, not decoded: entries from different blobs are not the same."""
    return a is b or (a is not None and b is not None and len(a) == len(b) and a[1:] == b[1:])


def _has_article(entry: tuple) -> bool:
    return entry[2] is not None if len(entry) == _STORED else getattr(entry[1], "article", None) is not None


def _meta(read: ReadResult | None) -> tuple[tuple, str | None, bool]:
    """(problems, body_key, draft) of a read result: what a stored entry keeps unpickled."""
    article = getattr(read, "article", None)
    return (getattr(read, "problems", ()), None if article is None else article.body_key,
            bool(article is not None and article.draft))


# A stored read result is b"M" and a marshalled tuple of plain values (an article read without
# problems: nearly all of them), else b"P" and a pickle. marshal loads strings, numbers and
# tuples without pickle's lookups of classes and calls of Decimal and date through REDUCE, and
# _load_read makes the values articles repeat one object each while it builds them (as
# content.Shared does for articles read from their files): at 10,000 articles, loading all of
# them takes ~0.12 s instead of ~0.30 s for pickle and Shared. marshal refuses subclasses, so
# a value of any other type than expected goes the pickle way and comes back as it was.
_SALARY, _DATE, _UPDATED, _HEADINGS = (Article._fields.index(name)
                                       for name in ("salary", "date", "updated", "headings"))
_CONTENT_HASH = Article._fields.index("content_hash")
_tuple_new = tuple.__new__


def _dump_read(read: ReadResult | None) -> bytes:
    article = getattr(read, "article", None)
    if type(read) is ReadResult and not read.problems and type(article) is Article:
        s, date, updated = article.salary, article.date, article.updated
        if (type(s) is Salary and type(s.min) is Decimal and type(s.max) is Decimal
                and all(type(lv) is Level and type(lv.min) is Decimal and type(lv.max) is Decimal for lv in s.levels)
                and type(date) in (dt.date, type(None)) and type(updated) in (dt.date, type(None))
                and all(type(h) is Heading for h in article.headings)):
            fields = list(article)
            fields[_SALARY] = (s.currency, s.period, str(s.min), str(s.max),
                               tuple((lv.label, str(lv.min), str(lv.max)) for lv in s.levels))
            fields[_DATE] = None if date is None else date.toordinal()
            fields[_UPDATED] = None if updated is None else updated.toordinal()
            fields[_HEADINGS] = tuple(map(tuple, article.headings))
            with contextlib.suppress(ValueError, TypeError):  # a value of another type: pickled
                hash(tuple(fields[i] for i in _KEYED))  # (_load_read shares them by value)
                return b"M" + marshal.dumps(tuple(fields))
    return b"P" + pickle.dumps(read, protocol=pickle.HIGHEST_PROTOCOL)


def _load_read(data: bytes | memoryview, values: dict) -> ReadResult:
    """A read result stored by _dump_read; ``values`` holds the objects articles share."""
    if data[:1] == b"P":
        return pickle.loads(data[1:])
    if data[:1] != b"M":
        raise ValueError("not a stored read result")
    fields = list(marshal.loads(data[1:]))
    one = values.setdefault
    # keys: a string is itself; a salary, its tuple of texts (Decimal("3300") == Decimal("3300.0"),
    # printed otherwise); headings, their tuple of tuples; a date, ("date", ordinal)
    salary = fields[_SALARY]
    shared = values.get(salary)
    if shared is None:
        currency, period, low, high, levels = salary
        shared = values[salary] = _tuple_new(Salary, (
            one(currency, currency), one(period, period), Decimal(low), Decimal(high),
            tuple(_tuple_new(Level, (one(label, label), Decimal(a), Decimal(b))) for label, a, b in levels)))
    fields[_SALARY] = shared
    for i in (_DATE, _UPDATED):
        if (ordinal := fields[i]) is not None:
            date = values.get(key := ("date", ordinal))
            fields[i] = date if date is not None else one(key, dt.date.fromordinal(ordinal))
    if headings := fields[_HEADINGS]:
        shared = values.get(headings)
        fields[_HEADINGS] = shared if shared is not None else one(
            headings, tuple(one(h, _tuple_new(Heading, h)) for h in headings))
    for i in _SHARED_TEXTS:
        if (value := fields[i]) is not None:
            fields[i] = one(value, value)
    return _tuple_new(ReadResult, (_tuple_new(Article, fields), ()))


# the fields that repeat across articles (names, slugs, tags), as content.Shared keeps them
_SHARED_TEXTS = tuple(Article._fields.index(name)
                      for name in ("role", "city", "region", "state", "tags", "role_slug", "city_slug"))
_KEYED = (*_SHARED_TEXTS, _SALARY, _HEADINGS)


class Reads(Mapping):
    """What a build read: relpath -> (Source, ReadResult), in path order.

    The parsed articles are most of the state: at 10,000 articles, unpickling them all took
    ~130 ms of a one-edit rebuild's ~0.5 s, though such a build looks at a few hundred (the
    edited article's peers). So an entry loaded from the state keeps its read result as
    stored bytes (_dump_read), beside what every build needs of every source (its stat,
    problems, Markdown key, draft flag), and decodes it when it is first asked for. Entries
    read by this build are plain ``(Source, ReadResult)`` pairs. ``raw(relpath)`` gives either
    form without decoding: an unchanged source carries the same raw entry from one build's
    reads to the next, so identity tells what changed.
    """

    __slots__ = ("_entries", "_loaded", "_values", "raw")

    def __init__(self, entries: dict[str, tuple] | None = None, loaded: dict | None = None,
                 values: dict | None = None):
        self._entries = {} if entries is None else entries
        # relpath -> its raw entry or None (the dict's own get: called for every source, several times)
        self.raw: Callable[[str], tuple | None] = self._entries.get
        self._loaded: dict[str, tuple[tuple, tuple]] = {} if loaded is None else loaded  # relpath -> (raw, pair)
        # the values unpickled articles share (see _load_read), like content.Shared's
        self._values: dict = {} if values is None else values

    @classmethod
    def of(cls, value: Mapping) -> Reads:
        return value if isinstance(value, Reads) else cls(dict(value))

    def __getitem__(self, relpath: str) -> tuple[Source, ReadResult]:
        entry = self._entries[relpath]
        if len(entry) != _STORED:
            return entry
        hit = self._loaded.get(relpath)
        if hit is None or hit[0] is not entry:
            source, _, _, _, (blob,), start, end = entry
            try:
                pair = (source, _load_read(unseal(blob[start:end]), self._values))
            except Exception as exc:
                raise CacheDamaged(f"the build state's entry for {relpath} cannot be read") from exc
            hit = self._loaded[relpath] = (entry, pair)
        return hit[1]

    def content_hash(self, relpath: str) -> str | None:
        """The content hash of the article read from ``relpath`` (None without one), without
        building the article where its stored form allows (~3 µs instead of ~12 µs)."""
        entry = self._entries[relpath]
        if len(entry) == _STORED and entry[2] is None:
            return None
        if len(entry) == _STORED and ((hit := self._loaded.get(relpath)) is None or hit[0] is not entry):
            blob, start, end = entry[4][0], entry[5], entry[6]
            try:
                data = unseal(blob[start:end])
                if data[:1] == b"M":
                    return marshal.loads(data[1:])[_CONTENT_HASH]
            except Exception as exc:
                raise CacheDamaged(f"the build state's entry for {relpath} cannot be read") from exc
        return getattr(self[relpath][1].article, "content_hash", None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, relpath: object) -> bool:
        return relpath in self._entries

    def raw_items(self) -> Iterable[tuple[str, tuple]]:
        return self._entries.items()

    def with_entries(self, entries: dict[str, tuple]) -> Reads:
        """Reads of ``entries`` (raw, some taken from these) sharing what these unpickled."""
        return Reads(entries, self._loaded, self._values)

    def article(self, relpath: str) -> Article | None:
        return self[relpath][1].article

    def articles(self, relpaths: Iterable[str]) -> list[Article | None]:
        """The articles of ``relpaths``, for a build that needs all or most of them.

        The file pages the stored entries were read from are let go afterwards, so that they
        do not count twice in the build's memory (at 100,000 articles: ~200 MB).
        """
        mapped: dict[int, mmap.mmap] = {}
        out: list[Article | None] = []
        entries, loaded = self._entries, self._loaded
        for relpath in relpaths:
            entry = entries[relpath]
            if len(entry) == _STORED and ((hit := loaded.get(relpath)) is None or hit[0] is not entry):
                blob = entry[4][0]
                if isinstance(owner := getattr(blob, "obj", None), mmap.mmap):
                    mapped[id(owner)] = owner
            out.append(getattr(self[relpath][1], "article", None))
        for pages in mapped.values():
            with contextlib.suppress(AttributeError, OSError, ValueError):
                pages.madvise(mmap.MADV_DONTNEED)  # (the page cache keeps them: read again if asked)
        return out

    def has_article(self, relpath: str) -> bool:
        return _has_article(self._entries[relpath])

    def listed(self, drafts: bool) -> list[str]:
        """The paths of the articles a build lists, in path order: drafts only if shown."""
        out = []
        for relpath, entry in self._entries.items():
            if len(entry) == _STORED:
                if entry[2] is not None and (drafts or not entry[3]):
                    out.append(relpath)
            elif (article := entry[1].article) is not None and (drafts or not article.draft):
                out.append(relpath)
        return out

    def problems(self) -> list[Problem]:
        return [p for entry in self._entries.values()
                for p in (entry[1] if len(entry) == _STORED else entry[1].problems)]

    def body_keys(self) -> set[str]:
        out = set()
        for entry in self._entries.values():
            if len(entry) == _STORED:
                if entry[2] is not None:
                    out.add(entry[2])
            elif entry[1].article is not None:
                out.add(entry[1].article.body_key)
        return out


def _pack(entries: dict[str, tuple]) -> dict[str, tuple]:
    """Entries in their stored form, sharing one blob of pickled read results (see Reads)."""
    parts: list[bytes] = []
    spans: dict[str, tuple] = {}
    start = 0
    for relpath, entry in entries.items():
        if len(entry) == _STORED:
            source, problems, body_key, draft, (blob,), a, b = entry
            data = blob[a:b]
        else:
            source, read = entry
            problems, body_key, draft = _meta(read)
            data = seal(_dump_read(read))
        parts.append(data)
        spans[relpath] = (source, problems, body_key, draft, start, start + len(data))
        start += len(data)
    # One box, shared by every entry, so that pickle (which memoises a tuple, not a PickleBuffer)
    # stores the blob once, after the chunk's pickle (see _read_chunk).
    blob = (pickle.PickleBuffer(b"".join(parts)),)
    return {relpath: (source, problems, body_key, draft, blob, a, b)
            for relpath, (source, problems, body_key, draft, a, b) in spans.items()}


@dataclass
class State:
    """What one build read and wrote; the next build starts from it."""

    parse_digest: str = ""
    started_ns: int = 0  # when the build that wrote this state began reading sources
    sources: Reads = field(default_factory=Reads)
    outputs: dict[str, OutputFile] = field(default_factory=dict)
    output_dir: str = ""
    version: str = field(default_factory=lambda: code_version())
    format: int = STATE_FORMAT
    schema: str = field(default_factory=lambda: record_schema())
    chunks: dict[int, str] = field(default_factory=dict)  # chunk index -> file holding those sources and outputs
    # The site model and page plan the build made (see pipeline.model_snapshot), so that the
    # next build can update them for a few edited articles instead of making them anew.
    model: tuple | None = None
    # the paths of each chunk's (sources, outputs), as loaded or saved: not stored
    parts: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["parts"]
        state["outputs"] = _tuples(self.outputs)
        state["sources"] = dict(Reads.of(self.sources).raw_items())
        return state

    def __setstate__(self, state: dict) -> None:
        state["outputs"] = _records(state["outputs"])
        state["sources"] = Reads(state["sources"])
        self.__dict__.update(state, parts={})


def _tuples(outputs: dict[str, OutputFile]) -> tuple[list[str], list[tuple]]:
    # The outputs as plain tuples: a named tuple pickles through Python-level calls, a plain one
    # in C alone (at 10,000 pages: saved in 4 ms instead of 23, loaded in 4 instead of 12).
    return list(outputs), list(map(tuple, outputs.values()))


def _records(pair: tuple[list[str], list[tuple]]) -> dict[str, OutputFile]:
    names, records = pair
    return dict(zip(names, map(functools.partial(tuple.__new__, OutputFile), records), strict=True))


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, the Python it runs on, a hash of careersite's own source files and
    the versions of the libraries whose results the cache keeps (~1 ms, once).

    A state written by other code is never used: its model, page plan and page keys were made
    by that code's rules, and a development checkout changes them without a version bump. Its
    read results are marshalled (_dump_read), a format each Python version may change. Its
    articles hold what Python-Markdown and PyYAML made of their files, and its pages were
    rendered by Jinja2, MarkupSafe and Babel (dates, numbers): an upgrade of any of them can
    change a page, so after one the first build starts cold, as a cold build would show it.
    """
    package = Path(__file__).resolve().parent
    h = hashlib.sha256(dependency_versions().encode())
    try:
        for path in sorted(package.rglob("*.py")):
            h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    except OSError:  # not readable as files (a zipped install): the versions alone
        h = hashlib.sha256(dependency_versions().encode())
    return f"{__version__}+{sys.implementation.cache_tag}+{h.hexdigest()[:16]}"


#: The import name of each library the cache's contents depend on -> its distribution's name
#: (normalised, as in the name of its ``*.dist-info`` folder).
DEPENDENCIES = {"jinja2": "jinja2", "markupsafe": "markupsafe", "markdown": "markdown", "yaml": "pyyaml",
                "babel": "babel"}


def dependency_versions() -> str:
    """``name=version`` of each of DEPENDENCIES as installed, from the names of the metadata
    folders beside each package (``jinja2-3.1.6.dist-info``): without importing the libraries
    or ``importlib.metadata`` (~50 ms). Where no such folder is found (a vendored or unusual
    install), the package file's path, size and mtime stand in: they change when it is replaced.
    """
    import importlib.util
    listed: dict[str, list[str]] = {}
    out = []
    for module, dist in DEPENDENCIES.items():
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        if not origin or not os.path.isfile(origin):
            out.append(f"{module}=?")
            continue
        folder = os.path.dirname(os.path.dirname(origin)) if spec.submodule_search_locations else \
            os.path.dirname(origin)
        if folder not in listed:
            try:
                listed[folder] = sorted(os.listdir(folder))
            except OSError:
                listed[folder] = []
        found = [version for name in listed[folder] if name.endswith((".dist-info", ".egg-info"))
                 for project, _, version in [name.rsplit(".", 1)[0].partition("-")]
                 if project.lower().replace("_", "-").replace(".", "-") == dist]
        if found:
            out.append(f"{module}=" + ",".join(found))
        else:
            st = os.stat(origin)
            out.append(f"{module}@{origin}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(out)


def state_path(cache_dir: Path, output_dir: Path) -> Path:
    digest = hashlib.sha256(str(output_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"state-{digest}.pickle"


def load_state(cache_dir: Path, output_dir: Path, stop: Callable[[], bool] | None = None,
               mapped: bool = True) -> State | None:
    """The previous build's state, or an empty one when there is none or it cannot be trusted.

    ``mapped``: map the chunk files' stored articles instead of reading them (see _read_chunk).

    ``stop``, if given, is asked before each file is read (the head file, then each chunk);
    when it answers True the load ends there and None is returned (a build that learns
    meanwhile that it has nothing to do). Its exceptions propagate.
    """
    path = state_path(cache_dir, output_dir)
    if stop is not None and stop():
        return None
    try:
        state = _read_head(path)
        if (not isinstance(state, State) or state.format != STATE_FORMAT or state.version != code_version()
                or state.schema != record_schema() or state.output_dir != str(output_dir.resolve())):
            return State()
        names = sorted(state.chunks.items())
    except FileNotFoundError:
        return State()
    except Exception:  # a truncated, foreign or old-format file: start cold, never fail
        return State()
    sources: dict = {}
    outputs: dict = {}
    parts: dict[int, tuple[list[str], list[str]]] = {}
    for index, name in names:
        if stop is not None and stop():
            return None
        try:
            part_sources, part_outputs = _read_chunk(cache_dir / name, mapped)
            part_outputs = _records(part_outputs)
        except Exception:  # as above (a missing chunk included)
            return State()
        sources.update(part_sources)
        outputs.update(part_outputs)
        parts[index] = (list(part_sources), list(part_outputs))
    state.sources, state.outputs, state.parts = Reads({k: sources[k] for k in sorted(sources)}), outputs, parts
    return state


@functools.lru_cache(maxsize=1)
def record_schema() -> str:
    """A hash of the fields of every record the state stores, so a state written by code with
    other records (a development version, a downgrade) is never loaded."""
    from . import content, model, render, salary
    from . import markup as markup_mod
    from .errors import Problem
    shapes = [(t.__name__, t._fields) for t in (content.Source, content.Article, content.ReadResult, salary.Salary,
                                                salary.Level, markup_mod.Heading, OutputFile, render.Page)]
    shapes += [(t.__name__, tuple(t.__dataclass_fields__)) for t in (Problem, model.Site, model.Term)]
    return hashlib.sha256(repr(shapes).encode()).hexdigest()[:16]


def _chunk(relpath: str) -> int:
    return zlib.crc32(relpath.encode("utf-8")) % SOURCE_CHUNKS


def save_state(cache_dir: Path, output_dir: Path, state: State, previous: State | None = None) -> None:
    """Write the state: the sources and outputs in chunk files, then a head file naming them.

    The parsed articles and the output records are most of the state (~1 KB and ~0.2 KB
    each); they are split into ``SOURCE_CHUNKS`` files by a hash of the path, and a chunk
    whose entries are those of ``previous`` keeps its file, so saving after one edit writes
    a chunk or two, not 100,000 articles. Chunk files get fresh names and the head file is replaced atomically last,
    so a reader sees either the old or the new state, never a mix; unreferenced chunk files
    are removed afterwards.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    state.output_dir = str(output_dir.resolve())
    head_path = state_path(cache_dir, output_dir)
    stem = head_path.stem
    reads = Reads.of(state.sources)
    sources, outputs = reads._entries, state.outputs  # raw entries: stored ones are not unpickled
    old_parts = previous.parts if previous is not None and previous.chunks else {}
    dirty: set[int] | None = None  # the chunks whose entries differ from previous' (None: all)
    # chunk index -> the paths of its (sources, outputs), for the chunks to write
    keys: dict[int, tuple[list[str], list[str]]] = {}
    if old_parts and old_parts.keys() == previous.chunks.keys():
        old_reads = Reads.of(previous.sources)
        touched = [relpath for relpath, entry in sources.items() if (old := old_reads.raw(relpath)) is not entry
                   and (old is None or old[0] != entry[0] or old_reads[relpath] != reads[relpath])]
        old_get = previous.outputs.get
        touched += [relpath for relpath, record in outputs.items() if old_get(relpath) != record]
        touched += old_reads.keys() - sources.keys()
        touched += previous.outputs.keys() - outputs.keys()
        dirty = set(map(_chunk, touched))
        for index in dirty:
            old_sources, old_outputs = old_parts.get(index, ((), ()))
            keys[index] = ([k for k in old_sources if k in sources], [k for k in old_outputs if k in outputs])
        for slot, (entries, old_entries) in enumerate(((sources, old_reads), (outputs, previous.outputs))):
            for relpath in entries.keys() - old_entries.keys():  # added (so touched: its chunk is dirty)
                keys[_chunk(relpath)][slot].append(relpath)
    else:
        for slot, entries in enumerate((sources, outputs)):
            for relpath in entries:
                keys.setdefault(_chunk(relpath), ([], []))[slot].append(relpath)
    parts = {index: part for index, part in old_parts.items() if dirty is not None and index not in dirty}
    chunks: dict[int, str] = {}
    if dirty is not None:  # the others keep their files (a chunk left empty is dirty, and dropped)
        chunks.update((index, name) for index, name in previous.chunks.items() if index not in dirty)
    token = os.urandom(6).hex()
    for index, (source_keys, output_keys) in sorted(keys.items()):
        if not source_keys and not output_keys:
            continue  # a chunk left empty is dropped
        chunks[index] = f"{stem}.sources-{index:02d}-{token}.pickle"
        parts[index] = (source_keys, output_keys)
        _atomic_pickle(cache_dir / chunks[index], (_pack({k: sources[k] for k in source_keys}),
                                                   _tuples({k: outputs[k] for k in output_keys})), chunk=True)
    chunks = dict(sorted(chunks.items()))
    _atomic_pickle(head_path, dataclasses.replace(state, sources=Reads(), outputs={}, chunks=chunks, parts={}))
    state.chunks, state.parts = chunks, parts
    keep = set(chunks.values())
    for path in cache_dir.glob(f"{stem}.sources-*.pickle"):
        if path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


# The head file: this magic, then the pickle, sealed (see sealed.py).
_HEAD_MAGIC = b"CSSTATE9"
# A chunk file: this magic, the length of the pickle (8 bytes, little-endian), the pickle
# sealed, then its out-of-band buffer (the blob of stored read results, see _pack; each one
# sealed on its own, and checked when it is decoded).
_CHUNK_MAGIC = b"CSCHUNK9"


def _read_head(path: Path) -> object:
    data = memoryview(path.read_bytes())
    if data[:8] != _HEAD_MAGIC:
        raise ValueError(f"{path.name} is not a state file")
    return pickle.loads(unseal(data[8:]))


def _read_chunk(path: Path, mapped: bool = True) -> tuple[dict, tuple]:
    """A chunk file's (entries, outputs). The blob is mapped from the file, not copied: at
    10,000 articles that is 18 MB a rebuild need not read (it unpickles a few hundred entries).
    A state kept for longer than one locked build (serve) is read, not mapped: a mapped file
    cut short by someone else would crash the process where it reads the missing part."""
    with open(path, "rb") as fh:
        data: Any = None
        if mapped:
            with contextlib.suppress(OSError, ValueError):  # a file system without mmap: read it
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if data is None:
            data = fh.read()
    view = memoryview(data)
    if view[:8] != _CHUNK_MAGIC:
        raise ValueError(f"{path.name} is not a chunk file")
    end = 20 + int.from_bytes(view[8:16], "little")
    return pickle.loads(unseal(view[16:end]), buffers=[view[end:]])


def _atomic_pickle(target: Path, value: object, chunk: bool = False) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".state-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            if chunk:  # see _read_chunk
                buffers: list[pickle.PickleBuffer] = []
                data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
                fh.write(_CHUNK_MAGIC + len(data).to_bytes(8, "little"))
                fh.write(seal(data))
                fh.writelines(b.raw() for b in buffers)
            else:
                fh.write(_HEAD_MAGIC + seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_INHERITED: list[sqlite3.Connection] = []


def _checked_text(data: bytes | None, crc: int | None) -> str | None:
    """A stored text read as its UTF-8 bytes (``CAST(… AS BLOB)``), if they match their
    CRC-32 and decode; else None. (Read as TEXT, SQLite would decode the bytes only for this to
    encode them again for the check, and fail on bytes that are no UTF-8 at all.)"""
    if type(data) is not bytes or zlib.crc32(data) != crc:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class MarkupStore:
    """Rendered Markdown by cache key, shared by all worker processes through SQLite."""

    def __init__(self, path: Path):
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._pending: list[tuple[str, str, str, int, int]] = []
        self._ahead: dict[str, tuple] = {}  # rows read by prefetch() for html()

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross fork(): every process opens its own. A connection
        # inherited from the parent is kept referenced, never closed: closing it here would
        # run SQLite's close (checkpoint, WAL clean-up) on the parent's handle and can
        # corrupt the database. The pipeline also closes the store before forking.
        if self._conn is None or self._pid != os.getpid():
            if self._conn is not None:
                _INHERITED.append(self._conn)
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        attempts, removed = 5, False
        for attempt in range(1, attempts + 1):
            conn = None
            try:
                conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                # Check and set up the schema in one write transaction: without it, a process
                # that read "no schema yet" could drop the table another process had just
                # made and filled (lost rows, 1 in ~200 fresh stores opened by 4 at once).
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
                    row = conn.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
                    if row is None or row[0] != MARKUP_SCHEMA:  # new, or made by another version
                        conn.execute("DROP TABLE IF EXISTS markup")
                        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (MARKUP_SCHEMA,))
                    # html_crc and info_crc: CRC-32 of the UTF-8 of html and info (SQLite
                    # checks its structure, not the bytes of a value)
                    conn.execute("CREATE TABLE IF NOT EXISTS markup (key TEXT PRIMARY KEY, html TEXT, "
                                 "info TEXT, html_crc INTEGER, info_crc INTEGER)")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return conn
            except sqlite3.OperationalError:
                # busy or locked (OperationalError is a DatabaseError too): never a reason to
                # delete the file another process has open (that corrupts its connection)
                if conn is not None:
                    conn.close()
                if attempt == attempts:
                    raise
                time.sleep(0.1 * attempt)
            except sqlite3.DatabaseError:
                if conn is not None:
                    conn.close()
                if removed or attempt == attempts:
                    raise
                removed = True
                # a damaged cache file is only a cache: remove it and start again
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        os.unlink(str(self.path) + suffix)
        raise AssertionError("unreachable")

    def prepare(self) -> None:
        """Create, check or repair the database now, in this process: done before worker
        processes start, so that they never race to create (or remove) a fresh file."""
        self._connection()

    def info(self, key: str) -> markup.Markup | None:
        """Everything but the HTML (cheap), or None when not cached (or damaged: made again)."""
        row = self._connection().execute("SELECT CAST(info AS BLOB), info_crc FROM markup WHERE key=?",
                                         (key,)).fetchone()
        text = None if row is None else _checked_text(*row)
        if text is None:
            return None
        data = json.loads(text)
        headings = tuple(markup.Heading(*h) for h in data["headings"])
        return markup.Markup("", headings, data["summary"], tuple(data["links"]), data["words"])

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read the rows of these entries in one query, for the :meth:`html` calls that follow
        (the bodies of a chunk of pages): ~10 µs a page less than a query each."""
        self._ahead = {}
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), 500):  # SQLite's limit of parameters is 999 in old versions
            part = keys[start: start + 500]
            query = (f"SELECT key, CAST(html AS BLOB), html_crc FROM markup "
                     f"WHERE key IN ({','.join('?' * len(part))})")
            self._ahead.update((row[0], row[1:]) for row in self._connection().execute(query, part))

    def html(self, key: str) -> str:
        """The HTML of an entry that :meth:`render` made or found.

        Raises :class:`CacheDamaged` if it is gone (the cache folder was deleted during the
        build) or damaged: the build then removes the damaged entries (:meth:`drop_damaged`)
        and starts again, cold, which makes them again.
        """
        row = self._ahead.pop(key, None)
        if row is None:
            row = self._connection().execute("SELECT CAST(html AS BLOB), html_crc FROM markup WHERE key=?",
                                             (key,)).fetchone()
        text = None if row is None else _checked_text(*row)
        if text is not None:
            return text
        raise CacheDamaged(f"the Markdown cache's entry {key} is {'damaged' if row else 'missing'}")

    def put(self, key: str, result: markup.Markup) -> None:
        """Queue an entry; it is written by :meth:`flush` (or at the end of :meth:`batch`)."""
        info = json.dumps({"headings": [[h.level, h.id, h.text] for h in result.headings],
                           "summary": result.summary, "links": list(result.links), "words": result.words})
        self._pending.append((key, result.html, info, zlib.crc32(result.html.encode()), zlib.crc32(info.encode())))

    def flush(self) -> None:
        """Write queued entries in one short transaction.

        BEGIN IMMEDIATE takes the write lock up front, so concurrent workers wait for each
        other (busy timeout) instead of deadlocking on a read-to-write lock upgrade; the slow
        Markdown conversion happens before, outside any transaction.
        """
        if not self._pending:
            return
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO markup VALUES (?, ?, ?, ?, ?)", self._pending)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._pending.clear()

    def render(self, key: str, body: str, raw_html: bool) -> markup.Markup:
        """Cached :func:`careersite.markup.convert` (the HTML is left out of a cache hit)."""
        cached = self.info(key)
        if cached is not None:
            return cached
        for pending in self._pending:  # the same body twice in one batch
            if pending[0] == key:
                return markup.convert(body, raw_html)
        result = markup.convert(body, raw_html)
        self.put(key, result)
        return result

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Collect the writes of a block and flush them together (much faster than one by one)."""
        try:
            yield
        finally:
            self.flush()

    def drop_damaged(self) -> int:
        """Remove every entry whose checksums do not match (a build that found one starts again:
        ~0.3 s at 10,000 articles, where a damaged entry was found, not in every build)."""
        conn = self._connection()
        damaged = [(key,) for key, html, info, html_crc, info_crc in conn.execute(
                   "SELECT key, CAST(html AS BLOB), CAST(info AS BLOB), html_crc, info_crc FROM markup")
                   if _checked_text(html, html_crc) is None or _checked_text(info, info_crc) is None]
        if damaged:
            conn.executemany("DELETE FROM markup WHERE key=?", damaged)
        return len(damaged)

    def prune(self, live: set[str]) -> int:
        """Drop entries no current article uses, once they outnumber the live ones."""
        conn = self._connection()
        total = conn.execute("SELECT COUNT(*) FROM markup").fetchone()[0]
        if total <= 2 * len(live) + 1000:
            return 0
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM live")
        conn.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in live))
        removed = conn.execute("DELETE FROM markup WHERE key NOT IN (SELECT key FROM live)").rowcount
        return removed

    def close(self) -> None:
        self.flush()
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
