"""Status that survives restarts: today's count, the last send and the last error are kept with
the queue; the error is dated, and a later success clears it, whether the daemon or `sync` sent.
Real daemon processes, `status` and `sync` through the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProcess, clean_env, hackatimed, write_config
from tests.fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-000000005a7e"

pytestmark = pytest.mark.timeout(90)


def test_counts_last_send_and_dated_error_survive_restarts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    root.mkdir()
    env = clean_env(home)
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        config = write_config(tmp_path / "config.toml", url=url, key=KEY, roots=[root],
                              data_dir=tmp_path / "data")  # fmt: skip

        def status() -> dict[str, object]:
            done = hackatimed("status", "--json", "--config", str(config), env=env)
            report: dict[str, object] = json.loads(done.stdout)
            return report

        fake.fail_next(1000, 503)
        with DaemonProcess(["run", "--config", str(config)], env=env) as daemon:
            daemon.wait_for_line(f"watching {root}")
            (root / "a.py").write_text("print('a')\n")
            daemon.wait_for_line(f"heartbeat {root / 'a.py'}")
            daemon.wait_for_line("Next try in")  # the send failed (not the key check at start)
            assert daemon.stop() == 0, daemon.output()

        report = status()
        assert report["running"] is False
        assert report["heartbeats_today"] == 1, "the count is kept after the daemon stopped"
        assert report["last_success_at"] is None
        assert "HTTP 503" in str(report["last_error"])
        assert isinstance(report["last_error_at"], float)
        text = hackatimed("status", "--config", str(config), env=env).stdout
        error_line = next(line for line in text.splitlines() if "Last error:" in line)
        assert re.search(r"Last error:  \d{4}-\d\d-\d\d \d\d:\d\d \(", error_line), "dated"
        assert "Today:       1 heartbeat" in text

        with fake._cond:  # the server is back
            fake._faults.failures.clear()
        sync = hackatimed("sync", "--config", str(config), env=env)
        assert sync.returncode == 0, sync.stdout + sync.stderr
        assert "Sent 1 heartbeat." in sync.stdout

        report = status()
        assert report["last_error"] is None, "sync's success cleared the daemon's error"
        assert isinstance(report["last_success_at"], float)
        assert report["heartbeats_today"] == 1

        # A restart resets nothing.
        with DaemonProcess(["run", "--config", str(config)], env=env) as daemon:
            daemon.wait_for_line("is accepted by")
            report = status()
            assert report["running"] is True
            assert report["heartbeats_today"] == 1
            assert isinstance(report["last_success_at"], float)
            (root / "b.py").write_text("print('b')\n")
            fake.wait_until(lambda f: f.stored_count >= 2, within=30)
            assert daemon.stop() == 0, daemon.output()
        report = status()
        assert report["heartbeats_today"] == 2
        assert report["last_error"] is None
