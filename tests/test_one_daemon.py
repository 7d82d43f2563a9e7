"""One daemon per queue: a second `run` is refused and names the first, `status` and `doctor`
find the daemon that holds the lock, and `install-service` asks to hand over from a daemon
started by hand. Real daemon processes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hackatimed.cli import build_parser
from hackatimed.commands.service import install_service
from hackatimed.errors import HackatimedError
from hackatimed.lock import acquire, holder
from tests.daemon_proc import DaemonProcess, clean_env, hackatimed, write_config

pytestmark = pytest.mark.timeout(90)


def test_a_second_run_is_refused_and_status_finds_the_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = tmp_path / "code"
    root.mkdir()
    config = write_config(tmp_path / "config.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[root], data_dir=tmp_path / "data")  # fmt: skip
    env = clean_env(home)
    with DaemonProcess(["run", "--config", str(config)], env=env) as first:
        first.wait_for_line(f"watching {root}")
        pid = first.proc.pid

        second = hackatimed("run", "--config", str(config), env=env)
        assert second.returncode == 1, second.stderr
        assert f"already running with the queue in {tmp_path / 'data'} (pid {pid})" in (
            second.stderr
        )
        assert f"kill {pid}" in second.stderr

        # The status file gone: the lock still tells who runs.
        (tmp_path / "data" / "status.json").unlink(missing_ok=True)
        shown = hackatimed("status", "--json", "--config", str(config), env=env)
        report = json.loads(shown.stdout)
        assert report["running"] is True and report["pid"] == pid

        assert first.stop() == 0, first.output()
    assert holder(tmp_path / "data") is None

    # Killed without a word: the kernel let go of the lock, and a new daemon may start.
    with DaemonProcess(["run", "--config", str(config)], env=env) as again:
        again.wait_for_line(f"watching {root}")
        again.kill()
    report = json.loads(hackatimed("status", "--json", "--config", str(config), env=env).stdout)
    assert report["running"] is False and report["pid"] is None
    with DaemonProcess(["run", "--config", str(config)], env=env) as third:
        third.wait_for_line(f"watching {root}")
        assert third.stop() == 0, third.output()


def test_install_service_asks_to_hand_over_from_a_daemon_started_by_hand(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = write_config(tmp_path / "config.toml", url="https://example.org/api", key=None,
                          roots=[tmp_path], data_dir=tmp_path / "data")  # fmt: skip
    calls: list[tuple[str, ...]] = []

    def run(argv: object) -> subprocess.CompletedProcess[str]:
        calls.append(tuple(argv))  # type: ignore[arg-type]
        # The service is not running: whoever holds the lock was started by hand.
        return subprocess.CompletedProcess([], 0, "ActiveState=inactive\nMainPID=0\n", "")

    lock = acquire(tmp_path / "data")  # this test process plays the daemon in a terminal
    try:
        args = build_parser().parse_args(["install-service", "--config", str(config)])
        with pytest.raises(HackatimedError) as raised:
            install_service(args, clean_env(home), platform="linux", uid=1000, run=run,
                            executable=(sys.executable, "-m", "hackatimed"),
                            out=io.StringIO(), err=io.StringIO())  # fmt: skip
    finally:
        lock.release()
    message = str(raised.value)
    assert f"started by hand is running (pid {os.getpid()})" in message
    assert f"kill {os.getpid()}" in message and "install-service` again" in message
    assert not (home / ".config" / "systemd").exists(), "nothing installed, no empty folder"
    assert not any("enable" in c for c in calls)


def test_doctor_checks_the_roots_of_a_daemon_started_with_root(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "code"
    root.mkdir()
    env = clean_env(home)
    with DaemonProcess(["run", "--root", str(root)], env=env) as daemon:
        daemon.wait_for_line(f"watching {root}")
        doctor = hackatimed("doctor", env=env)
        # A config file written since (`init`): status still tells the daemon's own.
        (home / ".config" / "hackatimed").mkdir(parents=True)
        write_config(home / ".config" / "hackatimed" / "config.toml", url="http://127.0.0.1:9/api",
                     key=None, roots=[root], data_dir=home / ".local/state/hackatimed")  # fmt: skip
        report = json.loads(hackatimed("status", "--json", env=env).stdout)
        assert daemon.stop() == 0, daemon.output()
    assert f"ok    root          {root}" in doctor.stdout
    assert "no folders to watch" not in doctor.stdout
    assert f"a daemon runs (pid {daemon.proc.pid}) without it" in doctor.stdout
    assert report["running"] is True and report["config_path"] is None
