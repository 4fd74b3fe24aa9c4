"""careersite: a static site generator for regional career guides."""

__version__ = "0.1.0"
