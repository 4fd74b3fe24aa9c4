"""Site search: a Pagefind index of the articles, made from the site model (no HTML crawling).

Every article becomes one Pagefind *custom record*: its searchable text is the title,
role, city and the plain text of the body; its meta (title, salary range, city, role)
is what the result list shows; its filters are city, profession, region and state.
Pagefind stems the text by the record's language (``config.language``, German: the
Snowball stemmer). The index files land below ``pagefind/``; the search box
(templates/partials/search.html, templates/static/search.js) loads ``pagefind.js`` from
there with Pagefind's JS API.

The pipeline runs this as a *bundle* (see ``pipeline.bundles``): :func:`key` is cheap
and runs on every build; :func:`files` runs only when the key changed.

Two things differ from the obvious way of using Pagefind from Python:

* ``pagefind.index.PagefindIndex`` (the Python API of the ``pagefind`` package) reads
  one reply of the Pagefind service per 100 ms poll, so 10,000 records take 17 minutes;
  it also reads replies with a 2 MiB line limit, which ``get_files()`` of a large site
  exceeds, and it needs an asyncio loop. :class:`PagefindService` talks to the very
  same binary (``pagefind --service``, found by the package's own ``get_executable``)
  over the same protocol, synchronously, with all records sent in one stream.
* Pagefind 1.5 writes each filter's values in hash-map order (its filter files and the
  metadata naming them differ from run to run, see Pagefind issue #638).
  :func:`canonical` sorts the values and renames those few files the way Pagefind names
  them (SHA-1 of the content), so the same site gives byte-identical index files and an
  unchanged index is not rewritten.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__, markup
from ..errors import BuildFailed, Problem
from ..salary import format_range

if TYPE_CHECKING:
    import subprocess

PREFIX = "pagefind/"
#: Pagefind indexes custom records' meta (title, role, city) since 1.5.
MINIMUM = (1, 5)
#: Bump when the records or the kept files change, so every index is made again.
FORMAT = "1"
#: The files of Pagefind's own UIs; the site has its own small UI on the JS API.
_UNUSED = re.compile(r"pagefind-(component-ui|modular-ui|ui|highlight)\.(js|css)$|playground/")
_SIGNATURE = b"pagefind_dcd"


# --- the bundle -------------------------------------------------------------------------

def key(site) -> str:
    """A digest of everything the index is made from; cheap (runs on every build).

    Each article's digest covers its file bytes (hence body, title, salary, and the
    spelling of city and role names that the model picks from all articles) and its URL.
    """
    _, version = pagefind_binary(site.config)
    h = hashlib.sha256(f"{FORMAT}|{__version__}|{markup.VERSION}|{version}|{site.config.digest()}".encode())
    h.update("\n".join(site.article_digests).encode())
    return h.hexdigest()[:32]


def files(site, body_html: Callable[[str], str]) -> dict[str, bytes]:
    """The index files, ``{"pagefind/<path>": bytes}``; ``body_html(body_key)`` gives an article's HTML."""
    executable, _ = pagefind_binary(site.config)
    made = canonical(PagefindService(executable).index(records(site, body_html)))
    wasm = {f"wasm.{info['wasm']}.pagefind" for info in json.loads(made["pagefind-entry.json"])["languages"].values()}
    return {PREFIX + path: data for path, data in sorted(made.items())
            if not _UNUSED.search(path) and (path in wasm or not path.startswith("wasm."))}


def records(site, body_html: Callable[[str], str]) -> list[dict[str, Any]]:
    """One Pagefind custom record per article, in the model's (sorted) order."""
    config = site.config
    words = config.words
    per = {"month": words["per_month"], "year": words["per_year"], "hour": words["per_hour"]}
    out = []
    for article, url in zip(site.articles, site.article_urls, strict=True):
        city = site.cities[article.city_slug]
        role = site.professions[article.role_slug].name
        salary = article.salary
        filters = {"stadt": [city.name], "beruf": [role]}
        if city.region_name:
            filters["region"] = [city.region_name]
        if city.state_name:
            filters["bundesland"] = [city.state_name]
        out.append({
            "url": url,  # site-relative: pagefind.js puts the site's root path in front
            # Pagefind (1.5+) indexes the meta too, the title most heavily: title, role and city
            # are searchable without repeating them here (which would fill the excerpts).
            "content": plain_text(body_html(article.body_key)),
            "language": config.language,
            "meta": {"title": article.title, "role": role, "city": city.name,
                     "salary": format_range(salary.min, salary.max, salary.currency, config.locale),
                     "period": f"{words['gross']} {per[salary.period]}"},
            "filters": filters,
            "sort": None,
        })
    return out


_DROP = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
# Inline elements join their text to the next word ("<em>Ober</em>hausen"); other tags separate words.
_INLINE = re.compile(r"</?(?:a|abbr|b|bdi|bdo|cite|code|data|dfn|em|i|kbd|mark|q|s|samp|small|span|strong|sub|sup"
                     r"|time|u|var|wbr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


def plain_text(markup_html: str) -> str:
    """The text of an HTML fragment: tags removed, entities decoded, whitespace collapsed."""
    text = _TAG.sub(" ", _INLINE.sub("", _DROP.sub(" ", markup_html)))
    return " ".join(html.unescape(text).split())


# --- the Pagefind binary ----------------------------------------------------------------

def pagefind_binary(config) -> tuple[str, str]:
    """(path, version) of the Pagefind binary, or BuildFailed saying how to install it."""
    shown = str(config.source) if config.source else "config.yaml"
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise BuildFailed([Problem(shown, 0, 0, "search is on, but Pagefind (the search indexer) is not installed",
                                   "install it with: pip install 'careersite[search]'  "
                                   "(or turn search off with 'search: false' in config.yaml)")]) from None
    executable = get_executable()
    if executable is None or not Path(executable).is_file():
        raise BuildFailed([Problem(shown, 0, 0, "search is on, but the Pagefind binary was not found",
                                   "install it with: pip install 'careersite[search]' (the 'bin' extra of "
                                   "pagefind ships it), or turn search off with 'search: false' in config.yaml")])
    st = Path(executable).stat()
    version = _version(str(executable), st.st_mtime_ns, st.st_size)
    number = re.search(r"(\d+)\.(\d+)", version)
    if number and tuple(map(int, number.groups())) < MINIMUM:
        raise BuildFailed([Problem(shown, 0, 0, f"search needs Pagefind {'.'.join(map(str, MINIMUM))} or newer "
                                   f"(it indexes the title, role and city as metadata); found {version}",
                                   "upgrade it with: pip install --upgrade 'careersite[search]'")])
    return str(executable), version


@lru_cache(maxsize=4)
def _version(executable: str, mtime_ns: int, size: int) -> str:
    """``pagefind --version`` (memoised per binary file, so once per process)."""
    import subprocess  # here and below: a build without a new search index never needs it (~3 ms)
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BuildFailed([Problem(executable, 0, 0, f"the Pagefind binary does not run: {exc}",
                                   "reinstall it: pip install --force-reinstall 'careersite[search]'")]) from None
    return out.stdout.strip() or f"{mtime_ns}:{size}"


class PagefindService:
    """A synchronous client of ``pagefind --service`` (the protocol the Python and Node APIs use).

    Requests and replies are base64-encoded JSON, each followed by a comma. The service
    handles requests one at a time in the order sent, so records keep their order (and
    their page numbers in the index).
    """

    def __init__(self, executable: str):
        self.executable = executable

    def index(self, records: list[dict[str, Any]]) -> dict[str, bytes]:
        """Index ``records``; return every file of the bundle, ``{path: bytes}``."""
        import subprocess
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen([self.executable, "--service"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=errors)
            try:
                return self._run(proc, records)
            except BuildFailed:
                raise
            except Exception as exc:
                errors.seek(0)
                detail = errors.read().decode("utf-8", "replace").strip()
                raise BuildFailed([Problem("pagefind", 0, 0, f"Pagefind failed to build the search index: {exc}"
                                           + (f"\n{detail}" if detail else ""),
                                           "set 'search: false' in config.yaml to build without search")]) from None
            finally:
                if proc.stdin and not proc.stdin.closed:
                    proc.stdin.close()  # end of input: the service exits
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def _run(self, proc: subprocess.Popen, records: list[dict[str, Any]]) -> dict[str, bytes]:
        import threading
        assert proc.stdin and proc.stdout
        reader = _Replies(proc.stdout)
        proc.stdin.write(_message(0, {"type": "NewIndex", "config": None}))
        proc.stdin.flush()
        index_id = reader.next(0, "NewIndex")["index_id"]
        failure: list[BaseException] = []

        def send() -> None:  # in a thread: the service's replies must be read while we write
            try:
                for number, record in enumerate(records, 1):
                    proc.stdin.write(_message(number, {"type": "AddRecord", "index_id": index_id, **record}))
                proc.stdin.write(_message(len(records) + 1, {"type": "GetFiles", "index_id": index_id}))
                proc.stdin.flush()
            except BaseException as exc:  # a broken pipe: the reader reports the service's end
                failure.append(exc)

        writer = threading.Thread(target=send, name="pagefind-records", daemon=True)
        writer.start()
        try:
            for number, record in enumerate(records, 1):
                reader.next(number, "IndexedFile", record["url"])
            made = reader.next(len(records) + 1, "GetFiles")["files"]
        finally:
            writer.join()
        if failure:
            raise failure[0]
        return {f["path"]: base64.b64decode(f["content"]) for f in made}


def _message(number: int, payload: dict[str, Any]) -> bytes:
    return base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode()) + b","


class _Replies:
    """Reads the service's replies in order."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = bytearray()

    def next(self, number: int, expected: str, what: str = "") -> dict[str, Any]:
        while (end := self.buffer.find(b",")) < 0:
            chunk = self.stream.read1(1 << 20)
            if not chunk:
                raise RuntimeError("the Pagefind service ended unexpectedly")
            self.buffer += chunk
        reply = json.loads(base64.b64decode(bytes(self.buffer[:end])))
        del self.buffer[: end + 1]
        payload = reply.get("payload") or {}
        if payload.get("type") == "Error":
            raise RuntimeError(f"{payload.get('message')}{f' (record {what})' if what else ''}")
        if reply.get("message_id") != number or payload.get("type") != expected:
            raise RuntimeError(f"unexpected reply {payload.get('type')!r} to message {number}")
        return payload


# --- deterministic filter files ---------------------------------------------------------------

def canonical(made: dict[str, bytes]) -> dict[str, bytes]:
    """The same index with each filter's values sorted, and the changed files renamed by content.

    Pagefind 1.5 writes filter values (and the list of filters in the metadata file) in
    hash-map order. Sorting them changes no search result. Files in a format this code
    does not recognise (another Pagefind version) are returned unchanged.
    """
    try:
        entry = json.loads(made["pagefind-entry.json"])
        out = dict(made)
        text = made["pagefind-entry.json"].decode()
        for language, info in entry["languages"].items():
            meta_name = f"pagefind.{info['hash']}.pf_meta"
            meta = _load(out.pop(meta_name))
            filters = []
            for name, old in meta[3]:
                values = _load(out.pop(f"filter/{old}.pf_filter"))
                values[1] = sorted(values[1], key=lambda v: v[0])
                data = _dump(values)
                new = _unique(f"{language}_{_sha1(data)}", len(language) + 8, {f for _, f in filters})
                out[f"filter/{new}.pf_filter"] = _pack(data)
                filters.append((name, new))
            meta[3] = [[name, new] for name, new in sorted(filters)]
            data = _dump(meta)
            new_hash = f"{language}_{_sha1(data)[: len(language) + 8]}"
            out[f"pagefind.{new_hash}.pf_meta"] = _pack(data)
            text = text.replace(f'"{info["hash"]}"', f'"{new_hash}"')
        out["pagefind-entry.json"] = text.encode()
        return out
    except (KeyError, ValueError, TypeError, IndexError, OSError, EOFError):
        return made


def _sha1(data: bytes) -> str:
    # Pagefind's own spelling of a SHA-1 hex digest: each byte as {:x}, without zero padding
    return "".join(format(b, "x") for b in hashlib.sha1(data).digest())


def _unique(full: str, length: int, taken: set[str]) -> str:
    short = full[:length]
    while short in taken and len(short) < len(full):
        short = full[: len(short) + 1]
    return short


def _load(packed: bytes) -> Any:
    raw = gzip.decompress(packed)
    if not raw.startswith(_SIGNATURE):
        raise ValueError("not a Pagefind data file")
    data = raw[len(_SIGNATURE):]
    value, end = _cbor_decode(data, 0)
    if end != len(data) or _dump(value) != data:  # a format this code does not fully understand
        raise ValueError("unexpected Pagefind data")
    return value


def _pack(data: bytes) -> bytes:
    return gzip.compress(_SIGNATURE + data, compresslevel=9, mtime=0)


def _dump(value: Any) -> bytes:
    out = bytearray()
    _cbor_encode(value, out)
    return bytes(out)


@dataclass
class _Map:
    pairs: list


def _cbor_decode(data: bytes, pos: int) -> tuple[Any, int]:
    """A CBOR subset: integers, byte and text strings, arrays and maps (all Pagefind writes)."""
    first = data[pos]
    major, info = first >> 5, first & 31
    pos += 1
    if info < 24:
        arg = info
    elif info <= 27:
        size = 1 << (info - 24)
        arg = int.from_bytes(data[pos: pos + size], "big")
        pos += size
    else:
        raise ValueError("indefinite lengths and floats are not supported")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        chunk = data[pos: pos + arg]
        if len(chunk) != arg:
            raise ValueError("truncated")
        return (bytes(chunk) if major == 2 else chunk.decode("utf-8")), pos + arg
    if major in (4, 5):
        items = []
        for _ in range(arg * (2 if major == 5 else 1)):
            item, pos = _cbor_decode(data, pos)
            items.append(item)
        return (items if major == 4 else _Map([items[i: i + 2] for i in range(0, len(items), 2)])), pos
    raise ValueError(f"CBOR major type {major} is not supported")


def _cbor_head(major: int, arg: int, out: bytearray) -> None:
    if arg < 24:
        out.append(major << 5 | arg)
        return
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            out.append(major << 5 | info)
            out += arg.to_bytes(size, "big")
            return
    raise ValueError("integer too large")


def _cbor_encode(value: Any, out: bytearray) -> None:
    if isinstance(value, bool) or value is None:
        raise ValueError("unsupported CBOR value")
    if isinstance(value, int):
        _cbor_head(0, value, out) if value >= 0 else _cbor_head(1, -1 - value, out)
    elif isinstance(value, bytes):
        _cbor_head(2, len(value), out)
        out += value
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _cbor_head(3, len(data), out)
        out += data
    elif isinstance(value, list):
        _cbor_head(4, len(value), out)
        for item in value:
            _cbor_encode(item, out)
    elif isinstance(value, _Map):
        _cbor_head(5, len(value.pairs), out)
        for k, v in value.pairs:
            _cbor_encode(k, out)
            _cbor_encode(v, out)
    else:
        raise ValueError(f"unsupported CBOR value {type(value).__name__}")
