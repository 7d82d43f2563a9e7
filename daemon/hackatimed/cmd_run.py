"""`hackatimed run`: load the config, set up logging and the seams, and hand over to the
daemon."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Mapping

from hackatimed.clock import SystemClock
from hackatimed.config import Config, home_of, load_config, resolve_config_path
from hackatimed.detect import HeartbeatBuilder
from hackatimed.logs import setup_logging

log = logging.getLogger("hackatimed")


def cmd_run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from hackatimed.daemon import run_daemon
    from hackatimed.editor_backups import backup_folders
    from hackatimed.focus import choose_focus_source
    from hackatimed.idle import choose_idle_source

    home = home_of(env)
    path = resolve_config_path(args.config, env=env)

    def load() -> Config:
        return load_config(path, env=env, home=home, extra_roots=args.root)

    config = load()
    setup_logging(config.logging.level, under_journal=bool(env.get("JOURNAL_STREAM")))
    for warning in config.warnings:
        log.warning("%s", warning)
    clock = SystemClock()
    hostname = socket.gethostname()
    idle = choose_idle_source(config.activity.system_idle, env=env)
    focus = choose_focus_source(config.activity.window_focus, env=env)

    def builder(c: Config) -> HeartbeatBuilder:
        return HeartbeatBuilder(c, clock=clock, home=home, hostname=hostname)

    return run_daemon(
        config,
        clock=clock,
        idle=idle,
        reload_config=load,
        builder_factory=builder,
        focus=focus,
        home=home,
        backup_folders=backup_folders(home=home, env=env),
    )
