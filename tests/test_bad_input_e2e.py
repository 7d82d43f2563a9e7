"""Bad input never stops the daemon: a real `hackatimed run` against the fake server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProcess, clean_env, write_config
from tests.fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-0000000bad16"

pytestmark = pytest.mark.timeout(90)


def _wait_for_lines(daemon: DaemonProcess, text: str, count: int, within: float) -> None:
    pause = threading.Event()
    for _ in range(int(within / 0.05)):
        if sum(line.endswith(text) for line in list(daemon.lines)) >= count:
            return
        pause.wait(0.05)
    raise AssertionError(f"fewer than {count} lines {text!r}:\n{daemon.output()}")


@pytest.fixture
def server() -> Iterator[tuple[FakeHackatime, str]]:
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        yield fake, url


def test_a_file_name_that_is_not_utf8_neither_kills_the_daemon_nor_loses_its_batch(
    tmp_path: Path, server: tuple[FakeHackatime, str]
) -> None:
    fake, url = server
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    project = root / "proj"
    project.mkdir(parents=True)
    config = write_config(
        tmp_path / "config.toml", url=url, key=KEY, roots=[root], data_dir=tmp_path / "data"
    )
    bad = project / os.fsdecode(b"bad\xff\xfename.py")
    main = project / "main.py"
    with DaemonProcess(["run", "--config", str(config)], env=clean_env(home)) as daemon:
        daemon.wait_for_line(f"watching {root}")
        for round_ in range(3):  # every later save of that file used to kill it again
            bad.write_text(f"x = {round_}\n")
            main.write_text(f"y = {round_}\n")
            fake.wait_until(lambda f, n=round_: len(f.heartbeats) >= 2 * (n + 1), within=30)
        assert daemon.proc.poll() is None, daemon.output()
        assert daemon.stop() == 0, daemon.output()
    entities = {hb["entity"] for hb in fake.heartbeats}
    assert entities == {str(project / "bad\ufffd\ufffdname.py"), str(main)}
    assert "Traceback" not in daemon.output()
    assert KEY not in daemon.output()


def test_a_save_right_after_a_roots_parent_is_renamed_arrives(
    tmp_path: Path, server: tuple[FakeHackatime, str]
) -> None:
    """The configured path exists again right after the rename (made anew, as a tool that
    swaps folders does): the save there arrives, without waiting for the 30 s tick."""
    fake, url = server
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "parent" / "code"
    (root / "proj").mkdir(parents=True)
    config = write_config(
        tmp_path / "config.toml", url=url, key=KEY, roots=[root], data_dir=tmp_path / "data"
    )
    with DaemonProcess(["run", "--config", str(config)], env=clean_env(home)) as daemon:
        daemon.wait_for_line(f"watching {root}")
        (tmp_path / "parent").rename(tmp_path / "parent.old")
        (root / "proj").mkdir(parents=True)
        # Within the first tick (30 s after start): the rename itself was the signal.
        daemon.wait_for_line(f"stopped watching {root}", within=20)
        _wait_for_lines(daemon, f"INFO watching {root}", 2, within=20)
        saved = root / "proj" / "main.py"
        saved.write_text("print('after the rename')\n")
        fake.wait_until(lambda f: any(hb["entity"] == str(saved) for hb in f.heartbeats), within=20)
        assert daemon.stop() == 0, daemon.output()
