"""Building on several machines: ``build --shard K/N`` and ``merge`` give the bytes of one build.

Also runs the steps of ``.github/workflows/publish-sharded.yml`` (plan, the shard matrix, the
artifact hand-over and the merge) on the sample site.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from careersite import cli
from careersite.write import MARKER
from tests.support.workflows import COMMIT_TIME, Runner, assert_same_files, files, load, make_workspace

pytestmark = pytest.mark.skipif("merge" not in cli.COMMANDS, reason="sharding not implemented yet")

MANIFEST = ".careersite-shard.json"
BOOKKEEPING = {MANIFEST, MARKER}  # in every shard folder; not pages
PAGES_URL = "https://owner.github.io/careersite"


def run(*argv: str) -> int:
    return cli.main([*argv, "--quiet"])


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The sample site and the files of one ordinary build of it."""
    site = make_workspace(tmp_path_factory.mktemp("sample") / "site")
    assert run("build", "--config", str(site / "config.yaml"), "--output", str(site / "single")) == 0
    return site, files(site / "single")


def build_shards(site: Path, count: int, into: Path) -> list[Path]:
    folders = [into / str(k) for k in range(1, count + 1)]
    for k, folder in enumerate(folders, 1):
        assert run("build", "--config", str(site / "config.yaml"), "--shard", f"{k}/{count}",
                   "--output", str(folder)) == 0
    return folders


def merge(site: Path, folders: list[Path], output: Path) -> int:
    return run("merge", *map(str, folders), "--config", str(site / "config.yaml"), "--output", str(output))


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_merged_shards_equal_a_single_build(sample, tmp_path, count):
    site, single = sample
    folders = build_shards(site, count, tmp_path / "shards")
    assert merge(site, folders, tmp_path / "merged") == 0
    assert_same_files(files(tmp_path / "merged"), single)


def test_every_page_is_rendered_by_exactly_one_shard(sample, tmp_path):
    site, single = sample
    shards = [files(folder) for folder in build_shards(site, 3, tmp_path / "shards")]
    pages = [{name for name in shard if name not in BOOKKEEPING} for shard in shards]
    assert all(pages)
    assert not (pages[0] & pages[1] or pages[0] & pages[2] or pages[1] & pages[2])
    union = set().union(*pages)
    for shard in shards:  # a shard's page is the very file of the single build
        assert all(shard[name] == single[name] for name in shard if name not in BOOKKEEPING)
    site_wide = set(single) - union
    assert {"sitemap.xml", "feed.xml"} <= site_wide
    assert not [name for name in site_wide if name.endswith(".html")]  # every HTML page is in a shard


def test_shards_are_deterministic(sample, tmp_path):
    site, _ = sample
    first = [files(f) for f in build_shards(site, 3, tmp_path / "first")]
    second = [files(f) for f in build_shards(site, 3, tmp_path / "second")]
    assert first == second


def test_shards_are_balanced_by_size(sample, tmp_path):
    site, _ = sample
    shards = [files(folder) for folder in build_shards(site, 3, tmp_path / "shards")]
    sizes = [sum(len(data) for name, data in shard.items() if name not in BOOKKEEPING) for shard in shards]
    largest_page = max(len(data) for shard in shards for name, data in shard.items() if name not in BOOKKEEPING)
    # Greedy balancing can leave shards apart by about one page, not by a multiple of the mean.
    assert max(sizes) - min(sizes) <= 2 * largest_page, sizes


# --- merge refuses what does not fit -------------------------------------------------------------

@pytest.fixture
def three(sample, tmp_path) -> tuple[Path, list[Path]]:
    site, _ = sample
    return site, build_shards(site, 3, tmp_path / "shards")


def refused(site: Path, folders: list[Path], output: Path, capsys) -> str:
    assert merge(site, folders, output) == cli.EXIT_ERRORS
    assert not output.exists()  # nothing is written
    return capsys.readouterr().err


def test_merge_refuses_a_missing_shard(three, tmp_path, capsys):
    site, folders = three
    assert "do not fit together" in refused(site, folders[:2], tmp_path / "out", capsys)


def test_merge_refuses_a_shard_given_twice(three, tmp_path, capsys):
    site, folders = three
    assert "do not fit together" in refused(site, [folders[0], *folders[:2]], tmp_path / "out", capsys)


def test_merge_refuses_a_damaged_file(three, tmp_path, capsys):
    site, folders = three
    page = sorted(folders[1].rglob("*.html"))[0]
    page.write_bytes(page.read_bytes().replace(b"<", b"[", 1))
    assert "missing or damaged shard file" in refused(site, folders, tmp_path / "out", capsys)


def test_merge_refuses_a_shard_without_its_manifest(three, tmp_path, capsys):
    # What upload-artifact would hand over without include-hidden-files: true.
    site, folders = three
    (folders[2] / MANIFEST).unlink()
    assert "not a shard folder" in refused(site, folders, tmp_path / "out", capsys)


def test_merge_refuses_shards_of_other_sources(sample, tmp_path, capsys):
    site, _ = sample
    copy = tmp_path / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".cache", "single"))
    folders = build_shards(copy, 2, tmp_path / "shards")
    article = copy / "content/bochum/strassenbauer.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nEin neuer Absatz.\n", encoding="utf-8")
    assert "built from other sources" in refused(copy, folders, tmp_path / "out", capsys)


# --- the workflow ---------------------------------------------------------------------------

def test_the_sharded_workflow_publishes_what_the_simple_one_does(tmp_path):
    """plan -> build (matrix) -> artifacts -> merge, each job in its own fresh checkout."""
    workflow = load("publish-sharded.yml")
    plan = Runner(make_workspace(tmp_path / "plan"))
    planned = plan.run("publish-sharded.yml", "plan", "Plan the shards", SHARDS="3")
    assert planned.returncode == 0, planned.stderr
    assert planned.outputs == {"shards": "[1,2,3]", "source-date-epoch": str(COMMIT_TIME)}

    needs = {"needs.plan.outputs.base-url": PAGES_URL,
             "needs.plan.outputs.source-date-epoch": planned.outputs["source-date-epoch"]}
    upload = next(s for s in workflow["jobs"]["build"]["steps"] if s.get("uses", "").startswith("actions/upload-"))
    merger = make_workspace(tmp_path / "merge")
    for shard in (1, 2, 3):
        runner = Runner(make_workspace(tmp_path / f"shard-{shard}"), {**needs, "matrix.shard": str(shard)})
        result = runner.run("publish-sharded.yml", "build", "Build shard", SHARDS="3")
        assert result.returncode == 0, result.stderr
        # upload-artifact + download-artifact: shards/K on the runner -> shards/shard-K for the merge
        source = runner.workspace / upload["with"]["path"].replace("${{ matrix.shard }}", str(shard))
        hidden = upload["with"].get("include-hidden-files", False)
        shutil.copytree(source, merger / "shards" / f"shard-{shard}",
                        ignore=None if hidden else shutil.ignore_patterns(".*"))
    merged = Runner(merger, needs).run("publish-sharded.yml", "merge", "Merge the shards")
    assert merged.returncode == 0, merged.stderr

    single = Runner(make_workspace(tmp_path / "single"), {"steps.pages.outputs.base_url": PAGES_URL})
    assert single.run("publish.yml", "build", "Build").returncode == 0
    assert_same_files(files(merger / "output"), files(single.workspace / "output"))
    assert f"<loc>{PAGES_URL}/</loc>".encode() in (merger / "output/sitemap.xml").read_bytes()
