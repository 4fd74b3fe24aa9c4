#!/usr/bin/env python3
"""Entry point: ``python build.py [build|serve|check|new|merge] ...`` (see README.md)."""

from careersite.cli import run

if __name__ == "__main__":
    run()
