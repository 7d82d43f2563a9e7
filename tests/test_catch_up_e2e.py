"""Catching up at start, with a real daemon killed with -9 and restarted: a save made while
no daemon ran arrives, stamped with its own time; a file the last daemon sent is not sent again."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hackatimed.status import read_status
from tests.daemon_proc import DaemonProcess, clean_env, write_config
from tests.fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-0000000ca7c4"


def _caught_up_to(data: Path) -> float | None:
    status = read_status(data)
    return None if status is None else status.caught_up_to


def _wait_for(condition: Callable[[], bool], within: float = 10) -> None:
    """Poll a file another process writes (no event to wait on)."""
    pause = threading.Event()
    for _ in range(int(within / 0.02)):
        if condition():
            return
        pause.wait(0.02)
    raise AssertionError("condition not met in time")


pytestmark = pytest.mark.timeout(90)


def test_a_save_made_during_a_crash_restart_gap_arrives_once_with_its_own_time(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    for name in ("sent", "gap"):
        (root / name).mkdir(parents=True)
        (root / name / ".wakatime-project").write_text("")
    sent, gap = root / "sent" / "a.py", root / "gap" / "b.py"
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        config = write_config(
            tmp_path / "config.toml", url=url, key=KEY, roots=[root], data_dir=tmp_path / "data"
        )
        args = ["run", "--config", str(config)]
        with DaemonProcess(args, env=clean_env(home)) as daemon:
            daemon.wait_for_line(f"watching {root}")
            sent.write_text("x = 1\n")
            fake.wait_until(lambda f: len(f.heartbeats) == 1, within=30)
            # The status written once it was queued: the next daemon reads it at start.
            saved = os.stat(sent).st_mtime
            _wait_for(lambda: (_caught_up_to(tmp_path / "data") or 0) >= saved)
            daemon.kill()
        threading.Event().wait(1.0)  # the crash-restart gap: 1 s after the kill, a save
        gap.write_text("y = 2\n")
        saved_at = os.stat(gap).st_mtime
        threading.Event().wait(4.0)  # and the restart 4 s later
        with DaemonProcess(args, env=clean_env(home)) as daemon:
            daemon.wait_for_line(f"watching {root}")
            fake.wait_until(lambda f: len(f.heartbeats) >= 2, within=30)
            daemon.wait_for_line("catching up: 1 file(s)")
            assert daemon.stop() == 0, daemon.output()
    entities = [hb["entity"] for hb in fake.heartbeats]
    assert entities == [str(sent), str(gap)], "the gap's save once, the sent file not again"
    assert fake.heartbeats[1]["time"] == pytest.approx(saved_at, abs=1e-6)
    assert fake.heartbeats[1]["is_write"] is True
