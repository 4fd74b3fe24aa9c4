"""Run the shell steps of this repository's GitHub workflows in a local folder.

GitHub runs a ``run:`` step as ``bash --noprofile --norc -eo pipefail SCRIPT`` in the workspace,
with the workflow's, the job's and the step's ``env:``. :class:`Runner` runs the very same
scripts the same way, so the tests exercise the workflow files themselves, not a copy of their
commands. ``${{ … }}`` expressions are replaced from values the test gives; an expression
without a value fails the test, so no step runs with a guessed value. Environment variables
that a script does not mention are left out (their expressions need no value).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COMMIT_TIME = 1_767_323_045  # 2026-01-02 03:04:05 UTC: the commit time of every workspace


def load(name: str) -> dict:
    """The workflow ``.github/workflows/NAME`` as data (YAML 1.1 reads the key ``on`` as True)."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict) -> list[tuple[str, dict]]:
    """Every (job name, step) of ``workflow``, in file order."""
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


def find_step(workflow: dict, job: str, name: str) -> dict:
    """The one step of ``job`` whose name starts with ``name``."""
    matches = [s for s in workflow["jobs"][job]["steps"] if s.get("name", "").startswith(name)]
    assert len(matches) == 1, f"{len(matches)} steps of job {job!r} are named {name!r}..."
    return matches[0]


def expand(text: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        expression = match.group(1)
        assert expression in values, f"the test gives no value for ${{{{ {expression} }}}}"
        return values[expression]

    return EXPRESSION.sub(value, str(text))


def make_workspace(root: Path, repo: Path = REPO) -> Path:
    """A checkout as GitHub's runner has it: the site's sources and build.py, committed with git."""
    root.mkdir(parents=True)
    for name in ("content", "templates"):
        shutil.copytree(repo / name, root / name)
    for name in ("config.yaml", "build.py"):
        shutil.copy2(repo / name, root / name)
    git = ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.org", "-c", "init.defaultBranch=main"]
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{COMMIT_TIME} +0000", "GIT_COMMITTER_DATE": f"@{COMMIT_TIME} +0000"}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sources"]):
        subprocess.run([*git, *command], cwd=root, env=env, check=True, capture_output=True)
    return root


@dataclass
class Runner:
    """Runs workflow steps in ``workspace`` as a GitHub-hosted runner would."""

    workspace: Path
    values: dict[str, str] = field(default_factory=dict)  # expression -> value
    summary: Path | None = None  # GITHUB_STEP_SUMMARY (default: beside the workspace)

    def __post_init__(self):
        self.summary = self.summary or self.workspace.parent / f"{self.workspace.name}-summary.md"
        self._bin = self.workspace.parent / f"{self.workspace.name}-bin"
        self._bin.mkdir(exist_ok=True)
        shim = self._bin / "python"
        if not shim.exists():
            # `python` in a step is the interpreter running the tests, called by its own path: a
            # symlink to a virtual environment's python (itself a symlink, e.g. to pyenv's) starts
            # the base interpreter without the environment's packages (Python looks for
            # pyvenv.cfg beside the path it was called by)
            shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
            shim.chmod(0o755)

    def run(self, workflow_name: str, job: str, step_name: str, **env: str) -> subprocess.CompletedProcess:
        """Run one ``run:`` step; ``env`` overrides variables (e.g. a matrix value or SHARDS).

        Returns the finished process; its ``outputs`` attribute holds what the step wrote to
        GITHUB_OUTPUT.
        """
        workflow = load(workflow_name)
        step = find_step(workflow, job, step_name)
        script = expand(step["run"], self.values)
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        for scope in (workflow.get("env", {}), workflow["jobs"][job].get("env", {}), step.get("env", {})):
            for name, text in scope.items():
                if re.search(rf"\${{?{name}\b", script):
                    environment[name] = expand(text, self.values)
        outputs = self.workspace.parent / f"{self.workspace.name}-output.txt"
        outputs.write_text("", encoding="utf-8")
        environment.update(PATH=f"{self._bin}{os.pathsep}{environment.get('PATH', '')}", GITHUB_ACTIONS="true",
                           CI="true", GITHUB_WORKSPACE=str(self.workspace), GITHUB_OUTPUT=str(outputs),
                           GITHUB_STEP_SUMMARY=str(self.summary), **env)
        script_file = self.workspace.parent / f"{self.workspace.name}-step.sh"
        script_file.write_text(script, encoding="utf-8")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
                                cwd=self.workspace, env=environment, capture_output=True, text=True)
        result.outputs = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
        return result


def files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) by its POSIX path relative to it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_files(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    """Equal file sets with equal bytes; on failure, name the files that differ (not a huge diff)."""
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"{len(differ)} files differ, e.g. {differ[:5]}"
