"""Error types shared by every stage.

Every problem an author can cause is a :class:`Problem` with a location and a hint.
Stages collect problems instead of raising on the first one, so that an author with
ten broken files gets ten messages in one run; a stage that cannot go on raises
:class:`BuildFailed` carrying all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One error or warning, located in a file.

    ``path`` is shown as given (relative to the working directory where possible);
    ``line`` and ``column`` are 1-based and 0 when unknown.
    """

    path: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: str = "error"  # "error" | "warning"

    def format(self) -> str:
        """``path:line:column: message`` plus an indented hint line, like compilers print."""
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        label = "" if self.severity == "error" else "warning: "
        text = f"{where}: {label}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SiteError(Exception):
    """Base class for every error careersite reports to a user (never shown as a traceback)."""


class ConfigError(SiteError):
    """A problem in config.yaml, naming the key."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class BuildFailed(SiteError):
    """A build stopped with one or more problems; ``problems`` holds all of them, sorted."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class UsageError(SiteError):
    """The command line asks for something impossible (exit code 2)."""


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the nearest known word, or ``""``."""
    import difflib  # only when something is misspelt
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
