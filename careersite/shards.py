"""Building one site on several machines: ``build --shard K/N`` and ``merge``.

A shard renders a deterministic share of the HTML pages, chosen by estimated cost so
the shards take about equally long (longest-processing-time-first assignment), and
writes a manifest ``.careersite-shard.json`` naming its files with their hashes and the
fingerprint of the sources and templates it was built from. ``merge`` checks that the
shards are complete, were built from the very sources and templates it sees itself, and
that no file was damaged on the way; it then takes their bytes instead of rendering and
writes the site-wide files (sitemap, feeds, search index) once. The merged output is
byte-identical to a single build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import BuildFailed, Problem
from .extras import feeds, sitemap
from .model import Site
from .render import Page, Theme, render_digest

MANIFEST = ".careersite-shard.json"
SITE_WIDE = frozenset((*sitemap.KINDS, *feeds.KINDS))


def fingerprint(site: Site, theme: Theme) -> str:
    """Everything pages are made from: every article, the config and the templates."""
    h = hashlib.sha256(render_digest(site.config, theme).encode())
    for digest in site.article_digests:
        h.update(digest.encode())
    h.update(site.digest.encode())
    return h.hexdigest()[:32]


def _cost(site: Site, page: Page) -> float:
    """Estimated rendering cost of a page (relative units), for balancing shards."""
    if page.kind == "article":
        return 1.0 + site.articles[int(page.ref)].words / 1000
    if page.kind in ("city", "profession", "region", "state"):
        terms = {"city": site.cities, "profession": site.professions, "region": site.regions,
                 "state": site.states}[page.kind]
        term = terms[page.ref]
        rows = len(term.children) if page.kind in ("region", "state") else len(term.articles)
        return 0.5 + 0.02 * min(rows, site.config.hub_page_size)
    if page.kind in ("index", "professions"):
        return 2.0
    return 0.1


def assign(site: Site, pages: list[Page], count: int) -> dict[str, int]:
    """relpath -> shard number (1-based) for every page that is not site-wide."""
    work = sorted((p for p in pages if p.kind not in SITE_WIDE), key=lambda p: (-_cost(site, p), p.relpath))
    loads = [0.0] * count
    out: dict[str, int] = {}
    for page in work:
        shard = min(range(count), key=lambda i: (loads[i], i))
        loads[shard] += _cost(site, page)
        out[page.relpath] = shard + 1
    return out


def select(site: Site, pages: list[Page], shard: int, count: int) -> list[Page]:
    """The pages of shard ``shard`` of ``count``."""
    owner = assign(site, pages, count)
    return [p for p in pages if owner.get(p.relpath) == shard]


def manifest_bundle(site: Site, pages: list[Page], shard: tuple[int, int]):
    """The shard's manifest, written like any generated file (see pipeline.Bundle)."""
    from .pipeline import Bundle

    theme = Theme.load(site.config.templates_dir)
    print_ = fingerprint(site, theme)

    def make(hashes: dict[str, str]) -> dict[str, bytes]:
        data = {"shard": shard[0], "of": shard[1], "fingerprint": print_, "files": hashes}
        return {MANIFEST: (json.dumps(data, sort_keys=True, indent=1) + "\n").encode()}

    key = hashlib.sha256(f"{print_}|{shard}|{sorted(p.key for p in pages)}".encode()).hexdigest()[:32]
    return Bundle(MANIFEST, key, make)


def collect(folders: tuple[Path, ...], site: Site, pages: list[Page], expected: str) -> dict[str, Path]:
    """Check shard folders and return relpath -> file for every page they hold."""
    problems: list[Problem] = []
    manifests = []
    for folder in folders:
        path = folder / MANIFEST
        try:
            manifests.append((folder, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(path), 0, 0, f"not a shard folder ({exc.__class__.__name__})",
                                    "pass the folders written by 'build --shard K/N --output DIR'"))
    if problems:
        raise BuildFailed(problems)
    counts = {m["of"] for _, m in manifests}
    numbers = sorted(m["shard"] for _, m in manifests)
    if len(counts) != 1 or numbers != list(range(1, next(iter(counts)) + 1)):
        raise BuildFailed([Problem(str(folders[0]), 0, 0,
                                   f"the shards do not fit together: got shards {numbers} of {sorted(counts)}",
                                   "pass every shard of one run exactly once")])
    for folder, manifest in manifests:
        if manifest["fingerprint"] != expected:
            problems.append(Problem(str(folder / MANIFEST), 0, 0,
                                    "this shard was built from other sources, templates or config than this merge",
                                    "build all shards and the merge from the same commit and config"))
    if problems:
        raise BuildFailed(problems)
    wanted = {p.relpath for p in pages if p.kind not in SITE_WIDE}
    files: dict[str, Path] = {}
    for folder, manifest in manifests:
        for relpath, sha in sorted(manifest["files"].items()):
            if relpath == MANIFEST:
                continue
            path = folder / relpath
            try:
                ok = hashlib.sha256(path.read_bytes()).hexdigest() == sha
            except OSError:
                ok = False
            if not ok:
                problems.append(Problem(str(path), 0, 0, "missing or damaged shard file",
                                        "copy the shard folder again, or rebuild that shard"))
            files[relpath] = path
    missing = sorted(wanted - set(files))
    extra = sorted(set(files) - wanted)
    for relpath in missing[:20]:
        problems.append(Problem(relpath, 0, 0, "no shard holds this page", "rebuild the shards"))
    for relpath in extra[:20]:
        problems.append(Problem(relpath, 0, 0, "a shard holds a page this site does not have", "rebuild the shards"))
    if problems:
        raise BuildFailed(problems)
    return files
