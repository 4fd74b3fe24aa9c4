"""The build, as one readable sequence of stages (see ARCHITECTURE.md):

    load config -> discover -> read (front matter + Markdown) -> site model -> plan pages
        -> render changed pages -> write into output/ -> save the cache state

``build()`` is also what ``serve`` calls on every change: it passes the state of the
previous build back in, so serve is an incremental build that stays warm and there is
one dependency-tracking mechanism, not two.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import json
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from . import __version__, markup, shards
from .cache import (
    STATE_FORMAT,
    CacheDamaged,
    MarkupStore,
    OutputFile,
    Reads,
    State,
    code_version,
    load_state,
    record_schema,
    same_read,
    save_state,
    state_path,
)
from .config import Config
from .content import Article, ReadResult, Shared, Source, content_hash, discover, read_article
from .early import Background as _Background
from .early import Start, build_lock, display_path, sources_digest, sources_of
from .early import found_sources as _found_sources
from .errors import BuildFailed, Problem
from .extras import feeds, search
from .model import LazyArticles, Site, article_sources, build_site, materialized, update_articles
from .render import (
    Page,
    Renderer,
    Theme,
    full_key,
    known_template_keys,
    make_environment,
    plan,
    remember_template_keys,
    replan,
    template_keys,
)
from .write import (
    Packer,
    check_output_dir,
    commit_changes,
    commit_full,
    finish_removals,
    remove_stale_staging,
    scan_output,
    stage_file,
    staging_dir,
)

Progress = Callable[[str, int, int], None]  # (stage, done, total)

#: A source modified less than this long before a build started may change again without its
#: mtime moving (file systems with coarse clocks: FAT's 2 s): the next build does not trust
#: its stat and reads it again.
STAT_DOUBT_NS = 2_000_000_000


@dataclass
class BuildOptions:
    jobs: int = 0  # worker processes; 0 = one per core
    full: bool = False  # ignore the previous output and state (a cold build)
    shard: tuple[int, int] | None = None  # (K, N): render only shard K of N (1-based), no site-wide files
    merge_from: tuple[Path, ...] = ()  # shard output folders whose pages to take instead of rendering
    strict: bool = False  # warnings are errors: the build fails before writing anything
    progress: Progress | None = None
    log: Callable[[str], None] = lambda message: None
    # Keep the previous search index when only it is out of date (serve: reload first, then
    # build again without this flag; report.deferred says whether that is needed).
    search_defer: bool = False
    # A warm rebuild (serve): ``state`` is the caller's in-memory record of the previous build
    # into the same private folder. Its record of the output files is trusted instead of
    # rescanning them, and the state is not written to disk (the caller keeps it; a later
    # build without this flag writes it). Never use it for an output folder others may touch.
    warm: bool = False
    # The caller keeps ``report.state`` beyond this build (serve): the state is read into
    # memory, not mapped from the cache's files (see cache.load_state).
    keep_state: bool = False


@dataclass
class BuildReport:
    """What a build did, for the CLI, serve, CI summaries and tests."""

    articles: int = 0
    pages: int = 0
    rendered: int = 0  # pages whose key changed and were rendered
    written: int = 0  # files whose bytes changed and were written
    removed: int = 0
    cold: bool = True
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # relpaths written or removed
    deferred: list[str] = field(default_factory=list)  # prefixes of bundles kept out of date (search_defer)
    model_updated: bool = False  # the previous model and plan were updated, not made anew
    state: State | None = None


def build(config: Config, options: BuildOptions | None = None, state: State | None = None,
          start: Start | None = None) -> BuildReport:
    """Build the site of ``config`` into ``config.output_dir``.

    Raises :class:`~careersite.errors.BuildFailed` with every problem found; output/
    is then left exactly as it was. Pass the ``state`` of a previous report to skip
    reading it from the cache (as serve does). ``start``: the build's child processes,
    started by a caller that holds the build lock already (the command line, see early.py).
    """
    options = options or BuildOptions()
    report = BuildReport()
    clock = _Clock(report)
    locked = contextlib.nullcontext() if start is not None else build_lock(config.cache_dir, options.log)
    with _gc_paused(), locked:
        problems = check_output_dir(config)
        if problems:
            raise BuildFailed(problems)
        remove_stale_staging(config.output_dir)
        clock("discover")
        started_ns = time.time_ns()  # before any stat is read: see read_sources on trusting stats
        scan = finder = None
        try:
            if start is not None and start.finder is not None and not options.warm and not options.full:
                scan, finder, started_ns = start.scan, start.finder, start.started_ns
            elif not options.warm and not options.full:
                # Two child processes: one stats every output file (to find damaged, deleted or
                # foreign ones), the other finds the sources, while this one loads the state (~0.15 s
                # at 10,000 articles). Forked first, while this process is small (a child forked from
                # a large one makes each page the parent writes to afterwards a copy-on-write fault).
                scan = _Background(scan_output, config.output_dir)
                finder = _Background(_found_sources, config.content_dir)
            noop = False
            if finder is None:
                sources = discover(config.content_dir)
                noop = state is None and _nothing_changed(config, sources, options, report)
            elif state is not None:
                sources = sources_of(finder)
            else:
                # A proven no-op (see _nothing_changed) ends the state's loading as soon as the
                # sources are found: at 100,000 articles the whole state takes seconds to load.
                found: list[Any] = []  # [sources, nothing changed]

                def nothing_changed(wait: bool = False) -> bool:
                    if not found and (wait or finder.ready()):
                        found.extend((sources := sources_of(finder),
                                      _nothing_changed(config, sources, options, report, scan)))
                    return bool(found) and found[1]

                clock("state")
                state = load_state(config.cache_dir, config.output_dir, stop=nothing_changed,
                                   mapped=not options.keep_state)
                nothing_changed(wait=True)  # (the state may have loaded first: a small or new site)
                sources, noop = found
            if noop:
                clock(None)
                if options.strict and report.warnings:
                    raise BuildFailed([dataclasses.replace(p, severity="error") for p in report.warnings])
                return report
            if options.full:
                state = State()
            elif state is None:
                clock("state")
                state = load_state(config.cache_dir, config.output_dir, mapped=not options.keep_state)
            try:
                new_state, site, outputs = _build_from(config, options, state, sources, started_ns, scan, report,
                                                       clock)
            except CacheDamaged as exc:  # a stored entry that cannot be read: start again, cold
                options.log(f"{exc}; building without the cache's state")
                drop_damaged(config)
                _last_model.pop(str(config.output_dir), None)
                report.stages.clear()
                try:
                    new_state, site, outputs = _build_from(config, options, State(), sources, started_ns, scan,
                                                           report, clock)
                except CacheDamaged as again:
                    raise CacheDamaged(f"{again}, again after starting over without the cache's state: is "
                                       f"something else changing or deleting {config.cache_dir}? Build again "
                                       "once it has stopped") from again
        finally:
            for child in (finder, scan):
                if child is not None:
                    child.close()
            finish_removals()
    clock(None)
    report.articles, report.pages, report.state = len(site.articles), len(outputs), new_state
    return report


def drop_damaged(config: Config) -> None:
    """Before a build starts again for a damaged cache: the Markdown results whose checksums
    do not match go (the state is not used by that build)."""
    store = MarkupStore(config.cache_dir / "markup.sqlite3")
    try:
        store.drop_damaged()
    finally:
        store.close()


def _build_from(config: Config, options: BuildOptions, state: State, sources: list[Source], started_ns: int,
                scan: _Background | None, report: BuildReport, clock: _Clock) -> tuple[State, Site, dict]:
    """The build once its sources and the previous state are known (see :func:`build`)."""
    store = MarkupStore(config.cache_dir / "markup.sqlite3")
    try:
        found = analyse(sources, config, state, store, options, clock)
        read, site, theme, pages, env = found.read, found.site, found.theme, found.pages, found.env
        problems = found.problems
        report.model_updated = found.model_updated
        report.warnings = [shown(config, p) for p in site.warnings]
        if options.strict:
            problems += [dataclasses.replace(p, severity="error") for p in site.warnings]
        if problems:
            raise BuildFailed([shown(config, p) for p in problems])
        from_files: dict[str, Path] = {}
        if options.shard:
            pages = shards.select(site, pages, *options.shard)
        elif options.merge_from:
            from_files = shards.collect(options.merge_from, site, pages, shards.fingerprint(site, theme))
        clock("render")
        outputs = write_site(site, theme, env, pages, state, store, options, report, from_files,
                             on_disk=scan.result() if scan is not None and state.outputs else None)
        clock("cache")
        new_state = State(parse_digest=_parse_digest(config), started_ns=started_ns, sources=read,
                          outputs=outputs)
        if not options.warm and not _unchanged(state, new_state, sources):  # a no-op leaves the cache as it is
            new_state.model = model_snapshot(config, theme, site, found.pages, found.plan_problems)
            save_state(config.cache_dir, config.output_dir, new_state, previous=state)
            new_state.model = None  # on disk for the next build; not kept in memory (serve)
        if not options.warm and not report.deferred and not options.shard and not options.merge_from:
            _save_signature(config, sources, theme, outputs, started_ns, report, len(site.articles))
        if not options.warm:  # serve's quick rebuilds leave it to its idle full build
            store.prune(read.body_keys())
    finally:
        store.close()
        _worker.clear()  # (the renderer holds the whole site; its state maps the chunk files)
    return new_state, site, outputs


# --- the no-op fast path -------------------------------------------------------------------
#
# A proven no-op must not cost a load of the whole state (at 100,000 articles that is
# seconds). After each build a small signature records a hash of every source's stat, the
# config, the templates and the package version, and of every output file's size and
# mtime. A build that finds the same hashes, and no source modified so recently that its
# stat cannot be trusted, has nothing to do; it replays the warnings of the build that
# wrote the signature, so --strict still fails where it failed before.

def _signature_path(config: Config) -> Path:
    return state_path(config.cache_dir, config.output_dir).with_suffix(".signature.json")


def _inputs_hash(config: Config, sources: list[Source], theme: Theme) -> str:
    # also what the cache's format depends on, so the first build after an upgrade rewrites it
    tools = f"{STATE_FORMAT}|{record_schema()}|{search.pagefind_binary(config)[1] if config.search else ''}"
    tools += f"|{feeds.source_date_epoch()}"  # the time of undated feed entries
    h = hashlib.sha256(f"{code_version()}|{_parse_digest(config)}|{config.digest()}|{theme.digest}|{tools}".encode())
    h.update(sources_digest(sources).encode())
    return h.hexdigest()


def _outputs_hash(files: dict[str, tuple[int, int]]) -> str:
    return hashlib.sha256("".join(f"{rel}\0{size}\0{mtime}\n" for rel, (size, mtime)
                                  in sorted(files.items())).encode()).hexdigest()


def _save_signature(config: Config, sources: list[Source], theme: Theme, outputs: dict[str, OutputFile],
                    started_ns: int, report: BuildReport, articles: int) -> None:
    data = {"inputs": _inputs_hash(config, sources, theme), "started_ns": started_ns,
            "outputs": _outputs_hash({rel: (o.size, o.mtime_ns) for rel, o in outputs.items()}),
            "pages": len(outputs), "articles": articles,
            "warnings": [[p.path, p.line, p.column, p.message, p.hint, p.severity] for p in report.warnings]}
    path = _signature_path(config)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _nothing_changed(config: Config, sources: list[Source], options: BuildOptions, report: BuildReport,
                     scan: _Background | None = None) -> bool:
    """True when the last build's signature proves that this build would change nothing."""
    if options.full or options.shard or options.merge_from or getattr(sources, "problems", None):
        return False  # (entries that discover could not take fail the build: never a no-op)
    try:
        saved = json.loads(_signature_path(config).read_text(encoding="utf-8"))
        trusted_before = saved["started_ns"] - STAT_DOUBT_NS
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if any(s.changed_ns >= trusted_before for s in sources):
        return False
    if _inputs_hash(config, sources, Theme.load(config.templates_dir)) != saved["inputs"]:
        return False
    if _outputs_hash(scan.result() if scan is not None else scan_output(config.output_dir)) != saved["outputs"]:
        return False
    report.cold = False
    report.pages, report.articles = saved["pages"], saved["articles"]
    report.warnings = [Problem(*w) for w in saved["warnings"]]
    return True


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector in this process during a build.

    A build makes millions of small objects that live until its end (at 100,000 articles:
    the state holds ~1.5 million tuples); each collection rescans them all, which made
    loading the state take 5.3 s instead of 1.3 s. The build's data is acyclic and freed by
    reference counting. Forked workers turn the collector back on (Jinja's contexts do make
    cycles, and a worker renders tens of thousands of pages).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Analysis:
    """Everything a build knows before it renders: shared by ``build`` and ``check``."""

    read: Reads  # every source, drafts included
    site: Site  # drafts only with config.drafts
    theme: Theme
    pages: list[Page]
    env: jinja2.Environment
    problems: list[Problem]  # errors of the articles, the model, the plan and the templates
    templates_ok: bool  # every template compiled
    plan_problems: list[Problem] = field(default_factory=list)  # the plan's own (also in problems)
    model_updated: bool = False


def analyse(sources: list[Source], config: Config, state: State, store: MarkupStore, options: BuildOptions,
            clock: Callable[[str], None] = lambda stage: None) -> Analysis:
    """Read the sources (reusing ``state``), build the site model, plan the pages, compile templates."""
    clock("read")
    read = read_sources(sources, config, state, store, options)
    listed = read.listed(config.drafts)
    problems = [*getattr(sources, "problems", ()), *read.problems()]  # (see early.Found)
    clock("model")
    theme = Theme.load(config.templates_dir)
    if options.warm:  # serve: the model of this process's last build into that folder
        patched = _patched(config, theme, read, listed, _last_model.get(str(config.output_dir)))
    else:  # the model of the build that wrote the state
        patched = _patched(config, theme, read, listed, _from_snapshot(config, state, theme))
        state.model = None  # used or not, free it before the workers fork (~100 MB at 100,000 articles)
    if patched is None:
        site = build_site(read.articles(listed), config)
        pages, plan_problems = plan(site, theme)
    else:
        site, pages, plan_problems = patched
    _last_model.pop(str(config.output_dir), None)  # (re)insert last: the oldest entry goes first
    _last_model[str(config.output_dir)] = (config, theme.static_digest, listed, list(map(read.raw, listed)), site,
                                           pages, plan_problems)
    while len(_last_model) > 2:  # a process building several sites keeps the latest two
        del _last_model[next(iter(_last_model))]
    env, template_problems = environment(config, theme)
    problems += [*site.problems, *plan_problems, *template_problems]
    return Analysis(read, site, theme, pages, env, problems, not template_problems, plan_problems,
                    patched is not None)


# The model and plan of this process's last analysis per output folder: (config, static digest,
# the listed sources, their raw read entries (see Reads.raw), site, pages, plan problems). A
# warm rebuild (serve) whose articles differ from it only in what leaves terms, URLs and names
# as they are (bodies, titles, salaries, dates, tags: the common edits) updates them instead
# of building them again: at 10,000 articles ~5-20 ms instead of ~150-200 ms.
_last_model: dict[str, tuple[Config, str, list[str], list[tuple], Site, list[Page], list[Problem]]] = {}


def _patched(config: Config, theme: Theme, read: Reads, listed: list[str], last: tuple | None
             ) -> tuple[Site, list[Page], list[Problem]] | None:
    """``last`` (see _last_model) updated for the ``listed`` articles of ``read``, or None where
    it must be made anew. An article whose raw entry is the one ``last`` had is unchanged (an
    unchanged source carries its entry over, see read_sources); only changed ones are unpickled."""
    if last is None:
        return None
    old_config, old_theme, old_listed, old_raw, site, pages, plan_problems = last
    if old_config != config or old_theme != theme.static_digest or old_listed != listed:
        return None
    changes: dict[int, Article] = {}
    raw = read.raw
    for relpath, old in zip(old_listed, old_raw, strict=True):
        if raw(relpath) is old or same_read(raw(relpath), old):
            continue
        index = site.by_source.get(relpath)
        new = read.article(relpath)
        if index is None or new is None or new.source != relpath:
            return None
        changes[index] = new
    if not changes:
        return site, pages, plan_problems
    updated = update_articles(site, changes)
    if updated is None:
        return None
    site, terms, peers, site_wide = updated
    return site, replan(site, theme, pages, set(changes), terms, peers, site_wide), plan_problems


def model_snapshot(config: Config, theme: Theme, site: Site, pages: list[Page], plan_problems: list[Problem]
                   ) -> tuple:
    """The model and plan of a build, for its state: without the articles (the state holds them
    already; the snapshot lists their sources in model order), with the pages as plain tuples
    (pickled in C: 8 ms at 10,000 pages, as Page records 18). At 10,000 articles it loads in
    ~20 ms; making the model and plan takes ~200 ms."""
    return (_config_key(config), theme.static_digest, article_sources(site.articles),
            dataclasses.replace(site, config=None, articles=(), memo={}), [tuple(p) for p in pages], plan_problems,
            (theme.digest, known_template_keys(theme)))


def _from_snapshot(config: Config, state: State, theme: Theme) -> tuple | None:
    """The previous build's model and plan from ``state`` in the shape of ``_last_model``."""
    if state.model is None:
        return None
    try:
        key, theme_digest, order, stripped, rows, plan_problems, (digest, template_keys) = state.model
        if digest == theme.digest and template_keys:
            remember_template_keys(digest, template_keys)
        if key != _config_key(config):
            return None
        reads = state.sources
        if not all(source in reads and reads.has_article(source) for source in order):
            return None
        site = dataclasses.replace(stripped, config=config, articles=LazyArticles(order, reads.article, reads.articles),
                                   memo={})
        listed = reads.listed(config.drafts)
        return (config, theme_digest, listed, list(map(reads.raw, listed)), site,
                list(map(functools.partial(tuple.__new__, Page), rows)), plan_problems)
    except (KeyError, ValueError, TypeError, AttributeError):  # not a snapshot this code wrote: make anew
        return None


def _config_key(config: Config) -> str:
    """Everything besides the articles and the theme that the model and plan read (the code
    that made them is the state's: see cache.code_version)."""
    return hashlib.sha256(f"{config.digest()}|{feeds.source_date_epoch()}".encode()).hexdigest()


def _unchanged(old: State, new: State, sources: list[Source]) -> bool:
    """True when saving ``new`` would store nothing that ``old`` does not hold already.

    Its later ``started_ns`` counts where it matters: a source written within STAT_DOUBT_NS
    before ``old``'s build started is read again by every build that starts from ``old``
    (see read_sources), even when nothing changed; once ``new`` is saved, the sources written
    before its own start's doubt window are trusted by their stat. Without this, a site
    copied or checked out just before a build read its whole content again on each later
    build until some real change saved the state (10,000 articles: ~3.5 s instead of ~0.1 s).
    """
    doubted_from, doubted_now = old.started_ns - STAT_DOUBT_NS, new.started_ns - STAT_DOUBT_NS
    if any(doubted_from <= s.changed_ns < doubted_now for s in sources):
        return False
    return (old.parse_digest == new.parse_digest and old.outputs == new.outputs
            and old.sources.keys() == new.sources.keys()
            and all(old.sources.raw(k) is v or old.sources[k] == new.sources[k] for k, v in new.sources.raw_items()))


class _Clock:
    """Records how long each stage took (shown with -v and in the CI summary)."""

    def __init__(self, report: BuildReport):
        self.report, self.stage, self.start, self.t0 = report, None, time.perf_counter(), time.perf_counter()

    def __call__(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self.stage:
            self.report.stages[self.stage] = now - self.start
        self.stage, self.start = stage, now
        self.report.seconds = now - self.t0


def shown(config: Config, problem: Problem) -> Problem:
    """Give a problem in a content file the path an author can open (relative to the working folder)."""
    if problem.path.endswith((".md", "/")) and not os.path.isabs(problem.path):  # (a folder: see discover)
        return dataclasses.replace(problem, path=display_path(config.content_dir / problem.path))
    return problem


def _parse_digest(config: Config) -> str:
    return hashlib.sha256(f"{__version__}|{markup.VERSION}|{config.parse_digest()}".encode()).hexdigest()


# --- reading ----------------------------------------------------------------------------

_worker: dict[str, Any] = {}  # set before fork(); read by worker processes


def read_sources(sources: list[Source], config: Config, state: State, store: MarkupStore,
                 options: BuildOptions) -> Reads:
    """Parse every source whose stat changed since the last build; reuse the rest (their
    entries as they are: a stored one is not unpickled, see Reads)."""
    previous = Reads.of(state.sources)
    reuse = state.parse_digest == _parse_digest(config)
    reusable = previous.raw if reuse else {}.get
    # A file written within STAT_DOUBT_NS of the last build's start may have changed without
    # its mtime moving (coarse file-system clocks): re-read it rather than trust its stat.
    trusted_before = state.started_ns - STAT_DOUBT_NS
    result: dict[str, tuple] = {}
    dirty: list[Source] = []
    for source in sources:
        old = reusable(source.relpath)
        if old is not None and old[0] == source and source.changed_ns < trusted_before:
            result[source.relpath] = old
        else:
            dirty.append(source)
    # (the workers check a dirty source's bytes against its stored article first: see _read_chunk)
    _worker.update(config=config, store=store, previous=previous if reuse else None)
    done = 0
    shared = Shared()
    for chunk in _parallel(_read_chunk, _chunks(dirty, 64), options.jobs, len(dirty)):
        for source, read in chunk:
            if read is None:
                # its stat moved (a checkout, a copy, a save without changes) or is too recent
                # to trust, but its bytes are those the stored article was read from: the same
                # read result, with the new stat
                old = reusable(source.relpath)
                result[source.relpath] = old if old[0] == source else (source, *old[1:])
                continue
            if read.article is not None:
                read = ReadResult(shared.article(read.article), read.problems)
            entry = (source, read)
            old = reusable(source.relpath)
            # read again (its stat was too recent to trust) and found as it was: keep the old entry,
            # so that what comes after sees it unchanged (and the state need not store it again)
            if old is not None and old[0] == source and previous[source.relpath] == entry:
                entry = old
            result[source.relpath] = entry
        done += len(chunk)
        if options.progress:
            options.progress("read", done, len(dirty))
    return previous.with_entries({k: result[k] for k in sorted(result)})


def _same_bytes(path: str, previous: Reads, relpath: str) -> bool:
    """True when the file holds the bytes its stored article was read from (its content hash).

    Reading and hashing a file is ~30 µs against ~300 µs to parse it again (~5 KB: YAML,
    validation, the Markdown result fetched from the cache), so a source whose stat cannot
    be trusted is checked this way first. The article is a function of the file's bytes, its
    path and the parse settings (``_parse_digest``, checked by the caller) only. A source
    stored without an article (its problems) is read again.
    """
    if relpath not in previous or not previous.has_article(relpath):
        return False
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return False
    return content_hash(data) == previous.content_hash(relpath)


def _read_chunk(sources: Sequence[Source]) -> list[tuple[Source, ReadResult | None]]:
    """Each source's read result, or None where its bytes are those of its stored article."""
    config: Config = _worker["config"]
    store: MarkupStore = _worker["store"]
    previous: Reads | None = _worker["previous"]
    content = f"{config.content_dir}{os.sep}"
    out: list[tuple[Source, ReadResult | None]] = []
    with store.batch():
        for source in sources:
            if previous is not None and _same_bytes(content + source.relpath, previous, source.relpath):
                out.append((source, None))
                continue
            read = read_article(config.content_dir / source.relpath, source.relpath, source.relpath,
                                locale=config.locale, currency=config.currency, period=config.period,
                                raw_html=config.raw_html,
                                render_body=lambda key, body: store.render(key, body, config.raw_html))
            out.append((source, read))
    return out


# --- rendering and writing ----------------------------------------------------------------

_environments: dict[tuple[str, ...], jinja2.Environment] = {}


def environment(config: Config, theme: Theme) -> tuple[jinja2.Environment, list[Problem]]:
    """The Jinja2 environment with every template compiled, and all template syntax errors.

    Compiling once up front reports every broken template together, and compiled templates
    are inherited by forked workers. The environment is kept while config and templates are
    unchanged, so serve's rebuilds do not compile again.
    """
    # the folders too: the digests ignore where the templates and the cache are
    key = (config.digest(), theme.digest, str(config.templates_dir.resolve()), str(config.cache_dir.resolve()))
    if key in _environments:
        return _environments[key], []
    env = make_environment(config)
    problems = []
    for name in env.list_templates(extensions=["html", "xml"]):
        if name.startswith("static/"):
            continue
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(_template_path(config, exc.filename or name), exc.lineno or 0, 0,
                                    f"template syntax error: {exc.message}",
                                    "check the {% %} and {{ }} tags on this line"))
    for required in ("base.html", "index.html", "city.html", "profession.html", "region.html", "state.html",
                     "article.html", "professions.html", "404.html"):
        if not (config.templates_dir / required).is_file():
            problems.append(Problem(_template_path(config, required), 0, 0, "template is missing",
                                    "restore it from the careersite repository's templates/ folder"))
    if not problems:
        _environments.clear()
        _environments[key] = env
    return env, problems


def _template_path(config: Config, name: str) -> str:
    path = Path(name)
    if not path.is_absolute():
        path = config.templates_dir / name
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Bundle:
    """Files made together by one generator (e.g. the search index), all below ``prefix``.

    Like a page, a bundle has a key; when it is unchanged and its files are intact, the
    generator does not run. Its files are written like pages: staged, then put in place,
    unchanged bytes not rewritten.
    """

    prefix: str
    key: str
    make: Callable[[dict[str, str]], dict[str, bytes]]  # given relpath -> sha of the pages, the files
    defer: bool = False  # keep intact previous files even when the key changed (report.deferred)


def bundles(site: Site, store: MarkupStore, options: BuildOptions, pages: list[Page]) -> list[Bundle]:
    """The generated file sets of this build (the Pagefind index, when search is on)."""
    if options.shard:
        return [shards.manifest_bundle(site, pages, options.shard)]
    if site.config.search:
        return [Bundle(search.PREFIX, search.key(site), lambda hashes: search.files(site, store.html),
                       defer=options.search_defer)]
    return []


def write_site(site: Site, theme: Theme, env: jinja2.Environment, pages: list[Page], state: State,
               store: MarkupStore, options: BuildOptions, report: BuildReport,
               from_files: dict[str, Path] | None = None,
               on_disk: dict[str, tuple[int, int]] | None = None) -> dict[str, OutputFile]:
    """Render what changed into a staging folder, then put it in place (see write.py).

    ``from_files`` maps pages to files holding their bytes already (shards being merged);
    ``on_disk`` is what :func:`scan_output` found in the output folder, if already known.
    """
    config = site.config
    output = config.output_dir
    if options.warm and state.outputs and not options.full:
        on_disk = {rel: (rec.size, rec.mtime_ns) for rel, rec in state.outputs.items()}
    elif on_disk is None:
        on_disk = scan_output(output) if state.outputs and not options.full else {}
    incremental = bool(on_disk)
    report.cold = not incremental
    old = state.outputs if incremental else {}

    def intact(relpath: str) -> bool:  # the output file is the one the previous build wrote
        rec = old.get(relpath)
        return rec is not None and on_disk.get(relpath) == (rec.size, rec.mtime_ns)

    tkeys = template_keys(theme, env)
    # Every file of the new site -> its key, or the page whose full_key() it is: made once the
    # workers are done (at 100,000 pages the strings are ~10 MB, in every worker's memory too).
    keys: dict[str, str | Page] = {}
    todo = []
    old_sha: dict[str, str] = {}  # of the intact output files of pages to render (same bytes: not written)
    # the template part of each kind's keys (see full_key), looked up in this loop: 21,000
    # pages in serve take 9 ms
    suffix = {kind: full_key(Page("", kind), tkeys) for kind in {p.kind for p in pages}}
    for p in pages:
        relpath = p.relpath
        before = old.get(relpath)
        if before is None:
            keys[relpath] = p
        else:
            on_disk_intact = on_disk.get(relpath) == (before.size, before.mtime_ns)
            if before.key == p.key + suffix[p.kind]:
                keys[relpath] = before.key
                if on_disk_intact:
                    continue
            else:
                keys[relpath] = p
            if on_disk_intact:
                old_sha[relpath] = before.sha
        todo.append(p)
    if len(todo) >= _PARALLEL_FROM:  # forked workers would each unpickle lazy articles again
        site = materialized(site)
    staging = staging_dir(output)
    packer = None
    try:
        renderer = Renderer(site, theme, store.html, env)
        # an incremental build appends its changed files to packs (see write.Packer)
        packer = Packer(staging) if incremental else None
        _worker.update(renderer=renderer, store=store, from_files=from_files or {},
                       old=old_sha,
                       stage=packer.add if packer else functools.partial(stage_file, staging))
        # relpath -> (sha, size, where): where is None if the output holds these bytes already,
        # else True (cold build) or the file's place in a pack
        rendered: dict[str, tuple[str, int, Any]] = {}
        problems: list[Problem] = []
        done = 0
        for chunk in _parallel(_render_chunk, _chunks(_balanced(todo), _RENDER_CHUNK), options.jobs, len(todo)):
            for relpath, outcome in chunk:
                if isinstance(outcome, Problem):
                    problems.append(outcome)
                else:
                    rendered[relpath] = outcome
            done += len(chunk)
            if options.progress:
                options.progress("render", done, len(todo))
        if problems:
            raise BuildFailed(_group(problems))
        for bundle in bundles(site, store, options, pages):
            previous = [rel for rel in old if rel.startswith(bundle.prefix)]
            if previous and all(intact(rel) and (bundle.defer or old[rel].key == bundle.key) for rel in previous):
                keys.update((rel, old[rel].key) for rel in previous)
                if any(old[rel].key != bundle.key for rel in previous):
                    report.deferred.append(bundle.prefix)
                continue
            hashes = {rel: rendered[rel][0] if rel in rendered else old[rel].sha for rel in sorted(keys)}
            old_sha.update((rel, old[rel].sha) for rel in previous if intact(rel))
            for relpath, data in sorted(bundle.make(hashes).items()):
                keys[relpath] = bundle.key
                rendered[relpath] = _stage(relpath, data, _worker["old"])
        changed = sorted(rel for rel, (_, _, where) in rendered.items() if where)
        removed = sorted(rel for rel in on_disk if rel not in keys)
        if packer:
            packer.close()
            stats = commit_changes(staging, output, {rel: rendered[rel][2] for rel in changed}, removed)
        else:
            commit_full(staging, output)
            stats = {}
    except BaseException:
        if packer:
            packer.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    outputs: dict[str, OutputFile] = {}
    for relpath, key in keys.items():
        if not isinstance(key, str):
            key = full_key(key, tkeys)
        if relpath not in rendered:
            outputs[relpath] = old[relpath]
            continue
        sha, size, where = rendered[relpath]
        if where:
            if relpath in stats:
                outputs[relpath] = OutputFile(key, sha, *stats[relpath])
            else:
                st = os.stat(os.path.join(output, relpath))
                outputs[relpath] = OutputFile(key, sha, st.st_size, st.st_mtime_ns)
        else:
            outputs[relpath] = OutputFile(key, sha, old[relpath].size, old[relpath].mtime_ns)
    report.rendered, report.written, report.removed = len(rendered), len(changed), len(removed)
    report.changed = changed + removed
    return outputs


def _stage(relpath: str, data: bytes, old: dict[str, str]) -> tuple[str, int, Any]:
    """Write ``data`` into the staging folder (``_worker["stage"]``) unless the output already holds these bytes."""
    sha = hashlib.sha256(data).hexdigest()
    if old.get(relpath) == sha:
        return sha, len(data), None  # same bytes: keep the file and its mtime
    return sha, len(data), _worker["stage"](relpath, data) or True


def _render_chunk(pages: Sequence[Page]) -> list[tuple[str, Any]]:
    renderer: Renderer = _worker["renderer"]
    old: dict[str, str] = _worker["old"]
    out: list[tuple[str, Any]] = []
    from_files: dict[str, Path] = _worker["from_files"]
    if not from_files:
        _worker["store"].prefetch(renderer.body_keys(pages))
    for page in pages:
        try:
            data = from_files[page.relpath].read_bytes() if page.relpath in from_files else renderer.render(page)
        except CacheDamaged:
            raise
        except Exception as exc:  # a template error: report it like a content error
            out.append((page.relpath, render_problem(renderer.config, page, exc)))
            continue
        out.append((page.relpath, _stage(page.relpath, data, old)))
    return out


def _group(problems: list[Problem]) -> list[Problem]:
    """One message per template error, not one per page it broke ("… and 116 more pages")."""
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        message = problem.message.rsplit(" (while rendering ", 1)[0]
        groups.setdefault((problem.path, problem.line, message), []).append(problem)
    out = []
    for (path, line, message), items in groups.items():
        pages = sorted(p.message.rsplit(" (while rendering ", 1)[-1].rstrip(")") for p in items)
        more = f" and {len(pages) - 1} more page{'s' if len(pages) > 2 else ''}" if len(pages) > 1 else ""
        out.append(Problem(path, line, 0, f"{message} (while rendering {pages[0]}{more})", items[0].hint))
    return out


def render_problem(config: Config, page: Page, exc: Exception) -> Problem:
    """Locate a rendering error in the template that raised it."""
    templates = str(config.templates_dir)
    line, where = 0, ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith(templates):
            where, line = filename, lineno
    message = f"{type(exc).__name__}: {exc} (while rendering {page.relpath})"
    if where:
        return Problem(_template_path(config, where), line, 0, message,
                       "fix the template, or the value it uses")
    return Problem(page.relpath, 0, 0, message, "this is a bug in careersite; please report it")


# --- parallel map -----------------------------------------------------------------------------

def _chunks(items: list, size: int) -> list[list]:
    return [items[i: i + size] for i in range(0, len(items), size)]


def _balanced(pages: list[Page]) -> list[Page]:
    """Hubs first: they are the slowest pages, so no worker is left with one at the end."""
    weight = {"index": 0, "professions": 0, "city": 1, "profession": 1, "region": 2, "state": 2}
    return sorted(pages, key=lambda p: weight.get(p.kind, 3))


_PARALLEL_FROM = 200  # items; fewer are done in this process
#: Pages per task sent to a render worker: each task costs the parent a round trip (pickling
#: it, reading and unpickling its results); at 64, a template edit at 10,000 articles took a
#: median 4.14 s against 4.21 s at 32 (five runs each, alternated), and the last task to
#: finish keeps one core waiting ~20 ms on average.
_RENDER_CHUNK = 64


def _worker_gc() -> None:
    """A worker's garbage collector: on, but run after every 50,000 allocations, not every 700.

    Rendering a page allocates thousands of objects that reference counting frees (an article
    page makes no cycles at all); at Python's default a young-generation collection ran every
    few hundred, ~12% of a page's time. Cycles still get collected, in batches.
    """
    gc.set_threshold(50_000, 10, 10)
    gc.enable()


def _parallel(fn: Callable, chunks: list, jobs: int, total: int) -> Iterable:
    """``map(fn, chunks)`` in forked worker processes, streaming results back in any order.

    Small workloads run in this process: starting workers costs more than it saves.
    """
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or total < _PARALLEL_FROM or len(chunks) < 2 or not hasattr(os, "fork"):  # (Windows: no fork)
        yield from map(fn, chunks)
        return
    # here: a build that renders a few pages never needs it (multiprocessing: ~5 ms to import)
    from .workers import forked_map
    store = _worker.get("store")
    if store is not None:
        store.prepare()  # workers find the database made (two workers creating it raced)
        store.close()  # never fork with an open SQLite connection (see MarkupStore._connection)
    # Workers collect cycles (Python-Markdown makes a few per article), but must not scan what
    # they inherit: a full collection walks every object of the parent (the model, the state:
    # millions) and, by touching each, copies every memory page of it (copy-on-write). Frozen
    # objects are skipped.
    gc.freeze()
    try:
        yield from forked_map(fn, chunks, min(jobs, len(chunks)), initializer=_worker_gc)
    finally:
        gc.unfreeze()
