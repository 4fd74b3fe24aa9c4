"""Slugs with German transliteration, URL patterns, and safe joining of output paths."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                         "ẞ": "Ss"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

#: File names above this many bytes fail on common file systems (255 on ext4, APFS, NTFS).
MAX_SEGMENT_BYTES = 200


def slugify(text: str) -> str:
    """Return the URL slug of ``text``: lowercase ASCII, German umlauts transliterated.

    Composed and decomposed umlauts give the same slug; other accents are dropped.

    >>> slugify("IT-Koordinator Qualitätssicherung")
    'it-koordinator-qualitaetssicherung'
    >>> slugify("Gießen"), slugify("Mu\u0308nster")
    ('giessen', 'muenster')
    """
    text = unicodedata.normalize("NFC", text).translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub("-", text.lower()).strip("-")


def expand(pattern: str, **slugs: str) -> str:
    """Fill a URL pattern with slugs: ``expand("{city}/{role}/", city="bochum", role="x")``."""
    return pattern.format(**slugs)


def url_to_file(url_path: str) -> str:
    """The file below output/ that serves ``url_path`` ("a/b/" -> "a/b/index.html")."""
    return url_path + "index.html" if url_path == "" or url_path.endswith("/") else url_path


def check_relpath(relpath: str) -> str:
    """Return ``""`` if ``relpath`` is a safe relative output path, else what is wrong with it."""
    if not relpath or "\x00" in relpath or "\\" in relpath or ":" in relpath:  # "C:" is a drive on Windows
        return "contains a forbidden character"
    if relpath.isascii() and relpath[0] != "/":  # the common case (slugs), without PurePosixPath
        if all(part not in ("", ".", "..") and len(part) <= MAX_SEGMENT_BYTES for part in relpath.split("/")):
            return ""
    path = PurePosixPath(relpath)
    if path.is_absolute():
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in relpath.split("/")):  # (PurePosixPath drops "" and ".")
        return "contains an empty part, '.' or '..'"
    for part in path.parts:
        try:
            size = len(part.encode("utf-8"))
        except UnicodeEncodeError:  # a file name that was not UTF-8 (decoded with surrogateescape)
            return "is not valid UTF-8"
        if size > MAX_SEGMENT_BYTES:
            return f"has a path segment longer than {MAX_SEGMENT_BYTES} bytes"
    return ""


def safe_join(root: Path, relpath: str) -> Path:
    """Join ``relpath`` below ``root``, refusing anything that would leave ``root``.

    Uses ``Path.is_relative_to`` on resolved paths, not a string prefix (a string
    prefix treats ``output2/`` as inside ``output/``).
    """
    problem = check_relpath(relpath)
    if problem:
        raise ValueError(f"unsafe output path {relpath!r}: {problem}")
    target = (root / relpath).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"unsafe output path {relpath!r}: leaves {root}")
    return target


def relative_url(from_file: str, to_url: str) -> str:
    """A relative link from the page stored at ``from_file`` to the site-relative ``to_url``.

    Relative links keep the site working from any sub-path and from a local folder.

    >>> relative_url("bochum/pflege/index.html", "essen/")
    '../../essen/'
    >>> relative_url("index.html", "")
    './'
    """
    depth = from_file.count("/")
    prefix = "../" * depth
    return (prefix + to_url) or "./"
