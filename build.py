#!/usr/bin/env python3
"""Entry point: ``python build.py [build|serve|check|new] ...`` (see README.md)."""

import sys

from careersite.cli import main

if __name__ == "__main__":
    sys.exit(main())
