"""The start of a build, before its heavy modules are imported (Jinja2, Python-Markdown with
Pygments, Babel: ~0.1 s): take the build lock, then find the sources and stat the output folder
in two child processes, which work while this process imports those modules and loads the
previous build's state. Only light modules here.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BuildFailed, Problem
from .records import pickled_as_tuple
from .write import scan_output


# A NamedTuple, not a dataclass: the build state pickles ~12 of these per article, and
# tuples unpickle in C (a frozen slots dataclass restores each field in Python: 10x slower).
@pickled_as_tuple
class Source(NamedTuple):
    """A content file: its path relative to content/ (POSIX) and the stat fields the cache trusts.

    ``ctime_ns`` (the inode's change time) moves on every write and every change of the file's
    metadata, and cannot be set back: a file rewritten in place with its old size and mtime put
    back (``cp -p``, ``touch -r``, an editor or sync tool that keeps times) or made unreadable
    still shows as changed, and is checked by its bytes (see pipeline.read_sources).
    """

    relpath: str
    mtime_ns: int
    size: int
    inode: int
    ctime_ns: int = 0

    @property
    def changed_ns(self) -> int:
        """When it last changed, as far as its stat tells: the later of its mtime and ctime (an
        mtime can be set to the past, a ctime cannot)."""
        return max(self.mtime_ns, self.ctime_ns)


class Found(list):
    """The sources :func:`discover` found (a list of :class:`Source`), and in ``problems`` the
    entries it could not take (each a :class:`~careersite.errors.Problem`): a build reports them
    with the others and fails, as for an article it cannot read."""

    problems: list[Problem]


def discover(content_dir: Path) -> Found:
    """Every ``*.md`` file below ``content_dir`` in sorted order, with its stat.

    Hidden files and folders (``.git``, ``.DS_Store``, editor swap files) and anything
    not ending in ``.md`` (backups like ``x.md~``) are ignored; symlinked folders are not
    followed, so a link cannot loop or pull in files from elsewhere. A folder that cannot be
    listed, an article whose stat fails (a symbolic link in a circle) and a folder or article
    whose name is not UTF-8 are problems (``Found.problems``), paths relative to content/,
    folders with a trailing slash.
    """
    found = Found()
    found.problems = []

    def problem(relpath: str, message: str, hint: str) -> None:
        found.problems.append(Problem(relpath, 0, 0, message, hint))

    def walk(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as entries:
                items = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            problem(prefix or "./", f"cannot read the folder: {exc.strerror}",
                    "make it readable (chmod a+rx), or move it out of the content folder")
            return
        for entry in items:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not name.endswith(".md"):
                    continue
                if not utf8_name(name):
                    problem(printable_path(prefix + name) + ("/" if is_dir else ""),
                            f"the {'folder' if is_dir else 'file'} name is not valid UTF-8",
                            "rename it: use letters, digits and hyphens (umlauts are fine in UTF-8)")
                elif is_dir:
                    walk(entry.path, prefix + name + "/")
                elif entry.is_file():
                    st = entry.stat()
                    found.append(Source(prefix + name, st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns))
                elif entry.is_symlink() and not os.path.lexists(os.path.realpath(entry.path)):
                    problem(prefix + name, "a symbolic link to a file that does not exist",
                            f"point it at an existing article, or delete it (it points to {os.readlink(entry.path)})")
            except FileNotFoundError:
                continue  # deleted while its folder was read
            except OSError as exc:
                found.problems.append(unreadable(prefix + name, exc))

    if content_dir.is_dir():
        walk(str(content_dir), "")
    else:  # (a typo in --content or content_dir would otherwise build an empty site over output/)
        problem("./", f"the content folder {'is not a folder' if os.path.lexists(content_dir) else 'does not exist'}",
                "create it (python build.py new makes the first article), or set content_dir in "
                "config.yaml or --content to the folder that holds the articles")
    return found


def utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as surrogates
        return False
    return True


def printable_path(relpath: str) -> str:
    """A path with undecodable bytes shown as escapes (``caf\\xe9.md``)."""
    return os.fsencode(relpath).decode("utf-8", "backslashreplace")


def display_path(path: Path | str) -> str:
    """``path`` as an author can open it: relative to the working folder where it can be (not
    across drives on Windows), undecodable bytes as escapes."""
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        shown = str(path)
    return printable_path(shown)


def unreadable(path: str, exc: OSError) -> Problem:
    """The problem of a file that exists but cannot be read, ``path`` as shown."""
    return Problem(path, 0, 0, f"cannot read the file: {exc.strerror}",
                   "a symbolic link that leads to itself or in a circle: replace it with the file"
                   if exc.errno == errno.ELOOP else "check that the file exists and is readable")


def cache_folder(cache_dir: Path) -> Path:
    """``cache_dir``, made if missing; a :class:`BuildFailed` naming it where it cannot be made
    or written (a file of that name, no permission)."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(cache_dir, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(cache_dir))
    except OSError as exc:
        what = "a file is in the way" if isinstance(exc, (FileExistsError, NotADirectoryError)) else exc.strerror
        shown = display_path(exc.filename or cache_dir)
        raise BuildFailed([Problem(shown, 0, 0, f"cannot use the cache folder: {what}",
                                   "set cache_dir in config.yaml (or --cache-dir) to a folder careersite may "
                                   "write; the cache is safe to delete")]) from None
    return cache_dir


@contextlib.contextmanager
def build_lock(cache_dir: Path, notify=lambda msg: None) -> Iterator[None]:
    """Hold an exclusive lock on the cache for one build; wait if another build holds it.

    A cache folder that cannot be made or written is a :class:`BuildFailed` (see cache_folder)."""
    cache_folder(cache_dir)
    if sys.platform == "win32":  # pragma: no cover - no flock; builds there must not overlap
        yield
        return
    import fcntl
    with open(cache_dir / "lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(f"waiting for another build using {cache_dir} to finish …")
            started = time.monotonic()
            fcntl.flock(fh, fcntl.LOCK_EX)
            notify(f"… waited {time.monotonic() - started:.1f} s")
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Background:
    """``fn(*args)`` in a forked child process (in this one where fork() is missing); its
    result is pickled back. For I/O-heavy work that should overlap the build's own.

    A bare fork(), not multiprocessing: serve's search update is a daemonic process, and
    those may not start multiprocessing children.
    """

    def __init__(self, fn: Callable, *args: Any):
        self._fn, self._args = fn, args
        self._pid = self._fh = None
        self._done, self._value = False, None
        if hasattr(os, "fork"):
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to spare: the work is done here when asked for
                os.close(read_fd)
                os.close(write_fd)
                return
            if pid == 0:  # the child: never returns
                # Not holding the read end itself: a parent that stops reading (close()) then
                # makes the child's write fail instead of block forever on a full pipe.
                os.close(read_fd)
                code = 0
                try:
                    try:
                        data = pickle.dumps((True, fn(*args)))
                    except Exception as exc:
                        data = pickle.dumps((False, exc))
                    with os.fdopen(write_fd, "wb") as fh:
                        fh.write(data)
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            os.close(write_fd)
            self._pid, self._fh = pid, os.fdopen(read_fd, "rb")

    def ready(self) -> bool:
        """Whether the result is here (or the work would be done in this process)."""
        if self._done or self._fh is None:
            return True
        poll = select.poll()  # not select(): it fails for descriptors >= 1024 (serve may hold many)
        poll.register(self._fh, select.POLLIN)
        return bool(poll.poll(0))

    def result(self) -> Any:
        if not self._done:
            self._value, self._done = self._result(), True
        ok, value = self._value
        if not ok:
            raise value
        return value

    def _result(self) -> tuple[bool, Any]:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                with fh:
                    data = fh.read()
            finally:
                os.waitpid(self._pid, 0)
            try:
                return pickle.loads(data)
            except Exception:  # the child died: do the work here
                pass
        try:
            return True, self._fn(*self._args)
        except Exception as exc:
            return False, exc

    def close(self) -> None:
        """Stop waiting for a result not asked for (a build that failed first, or found no state
        to compare the output folder with); stop and reap the child."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)  # its work is not wanted: do not wait for it
            os.waitpid(self._pid, 0)


_seen: list[Any] = [None, ""]  # the last source list hashed and its digest (a build needs it twice)


def sources_digest(sources: list[Source]) -> str:
    """A digest of every source's path and stat (~6 ms at 10,000 articles)."""
    if _seen[0] is not sources:
        text = "".join(f"{s.relpath}\0{s.mtime_ns}\0{s.size}\0{s.inode}\0{s.ctime_ns}\n" for s in sources)
        _seen[:] = [sources, hashlib.sha256(text.encode()).hexdigest()]
    return _seen[1]


def found_sources(content_dir: Path) -> tuple[list[Source], str]:
    """The sources (see :func:`discover`) and their digest."""
    sources = discover(content_dir)
    return sources, sources_digest(sources)


def sources_of(finder: Background) -> list[Source]:
    """The sources found by ``finder`` (see :func:`found_sources`); their digest is kept."""
    found, digest = finder.result()
    if _seen[0] is not found:
        _seen[:] = [found, digest]
    return found


class Start:
    """The children a build starts with (see :func:`careersite.pipeline.build`), started early by
    the command line, which holds the build lock; ``started_ns`` is taken before either reads a
    stat (see read_sources)."""

    def __init__(self, content_dir: Path, output_dir: Path, children: bool = True):
        self.started_ns = time.time_ns()
        self.scan: Background | None = None
        self.finder: Background | None = None
        if not children:  # (a build that reads everything anew: --full)
            return
        try:
            self.scan = Background(scan_output, output_dir)
            self.finder = Background(found_sources, content_dir)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for child in (self.finder, self.scan):
            if child is not None:
                child.close()
