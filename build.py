#!/usr/bin/env python3
"""Entry point: ``python build.py [build|serve|check|new|merge] ...`` (see README.md)."""

import os
import sys
from pathlib import Path


def _main() -> None:
    try:
        from careersite.cli import run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "careersite":
            raise
        _run_in_venv(exc.name or "a dependency")
        return
    run()


def _run_in_venv(missing: str) -> None:
    """This Python lacks careersite's dependencies: run the command with the project's .venv
    (made by scripts/build-site.sh) if there is one, else say how to set it up."""
    venv = Path(__file__).resolve().parent / ".venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists() and Path(sys.prefix).resolve() != venv.resolve() and not os.environ.get("CAREERSITE_VENV_RUN"):
        os.environ["CAREERSITE_VENV_RUN"] = "1"  # never again, should that Python lack them too
        command = [str(python), str(Path(__file__).resolve()), *sys.argv[1:]]
        if os.name == "posix":
            os.execv(command[0], command)
        import subprocess
        sys.exit(subprocess.call(command))
    sys.exit(f"careersite needs the package {missing!r}, which this Python ({sys.executable}) does not have.\n"
             "Set up once with `bash scripts/build-site.sh` (it creates .venv with everything careersite "
             "needs and builds the site); `python build.py` then uses .venv by itself.")


if __name__ == "__main__":
    _main()
