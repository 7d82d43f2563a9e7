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
    run.set_defaults(func=_lazy("hackatimed.commands.run", "cmd_run"))

    explain = sub.add_parser(
        "explain", parents=[common], help="show the heartbeat a save of each file would produce"
    )
    explain.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    explain.add_argument("--json", action="store_true", help="one wire-format object per line")
    explain.set_defaults(func=_lazy("hackatimed.commands.explain", "cmd_explain"))

    init = sub.add_parser(
        "init",
        parents=[common],
        help="write the config file (asks for what it cannot find)",
        description="Write the config file, mode 0600. The API key comes from "
        "$HACKATIME_API_KEY or ~/.wakatime.cfg, or is asked for on the terminal (never as an "
        "argument, which other users could see).",
    )
    init.add_argument(
        "--root", action="append", type=Path, default=[], metavar="PATH", help="a folder to watch"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")
    init.set_defaults(func=_lazy("hackatimed.commands.init", "cmd_init"))

    status = sub.add_parser(
        "status", parents=[common], help="is the daemon running, and what is queued"
    )
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(func=_lazy("hackatimed.commands.status", "cmd_status"))

    today = sub.add_parser("today", parents=[common], help="today's total from the server")
    today.add_argument("--json", action="store_true", help="the server's answer as it is")
    today.set_defaults(func=_lazy("hackatimed.commands.stats", "cmd_today"))

    stats = sub.add_parser(
        "stats", parents=[common], help="time per project and language, from the server"
    )
    stats.add_argument("--start", metavar="DATE", help="first day, like 2026-01-31")
    stats.add_argument("--end", metavar="DATE", help="last day, like 2026-02-06")
    stats.add_argument(
        "--features",
        metavar="LIST",
        help="projects, languages or both, comma-separated (default: both)",
    )
    stats.add_argument("--json", action="store_true", help="the server's answer as it is")
    stats.set_defaults(func=_lazy("hackatimed.commands.stats", "cmd_stats"))

    sync = sub.add_parser("sync", parents=[common], help="send every queued heartbeat now")
    sync.add_argument("--json", action="store_true", help="the outcome as one JSON object")
    sync.set_defaults(func=_lazy("hackatimed.commands.sync", "cmd_sync"))

    doctor = sub.add_parser(
        "doctor", parents=[common], help="check the setup, with the fix for each problem"
    )
    doctor.set_defaults(func=_lazy("hackatimed.commands.doctor", "cmd_doctor"))

    for name, verb in (("install-service", "install"), ("uninstall-service", "uninstall")):
        service = sub.add_parser(
            name,
            parents=[common],
            help=f"{verb} the systemd user unit or launchd agent that runs the daemon at login",
        )
        service.add_argument(
            "--dry-run", action="store_true", help="print the file and the commands instead"
        )
        service.set_defaults(func=_lazy("hackatimed.commands.service", f"cmd_{verb}_service"))
    return parser


def _lazy(module: str, name: str) -> Command:
    """Import a command's module only when it runs: `hackatimed status` need not load aiohttp."""

    def command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
        import importlib

        func: Command = getattr(importlib.import_module(module), name)
        return func(args, env)

    return command


def main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args, os.environ if env is None else env)
        return result
    except HackatimedError as exc:
        print(f"hackatimed: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_USAGE
