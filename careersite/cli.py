"""Command line: ``careersite [build|serve|check|new] …``.

Exit codes (also listed by ``--help`` and in README.md): see :data:`EXIT_CODES`.
A :class:`~careersite.errors.SiteError` becomes a message, never a traceback.

In CI: ``--strict`` makes warnings errors. Under GitHub Actions (``GITHUB_ACTIONS=true``, or
``--format github``) every error and warning is printed plainly *and* as a workflow command
(``::error file=…,line=…,col=…::…``) that GitHub shows as an annotation on the file. When
``GITHUB_STEP_SUMMARY`` names a file, a build appends a Markdown summary to it (pages, rendered,
written, removed, skipped, time per stage), and a failed command appends its problems.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import Config, load_config
from .errors import BuildFailed, ConfigError, Problem, SiteError, UsageError

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success (warnings may have been printed; with --strict there were none)
  {EXIT_ERRORS}    content, config or template errors (all printed; with --strict also warnings);
       output/ is left as it was
  {EXIT_USAGE}    usage error: unknown command or option, or a bad value on the command line
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); output/ is left as it was

in CI: GITHUB_ACTIONS=true prints every problem also as a GitHub annotation (like --format github);
GITHUB_STEP_SUMMARY, when set, names a file a build appends a Markdown summary to."""
COMMANDS = ("build", "serve", "check", "new", "merge")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        argv.insert(0, "build")  # `python build.py` and `python build.py --drafts` mean build
    parser = _parser()
    args = parser.parse_args(argv)
    out = Output(args)
    try:
        return args.handler(args, out)
    except BuildFailed as exc:
        out.problems(exc.problems)
        step_summary(_failure_summary(args.command, exc.problems))
        files = len({p.path for p in exc.problems if p.severity == "error"})
        errors = sum(p.severity == "error" for p in exc.problems)
        out.error(f"{_plural(errors, 'error')} in {_plural(files, 'file')}; "
                  f"{'nothing was written' if args.command == 'check' else _unchanged(args)}.")
        return EXIT_ERRORS
    except ConfigError as exc:
        out.problems(exc.problems)
        step_summary(_failure_summary(args.command, exc.problems))
        out.error("the configuration has errors; nothing was built.")
        return EXIT_ERRORS
    except UsageError as exc:
        out.error(str(exc), annotate=True)
        return EXIT_USAGE
    except SiteError as exc:
        out.error(str(exc), annotate=True)
        step_summary(f"### careersite {args.command} failed\n\n{_fenced(str(exc))}")
        return EXIT_ERRORS
    except KeyboardInterrupt:
        out.error(f"interrupted; {_unchanged(args)}.")
        return EXIT_INTERRUPTED


def run() -> None:
    """Entry point of ``python build.py``, ``python -m careersite`` and ``careersite``.

    Exits without the interpreter's final clean-up: freeing the state of a large site object
    by object takes seconds (3 s at 100,000 articles) and there is nothing left to clean up:
    files are closed, worker pools joined, and output is flushed here.
    """
    if sys.argv[1:2] != ["serve"]:
        # A one-shot command: no cyclic garbage collection in this process at all (a build
        # pauses it anyway; turning it back on at the end made the first collection walk every
        # object the build made: 80 ms for one edit at 10,000 articles).
        gc.disable()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.yaml", metavar="PATH",
                        help="the site configuration (default: config.yaml)")
    common.add_argument("--content", metavar="DIR", help="the content folder (default from config: content)")
    common.add_argument("--output", metavar="DIR", help="the output folder (default from config: output)")
    common.add_argument("--templates", metavar="DIR", help="the templates folder (default from config: templates)")
    common.add_argument("--cache-dir", metavar="DIR", help="the cache folder (default: .cache/careersite)")
    common.add_argument("--base-url", metavar="URL", help="the public URL of the site, e.g. https://example.org/")
    common.add_argument("--drafts", action="store_true", help="include articles with 'draft: true'")
    common.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="worker processes (default: one per CPU core)")
    common.add_argument("--strict", action="store_true", help="treat warnings as errors")
    common.add_argument("--format", choices=("text", "github"), default=None,
                        help="how to print problems (default: github under GitHub Actions, else text)")
    common.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    common.add_argument("-v", "--verbose", action="store_true", help="print timings per stage")

    parser = argparse.ArgumentParser(prog="careersite", description="Build regional career guide sites.",
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"careersite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", parents=[common], help="build the site into output/ (the default command)")
    p.add_argument("--full", action="store_true", help="ignore the cache and previous output (a cold build)")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="render only shard K of N of the pages (for CI matrices; combine them with 'merge')")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("merge", parents=[common], help="combine shard folders into output/: merge DIR... ")
    p.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR", help="folders written by build --shard")
    p.set_defaults(handler=cmd_build, full=False, shard=None)

    p = sub.add_parser("serve", parents=[common], help="live preview that rebuilds and reloads on save")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--no-drafts", action="store_true", help="hide drafts (shown by default in serve)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("check", parents=[common], help="validate everything without writing output/")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("new", parents=[common], help="create a new article: new \"ROLE\" \"CITY\"")
    p.add_argument("role", help="the profession, e.g. \"Fachinformatiker Systemintegration\"")
    p.add_argument("city", help="the city, e.g. Bochum")
    p.set_defaults(handler=cmd_new)
    return parser


def load(args: argparse.Namespace, **extra) -> Config:
    """The config of ``args``: config.yaml plus command-line overrides."""
    path = Path(args.config)
    if not os.path.lexists(path) and args.config == "config.yaml":
        path = None  # no config file: defaults (relative to the working folder); a broken link is an error
    # Folders named on the command line are relative to the working folder, like any
    # command's arguments; folders in config.yaml are relative to the config file.
    def absolute(value: str | None) -> str | None:
        return os.path.abspath(value) if value else None  # (load_config resolves links, and reports loops)

    overrides = {"content_dir": absolute(args.content), "output_dir": absolute(args.output),
                 "templates_dir": absolute(args.templates), "cache_dir": absolute(args.cache_dir),
                 "base_url": args.base_url, "drafts": args.drafts or None, **extra}
    config = load_config(path, overrides)
    args.output_shown = _display(config.output_dir)
    return config


def _unchanged(args: argparse.Namespace) -> str:
    """"output/ was left unchanged", naming the output folder actually used."""
    return f"{getattr(args, 'output_shown', 'output')}/ was left unchanged"


class Output:
    """Prints progress, results and problems; knows about terminals, quiet mode and CI formats."""

    def __init__(self, args: argparse.Namespace):
        self.quiet = getattr(args, "quiet", False)
        self.verbose = getattr(args, "verbose", False)
        fmt = getattr(args, "format", None)
        self.github = fmt == "github" or (fmt is None and os.environ.get("GITHUB_ACTIONS") == "true")
        self.tty = sys.stderr.isatty() and not os.environ.get("CI")
        self._bar_shown = False
        self._last = 0.0

    def info(self, message: str) -> None:
        if not self.quiet:
            self._clear_bar()
            print(message, flush=True)

    def error(self, message: str, annotate: bool = False) -> None:
        """Print ``error: message``; with ``annotate``, under GitHub also as a file-less annotation."""
        self._clear_bar()
        print(f"error: {message}", file=sys.stderr, flush=True)
        if annotate and self.github:
            print(f"::error::{_escape_data(message)}", file=sys.stderr, flush=True)

    def problems(self, problems: Sequence[Problem]) -> None:
        self._clear_bar()
        for problem in problems:
            print(problem.format(), file=sys.stderr)
            if self.github:
                print(_annotation(problem), file=sys.stderr)
        sys.stderr.flush()

    def progress(self, stage: str, done: int, total: int) -> None:
        """A one-line progress bar on a terminal, redrawn at most 10 times a second."""
        if self.quiet or not self.tty or total < 500:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{stage:<7} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
        self._bar_shown = True

    def _clear_bar(self) -> None:
        if self._bar_shown:
            sys.stderr.write("\r" + " " * 70 + "\r")
            self._bar_shown = False


def _annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command, e.g. ``::error file=a.md,line=3,col=5::message``."""
    level = "error" if problem.severity == "error" else "warning"
    props = [f"file={_escape_property(_workspace_path(problem.path))}"] if problem.path else []
    if problem.line:
        props.append(f"line={problem.line}")
    if problem.column:
        props.append(f"col={problem.column}")
    text = problem.message + (f" (hint: {problem.hint})" if problem.hint else "")
    return f"::{level} {','.join(props)}::{_escape_data(text)}"


def _workspace_path(path: str) -> str:
    """``path`` as GitHub wants it in an annotation: relative to the repository root, with ``/``.

    Problems name files relative to the working folder; a workflow step may run in a
    subfolder (``working-directory``), so the path is made relative to GITHUB_WORKSPACE.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        try:
            relative = os.path.relpath(os.path.abspath(path), workspace)
        except ValueError:  # another drive on Windows
            relative = ""
        if relative and not relative.startswith(".."):
            path = relative
    return path.replace(os.sep, "/")


def _escape_data(text: str) -> str:
    """Escape a workflow command's message as GitHub's toolkit does (``escapeData`` in command.ts)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """Escape a workflow command's property value (``escapeProperty``): also ``:`` and ``,``."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def step_summary(markdown: str) -> None:
    """Append ``markdown`` to the GitHub Actions job summary, if GITHUB_STEP_SUMMARY names one.

    Appended, never overwritten: earlier steps of the job write to the same file. A summary
    that cannot be written is a warning, not a failed build.
    """
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        print(f"warning: cannot write the step summary {path}: {exc.strerror or exc}", file=sys.stderr)


def _build_summary(title: str, report) -> str:
    """The Markdown summary of a successful build: what it did, and how long each stage took."""
    kind = "cold" if report.cold else "incremental"
    lines = [
        f"### {title}: {_plural(report.pages, 'file')} from {_plural(report.articles, 'article')} ({kind})",
        "",
        "| Pages | Rendered | Written | Removed | Skipped | Time |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {report.pages} | {report.rendered} | {report.written} | {report.removed} "
        f"| {report.pages - report.rendered} | {report.seconds:.2f} s |",
        "",
        "Pages: every output file. Rendered: made again because what they are made from changed. "
        "Written: of those, the files whose bytes changed. Skipped: kept as they were, not rendered.",
        "",
        "| Stage | Time |",
        "| --- | ---: |",
        *(f"| {stage} | {seconds:.2f} s |" for stage, seconds in report.stages.items()),
    ]
    if report.warnings:
        lines += ["", f"{_plural(len(report.warnings), 'warning')}:", "",
                  _fenced("\n".join(p.format() for p in report.warnings))]
    return "\n".join(lines)


def _failure_summary(command: str, problems: Sequence[Problem], limit: int = 50) -> str:
    """The Markdown summary of a failed command: the count and (the first ``limit`` of) its problems."""
    errors = sum(p.severity == "error" for p in problems)
    text = "\n".join(p.format() for p in problems[:limit])
    if len(problems) > limit:
        text += f"\n… and {len(problems) - limit} more"
    return f"### careersite {command} failed: {_plural(errors, 'error')}\n\n{_fenced(text)}"


def _fenced(text: str) -> str:
    """``text`` as a Markdown code block, its fence longer than any run of backticks inside."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# --- commands ------------------------------------------------------------------------------

def cmd_build(args: argparse.Namespace, out: Output) -> int:
    config = load(args)
    from .early import Start, build_lock  # light: the build's children start before the heavy imports below
    with build_lock(config.cache_dir, out.info):
        start = Start(config.content_dir, config.output_dir, children=not args.full)
        try:
            from .pipeline import BuildOptions, build
            options = BuildOptions(jobs=args.jobs, full=args.full, progress=out.progress, log=out.info,
                                   shard=args.shard, merge_from=tuple(getattr(args, "shards", ())), strict=args.strict)
            report = build(config, options, start=start)  # with --strict, warnings fail it before anything is written
        finally:
            start.close()
    if report.warnings:
        out.problems(report.warnings)
    out.info(f"Built {report.pages} pages from {_plural(report.articles, 'article')} in {report.seconds:.2f} s "
             f"({report.rendered} rendered, {report.written} written, {report.removed} removed) "
             f"-> {_display(config.output_dir)}")
    if out.verbose:
        out.info("  " + ", ".join(f"{k} {v:.2f} s" for k, v in report.stages.items()))
    shard = getattr(args, "shard", None)
    step_summary(_build_summary(f"careersite {args.command}" + (f" --shard {shard[0]}/{shard[1]}" if shard else ""),
                                report))
    return EXIT_OK


def _shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; argparse turns a ValueError into a usage error (exit 2)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 2/5, not {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"shard K/N needs 1 <= K <= N, not {text!r}")
    return k, n


def _as_error(problem: Problem) -> Problem:
    return Problem(problem.path, problem.line, problem.column, problem.message, problem.hint, "error")


def _display(path: Path) -> str:
    from .early import display_path  # (early.py is imported by the build anyway; not by --help)
    return display_path(path)


def cmd_serve(args: argparse.Namespace, out: Output) -> int:
    from .serve import serve
    # a loader, not a config: serve reads config.yaml again on every rebuild
    return serve(lambda: load(args, drafts=not args.no_drafts), host=args.host, port=args.port, out=out,
                 jobs=args.jobs)


def cmd_check(args: argparse.Namespace, out: Output) -> int:
    from .check import check
    config = load(args)
    problems, warnings = check(config, jobs=args.jobs)
    if args.strict:
        problems, warnings = problems + [_as_error(w) for w in warnings], []
    if warnings:
        out.problems(warnings)
    if problems:
        raise BuildFailed(problems)
    out.info("No problems found.")
    return EXIT_OK


def cmd_new(args: argparse.Namespace, out: Output) -> int:
    from .scaffold import new_article
    config = load(args)
    path = new_article(config, args.role, args.city)
    out.info(f"Created {_display(path)}")
    out.info("Fill in the salary and the text, then set 'draft: false' to publish it.")
    return EXIT_OK
