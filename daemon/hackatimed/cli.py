"""The command line: parses and dispatches, nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hackatimed import __version__
from hackatimed.errors import EXIT_USAGE, HackatimedError

Command = Callable[[argparse.Namespace, Mapping[str, str]], int]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="config file (default: $HACKATIMED_CONFIG, then ~/.config/hackatimed/config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="hackatimed",
        description="Turns your edits, in any editor, into Hackatime coding time.",
    )
    parser.add_argument("--version", action="version", version=f"hackatimed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", parents=[common], help="run the daemon in the foreground")
    run.add_argument(
        "--root", action="append", type=Path, default=[], metavar="PATH", help="a folder to watch"
    )
    run.set_defaults(func=_lazy("hackatimed.commands", "cmd_run"))

    explain = sub.add_parser(
        "explain", parents=[common], help="show the heartbeat a save of each file would produce"
    )
    explain.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    explain.add_argument("--json", action="store_true", help="one wire-format object per line")
    explain.set_defaults(func=_lazy("hackatimed.commands", "cmd_explain"))
    return parser


def _lazy(module: str, name: str) -> Command:
    """Import a command's module only when it runs: `hackatimed status` need not load aiohttp."""

    def command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
        import importlib

        func: Command = getattr(importlib.import_module(module), name)
        return func(args, env)

    return command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args, os.environ)
        return result
    except HackatimedError as exc:
        print(f"hackatimed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_USAGE
