"""kill -9 at random moments: every heartbeat the daemon committed still reaches the server,
and the server gets nothing that was never made."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProcess, clean_env, write_config
from tests.fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-0000000c4a54"
KILLS = 20
# Logged once the heartbeat is committed to the outbox: its entity and time identify it.
COMMITTED = re.compile(r"heartbeat (\S+) \(.*, queued\) t=(\d+\.\d+)")
# Files edited in turn, each in a project of its own: several files of one repository changing
# within seconds look like the start of a storm and are held back for its window
# (activity/edits.py).
FILES = 8

pytestmark = pytest.mark.timeout(240)


def _writer(root: Path, run: int, stop: threading.Event, written: set[Path]) -> None:
    i = 0
    while not stop.is_set():
        path = root / f"project{i % FILES}" / "notes.txt"
        # New content on every write, so the rate limit never holds a save back.
        with path.open("a") as f:
            f.write(f"run {run} write {i}\n")
        written.add(path)
        i += 1
        stop.wait(0.1)


def _committed(output: str) -> set[tuple[str, str]]:
    return set(COMMITTED.findall(output))


def _received(fake: FakeHackatime) -> set[tuple[str, str]]:
    # The log's own representation of the same float: rounding each side to 3 decimals on its
    # own made them differ near a .0005 boundary (about 1 run in 27).
    return {(hb["entity"], f"{hb['time']:.6f}") for hb in fake.heartbeats}


def test_kill_9_loses_nothing_committed(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    for n in range(FILES):
        (root / f"project{n}").mkdir(parents=True)
        (root / f"project{n}" / ".wakatime-project").write_text("")
    fake = FakeHackatime(keys=[KEY])
    committed: set[tuple[str, str]] = set()
    written: set[Path] = set()
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
                committed.update(_committed(daemon.output()))
        # A last run with no kill: it sends what the killed ones left queued.
        with DaemonProcess(args, env=clean_env(home)) as daemon:
            daemon.wait_for_line(f"watching {root}")
            try:
                fake.wait_until(lambda f: committed <= _received(f), within=60)
            except TimeoutError:
                # Say why: rows still leased, a send backing off, or a real loss.
                missing = sorted(committed - _received(fake))
                tail = "\n".join(daemon.output().splitlines()[-40:])
                raise AssertionError(
                    f"{len(missing)} committed heartbeats not received, e.g. {missing[:3]}; "
                    f"the last daemon's log ends:\n{tail}"
                ) from None
            assert daemon.stop() == 0
            committed.update(_committed(daemon.output()))

    received = _received(fake)
    assert len(committed) >= KILLS, "the test must commit a real stream of heartbeats"
    assert committed <= received, f"lost: {sorted(committed - received)[:5]}"
    made = {str(p) for p in written}
    invented = {entity for entity, _ in received} - made
    assert not invented, f"invented: {sorted(invented)[:5]}"
