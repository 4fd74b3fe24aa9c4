"""careersite.cli: exit codes 0/1/2, what is printed, --quiet, --strict, --drafts, CI formats."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO, article

from careersite import __version__
from careersite.cli import main


def test_build_prints_a_summary_and_exits_0(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build() == 0
    out, err = capsys.readouterr()
    assert err == ""
    (line,) = out.splitlines()
    assert line.startswith("Built ") and "from 1 article in" in line and line.endswith("-> output")


def test_build_is_the_default_command(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert main(["--config", str(site.root / "config.yaml")]) == 0
    assert (site.output / "index.html").exists()


def test_quiet_prints_nothing_on_success(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build("--quiet") == 0
    assert capsys.readouterr() == ("", "")


def test_quiet_still_prints_problems(make_site, capsys):
    site = make_site({"bochum/x.md": "kaputt\n"})
    assert site.build("-q") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("content/bochum/x.md:1:1: the file does not start with front matter\n"
                   "  hint: the first line must be '---'; did you forget to add it?\n"
                   "error: 1 error in 1 file; output/ was left unchanged.\n")


def test_content_errors_exit_1_with_every_problem_and_a_count(make_site, capsys):
    site = make_site({"a/one.md": "kaputt\n", "a/two.md": "", "b/three.md": article().replace("min: 3000", "min: x")})
    assert site.build() == 1
    err = capsys.readouterr().err
    assert err.count("  hint: ") == 4  # 'min: x' twice in three.md: the salary's and its first level's
    assert err.splitlines()[-1] == "error: 4 errors in 3 files; output/ was left unchanged."
    assert "Traceback" not in err


@pytest.mark.parametrize("folder, name, hint", [
    ("content/bochum", "kreis.md", "rename it: use letters, digits and hyphens (umlauts are fine in UTF-8)"),
    ("templates/static", "kreis.css", "rename it: use letters, digits and hyphens"),
])
def test_files_it_cannot_take_fail_the_build_with_their_paths(make_site, capsys, folder, name, hint):
    """A file in content/ or templates/ that links to itself, or whose name is not UTF-8 (which
    no URL can hold), is an error that names it (a traceback before), also when the last build
    succeeded (not a proven no-op)."""
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build("-q") == 0
    before = site.files()
    stem, ext = name.split(".")
    (site.root / folder / name).symlink_to(name)
    with open(os.fsencode(site.root / folder) + b"/caf\xe9." + ext.encode(), "w") as fh:
        fh.write(article("Koch"))
    assert site.build("-q") == 1
    assert capsys.readouterr().err == (
        f"{folder}/caf\\xe9.{ext}: the file name is not valid UTF-8\n"
        f"  hint: {hint}\n"
        f"{folder}/{name}: cannot read the file: Too many levels of symbolic links\n"
        "  hint: a symbolic link that leads to itself or in a circle: replace it with the file\n"
        "error: 2 errors in 2 files; output/ was left unchanged.\n")
    assert site.files() == before


def test_config_errors_exit_1(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()}, config="titel: X\n")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{site.root / 'config.yaml'}:3:1: unknown key 'titel'\n  hint: did you mean 'title'?\n")
    assert err.endswith("error: the configuration has errors; nothing was built.\n")
    assert not site.output.exists()


@pytest.mark.parametrize("make, message", [
    (lambda path: path.symlink_to(path.name), "cannot read the config file: Too many levels of symbolic links"),
    (lambda path: path.mkdir(), "cannot read the config file: Is a directory"),
    (lambda path: path.symlink_to("fehlt.yaml"), "config file not found"),  # not the defaults: a broken link
])
def test_a_config_yaml_that_cannot_be_read_is_an_error(tmp_path, monkeypatch, capsys, make, message):
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "config.yaml")
    assert main(["build"]) == 1
    assert capsys.readouterr().err.startswith(f"config.yaml: {message}\n")
    assert not (tmp_path / "output").exists()


def test_a_content_folder_that_is_not_there_is_an_error_not_an_empty_site(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build("-q") == 0
    before = site.files()
    assert site.build("-q", "--content", "inhalt") == 1  # a typo
    assert capsys.readouterr().err == (
        "inhalt: the content folder does not exist\n"
        "  hint: create it (python build.py new makes the first article), or set content_dir in "
        "config.yaml or --content to the folder that holds the articles\n"
        "error: 1 error in 1 file; output/ was left unchanged.\n")
    assert site.files() == before


@pytest.mark.parametrize("command, written", [("build", "output/ was left unchanged"),
                                              ("check", "nothing was written")])
def test_a_cache_folder_that_cannot_be_used_is_an_error(make_site, capsys, command, written):
    site = make_site({"bochum/strassenbauer.md": article()})
    (site.root / "kaputt").write_text("a file where the cache folder should be")
    assert site.run(command, "-q", "--cache-dir", "kaputt") == 1
    assert capsys.readouterr().err == (
        "kaputt: cannot use the cache folder: a file is in the way\n"
        "  hint: set cache_dir in config.yaml (or --cache-dir) to a folder careersite may write; "
        "the cache is safe to delete\n"
        f"error: 1 error in 1 file; {written}.\n")


def test_missing_explicit_config_file_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--config", "nope.yaml"]) == 1
    assert "nope.yaml: config file not found" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["build", "--no-such-option"], ["build", "--jobs", "viele"], ["bauen", "x"],
                                  ["build", "--format", "xml"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"careersite {__version__}"


def test_warnings_are_printed_and_strict_makes_them_errors(make_site, capsys):
    site = make_site({"a/koch.md": article("Koch", "Münster"), "b/baecker.md": article("Bäcker", "Münster"),
                      "c/maurer.md": article("Maurer", "Muenster")})
    assert site.build() == 0
    err = capsys.readouterr().err
    assert err.startswith("content/c/maurer.md:2:1: warning: the city name of 'muenster' is written differently")
    assert site.build("--strict") == 1
    err = capsys.readouterr().err
    assert err.startswith("content/c/maurer.md:2:1: the city name of 'muenster' is written differently")
    assert err.endswith("error: 1 error in 1 file; output/ was left unchanged.\n")


def test_drafts_are_skipped_unless_asked_for(make_site, capsys):
    draft = article("Koch", "Essen").replace("date:", "draft: true\ndate:")
    site = make_site({"bochum/strassenbauer.md": article(), "essen/koch.md": draft})
    assert site.build() == 0
    assert not (site.output / "essen/koch/index.html").exists()
    assert "koch" not in site.page("sitemap.xml")
    assert site.build("--drafts") == 0
    assert (site.output / "essen/koch/index.html").exists()
    assert site.build() == 0
    assert not (site.output / "essen").exists()


def test_github_format_adds_annotations(make_site, capsys):
    site = make_site({"bochum/x.md": "kaputt\n"})
    assert site.build("--format", "github") == 1
    err = capsys.readouterr().err
    assert ("::error file=content/bochum/x.md,line=1,col=1::the file does not start with front matter "
            "(hint: the first line must be '---'; did you forget to add it?)\n") in err


def test_github_format_is_the_default_under_github_actions(make_site, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    site = make_site({"bochum/x.md": "kaputt\n"})
    assert site.build() == 1
    assert "::error file=" in capsys.readouterr().err
    assert site.build("--format", "text") == 1
    assert "::error" not in capsys.readouterr().err


def test_command_line_options_override_the_config(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    (site.root / "texte").mkdir()
    (site.root / "texte" / "a.md").write_text(article("Koch", "Essen"), encoding="utf-8")
    assert site.build("--content", "texte", "--output", "public", "--base-url", "https://b.example/") == 0
    assert (site.root / "public/essen/koch/index.html").exists()
    assert "https://b.example/essen/koch/" in (site.root / "public/sitemap.xml").read_text()


def test_build_py_as_a_process(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "CI")}
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "--quiet"], cwd=site.root, capture_output=True,
                         text=True, env=env)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    site.write("bochum/kaputt.md", "---\nrole: X\n")
    run = subprocess.run([sys.executable, str(REPO / "build.py")], cwd=site.root, capture_output=True, text=True,
                         env=env)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("content/bochum/kaputt.md:1:1: the front matter is not closed\n")
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--bogus"], cwd=site.root,
                         capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "unrecognized arguments: --bogus" in run.stderr


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_build_py_without_the_dependencies_uses_the_venv_or_says_how_to_set_up(tmp_path):
    """``python3 build.py`` with a Python that lacks Jinja2, Babel…: it runs with the project's
    .venv when there is one, else it names the missing package and the set-up command."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "build.py").write_bytes((REPO / "build.py").read_bytes())
    (project / "careersite").symlink_to(REPO / "careersite")
    bare = [sys._base_executable, "-S", "build.py", "--version"]  # -S: no site-packages at all
    result = subprocess.run(bare, cwd=project, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert "careersite needs the package" in result.stderr and "bash scripts/build-site.sh" in result.stderr
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests do not run in a virtual environment")
    (project / ".venv").symlink_to(sys.prefix)
    result = subprocess.run(bare, cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
