"""Golden test: the repository's sample site must build byte for byte into tests/golden/sample/.

``content/`` with ``config.yaml`` and ``templates/`` are built into a temporary folder and every
file is compared with the stored copy in ``tests/golden/sample/``. The Pagefind search index
(``pagefind/``) is left out: its bytes belong to the Pagefind release installed, not to careersite.

When templates, words or formatting change on purpose, regenerate the stored copy and review it::

    python tests/test_golden.py --regen
    git diff --stat tests/golden/sample     # then read the diff: is every change intended?

and commit tests/golden/sample together with the change that caused it.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "sample"
SKIPPED = ("pagefind/",)
REGEN = "python tests/test_golden.py --regen"


def build_sample(workdir: Path) -> Path:
    """Build the repository's sample site into ``workdir/output`` and return that folder."""
    from careersite.cli import main
    output = workdir / "output"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--config", str(REPO / "config.yaml"), "--output", str(output),
                     "--cache-dir", str(workdir / "cache"), "--format", "text", "--full"])
    assert code == 0, f"the sample site does not build:\n{err.getvalue()}"
    return output


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith(SKIPPED)}


def difference(built: dict[str, bytes], golden: dict[str, bytes], limit: int = 5) -> str:
    """A readable account of how ``built`` differs from ``golden`` (empty when equal)."""
    missing = sorted(golden.keys() - built.keys())
    extra = sorted(built.keys() - golden.keys())
    changed = sorted(k for k in built.keys() & golden.keys() if built[k] != golden[k])
    if not (missing or extra or changed):
        return ""
    lines = [f"the sample site no longer builds into {GOLDEN.relative_to(REPO)}/ "
             f"({len(changed)} changed, {len(extra)} new, {len(missing)} gone):"]
    lines += [f"  changed: {k}" for k in changed] + [f"  new:     {k}" for k in extra]
    lines += [f"  gone:    {k}" for k in missing]
    for name in changed[:limit]:
        try:
            old, new = golden[name].decode().splitlines(), built[name].decode().splitlines()
        except UnicodeDecodeError:
            lines.append(f"--- {name}: binary content differs")
            continue
        diff = list(difflib.unified_diff(old, new, f"golden/{name}", f"built/{name}", n=1, lineterm=""))
        lines += diff[:30] + (["  …"] if len(diff) > 30 else [])
    lines.append(f"If every change is intended, regenerate and review: {REGEN}")
    return "\n".join(lines)


def test_sample_site_matches_golden(tmp_path):
    assert GOLDEN.is_dir(), f"no golden copy yet: run {REGEN}"
    built = files(build_sample(tmp_path))
    problem = difference(built, files(GOLDEN))
    assert not problem, problem


def test_difference_names_every_file():
    text = difference({"a.html": b"x\n", "new.html": b""}, {"a.html": b"y\n", "gone.html": b""})
    assert "  changed: a.html" in text and "  new:     new.html" in text and "  gone:    gone.html" in text
    assert "-y" in text and "+x" in text and REGEN in text
    assert difference({"a": b"1"}, {"a": b"1"}) == ""


def regenerate() -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        built_dir = build_sample(Path(tmp))
        before = files(GOLDEN) if GOLDEN.is_dir() else {}
        after = files(built_dir)
        print(difference(after, before) or "golden copy unchanged")
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(built_dir, GOLDEN, ignore=shutil.ignore_patterns(*(s.rstrip("/") for s in SKIPPED)))


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit(__doc__)
    regenerate()
