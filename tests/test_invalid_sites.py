"""Invalid sites: every folder in tests/sites/invalid/ must fail to build with exactly its expected.txt.

Each case folder holds ``content/`` (the articles), optionally ``config.yaml``, and ``expected.txt``:
the exact standard error of ``careersite build`` run in a copy of the folder (so paths are relative,
``content/…``). The case is built with the repository's templates after a valid build, so the test
also proves that a failed build leaves the previous ``output/`` byte for byte as it was.

To add a case: make the folder with its ``content/`` (and ``config.yaml``), then regenerate.
To regenerate every expected.txt after changing a message on purpose::

    python tests/test_invalid_sites.py --regen            # all cases
    python tests/test_invalid_sites.py --regen CASE ...   # some cases

and read every changed message (``git diff tests/sites/invalid``) before committing: each must name
the file, the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "sites" / "invalid"
TEMPLATES = HERE.parent / "templates"
CONFIG = "title: Testatlas\nbase_url: https://example.org/\n"
VALID = "---\nrole: Platzhalter\ncity: Vorher\nsalary:\n  min: 3000\n  max: 4000\n---\nDie vorige Ausgabe.\n"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "content").is_dir()) if CASES_DIR.is_dir() else []


def _main(argv: list[str]) -> tuple[int, str, str]:
    from careersite.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build_case(case: str, workdir: Path) -> tuple[int, str, dict[str, bytes], dict[str, bytes], list[str]]:
    """Build ``case`` in ``workdir/case`` after a valid build there.

    Returns (exit code, stderr, output before, output after, leftover names beside output/).
    """
    source = CASES_DIR / case
    root = workdir / case
    root.mkdir(parents=True)
    shutil.copytree(TEMPLATES, root / "templates")
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "content" / "vorher").mkdir(parents=True)
    (root / "content" / "vorher" / "platzhalter.md").write_text(VALID, encoding="utf-8")
    old_cwd = os.getcwd()
    os.chdir(root)
    try:
        code, _, err = _main(["build", "--format", "text"])
        assert code == 0, f"the valid build before the case failed:\n{err}"
        before = _snapshot(root / "output")
        shutil.rmtree(root / "content")
        shutil.copytree(source / "content", root / "content")
        if (source / "config.yaml").exists():
            shutil.copy(source / "config.yaml", root / "config.yaml")
        code, _, err = _main(["build", "--format", "text"])
        after = _snapshot(root / "output")
    finally:
        os.chdir(old_cwd)
    leftovers = sorted(p.name for p in root.iterdir()
                       if p.name not in {"templates", "content", "config.yaml", "output", ".cache"})
    return code, err, before, after, leftovers


@pytest.mark.parametrize("case", CASES)
def test_invalid_site(case, tmp_path):
    expected_file = CASES_DIR / case / "expected.txt"
    assert expected_file.exists(), f"no expected.txt: run python tests/test_invalid_sites.py --regen {case}"
    code, err, before, after, leftovers = build_case(case, tmp_path)
    expected = expected_file.read_text(encoding="utf-8")
    assert err == expected, (f"stderr of {case} differs from {expected_file.relative_to(HERE.parent)}; if the "
                             f"new message is better, run: python tests/test_invalid_sites.py --regen {case}")
    assert code == 1
    assert after == before, "a failed build changed output/"
    assert leftovers == [], "a failed build left files beside output/"


def test_there_are_enough_cases():
    assert len(CASES) >= 25


def test_every_message_is_located_and_has_a_hint():
    """Every problem line names a relative path and a line, and is followed by a hint."""
    for case in CASES:
        lines = (CASES_DIR / case / "expected.txt").read_text(encoding="utf-8").splitlines()
        assert lines[-1].startswith("error: "), case
        problems = lines[:-1]
        assert problems and len(problems) % 2 == 0, (case, "a problem without hint")
        for first, second in zip(problems[::2], problems[1::2], strict=True):
            path, line = first.split(":")[:2]
            assert not os.path.isabs(path) and path.startswith(("content/", "config.yaml")), (case, first)
            assert line.isdigit() and int(line) > 0, (case, first)
            assert second.startswith("  hint: ") and len(second) > len("  hint: ") + 5, (case, second)


def regenerate(names: list[str]) -> None:
    import tempfile
    for case in names or CASES:
        with tempfile.TemporaryDirectory() as tmp:
            code, err, before, after, leftovers = build_case(case, Path(tmp))
        if code != 1 or after != before or leftovers:
            print(f"{case}: exit code {code}, output changed: {after != before}, leftovers: {leftovers}")
        target = CASES_DIR / case / "expected.txt"
        old = target.read_text(encoding="utf-8") if target.exists() else None
        target.write_text(err, encoding="utf-8")
        state = "new" if old is None else ("changed" if old != err else "unchanged")
        print(f"--- {case} ({state})\n{err}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    if sys.argv[1:2] != ["--regen"]:
        sys.exit(__doc__)
    regenerate(sys.argv[2:])
