"""kill -9 at random moments: every heartbeat the daemon committed still reaches the server,
and the server gets nothing that was never made."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from daemon_proc import DaemonProcess, clean_env, write_config
from fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-0000000c4a54"
KILLS = 20
COMMITTED = re.compile(r"heartbeat (\S+) \(")

pytestmark = pytest.mark.timeout(240)


def _writer(root: Path, run: int, stop: threading.Event, written: list[Path]) -> None:
    i = 0
    while not stop.is_set():
        path = root / f"run{run:02d}_{i:03d}.txt"
        path.write_text(f"run {run} file {i}\n")
        written.append(path)
        i += 1
        stop.wait(0.05)


def test_kill_9_loses_nothing_committed(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    root.mkdir()
    fake = FakeHackatime(keys=[KEY])
    committed: set[str] = set()
    written: list[Path] = []
    with fake.running_in_thread() as url:
        config = write_config(
            tmp_path / "config.toml", url=url, key=KEY, roots=[root], data_dir=tmp_path / "data"
        )
        args = ["run", "--config", str(config)]
        for run in range(KILLS):
            with DaemonProcess(args, env=clean_env(home)) as daemon:
                daemon.wait_for_line(f"watching {root}")
                stop = threading.Event()
                writer = threading.Thread(target=_writer, args=(root, run, stop, written))
                writer.start()
                # Anywhere from before the first burst closes to mid-send of several batches.
                threading.Event().wait(rng.uniform(0.2, 1.6))
                daemon.kill()
                stop.set()
                writer.join()
                committed.update(COMMITTED.findall(daemon.output()))
        # A last run with no kill: it sends what the killed ones left queued.
        with DaemonProcess(args, env=clean_env(home)) as daemon:
            daemon.wait_for_line(f"watching {root}")
            fake.wait_until(lambda f: committed <= {hb["entity"] for hb in f.heartbeats}, within=60)
            assert daemon.stop() == 0
            committed.update(COMMITTED.findall(daemon.output()))

    received = {hb["entity"] for hb in fake.heartbeats}
    assert len(committed) >= KILLS, "the test must commit a real stream of heartbeats"
    assert committed <= received, f"lost: {sorted(committed - received)[:5]}"
    made = {str(p) for p in written}
    assert received <= made, f"invented: {sorted(received - made)[:5]}"
