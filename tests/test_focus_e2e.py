"""Typing into an editor before any save, as a real daemon sees it: a real `hackatimed run`
on a real X server (Xvfb, the test playing the window manager), its X11 idle and focus sources,
a real process under an editor's name, and the fake Hackatime on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon_proc import DaemonProcess, clean_env, write_config
from fakeserver import FakeHackatime
from gitrepo import make_repo
from xserver import FakeWindowManager, Xvfb
from xserver import xvfb_fixture as xvfb_fixture  # the `xvfb` fixture: pytest finds it here

KEY = "6f1f0e51-0000-4000-8000-0000000f0c05"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def wm(xvfb: Xvfb) -> Iterator[FakeWindowManager]:
    manager = FakeWindowManager(xvfb.display)
    yield manager
    manager.close()


def editor_process(folder: Path, name: str, cwd: Path) -> subprocess.Popen[bytes]:
    """`sleep` under an editor's name: the process table shows that name."""
    sleep = shutil.which("sleep")
    if sleep is None:
        pytest.skip("no sleep(1)")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sleep, folder / name)
    return subprocess.Popen([str(folder / name), "120"], cwd=cwd)


def test_typing_in_a_focused_editor_counts_before_the_first_save(
    tmp_path: Path, xvfb: Xvfb, wm: FakeWindowManager
) -> None:
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    home = tmp_path / "home"
    root = home / "code"
    repo = make_repo(root / "webapp", branch="main", files={"src/app.py": "print('hi')\n"})
    before = (repo / "src" / "app.py").stat().st_mtime_ns
    fake = FakeHackatime(keys=[KEY])
    gedit = editor_process(tmp_path / "bin", "gedit", cwd=home)
    try:
        wm.activate(wm.window(net_wm_name="app.py (~/code/webapp/src) - gedit", pid=gedit.pid))
        with fake.running_in_thread() as url:
            config = write_config(
                tmp_path / "config.toml", url=url, key=KEY, roots=[root], data_dir=tmp_path / "d"
            )
            config.write_text(
                config.read_text().replace('system_idle = "off"', 'system_idle = "auto"')
            )
            env = clean_env(home, DISPLAY=xvfb.display)
            for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS"):
                env.pop(name, None)
            # Someone at the keyboard (the server counts xdotool's input as theirs).
            subprocess.run(["xdotool", "mousemove", "3", "4"], env=env, check=True)
            with DaemonProcess(["run", "--config", str(config)], env=env) as daemon:
                daemon.wait_for_line(f"watching {root}")
                fake.wait_until(lambda f: len(f.heartbeats) >= 1, within=30)
                assert daemon.stop() == 0, daemon.output()
            output = daemon.output()
    finally:
        gedit.kill()
        gedit.wait()

    hb = fake.heartbeats[0]
    assert hb["entity"] == str(repo / "src" / "app.py")
    assert hb["is_write"] is False  # a keepalive: nothing was saved
    assert hb["project"] == "webapp" and hb["language"] == "Python"
    assert hb.get("editor") == "gedit"
    assert (repo / "src" / "app.py").stat().st_mtime_ns == before
    # The title is the person's business: never in the log.
    assert "(~/code/webapp/src) - gedit" not in output
    assert KEY not in output
