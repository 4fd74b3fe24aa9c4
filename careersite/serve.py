"""Live preview: ``python build.py serve`` rebuilds on save and reloads the browser.

Three parts, each usable on its own (the tests do):

:class:`Preview`
    The warm incremental build. It builds into a folder of its own (``<cache>/serve``,
    never output/), with drafts shown, and passes each build's ``report.state`` back into
    :func:`careersite.pipeline.build`: serve has no dependency tracking of its own, it *is*
    the incremental build, kept warm. A failed build keeps the last good site on disk and
    remembers the problems, which the browser is shown instead of any HTML page.
:class:`ChangeWatcher`
    livereload's ``Watcher`` API (``Server.watch(path, func, delay)``) with event-driven,
    debounced change detection. livereload's own polling watcher stops at the first changed
    file of each 0.8 s poll, so a burst of N saves (``git checkout``, an editor writing
    several files) runs N rebuilds, and its ``delay`` only postpones the browser reload,
    not the task; its ``poll_tasks`` also drops reloads that follow the previous one within
    1–3 s, so a fix saved right after a mistake would leave the browser on the error page.
    Here every change (inotify on Linux, stat polling elsewhere) restarts a ``delay`` timer;
    the task runs once when the files have been quiet for ``delay`` seconds.
:class:`SiteHandler`
    Serves files of the preview folder only. Requests with ``..``, backslashes, NUL,
    absolute paths or hidden segments (after tornado's single percent-decoding) are 404s,
    and the resolved file (symlinks followed) must lie inside the folder.

:class:`SearchUpdater`
    The search index (Pagefind) is made for the whole site at once, which takes far longer
    than the pages. Rebuilds keep the old index (``search_defer``), and the full build runs
    in a child process once the author pauses; the next save stops it.

livereload provides the rest: the ``Server``, the websocket protocol, livereload.js and
the script injected into every HTML response (also into the error page).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import html
import inspect
import ipaddress
import logging
import multiprocessing
import os
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from livereload import Server
from livereload.handlers import LiveReloadHandler
from livereload.handlers import StaticFileHandler as LiveStaticFileHandler
from livereload.watcher import Watcher
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback

from .config import Config
from .errors import BuildFailed, ConfigError, Problem, SiteError
from .pipeline import BuildOptions, BuildReport, build

#: Seconds without further changes before a rebuild starts: long enough to take an
#: editor's or git's burst of writes as one change, short enough to feel instant.
DEFAULT_DELAY = 0.1
#: A stream of changes that never pauses still gets a rebuild this often (seconds).
MAX_WAIT = 2.0
#: Stat polling interval where inotify is not available (seconds).
POLL_INTERVAL = 0.25
SERVE_FOLDER = "serve"  # below the cache folder
#: Seconds without changes before a deferred search index is brought up to date.
SEARCH_IDLE = 1.0


# --- the warm build ------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    """What one (re)build did."""

    ok: bool
    seconds: float
    report: BuildReport | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)
    reload: bool = False  # whether browsers should reload


class Preview:
    """The site as serve shows it: rebuilt incrementally into its own folder.

    ``load_config()`` is called for every build, so a change to config.yaml takes effect
    on the next save (and a broken config.yaml becomes an error page, not a crash).

    >>> preview = Preview(lambda: load_config(Path("config.yaml")))   # doctest: +SKIP
    >>> preview.build().ok                                            # doctest: +SKIP
    True
    """

    def __init__(self, load_config: Callable[[], Config], jobs: int = 0,
                 log: Callable[[str], None] = lambda message: None,
                 progress: Callable[[str, int, int], None] | None = None):
        self._load_config = load_config
        self.jobs = jobs
        self.log = log
        self.progress = progress
        self.config = self.serve_config(load_config())  # a broken config at start is the caller's error
        self.state = None
        self.problems: list[Problem] = []
        self.builds = 0

    @staticmethod
    def serve_config(config: Config) -> Config:
        """``config`` building into the cache's serve folder instead of output/."""
        return dataclasses.replace(config, output_dir=config.cache_dir / SERVE_FOLDER)

    @property
    def root(self) -> Path:
        """The folder the preview is served from."""
        return self.config.output_dir

    @property
    def ok(self) -> bool:
        return not self.problems

    def build(self, search_defer: bool = False) -> Outcome:
        """Rebuild what changed since the last build; never raises for a content problem.

        With ``search_defer`` a search index that is only out of date is kept as it is
        (``outcome.report.deferred`` says so): the pages come first, the index later.
        """
        started = time.perf_counter()
        was_ok = self.ok and self.builds > 0
        self.builds += 1
        try:
            self.config = self.serve_config(self._load_config())
            # quick rebuilds stay in memory (warm); the idle build that completes the search
            # index is a normal one and also writes the state to disk
            options = BuildOptions(jobs=self.jobs, progress=self.progress, log=self.log, search_defer=search_defer,
                                   warm=search_defer and self.state is not None, keep_state=True)
            report = build(self.config, options, state=self.state)
        except (BuildFailed, ConfigError) as exc:
            self.problems = list(exc.problems)
        except SiteError as exc:
            self.problems = [Problem(str(self.config.source or "config.yaml"), 0, 0, str(exc))]
        except Exception as exc:  # a bug must not stop the preview: show it like any other problem
            self.problems = [Problem("careersite", 0, 0, f"{type(exc).__name__}: {exc}",
                                     "this is a bug in careersite; please report it with the traceback "
                                     "printed in the terminal")]
            traceback.print_exc()
        else:
            self.state = report.state
            self.problems = []
            return Outcome(True, time.perf_counter() - started, report, [],
                           reload=bool(report.changed) or not was_ok)
        return Outcome(False, time.perf_counter() - started, None, self.problems, reload=True)


class SearchUpdater:
    """Brings files a fast rebuild deferred (the search index) up to date while the author pauses.

    Pagefind indexes the whole site at once: seconds at 1,000 articles, a minute at 10,000.
    So serve rebuilds with ``search_defer`` (the pages at once), and once nothing has
    changed for ``idle`` seconds, runs the full build in a forked child process. The next
    change stops that child first: a killed build leaves the output as it was (or, killed
    while committing, in a state the next build detects by stat and repairs), so the
    author never waits for the index. Without fork() the update runs in-process.
    """

    def __init__(self, preview: Preview, out, idle: float):
        self.preview, self.out, self.idle = preview, out, idle
        self._timer = None
        self._child = None
        self._started = 0.0
        self.exitcodes: list[int | None] = []  # of every update, finished or stopped (for tests)

    @property
    def running(self) -> bool:
        return self._child is not None

    def schedule(self) -> None:
        loop = IOLoop.current()
        if self._timer is not None:
            loop.remove_timeout(self._timer)
        self._timer = loop.call_later(self.idle, self._start)

    def cancel(self) -> None:
        """Stop a pending or running update (before a rebuild)."""
        if self._timer is not None:
            IOLoop.current().remove_timeout(self._timer)
            self._timer = None
        child, self._child = self._child, None
        if child is None:
            return
        IOLoop.current().remove_handler(child.sentinel)
        child.terminate()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
        self.exitcodes.append(child.exitcode)
        if child.exitcode == 0:
            self.preview.state = None  # it finished after all: its state (on disk) is the current one

    def _start(self) -> None:
        self._timer = None
        self._started = time.perf_counter()
        if "fork" not in multiprocessing.get_all_start_methods():
            self._finish(0 if self.preview.build().ok else 1)
            return
        self._child = multiprocessing.get_context("fork").Process(target=_update_in_child,
                                                                  args=(self.preview, self.out), daemon=True)
        self._child.start()
        IOLoop.current().add_handler(self._child.sentinel, self._on_exit, IOLoop.READ)

    def _on_exit(self, fd, events) -> None:
        child, self._child = self._child, None
        IOLoop.current().remove_handler(fd)
        if child is not None:
            child.join()
            self._finish(child.exitcode)

    def _finish(self, exitcode: int | None) -> None:
        self.exitcodes.append(exitcode)
        seconds = time.perf_counter() - self._started
        stamp = time.strftime("%H:%M:%S")
        if exitcode == 0:
            self.preview.state = None  # the child's state (saved on disk) is the current one
            self.out.info(f"{stamp} Search index updated in {seconds:.2f} s")
        else:
            self.out.info(f"{stamp} Search index update failed (see above); it is tried again after the next "
                          "change")


def _update_in_child(preview: Preview, out) -> None:
    """The full build, in a forked child: SIGTERM ends it (the parent's asyncio handler would not)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    outcome = preview.build()
    if not outcome.ok:
        out.problems(outcome.problems)
    sys.stdout.flush()
    os._exit(0 if outcome.ok else 1)


# --- the error page -----------------------------------------------------------------------

_PAGE_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff8f6;color:#1d1d1d}
main{max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{color:#a0001c;font-size:1.6rem}
ol{padding-left:1.2rem}li{margin:0 0 1.5rem}
.where{font-family:ui-monospace,monospace;font-weight:bold;margin:0}
.message{margin:.25rem 0}.hint{margin:.25rem 0;color:#3a5a00}
pre{background:#fff;border:1px solid #e3c5c5;padding:.5rem;overflow:auto;margin:.25rem 0}
pre mark{background:#ffd6d6;display:block}
"""


def error_page(problems: Sequence[Problem]) -> bytes:
    """An HTML page listing every problem (file, line, message, hint, source excerpt); all text escaped."""
    errors = [p for p in problems if p.severity == "error"] or list(problems)
    items = []
    for problem in errors:
        where = problem.path + (f":{problem.line}" if problem.line else "") + \
            (f":{problem.column}" if problem.line and problem.column else "")
        parts = [f'<p class="where">{html.escape(where)}</p>',
                 f'<p class="message">{html.escape(problem.message)}</p>']
        if problem.hint:
            parts.append(f'<p class="hint">Hint: {html.escape(problem.hint)}</p>')
        excerpt = _excerpt(problem)
        if excerpt:
            parts.append(excerpt)
        items.append("<li>" + "".join(parts) + "</li>")
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n"
        f"<title>Build failed: {count}</title>\n<style>{_PAGE_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>The site could not be rebuilt ({count})</h1>\n"
        "<p>Fix the problems below and save the file: this page reloads by itself. "
        "Until then the preview shows this page instead of the site.</p>\n"
        f"<ol>\n{''.join(items)}\n</ol>\n</main>\n</body>\n</html>\n")
    return page.encode("utf-8")


def _excerpt(problem: Problem, context: int = 2) -> str:
    """The problem's line and its neighbours from the file, if it can be read."""
    if not problem.line:
        return ""
    try:
        path = Path(problem.path)
        if not path.is_file() or path.stat().st_size > 2_000_000:
            return ""
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    if problem.line > len(lines):
        return ""
    first = max(1, problem.line - context)
    last = min(len(lines), problem.line + context)
    width = len(str(last))
    rows = []
    for number in range(first, last + 1):
        text = html.escape(f"{number:>{width}} | {lines[number - 1]}")
        rows.append(f"<mark>{text}</mark>" if number == problem.line else text + "\n")
    return "<pre>" + "".join(rows) + "</pre>"


# --- serving files ----------------------------------------------------------------------------

def safe_target(root: Path, url_path: str) -> Path | None:
    """The file or folder below ``root`` that the decoded URL path names, or None.

    None for anything but a plain relative path inside ``root``: ``..`` or ``.``
    segments, empty segments, hidden names, backslashes, NUL, absolute paths, and
    paths whose real location (symlinks followed) lies outside ``root``.

    >>> safe_target(Path("/srv/site"), "../etc/passwd") is None
    True
    """
    if "\\" in url_path or "\x00" in url_path or url_path.startswith("/"):
        return None
    parts = url_path.split("/")
    if parts[-1] == "":
        parts = parts[:-1]  # "bochum/" names the folder
    for part in parts:
        if part in ("", ".", "..") or part.startswith(".") or ":" in part:
            return None
    real_root = Path(os.path.realpath(root))
    target = root.joinpath(*parts) if parts else root
    if not Path(os.path.realpath(target)).is_relative_to(real_root):
        return None
    if target.is_dir():
        index = target / "index.html"
        if index.exists() and not Path(os.path.realpath(index)).is_relative_to(real_root):
            return None
    return target


def _wants_html(url_path: str, accept: str) -> bool:
    last = url_path.rsplit("/", 1)[-1]
    return "text/html" in accept or last == "" or last.endswith(".html") or "." not in last


class SiteHandler(LiveStaticFileHandler):
    """tornado's StaticFileHandler (via livereload's, which never answers 304), confined to the preview.

    While the last build failed, every request for an HTML page gets the error page.
    """

    def initialize(self, preview: Preview, default_filename: str = "index.html") -> None:  # type: ignore[override]
        self.preview = preview
        super().initialize(path=str(preview.root), default_filename=default_filename)

    async def get(self, path: str, include_body: bool = True) -> None:
        if not self.preview.ok and _wants_html(path, self.request.headers.get("Accept", "")):
            body = error_page(self.preview.problems)
            self.set_status(500, "Build failed")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            if include_body:
                self.finish(body)
            else:
                self.set_header("Content-Length", len(body))
                self.finish()
            return
        if safe_target(Path(self.root), path) is None:
            raise web.HTTPError(404)
        await super().get(path, include_body)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")  # always revalidate: the file may be rebuilt any moment

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        page = Path(self.root) / "404.html"
        if status_code == 404 and page.is_file() and not page.is_symlink():
            self.set_header("Content-Type", "text/html; charset=utf-8")
            # the 404 page links relative to the site root; it is shown at any depth
            self.finish(page.read_bytes().replace(b"<head>", b'<head>\n<base href="/">', 1))
            return
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")

    def log_exception(self, typ, value, tb) -> None:
        if not isinstance(value, web.HTTPError):  # refused paths are expected, not worth a log line
            super().log_exception(typ, value, tb)


class LiveServer(Server):
    """livereload's Server, serving the preview through :class:`SiteHandler`."""

    def __init__(self, preview: Preview, watcher: Watcher):
        super().__init__(watcher=watcher)
        self.preview = preview

    def get_web_handlers(self, script):
        return [(r"/(.*)", SiteHandler, {"preview": self.preview})]

    def listen(self, host: str, port: int) -> None:
        """Bind the HTTP and livereload websocket handlers (``serve()`` runs the loop)."""
        self.default_filename = "index.html"
        self.application(port, host, liveport=None, debug=False, live_css=False)

    @staticmethod
    def reload_browsers() -> None:
        """Tell every connected browser to reload (a full page reload, see livereload.js)."""
        LiveReloadHandler.reload_waiters(path="*")


# --- watching -------------------------------------------------------------------------------

def _boring(name: str) -> bool:
    """Editor and VCS by-products that never change the site."""
    return (name.startswith(".") or name.endswith("~") or name == "4913"
            or name.endswith((".swp", ".swx", ".swo", ".tmp")) or (name.startswith("#") and name.endswith("#")))


class ChangeWatcher(Watcher):
    """livereload's Watcher interface with debounced, event-driven detection.

    ``watch(path, func, delay, ignore)`` as in livereload: ``path`` is a file or a folder
    (watched recursively); ``func`` is called as ``func(paths)`` (or ``func()``) once the
    watched files have been quiet for ``delay`` seconds after a change, with every path
    that changed meanwhile. ``ignore(path)`` returns True for files to skip. Folder events
    (created, deleted, moved) always count.

    ``start()`` uses inotify on Linux (no polling, so a save is noticed at once even with
    100,000 files) and stat polling every ``poll_interval`` seconds elsewhere, or when
    ``use_inotify=False``.
    """

    def __init__(self, use_inotify: bool | None = None, poll_interval: float = POLL_INTERVAL):
        super().__init__()
        self.use_inotify = sys.platform.startswith("linux") if use_inotify is None else use_inotify
        self.poll_interval = poll_interval
        self.mode = ""  # "inotify" | "poll" once started
        self._pending: dict[str, list[str]] = {}
        self._first: float | None = None
        self._timer = None
        self._loop: IOLoop | None = None
        self._inotify: _Inotify | None = None
        self._poller: PeriodicCallback | None = None
        self._snapshot: dict[str, tuple] = {}

    def watch(self, path, func=None, delay=None, ignore=None):
        path = os.path.abspath(path)
        super().watch(path, func, DEFAULT_DELAY if delay is None else delay, ignore)
        if self._inotify:
            self._add_tree(path)

    def examine(self):
        return None, None  # livereload's polling is not used: start() returns True

    # start / stop

    def start(self, callback=None) -> bool:
        self._loop = IOLoop.current()
        if self.use_inotify:
            try:
                self._inotify = _Inotify()
            except OSError:
                self._inotify = None
        if self._inotify:
            self.mode = "inotify"
            for path in self._tasks:
                self._add_tree(path)
            self._loop.add_handler(self._inotify.fd, self._on_inotify, IOLoop.READ)
        else:
            self.mode = "poll"
            self._snapshot = self._scan()
            self._poller = PeriodicCallback(self._poll, self.poll_interval * 1000)
            self._poller.start()
        return True

    def stop(self) -> None:
        if self._timer is not None and self._loop is not None:
            self._loop.remove_timeout(self._timer)
            self._timer = None
        if self._inotify:
            with contextlib.suppress(Exception):
                self._loop.remove_handler(self._inotify.fd)
            self._inotify.close()
            self._inotify = None
        if self._poller:
            self._poller.stop()
            self._poller = None

    # detection

    def _add_tree(self, path: str) -> None:
        """Watch ``path`` (recursively if a folder) and its parent (to see it created or replaced)."""
        assert self._inotify is not None
        parent = os.path.dirname(path)
        if os.path.isdir(parent):
            self._inotify.add(parent)
        if os.path.isdir(path):
            for root, dirs, _files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                self._inotify.add(root)

    def _on_inotify(self, fd, events) -> None:
        assert self._inotify is not None
        for folder, mask, name in self._inotify.read():
            if mask & _Inotify.Q_OVERFLOW:
                for path in self._tasks:
                    self._note(path, True)
                continue
            path = os.path.join(folder, name) if name else folder
            is_dir = bool(mask & _Inotify.ISDIR)
            if is_dir and mask & (_Inotify.CREATE | _Inotify.MOVED_TO) and not _boring(name):
                if any(_inside(path, task) for task in self._tasks):
                    self._add_tree(path)
                    for root, _dirs, files in os.walk(path):  # written into it before the watch was added
                        for file in files:
                            self._note(os.path.join(root, file), False)
            self._note(path, is_dir)

    def _scan(self) -> dict[str, tuple]:
        """Stat of every watched file and folder (the polling fallback)."""
        found: dict[str, tuple] = {}
        for task in self._tasks:
            if os.path.isdir(task):
                for root, dirs, files in os.walk(task):
                    dirs[:] = [d for d in dirs if not _boring(d)]
                    found[root] = ("dir",)
                    for name in files:
                        if _boring(name):
                            continue
                        path = os.path.join(root, name)
                        with contextlib.suppress(OSError):
                            st = os.stat(path)
                            found[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
            else:
                with contextlib.suppress(OSError):
                    st = os.stat(task)
                    found[task] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return found

    def _poll(self) -> None:
        snapshot = self._scan()
        old, self._snapshot = self._snapshot, snapshot
        for path in sorted(set(old) | set(snapshot)):
            if old.get(path) != snapshot.get(path):
                self._note(path, (old.get(path) or snapshot.get(path)) == ("dir",))

    # debouncing

    def _note(self, path: str, is_dir: bool) -> None:
        """Record a change to ``path`` for the task watching it and (re)start the quiet timer."""
        task = next((t for t in self._tasks if _inside(path, t)), None)
        if task is None or _boring(os.path.basename(path)):
            return
        ignore = self._tasks[task]["ignore"]
        if not is_dir and ignore and ignore(path):
            return
        paths = self._pending.setdefault(task, [])
        if path not in paths:
            paths.append(path)
        now = time.monotonic()
        if self._first is None:
            self._first = now
        delay = max(self._tasks[t]["delay"] or 0 for t in self._pending)
        if self.mode == "poll":
            delay = max(delay, self.poll_interval * 1.5)  # a burst may straddle two polls
        fire_at = min(now + delay, self._first + MAX_WAIT)
        assert self._loop is not None
        if self._timer is not None:
            self._loop.remove_timeout(self._timer)
        self._timer = self._loop.call_later(max(0.0, fire_at - now), self._fire)

    def _fire(self) -> None:
        pending, self._pending = self._pending, {}
        self._timer, self._first = None, None
        calls: dict[int, tuple[Callable, list[str]]] = {}
        for task, paths in pending.items():
            func = self._tasks.get(task, {}).get("func")
            if func is not None:
                calls.setdefault(id(func), (func, []))[1].extend(paths)
        for func, paths in calls.values():
            self.filepath = paths[0]
            try:
                if inspect.signature(func).parameters:
                    func(sorted(set(paths)))
                else:
                    func()
            except Exception:  # a failing task must not stop the watcher
                logging.getLogger("careersite").exception("watch task failed")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Inotify:
    """The three inotify calls through ctypes (Linux; no extra package needed)."""

    MODIFY, ATTRIB, CLOSE_WRITE = 0x2, 0x4, 0x8
    MOVED_FROM, MOVED_TO, CREATE, DELETE = 0x40, 0x80, 0x100, 0x200
    DELETE_SELF, MOVE_SELF = 0x400, 0x800
    Q_OVERFLOW, IGNORED, ONLYDIR, ISDIR = 0x4000, 0x8000, 0x01000000, 0x40000000
    MASK = MODIFY | ATTRIB | CLOSE_WRITE | MOVED_FROM | MOVED_TO | CREATE | DELETE | DELETE_SELF | MOVE_SELF
    _HEADER = struct.Struct("iIII")

    def __init__(self):
        try:
            self._libc = ctypes.CDLL(None, use_errno=True)
            init = self._libc.inotify_init1
        except (OSError, AttributeError) as exc:
            raise OSError(errno.ENOSYS, "inotify is not available") from exc
        self.fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._folders: dict[int, str] = {}
        self._watched: set[str] = set()

    def add(self, folder: str) -> None:
        if folder in self._watched:
            return
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(folder), self.MASK | self.ONLYDIR)
        if wd < 0:
            return  # vanished meanwhile, or the watch limit: the build still sees every file
        self._folders[wd] = folder
        self._watched.add(folder)

    def read(self) -> list[tuple[str, int, str]]:
        """Every queued event as (folder, mask, name)."""
        events = []
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                break
            offset = 0
            while offset + self._HEADER.size <= len(data):
                wd, mask, _cookie, length = self._HEADER.unpack_from(data, offset)
                offset += self._HEADER.size
                name = os.fsdecode(data[offset: offset + length].rstrip(b"\0"))
                offset += length
                folder = self._folders.get(wd, "")
                if mask & self.IGNORED:
                    self._watched.discard(self._folders.pop(wd, ""))
                    continue
                if folder or mask & self.Q_OVERFLOW:
                    events.append((folder, mask, name))
        return events

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


# --- the command --------------------------------------------------------------------------------

def watched_paths(config: Config) -> list[tuple[str, Callable[[str], bool] | None]]:
    """What serve watches: content (only *.md files count), the theme, and the config file."""
    paths: list[tuple[str, Callable[[str], bool] | None]] = [
        (str(config.content_dir), lambda path: not path.endswith(".md")),
        (str(config.templates_dir), None),
    ]
    if config.source is not None:
        paths.append((str(Path(config.source).resolve()), None))
    return paths


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _summary(items: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … +{len(items) - limit}" if len(items) > limit else "")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def describe(outcome: Outcome, changed: Sequence[str]) -> str:
    """The terminal line for one rebuild: what changed, what it did, how long it took."""
    what = _count(len(changed), "change")
    if changed:
        what += f" ({_summary([_shown(p) for p in changed])})"
    stamp = time.strftime("%H:%M:%S")
    if not outcome.ok:
        errors = sum(p.severity == "error" for p in outcome.problems)
        return (f"{stamp} Rebuild failed after {what} in {outcome.seconds:.2f} s: "
                f"{_count(errors, 'error')}, shown in the browser")
    report = outcome.report
    assert report is not None
    files = report.changed
    done = f"{_count(len(files), 'file')} updated" if files else "no page changed"
    if files:
        done += f" ({_summary(files)})"
    if report.deferred:
        done += "; the search index follows"
    return f"{stamp} Rebuilt after {what} in {outcome.seconds:.2f} s: {done}"


def _check_host(host: str, out) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        out.error(f"warning: serving on {host}: the preview, drafts included, can be reached from other "
                  "machines; use the default 127.0.0.1 unless you mean it")


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _stop_on_sigterm(loop: IOLoop) -> None:
    """Stop the loop cleanly on SIGTERM, like Ctrl+C, in this process only.

    Not asyncio's ``add_signal_handler``: builds fork worker processes, which inherit its
    wakeup socket; ``Pool.terminate()`` sends them SIGTERM, and they would write it into
    the server's own loop (which then stops) instead of exiting. A forked process gets
    the default action here.
    """
    server_pid = os.getpid()

    def on_sigterm(signum, frame) -> None:
        if os.getpid() == server_pid:
            # call_soon_threadsafe writes to the loop's self-pipe, so the wait wakes up (call_soon would not)
            loop.asyncio_loop.call_soon_threadsafe(loop.stop)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def serve(load_config: Callable[[], Config], *, host: str = "127.0.0.1", port: int = 8000, out=None,
          jobs: int = 0, delay: float = DEFAULT_DELAY, watcher: ChangeWatcher | None = None) -> int:
    """Build the preview, serve it on ``host:port`` and rebuild on every change until stopped.

    ``load_config()`` gives the site's config with the command line applied (drafts on by
    default); it is called again for every rebuild. A broken config at start raises
    :class:`~careersite.errors.ConfigError` like ``build`` does; later it is shown in the
    browser.
    """
    import argparse

    from .cli import Output  # the CLI's printer; imported here to keep serve importable on its own
    out = out or Output(argparse.Namespace())
    if not 0 <= port <= 65535:
        raise SiteError(f"--port must be between 0 and 65535, not {port}")
    _check_host(host, out)
    preview = Preview(load_config, jobs=jobs, log=out.info, progress=out.progress)
    first = preview.build(search_defer=True)  # an out-of-date search index from last time: updated later
    if first.ok:
        report = first.report
        assert report is not None
        out.info(f"Built {_count(report.pages, 'page')} from {_count(report.articles, 'article')} "
                 f"in {first.seconds:.2f} s "
                 f"-> {_shown(str(preview.root))} (output/ is not touched)")
    else:
        out.problems(first.problems)
        out.info("The first build failed; the browser shows the problems until they are fixed.")

    watcher = watcher or ChangeWatcher()
    server = LiveServer(preview, watcher)
    updater = SearchUpdater(preview, out, idle=SEARCH_IDLE)
    if first.ok and first.report is not None and first.report.deferred:
        IOLoop.current().add_callback(updater.schedule)

    def rebuild(changed: list[str]) -> None:
        updater.cancel()
        outcome = preview.build(search_defer=True)
        if not outcome.ok:
            out.problems(outcome.problems)
        out.info(describe(outcome, changed))
        if getattr(out, "verbose", False) and outcome.report is not None:
            out.info("  " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in outcome.report.stages.items()))
        if outcome.reload:
            server.reload_browsers()
        if outcome.ok and outcome.report is not None and outcome.report.deferred:
            updater.schedule()

    for path, ignore in watched_paths(preview.config):
        server.watch(path, rebuild, delay=delay, ignore=ignore)
    logging.getLogger("livereload").setLevel(logging.WARNING)  # its per-task chatter; we print our own
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)  # one line per request drowns the rebuilds
    try:
        server.listen(host, port)
    except OSError as exc:
        raise SiteError(f"cannot listen on {host}:{port}: {exc.strerror}; "
                        "is another server running? choose another port with --port") from None
    loop = IOLoop.current()
    watcher.start()
    _stop_on_sigterm(loop)
    drafts = "drafts shown" if preview.config.drafts else "drafts hidden"
    out.info(f"Serving {_url(host, port)} ({drafts}; watching {watcher.mode}; press Ctrl+C to stop)")
    try:
        loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        updater.cancel()
        watcher.stop()
    out.info("Stopped.")
    return 0
