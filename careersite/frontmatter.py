"""Split an article into YAML front matter and Markdown body, keeping file line numbers."""

from __future__ import annotations

import re

from . import yamlsource

_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


class FrontMatterProblem(Exception):
    def __init__(self, line: int, column: int, message: str, hint: str = ""):
        super().__init__(message)
        self.line, self.column, self.message, self.hint = line, column, message, hint


def decode(data: bytes) -> str:
    """UTF-8 with or without BOM; CRLF and CR become LF. Other encodings are an error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FrontMatterProblem(line, 0, f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} at line {line})",
                                 "save the file as UTF-8 (in most editors: 'Save with encoding' > UTF-8)") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split(text: str) -> tuple[str, str, int]:
    """Return ``(yaml_text, body, body_line)`` where ``body_line`` is the body's first line (1-based).

    The YAML text starts on line 2 of the file. Raises :class:`FrontMatterProblem`.

    >>> split("---\\nrole: X\\n---\\nHallo\\n")
    ('role: X\\n', 'Hallo\\n', 4)
    """
    if not text.strip():
        raise FrontMatterProblem(1, 0, "the file is empty",
                                 "start with front matter between two '---' lines (see README, 'Writing articles')")
    if not text.startswith("---"):
        first = text.lstrip("\n")
        line = text[: len(text) - len(first)].count("\n") + 1
        raise FrontMatterProblem(line, 1, "the file does not start with front matter",
                                 "the first line must be '---'; did you forget to add it?")
    first_end = text.find("\n")
    if first_end == -1 or text[:first_end].rstrip() != "---":
        raise FrontMatterProblem(1, 1, "the first line must be exactly '---'",
                                 "put the front matter on the lines after '---'")
    closing = _FENCE.search(text, first_end + 1)
    if closing is None:
        raise FrontMatterProblem(1, 1, "the front matter is not closed",
                                 "add a line '---' after the last front-matter line")
    yaml_text = text[first_end + 1: closing.start()]
    body_start = text.find("\n", closing.end())
    body = "" if body_start == -1 else text[body_start + 1:]
    body_line = yaml_text.count("\n") + 3
    return yaml_text, body, body_line


def parse(text: str) -> tuple[yamlsource.Document, str, int]:
    """Split and parse: ``(document, body, body_line)``; raises FrontMatterProblem."""
    yaml_text, body, body_line = split(text)
    try:
        doc = yamlsource.load(yaml_text, first_line=2)
    except yamlsource.YamlProblem as exc:
        raise FrontMatterProblem(exc.line, exc.column, exc.message, exc.hint) from None
    if doc.data is None:
        raise FrontMatterProblem(2, 1, "the front matter is empty", "add at least role, city and salary")
    if not isinstance(doc.data, dict):
        raise FrontMatterProblem(2, 1, "the front matter must be 'key: value' lines",
                                 "write e.g. 'role: Straßenbauer' on its own line")
    return doc, body, body_line
