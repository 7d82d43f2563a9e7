"""The desktop session's variables for a service started before the desktop: parsing the
manager's answer, and when to ask. The last test runs a real daemon that finds the session
after a reload, on a real X server, with `systemctl` played by a script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hackatimed.activity.session_env import DesktopSession, has_desktop, parse_show_environment
from tests.daemon_proc import DaemonProcess, clean_env, write_config
from tests.xserver import Xvfb
from tests.xserver import xvfb_fixture as xvfb_fixture  # the `xvfb` fixture: pytest finds it here


class Manager:
    """`systemctl --user show-environment`, answering what the test says."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> str | None:
        self.asked.append(tuple(argv))
        return self.text


def test_parse_show_environment() -> None:
    text = (
        "HOME=/home/me\n"
        "DISPLAY=:0\n"
        "XAUTHORITY=/run/user/1000/gdm/Xauthority\n"
        "XDG_CURRENT_DESKTOP=$'ubuntu:GNOME'\n"
        "ODD=$'a\\'b\\\\c\\nd'\n"
        "not a line\n"
    )
    assert parse_show_environment(text) == {
        "HOME": "/home/me",
        "DISPLAY": ":0",
        "XAUTHORITY": "/run/user/1000/gdm/Xauthority",
        "XDG_CURRENT_DESKTOP": "ubuntu:GNOME",
        "ODD": "a'b\\c\nd",
    }


def test_only_a_systemd_service_without_a_display_asks() -> None:
    manager = Manager("DISPLAY=:0\n")
    assert not DesktopSession({"HOME": "/h"}, run=manager).waiting  # a shell's daemon
    assert not DesktopSession({"INVOCATION_ID": "1", "DISPLAY": ":1"}, run=manager).waiting
    assert not DesktopSession({"INVOCATION_ID": "1", "WAYLAND_DISPLAY": "w"}, run=manager).waiting
    assert DesktopSession({"INVOCATION_ID": "1"}, run=manager).find() is not None
    assert DesktopSession({"HOME": "/h"}, run=manager).find() is None
    assert manager.asked == [("systemctl", "--user", "show-environment")]


def test_the_session_once_the_manager_has_it() -> None:
    manager = Manager("HOME=/home/me\n")  # logged in, no desktop yet
    session = DesktopSession({"INVOCATION_ID": "1", "HOME": "/h", "PATH": "/bin"}, run=manager)
    assert session.waiting and session.find() is None and session.waiting
    manager.text = None  # systemctl failed
    assert session.find() is None and session.waiting
    manager.text = "HOME=/home/me\nDISPLAY=:1\nXAUTHORITY=/x/auth\nXDG_SESSION_TYPE=x11\n"
    found = session.find()
    # The desktop's variables are added; the service's own are kept.
    assert found == {
        "INVOCATION_ID": "1",
        "HOME": "/h",
        "PATH": "/bin",
        "DISPLAY": ":1",
        "XAUTHORITY": "/x/auth",
        "XDG_SESSION_TYPE": "x11",
    }
    assert has_desktop(found)
    assert not session.waiting and session.find() is None  # found once: not asked again
    assert len(manager.asked) == 3


def test_a_service_started_before_the_desktop_finds_it_at_a_reload(
    tmp_path: Path, xvfb: Xvfb
) -> None:
    answer = tmp_path / "manager-environment"
    answer.write_text("HOME=/nowhere\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(f'#!/bin/sh\n[ "$1 $2" = "--user show-environment" ] && cat {answer}\n')
    systemctl.chmod(0o755)
    home = tmp_path / "home"
    (home / "code").mkdir(parents=True)
    config = write_config(
        tmp_path / "c.toml",
        url="http://127.0.0.1:9/api",
        key=None,
        roots=[home / "code"],
        data_dir=tmp_path / "data",
    )
    config.write_text(config.read_text().replace('system_idle = "off"', 'system_idle = "auto"'))
    env = clean_env(home, INVOCATION_ID="0123456789abcdef", PATH=f"{bin_dir}:{os.defpath}")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    env.pop("XDG_RUNTIME_DIR", None)  # no session bus either: nothing to find idle time from

    def status() -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-m", "hackatimed", "status", "--json", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        result: dict[str, object] = json.loads(out.stdout)
        return result

    with DaemonProcess(["run", "--config", str(config)], env=env) as daemon:
        daemon.wait_for_line("running")
        before = status()
        assert before["idle_source"] == "none" and before["focus_source"] == "none"
        # The desktop starts and hands its variables to the manager.
        answer.write_text(f"HOME=/nowhere\nDISPLAY={xvfb.display}\nXDG_SESSION_TYPE=x11\n")
        daemon.signal(signal.SIGHUP)
        daemon.wait_for_line(
            "desktop session found: idle time from x11-screensaver, "
            "focused window from x11-active-window"
        )
        daemon.wait_for_line("configuration reloaded")
        after = status()
        assert after["idle_source"] == "x11-screensaver"
        assert after["focus_source"] == "x11-active-window"
        assert daemon.stop() == 0, daemon.output()
