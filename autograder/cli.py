"""The ``dlgrade`` command: a thin layer over the library's functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .assignment import AssignmentError, Project
from .build import BuildError, build


def _build(args: argparse.Namespace) -> int:
    project = Project.default()
    names = args.names or project.names()
    for name in names:
        built = build(name, project, check=args.check)
        verb = "up to date" if args.check else "built"
        print(
            f"{name}: {verb} — {built.template.relative_to(project.root)}, {built.autograder_zip.relative_to(project.root)}"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="dlgrade", description="Grade deep-learning notebooks.")
    commands = main.add_subparsers(dest="command", required=True)

    command = commands.add_parser("build", help="build student templates and otter autograders")
    command.add_argument("names", nargs="*", help="assignments (default: all)")
    command.add_argument(
        "--check", action="store_true", help="fail if a committed template is out of date"
    )
    command.set_defaults(run=_build)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (AssignmentError, BuildError) as error:
        print(f"dlgrade: {error}", file=sys.stderr)
        return 2
