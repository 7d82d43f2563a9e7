"""What the presence signals cost a real daemon on a desktop: CPU, wake-ups and heartbeats.

    python benchmarks/presence.py [--seconds 120]

A real `hackatimed run` on a real X server (Xvfb; this script plays the window manager), with
the X11 idle source and the focused-window source, a process named `gedit` whose window has the
focus, titled after a file in a watched repository, and a VS Code backups folder holding a
backup. Three windows of `--seconds` each, measured from outside (CPU time and context switches
of the daemon's process, as `footprint.py` does):

- *away*: no input at all (the idle source's answer grows): the poll only asks the idle time;
- *reading*: input every 5 s (xdotool moves the pointer) into the focused editor, nothing saved:
  every poll reads the window, its process tree and the title's file;
- *typing in VS Code, focus elsewhere*: input every 5 s, the focused window is a browser's, and
  the backup is rewritten every 2 s as VS Code does while typing.

Heartbeats are counted at the fake Hackatime on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from footprint_probe import REPO, Sample

sys.path.insert(0, str(REPO / "tests"))
from daemon_proc import DaemonProcess, clean_env, write_config  # test helpers
from fakeserver import FakeHackatime
from gitrepo import make_repo
from xserver import FakeWindowManager, running_xvfb

KEY = "6f1f0e51-0000-4000-8000-0000000b3c11"


def measure(pid: int, seconds: float, *, every: float, act: Callable[[], None]) -> Sample:
    """The counters over `seconds`, calling `act` every `every` seconds meanwhile."""
    before = Sample.take(pid)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        act()
        time.sleep(min(every, max(0.0, end - time.monotonic())))
    after = Sample.take(pid)
    return Sample(after.at - before.at, after.cpu - before.cpu, after.switches - before.switches, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    for tool in ("Xvfb", "xdotool", "sleep"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed")
    base = Path(tempfile.mkdtemp(prefix="hackatimed-presence-"))
    home = base / "home"
    root = home / "code"
    repo = make_repo(root / "webapp", branch="main", files={"src/app.py": "print('hi')\n"})
    target = repo / "src" / "app.py"
    backup = home / ".config" / "Code" / "Backups" / "1764140000000" / "file" / "6b1c2d3e"
    backup.parent.mkdir(parents=True)
    shutil.copy(shutil.which("sleep") or "", base / "gedit")
    fake = FakeHackatime(keys=[KEY])
    rows = []
    with running_xvfb() as xvfb, fake.running_in_thread() as url:
        env = clean_env(home, DISPLAY=xvfb.display)
        for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS"):
            env.pop(name, None)
        wm = FakeWindowManager(xvfb.display)
        gedit = subprocess.Popen([str(base / "gedit"), "100000"], cwd=home)
        editor = wm.window(net_wm_name="app.py (~/code/webapp/src) - gedit", pid=gedit.pid)
        browser = wm.window(net_wm_name="Docs - Mozilla Firefox", pid=os.getpid())
        wm.activate(editor)
        config = write_config(
            base / "config.toml", url=url, key=KEY, roots=[root], data_dir=base / "data"
        )
        config.write_text(config.read_text().replace('system_idle = "off"', 'system_idle = "auto"'))

        def move() -> None:
            subprocess.run(["xdotool", "mousemove_relative", "1", "0"], env=env, check=True)

        def typing_in_vs_code() -> None:
            move()
            backup.write_text(f"{target.as_uri()} {{}}\nprint('hi')\n# typing {time.time()}\n")

        try:
            with DaemonProcess(["run", "--config", str(config)], env=env) as daemon:
                daemon.wait_for_line(f"watching {root}")
                pid = daemon.proc.pid
                time.sleep(35)  # the start-up poll and its keepalive are not part of "away"
                for label, every, act, focus in (
                    ("away", args.seconds, lambda: None, editor),
                    ("reading in the focused editor", 5.0, move, editor),
                    ("typing in VS Code, focus elsewhere", 2.0, typing_in_vs_code, browser),
                ):
                    wm.activate(focus)
                    sent = len(fake.heartbeats)
                    got = measure(pid, args.seconds, every=every, act=act)
                    time.sleep(2)  # the last batch, flushed within a second
                    beats = len(fake.heartbeats) - sent
                    rows.append((label, got, beats))
                daemon.stop()
        finally:
            wm.close()
            gedit.kill()
            gedit.wait()
            shutil.rmtree(base, ignore_errors=True)
    print(f"| window ({args.seconds:.0f} s) | CPU | wake-ups/s | heartbeats |")
    print("|---|---|---|---|")
    for label, got, beats in rows:
        cpu = 100 * got.cpu / got.at
        print(f"| {label} | {cpu:.3f} % | {got.switches / got.at:.2f} | {beats} |")


if __name__ == "__main__":
    main()
