"""careersite.write and the writing stage: atomic output, safety checks, determinism."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import article

from careersite import write
from careersite.config import load_config
from careersite.write import (
    MARKER,
    Packer,
    check_output_dir,
    commit_changes,
    commit_full,
    finish_removals,
    remove_stale_staging,
    scan_output,
    stage_file,
    staging_dir,
)


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes | str]:
    """Every file (bytes) and symlink (target) below ``root``, except top-level names in ``skip``."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip:
            continue
        if path.is_symlink():
            out[rel.as_posix()] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel.as_posix()] = path.read_bytes()
        else:
            out[rel.as_posix() + "/"] = b""
    return out


def config_for(root: Path, **settings: str):
    text = "".join(f"{k}: {v}\n" for k, v in settings.items())
    (root / "config.yaml").write_text(text, encoding="utf-8")
    return load_config(root / "config.yaml")


# --- check_output_dir ----------------------------------------------------------------------

@pytest.mark.parametrize("output, expected", [
    (".", "the output folder contains the project folder"),
    ("..", "the output folder contains the project folder"),
    ("content", "the output folder contains the content folder"),
    ("templates", "the output folder contains the templates folder"),
    ("content/out", "the output folder lies inside the content folder"),
    ("templates/out", "the output folder lies inside the templates folder"),
    (".cache", "the output folder contains the cache folder"),
])
def test_refuses_output_folders_that_hold_sources(tmp_path, output, expected):
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "templates").mkdir()
    config = config_for(root, output_dir=output, cache_dir=".cache/careersite")
    messages = [p.message for p in check_output_dir(config)]
    assert any(m.startswith(expected) for m in messages), messages
    assert all(p.hint for p in check_output_dir(config))


def test_inside_messages_name_the_right_folder(tmp_path):
    """Output inside content/ must not also claim to be inside templates/ or the cache."""
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    config = config_for(root, output_dir="content/out")
    assert [p.message for p in check_output_dir(config)] == ["the output folder lies inside the content folder"]


def test_a_normal_output_folder_is_fine(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    assert check_output_dir(config_for(root)) == []
    (root / "output").mkdir()
    assert check_output_dir(config_for(root)) == []  # empty
    (root / "output" / MARKER).write_text("x")
    (root / "output" / "index.html").write_text("x")
    assert check_output_dir(config_for(root)) == []  # made by careersite


def test_refuses_a_foreign_non_empty_folder_and_a_file(tmp_path):
    root = tmp_path / "site"
    (root / "output").mkdir(parents=True)
    (root / "output" / "thesis.tex").write_text("precious")
    assert [p.message for p in check_output_dir(config_for(root))] == [
        "the output folder is not empty and was not made by careersite"]
    (root / "public").write_text("a file")
    assert [p.message for p in check_output_dir(config_for(root, output_dir="public"))] == [
        "the output path exists and is not a folder"]


def test_refuses_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    root = tmp_path / "site"
    root.mkdir()
    messages = [p.message for p in check_output_dir(config_for(root, output_dir=str(tmp_path)))]
    assert "refusing to use the file-system root or home folder as output" in messages


# --- the low-level steps ---------------------------------------------------------------------

def test_stage_file_stays_inside_the_staging_folder(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    stage_file(root, "a/b/index.html", b"x")
    stage_file(root, "a/b/index.html", b"y")  # overwrites
    stage_file(root, "a/c.html", b"z")  # the folder exists already
    assert (root / "a/b/index.html").read_bytes() == b"y" and (root / "a/c.html").read_bytes() == b"z"
    for bad in ("../escape.html", "/tmp/escape.html", "a/../../escape.html", "a\\..\\..\\x", "a/\x00"):
        with pytest.raises(ValueError):
            stage_file(root, bad, b"x")
    assert not (tmp_path / "escape.html").exists()


def test_staging_is_beside_output_and_fresh(tmp_path):
    output = tmp_path / "output"
    staging = staging_dir(output)
    assert staging.parent == tmp_path and staging.name.startswith(".output.careersite-tmp-")
    (staging / "left.html").write_text("x")
    assert list(staging_dir(output).iterdir()) == []


def test_commit_full_swaps_in_the_new_folder(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    (output / MARKER).write_text("x")
    (output / "old.html").write_text("old")
    staging = staging_dir(output)
    stage_file(staging, "new.html", b"new")
    commit_full(staging, output)
    assert sorted(p.name for p in output.iterdir()) == [MARKER, "new.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]  # no staging or old folder left


def test_commit_full_into_a_missing_folder(tmp_path):
    output = tmp_path / "output"
    staging = staging_dir(output)
    stage_file(staging, "index.html", b"x")
    commit_full(staging, output)
    assert (output / "index.html").read_bytes() == b"x" and (output / MARKER).exists()


def packed(staging: Path, files: dict[str, bytes]) -> dict[str, tuple[str, int, int]]:
    packer = Packer(staging)
    places = {rel: packer.add(rel, data) for rel, data in files.items()}
    packer.close()
    return places


def test_commit_changes_writes_removes_and_prunes_empty_folders(tmp_path):
    output = tmp_path / "output"
    for rel, data in {"keep.html": "k", "a/change.html": "old content", "b/c/gone.html": "g",
                      "b/stay.html": "s", "a/grow.html": "x"}.items():
        (output / rel).parent.mkdir(parents=True, exist_ok=True)
        (output / rel).write_text(data)
    inode = (output / "a/change.html").stat().st_ino
    staging = staging_dir(output)
    places = packed(staging, {"a/change.html": b"new", "d/added.html": b"add", "a/grow.html": b"longer than before"})
    stats = commit_changes(staging, output, places, ["b/c/gone.html"])
    assert scan_output(output).keys() == {"keep.html", "a/change.html", "b/stay.html", "d/added.html", "a/grow.html"}
    assert (output / "a/change.html").read_bytes() == b"new"  # shorter: the old tail is cut off
    assert (output / "a/grow.html").read_bytes() == b"longer than before"
    assert (output / "d/added.html").read_bytes() == b"add"
    assert (output / "a/change.html").stat().st_ino == inode  # written in place
    for rel, (size, mtime) in stats.items():
        st = (output / rel).stat()
        assert (st.st_size, st.st_mtime_ns) == (size, mtime)
    assert sorted(stats) == ["a/change.html", "a/grow.html", "d/added.html"]
    assert not (output / "b/c").exists() and (output / "b").is_dir()
    finish_removals()  # (the staging folder goes in a thread, which a build waits for before it returns)
    assert not staging.exists()


@pytest.mark.skipif(os.name != "posix", reason="hard links, symbolic links and FIFOs as on POSIX")
def test_commit_changes_never_writes_through_links_or_special_files(tmp_path):
    """A file of output/ with a hard link elsewhere, a symbolic link or a FIFO is replaced by a new
    file: writing in place would change the file outside output/ (or block on the FIFO)."""
    output = tmp_path / "output"
    output.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "hard.html").write_text("precious")
    os.link(outside / "hard.html", output / "hard.html")
    (outside / "target.html").write_text("precious too")
    (output / "sym.html").symlink_to(outside / "target.html")
    os.mkfifo(output / "fifo.html")
    staging = staging_dir(output)
    places = packed(staging, {"hard.html": b"new 1", "sym.html": b"new 2", "fifo.html": b"new 3"})
    commit_changes(staging, output, places, [])
    assert (outside / "hard.html").read_text() == "precious"
    assert (outside / "target.html").read_text() == "precious too"
    for name, data in (("hard.html", b"new 1"), ("sym.html", b"new 2"), ("fifo.html", b"new 3")):
        assert (output / name).read_bytes() == data
        assert not (output / name).is_symlink() and (output / name).stat().st_nlink == 1


def test_packs_hold_each_process_s_files(tmp_path):
    staging = staging_dir(tmp_path / "output")
    packer = Packer(staging)
    assert packer.add("a/index.html", b"first") == (f"pack-{os.getpid()}", 0, 5)
    assert packer.add("b.html", b"second") == (f"pack-{os.getpid()}", 5, 6)
    packer.close()
    assert (staging / f"pack-{os.getpid()}").read_bytes() == b"firstsecond"
    if hasattr(os, "fork"):  # a forked worker appends to its own pack
        pid = os.fork()
        if pid == 0:
            code = 0 if packer.add("c.html", b"child") == (f"pack-{os.getpid()}", 0, 5) else 1
            packer.close()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert (staging / f"pack-{pid}").read_bytes() == b"child"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="two processes write only where os.fork exists")
def test_commit_changes_writes_many_files_in_two_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "_FORK_FROM", 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    output = tmp_path / "output"
    (output / "a").mkdir(parents=True)
    (output / "a/old.html").write_text("old")
    files = {f"{d}/{n}.html": f"page {d}{n}".encode() for d in ("a", "b", "c") for n in range(3)}
    files["a/old.html"] = b"new"
    staging = staging_dir(output)
    stats = commit_changes(staging, output, packed(staging, files), [])
    assert forks == [1]
    assert sorted(stats) == sorted(files)
    for rel, data in files.items():
        assert (output / rel).read_bytes() == data
        st = (output / rel).stat()
        assert stats[rel] == (st.st_size, st.st_mtime_ns)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="two processes write only where os.fork exists")
def test_a_failure_in_the_second_writing_process_fails_the_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "_FORK_FROM", 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    put = write._put

    def failing(path, staged, *args):
        if staged.relpath == "z/last.html":  # in the second half: written by the child
            raise OSError(errno.ENOSPC, "No space left on device", path)
        return put(path, staged, *args)

    monkeypatch.setattr(write, "_put", failing)
    output = tmp_path / "output"
    output.mkdir()
    files = {f"a/{n}.html": b"x" for n in range(5)} | {"z/last.html": b"y"}
    staging = staging_dir(output)
    with pytest.raises(OSError, match="No space left on device") as caught:
        commit_changes(staging, output, packed(staging, files), [])
    assert caught.value.errno == errno.ENOSPC and caught.value.filename.endswith("last.html")


def test_commit_changes_refuses_paths_outside_output(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    (tmp_path / "victim.txt").write_text("precious")
    staging = staging_dir(output)
    with pytest.raises(ValueError):
        commit_changes(staging, output, {}, ["../victim.txt"])
    for bad in ("../victim.txt", "/tmp/escape.html", "a/../../victim.txt", "a\\..\\..\\x", "a/\x00",
                "C:x.html", "a/C:/x.html"):  # a drive on Windows
        with pytest.raises(ValueError):
            commit_changes(staging, output, packed(staging, {bad: b"x"}), [])
        staging = staging_dir(output)
    assert (tmp_path / "victim.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["output", "victim.txt", staging.name])


def test_commit_changes_follows_links_only_inside_output(tmp_path):
    output = tmp_path / "output"
    (output / "real").mkdir(parents=True)
    (output / "inside").symlink_to(output / "real")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (output / "outside").symlink_to(outside)
    staging = staging_dir(output)
    commit_changes(staging, output, packed(staging, {"inside/a.html": b"in", "deep/er/b.html": b"new folders"}), [])
    assert (output / "real/a.html").read_bytes() == b"in"
    assert (output / "deep/er/b.html").read_bytes() == b"new folders"
    staging = staging_dir(output)
    with pytest.raises(ValueError):
        commit_changes(staging, output, packed(staging, {"outside/c.html": b"x"}), [])
    assert list(outside.iterdir()) == []
    (output / "file").write_text("x")
    staging = staging_dir(output)
    with pytest.raises(NotADirectoryError):
        commit_changes(staging, output, packed(staging, {"file/d.html": b"x"}), [])
    # a link one folder down (folders are checked by their entry in their parent's listing),
    # reached directly and through a link inside, and one that leads nowhere
    (output / "real/sub").symlink_to(outside)
    (output / "real/gone").symlink_to(tmp_path / "missing")
    for relpath in ("real/sub/e.html", "inside/sub/e.html", "real/gone/e.html"):
        staging = staging_dir(output)
        with pytest.raises(ValueError):
            commit_changes(staging, output, packed(staging, {"real/ok.html": b"ok", relpath: b"x"}), [])
        assert list(outside.iterdir()) == [] and not (tmp_path / "missing").exists()
        assert not (output / "real/ok.html").exists()  # every folder is checked before any file is written


def test_scan_output_skips_the_marker(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/x.html").write_bytes(b"12345")
    (tmp_path / MARKER).write_text("m")
    found = scan_output(tmp_path)
    assert list(found) == ["a/x.html"] and found["a/x.html"][0] == 5
    assert scan_output(tmp_path / "missing") == {}


def test_remove_stale_staging_only_removes_dead_builds(tmp_path):
    output = tmp_path / "output"
    dead = tmp_path / ".output.careersite-tmp-999999999"
    alive = tmp_path / f".output.careersite-tmp-{os.getppid()}"
    other = tmp_path / ".other.careersite-tmp-999999999"
    for folder in (dead, alive, other):
        folder.mkdir()
    remove_stale_staging(output)
    assert not dead.exists() and alive.exists() and other.exists()


# --- whole builds ---------------------------------------------------------------------------

def test_a_failed_build_leaves_output_byte_identical(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")})
    assert site.build() == 0
    before = tree(site.output)
    stamps = {p: p.stat().st_mtime_ns for p in site.output.rglob("*")}
    site.write("essen/baecker.md", article("Bäcker", "Essen").replace("max: 4000", "max: 4.000"))
    site.write("essen/koch.md", "kaputt")
    assert site.build() == 1
    assert tree(site.output) == before
    assert {p: p.stat().st_mtime_ns for p in site.output.rglob("*")} == stamps
    assert "output/ was left unchanged" in capsys.readouterr().err


@pytest.mark.parametrize("full", [False, True])
def test_a_render_error_leaves_output_untouched_and_no_staging(make_site, full):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build() == 0
    before = tree(site.root, skip=(".cache",))
    site.write("bochum/strassenbauer.md", article(min=3100))  # the article page must be rendered again
    template = site.root / "templates" / "article.html"
    template.write_text(template.read_text().replace("{% block main %}", "{% block main %}{{ no_such_value }}"))
    before["templates/article.html"] = template.read_bytes()
    before["content/bochum/strassenbauer.md"] = (site.content / "bochum/strassenbauer.md").read_bytes()
    assert site.build(*(["--full"] if full else [])) == 1
    assert tree(site.root, skip=(".cache",)) == before  # output intact, no staging folder left beside it


def test_nothing_is_written_outside_output_and_the_cache(make_site):
    site = make_site({"bochum/strassenbauer.md": article()})
    (site.root / "notes.txt").write_text("mine")
    before = tree(site.root.parent, skip=())
    assert site.build() == 0
    site.write("essen/baecker.md", article("Bäcker", "Essen"))
    before["site/content/essen/"] = b""
    before["site/content/essen/baecker.md"] = (site.content / "essen/baecker.md").read_bytes()
    assert site.build() == 0
    after = tree(site.root.parent)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed and all(k.startswith(("site/output/", "site/.cache/")) for k in changed), sorted(changed)


def test_refusals_through_the_command_line(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    foreign = site.root / "public"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    before = tree(site.root, skip=(".cache",))
    for output in (".", "content", "templates", "public", "content/x"):
        assert site.build("--output", output) == 1
    assert tree(site.root, skip=(".cache",)) == before  # nothing written, nothing deleted
    err = capsys.readouterr().err
    assert "the output folder contains the project folder" in err
    assert "the output folder is not empty and was not made by careersite" in err


def test_same_input_gives_byte_identical_output_cold_or_incremental(make_site):
    files = {"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen"),
             "essen/strassenbauer.md": article("Straßenbauer", "Essen", 3100, 4100)}
    one = make_site(files, name="one")
    assert one.build() == 0
    one.write("essen/baecker.md", article("Bäcker", "Essen", 2000, 2500))
    assert one.build() == 0
    one.write("essen/baecker.md", files["essen/baecker.md"])
    assert one.build() == 0  # incremental, back to the original content
    two = make_site(files, name="two")
    assert two.build("--full") == 0
    assert one.files() == two.files()
    assert two.build("--full") == 0
    assert one.files() == two.files()


def test_removed_article_disappears_from_output(make_site):
    site = make_site({"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")})
    assert site.build() == 0
    (site.content / "essen/baecker.md").unlink()
    assert site.build() == 0
    assert not (site.output / "essen").exists()
    assert not (site.output / "berufe/baecker").exists()


@pytest.mark.skipif(os.name != "posix", reason="in-place writes are for POSIX")
@pytest.mark.parametrize("kernel_copy", [True, False])
def test_a_failed_write_in_place_leaves_no_half_written_file(tmp_path, monkeypatch, kernel_copy):
    import errno

    from careersite import write
    output = tmp_path / "output"
    output.mkdir()
    (output / "a.html").write_bytes(b"old " * 1000)
    staging = staging_dir(output)
    places = packed(staging, {"a.html": b"new " * 2000})
    calls = []

    def full_disk(*args):
        calls.append(args)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        if kernel_copy:  # copy_file_range(src, dst, count, offset_src, offset_dst)
            src, dst, count, offset_src, offset_dst = args
            return os.pwrite(dst, os.pread(src, 100, offset_src), offset_dst)  # a partial copy first
        fd, data = args
        return real_write(fd, bytes(data)[:100])  # a partial write first

    real_write = os.write
    if kernel_copy:
        monkeypatch.setattr(write, "_copy_range", full_disk)
    else:
        monkeypatch.setattr(write, "_copy_range", None)
        monkeypatch.setattr(write.os, "write", full_disk)
    with pytest.raises(OSError):
        commit_changes(staging, output, places, [])
    assert len(calls) == 2
    assert not (output / "a.html").exists()  # gone, not torn: the next build writes it again


@pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="copy_file_range is Linux's")
def test_pages_are_written_where_the_kernel_cannot_copy(tmp_path, monkeypatch):
    """copy_file_range fails on some file systems (EXDEV, EINVAL, ENOSYS…): the bytes are read and
    written instead, from where the copy stopped."""
    import errno

    from careersite import write
    output = tmp_path / "output"
    output.mkdir()
    (output / "a.html").write_bytes(b"old " * 1000)
    staging = staging_dir(output)
    places = packed(staging, {"a.html": b"0123456789" * 500, "b.html": b"new file"})
    copied = []

    def partly(src, dst, count, offset_src, offset_dst):
        if copied:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        copied.append(count)
        return os.pwrite(dst, os.pread(src, 7, offset_src), offset_dst)

    monkeypatch.setattr(write, "_copy_range", partly)
    commit_changes(staging, output, places, [])
    assert (output / "a.html").read_bytes() == b"0123456789" * 500  # the old, longer file cut to size
    assert (output / "b.html").read_bytes() == b"new file"


def test_a_nearly_full_disk_replaces_files_instead(tmp_path, monkeypatch):
    from careersite import write
    output = tmp_path / "output"
    output.mkdir()
    (output / "a.html").write_text("old")
    inode = (output / "a.html").stat().st_ino
    monkeypatch.setattr(write, "_room_for", lambda folder, size: False)
    staging = staging_dir(output)
    commit_changes(staging, output, packed(staging, {"a.html": b"new"}), [])
    assert (output / "a.html").read_bytes() == b"new"
    if os.name == "posix":
        assert (output / "a.html").stat().st_ino != inode


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_written_in_place_gets_the_permissions_of_a_new_file(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    (output / "new.html").write_text("x")
    expected = (output / "new.html").stat().st_mode & 0o777
    (output / "a.html").write_text("old")
    os.chmod(output / "a.html", 0o600)
    staging = staging_dir(output)
    commit_changes(staging, output, packed(staging, {"a.html": b"new"}), [])
    assert (output / "a.html").stat().st_mode & 0o777 == expected


def test_reading_a_pack_without_pread(tmp_path, monkeypatch):
    from careersite.write import _Staged
    path = tmp_path / "pack"
    path.write_bytes(b"firstsecond")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert _Staged("b", fd, 5, 6).read() == b"second"
        monkeypatch.delattr(os, "pread")  # as on Windows
        assert _Staged("b", fd, 5, 6).read() == b"second" and _Staged("a", fd, 0, 5).read() == b"first"
        with pytest.raises(OSError, match="incomplete"):
            _Staged("c", fd, 5, 7).read()
    finally:
        os.close(fd)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_file_whose_permissions_cannot_be_set_is_replaced_not_lost(tmp_path, monkeypatch):
    """Found by review: a page of another user (a shared output folder) cannot be chmod'ed; it
    must be replaced by a new file, not deleted with the build failing."""
    import errno

    from careersite import write
    output = tmp_path / "output"
    output.mkdir()
    (output / "a.html").write_text("old")
    os.chmod(output / "a.html", 0o664)

    def refused(fd, mode):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(write.os, "fchmod", refused)
    staging = staging_dir(output)
    commit_changes(staging, output, packed(staging, {"a.html": b"new"}), [])
    assert (output / "a.html").read_bytes() == b"new"


def test_the_staging_folder_goes_after_a_commit_in_the_background(tmp_path, monkeypatch):
    """commit_changes removes its staging folder in a thread; finish_removals waits for it, and
    a new staging folder (the same name in the same process) is made only once it is gone."""
    import shutil
    import threading
    output = tmp_path / "output"
    output.mkdir()
    release = threading.Event()
    real = shutil.rmtree

    def slow(path, *args, **kwargs):
        release.wait(10)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", slow)
    staging = staging_dir(output)
    commit_changes(staging, output, packed(staging, {"a/x.html": b"neu"}), [])
    assert (output / "a/x.html").read_bytes() == b"neu"
    assert staging.exists()  # (still being removed)
    threading.Timer(0.2, release.set).start()
    again = staging_dir(output)  # waits for the removal, then makes the folder anew
    assert again == staging and again.is_dir() and list(again.iterdir()) == []
    commit_changes(again, output, packed(again, {"a/x.html": b"neuer"}), [])
    finish_removals()
    assert not again.exists() and (output / "a/x.html").read_bytes() == b"neuer"
