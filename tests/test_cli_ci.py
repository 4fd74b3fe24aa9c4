"""The command line in CI: --strict, GitHub annotations, the job summary, documented exit codes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO, article

from careersite import cli
from careersite.errors import Problem


@pytest.fixture(autouse=True)
def no_github(monkeypatch):
    """Each test sets the GitHub variables it needs; none leak in from a real CI run."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)


def warning_site(make_site):
    """Three articles; one spells the city 'Muenster' where two say 'Münster' (a warning, not an error)."""
    return make_site({"a/koch.md": article("Koch", "Münster"), "b/baecker.md": article("Bäcker", "Münster"),
                      "c/maurer.md": article("Maurer", "Muenster")})


WARNING = "the city name of 'muenster' is written differently: 'Münster' (2×), 'Muenster' (1×); using 'Münster'"


# --- annotations ------------------------------------------------------------------------------

def test_warnings_are_annotated_and_printed_plainly(make_site, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    site = warning_site(make_site)
    assert site.build() == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    plain = lines.index(f"content/c/maurer.md:2:1: warning: {WARNING}")
    hint = next(line for line in lines[plain:] if line.startswith("  hint: "))
    annotation = next(line for line in lines if line.startswith("::"))
    assert annotation == (f"::warning file=content/c/maurer.md,line=2,col=1::{WARNING} "
                          f"(hint: {hint.removeprefix('  hint: ')})")
    assert lines.index(annotation) > plain  # the plain line first: the log reads like a terminal's
    assert "::" not in captured.out  # problems go to stderr only


def test_errors_are_annotated_and_printed_plainly(make_site, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    site = make_site({"bochum/a.md": "kaputt\n", "bochum/b.md": article(min=5000, max=4000)})
    assert site.build() == 1
    lines = capsys.readouterr().err.splitlines()
    plain = [line for line in lines if line.startswith("content/")]
    annotations = [line for line in lines if line.startswith("::")]
    assert annotations[0].startswith("::error file=content/bochum/a.md,line=1,col=1::")
    assert len(annotations) == len(plain) >= 2
    for annotation in annotations:  # every error: its plain line, then its annotation right after it
        props, message = annotation.removeprefix("::error ").split("::", 1)
        where = props.removeprefix("file=").replace(",line=", ":").replace(",col=", ":")
        at = lines.index(annotation)
        before = lines[at - 1] if lines[at - 1].startswith("content/") else lines[at - 2]
        assert before == f"{where}: {message.split(' (hint: ')[0]}"
    assert {a.split(",")[0] for a in annotations} == {"::error file=content/bochum/a.md",
                                                       "::error file=content/bochum/b.md"}
    assert lines[-1] == f"error: {len(plain)} errors in 2 files; output/ was left unchanged."


def test_strict_turns_warnings_into_error_annotations(make_site, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    site = warning_site(make_site)
    assert site.build("--strict") == 1
    err = capsys.readouterr().err
    assert f"content/c/maurer.md:2:1: {WARNING}\n" in err
    assert f"::error file=content/c/maurer.md,line=2,col=1::{WARNING} (hint: " in err
    assert "::warning" not in err


def test_check_strict_fails_on_warnings_and_annotates_them(make_site, capsys, monkeypatch):
    site = warning_site(make_site)
    assert site.run("check", "--format", "github") == 0
    assert f"::warning file=content/c/maurer.md,line=2,col=1::{WARNING}" in capsys.readouterr().err
    assert site.run("check", "--format", "github", "--strict") == 1
    err = capsys.readouterr().err
    assert f"::error file=content/c/maurer.md,line=2,col=1::{WARNING}" in err
    assert "::warning" not in err


def test_no_annotations_outside_github(make_site, capsys):
    site = warning_site(make_site)
    assert site.build() == 0
    assert "::" not in capsys.readouterr().err


def test_annotation_escaping_follows_githubs_rules():
    # Properties: % CR LF : , escaped; the message: only % CR LF (GitHub's toolkit, command.ts).
    problem = Problem("dir,1/a:b%.md", 3, 5, "50% of 3,5:\r\nsecond line", "use ::", "warning")
    assert cli._annotation(problem) == (
        "::warning file=dir%2C1/a%3Ab%25.md,line=3,col=5::50%25 of 3,5:%0D%0Asecond line (hint: use ::)")


def test_annotation_without_line_or_column():
    assert cli._annotation(Problem("config.yaml", 0, 0, "config file not found")) == (
        "::error file=config.yaml::config file not found")


def test_a_file_name_with_a_comma_is_escaped_end_to_end(make_site, capsys):
    site = make_site({"bochum/a,b.md": "kaputt\n"})
    assert site.build("--format", "github") == 1
    err = capsys.readouterr().err
    assert "content/bochum/a,b.md:1:1: " in err
    assert "::error file=content/bochum/a%2Cb.md,line=1,col=1::" in err


def test_annotation_paths_are_relative_to_the_workspace(make_site, capsys, monkeypatch):
    # A step with `working-directory: site`: the author sees content/…, GitHub needs site/content/….
    site = make_site({"bochum/x.md": "kaputt\n"})
    monkeypatch.setenv("GITHUB_WORKSPACE", str(site.root.parent))
    assert site.build("--format", "github") == 1
    err = capsys.readouterr().err
    assert "\ncontent/bochum/x.md:1:1: " in "\n" + err
    assert f"::error file={site.root.name}/content/bochum/x.md,line=1,col=1::" in err


def test_paths_outside_the_workspace_are_left_as_they_are(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "repo"))
    monkeypatch.chdir(tmp_path)
    assert cli._workspace_path("other/a.md") == "other/a.md"
    assert cli._workspace_path("repo/content/a.md") == "content/a.md"


def test_errors_without_a_file_are_annotated_too(make_site, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    site = make_site({})
    assert site.run("new", "", "Bochum") == 2  # a usage error
    err = capsys.readouterr().err
    assert err.splitlines()[-2:] == ["error: the role is empty", "::error::the role is empty"]


# --- the job summary ------------------------------------------------------------------------

def summary_rows(text: str, header: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose header row is ``header``, as dicts."""
    lines = text.splitlines()
    start = lines.index(header)
    names = [c.strip() for c in header.strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


BUILD_HEADER = "| Pages | Rendered | Written | Removed | Skipped | Time |"
BUILT = re.compile(r"Built (\d+) pages from \d+ articles? in [\d.]+ s \((\d+) rendered, (\d+) written, (\d+) removed\)")


def test_build_appends_a_summary_table(make_site, capsys, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("## from an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    site = make_site({"bochum/strassenbauer.md": article(), "essen/koch.md": article("Koch", "Essen")})
    assert site.build() == 0
    pages, rendered, written, removed = map(int, BUILT.search(capsys.readouterr().out).groups())
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## from an earlier step\n")  # appended, never overwritten
    assert "### careersite build: " in text and "(cold)" in text
    [row] = summary_rows(text, BUILD_HEADER)
    assert row["Pages"] == str(pages) and row["Rendered"] == str(rendered)
    assert row["Written"] == str(written) and row["Removed"] == str(removed)
    assert row["Skipped"] == str(pages - rendered) == "0"
    assert re.fullmatch(r"\d+\.\d\d s", row["Time"])
    stages = summary_rows(text, "| Stage | Time |")
    assert [s["Stage"] for s in stages] == ["discover", "state", "read", "model", "render", "cache"]

    # An unchanged second build skips every page, and its summary comes after the first.
    assert site.build() == 0
    text = summary.read_text(encoding="utf-8")
    assert text.count("### careersite build: ") == 2
    second = text[text.rindex("### careersite build: "):]
    assert "(incremental)" in second
    [row] = summary_rows(second, BUILD_HEADER)
    assert (row["Rendered"], row["Written"], row["Skipped"]) == ("0", "0", row["Pages"])


def test_summary_lists_warnings(make_site, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert warning_site(make_site).build() == 0
    text = summary.read_text(encoding="utf-8")
    assert f"1 warning:\n\n```text\ncontent/c/maurer.md:2:1: warning: {WARNING}\n" in text


def test_a_failed_build_summarizes_its_problems(make_site, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    site = make_site({"bochum/x.md": "kaputt\n", "bochum/y.md": "auch kaputt\n"})
    assert site.build() == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### careersite build failed: 2 errors\n\n```text\ncontent/bochum/x.md:1:1: ")
    assert "\ncontent/bochum/y.md:1:1: " in text
    assert BUILD_HEADER not in text


def test_a_failed_check_and_a_config_error_are_summarized(make_site, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    site = make_site({"bochum/x.md": "kaputt\n"})
    assert site.run("check") == 1
    (site.root / "config.yaml").write_text("titel: x\n", encoding="utf-8")
    assert site.build() == 1
    text = summary.read_text(encoding="utf-8")
    assert "### careersite check failed: 1 error\n" in text
    assert "### careersite build failed: 1 error\n" in text
    assert "unknown key 'titel'" in text


def test_other_errors_are_summarized(make_site, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    site = make_site({})
    assert site.run("new", "Koch", "Essen") == 0
    assert site.run("new", "Koch", "Essen") == 1  # exists already: a SiteError without a Problem
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### careersite new failed\n\n```text\n")
    assert "already exists" in text


def test_an_unwritable_summary_is_a_warning_not_a_failure(make_site, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a folder: cannot be opened for appending
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build() == 0
    assert f"warning: cannot write the step summary {tmp_path}: " in capsys.readouterr().err


def test_code_blocks_outfence_backticks_in_messages():
    text = "a ``` b ```` c"
    block = cli._fenced(text)
    assert block == f"`````text\n{text}\n`````"
    assert cli._fenced("plain") == "```text\nplain\n```"


# --- exit codes -------------------------------------------------------------------------------

def test_help_documents_every_exit_code():
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"], capture_output=True, text=True,
                            check=True)
    section = result.stdout[result.stdout.index("exit codes:"):]
    for code in (cli.EXIT_OK, cli.EXIT_ERRORS, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED):
        assert re.search(rf"^  {code} +\S", section, re.M), code


def test_deploy_docs_document_the_exit_codes():
    docs = (REPO / "README.md").read_text(encoding="utf-8")
    table = summary_rows(docs, "| Exit code | Meaning |")
    assert [row["Exit code"] for row in table] == [str(c) for c in (cli.EXIT_OK, cli.EXIT_ERRORS, cli.EXIT_USAGE,
                                                                       cli.EXIT_INTERRUPTED)]


def test_usage_errors_exit_2_from_a_process(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--no-such-option"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == cli.EXIT_USAGE
    assert "unrecognized arguments: --no-such-option" in result.stderr


def test_strict_leaves_the_output_unchanged(make_site):
    site = warning_site(make_site)
    assert site.build() == 0
    before = site.files()
    koch = site.content / "a/koch.md"
    koch.write_text(koch.read_text(encoding="utf-8").replace("Viel zu tun.", "Sehr viel zu tun."), encoding="utf-8")
    assert site.build("--strict") == 1
    assert site.files() == before

