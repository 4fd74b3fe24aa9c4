"""End-to-end builds of small sites in tmp_path."""

from __future__ import annotations

from conftest import article


def test_builds_article_hubs_and_extras(make_site):
    site = make_site({
        "bochum/strassenbauer.md": article("Straßenbauer", "Bochum", 3000, 4000),
        "essen/strassenbauer.md": article("Straßenbauer", "Essen", 3200, 4400),
        "essen/baecker.md": article("Bäcker", "Essen", 2600, 3100),
    })
    assert site.build() == 0
    files = site.files()
    for expected in ("index.html", "404.html", "bochum/index.html", "essen/index.html",
                     "bochum/strassenbauer/index.html", "essen/baecker/index.html",
                     "berufe/strassenbauer/index.html", "berufe/baecker/index.html", "berufe/index.html",
                     "regionen/ruhrgebiet/index.html", "bundeslaender/nordrhein-westfalen/index.html",
                     "sitemap.xml", "robots.txt", "feed.xml", "feeds/stadt-essen.xml"):
        assert expected in files, expected
    page = site.page("bochum/strassenbauer/index.html")
    assert "3.000–4.000\u00a0€" in page
    assert '<html lang="de">' in page


def test_three_broken_files_give_three_messages_and_keep_output(make_site, capsys):
    site = make_site({"bochum/strassenbauer.md": article()})
    assert site.build() == 0
    before = site.files()
    site.write("a/one.md", "---\nrole: X\ncity: Y\nsalary:\n  min: 3.300\n  max: 4600\n---\n")
    site.write("a/two.md", "---\nrole: X\ncity: Z\nsalery: 1\n---\n")
    site.write("a/three.md", "no front matter\n")
    capsys.readouterr()
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "content/a/one.md:5:8: '3.300' is read as 3.3, not as 3300" in err
    assert "content/a/two.md:4:1: unknown key 'salery'" in err
    assert "content/a/three.md:1:1: the file does not start with front matter" in err
    assert site.files() == before


def test_same_input_gives_identical_output(make_site, tmp_path):
    files = {"bochum/strassenbauer.md": article(), "essen/baecker.md": article("Bäcker", "Essen")}
    one = make_site(files, name="one")
    assert one.build() == 0
    two = make_site(files, name="two")
    assert two.build("--full") == 0
    assert one.files() == two.files()


def test_command_line_folders_are_relative_to_the_working_folder(make_site, tmp_path, monkeypatch):
    site = make_site({"bochum/strassenbauer.md": article()})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from careersite.cli import main
    assert main(["build", "-q", "--config", str(site.root / "config.yaml"), "--output", "out"]) == 0
    assert (elsewhere / "out" / "bochum" / "strassenbauer" / "index.html").is_file()
    assert not (site.root / "out").exists()


def test_job_titles_with_slashes_build(make_site):
    site = make_site({"essen/kaufmann.md": article("Kaufmann/-frau für Büromanagement (m/w/d)", "Essen")})
    assert site.build("-q") == 0
    page = site.page("essen/kaufmann-frau-fuer-bueromanagement-m-w-d/index.html")
    assert "Kaufmann/-frau für Büromanagement (m/w/d)" in page
