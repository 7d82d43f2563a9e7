"""Logging set-up: one readable line per event."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str, *, under_journal: bool) -> None:
    # The journal stamps every line itself; a second timestamp only adds noise there.
    fmt = "%(levelname)s %(message)s" if under_journal else "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp and watchdog are chatty at debug level and say nothing a user can act on.
    for noisy in ("asyncio", "watchdog", "aiohttp", "git"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
