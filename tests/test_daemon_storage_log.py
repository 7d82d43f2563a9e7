"""The `heartbeat` log line tells the truth about storage: "queued" once the heartbeat is on
disk, "held in memory" while the disk refuses it (a kill -9 would lose it then).

An in-process daemon (real watcher, builder and outbox, no key: nothing is sent) whose outbox
connections get a page ceiling, like a full disk."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import hackatimed.delivery.outbox as outbox_module
from hackatimed.activity.idle import NoIdleSource
from hackatimed.clock import SystemClock
from hackatimed.config.load import Config
from hackatimed.daemon import Daemon
from hackatimed.detect.builder import HeartbeatBuilder

pytestmark = pytest.mark.timeout(60)
LINE = re.compile(r"heartbeat (\S+) \(.*, (queued|held in memory)\) t=(\d+\.\d+)")


async def _saves_logged(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    files: int,
    after_first: Callable[[], None] = lambda: None,
) -> list[tuple[str, str, str]]:
    root = tmp_path / "code"
    for i in range(files):
        (root / f"p{i}").mkdir(parents=True)
        # A project each: saves of one project's files seconds apart are held for a storm.
        (root / f"p{i}" / ".wakatime-project").write_text("")
    config = Config()
    config = replace(
        config,
        watch=replace(config.watch, roots=(root,)),
        storage=replace(config.storage, data_dir=tmp_path / "data"),
    )
    clock = SystemClock()

    def builder(c: Config) -> HeartbeatBuilder:
        return HeartbeatBuilder(c, clock=clock, home=tmp_path, hostname="box")

    daemon = Daemon(
        config,
        clock=clock,
        idle=NoIdleSource(),
        reload_config=lambda: config,
        builder_factory=builder,
    )
    stop, reload = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(daemon.run(stop, reload))
    try:
        async with asyncio.timeout(30):
            while "running:" not in caplog.text:  # noqa: ASYNC110 (a log line: no event)
                await asyncio.sleep(0.02)
            for i in range(files):
                (root / f"p{i}" / "notes.md").write_text(f"{i} " + "x" * 3000)
                while len(LINE.findall(caplog.text)) <= i:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                if i == 0:
                    after_first()
                if "held in memory" in caplog.text:
                    break
    finally:
        stop.set()
        await task
    return LINE.findall(caplog.text)


async def test_a_heartbeat_on_disk_is_said_queued(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hackatimed")
    lines = await _saves_logged(tmp_path, caplog, 2)
    assert [where for _, where, _ in lines] == ["queued", "queued"]


async def test_a_heartbeat_the_full_disk_refused_is_said_held_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[sqlite3.Connection] = []
    real = outbox_module._connect

    def recorded(path: Path) -> sqlite3.Connection:
        made.append(real(path))
        return made[-1]

    def disk_full() -> None:
        for conn in made:  # not one page more than it has now
            (pages,) = conn.execute("PRAGMA page_count").fetchone()
            conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(outbox_module, "_connect", recorded)
    caplog.set_level(logging.INFO, logger="hackatimed")
    lines = await _saves_logged(tmp_path, caplog, 30, after_first=disk_full)
    wheres = [where for _, where, _ in lines]
    assert wheres[0] == "queued" and wheres[-1] == "held in memory"
    first_held = wheres.index("held in memory")
    assert set(wheres[first_held:]) == {"held in memory"}
