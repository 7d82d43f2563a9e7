"""Recovery: how long after the server is back until the queue has moved?

    python benchmarks/recovery.py [--outage 120] [--saves 20] [--repeat 2]

A real daemon process and the fake Hackatime server (tests/fakeserver.py) on 127.0.0.1. For
each kind of outage, `--saves` files are saved while the server is away for `--outage` seconds
(long enough for the backoff to reach its two-minute cap); then the server comes back, and the
figure is the time from then until the last of those heartbeats is stored. Two kinds:
- errors: the server answers 503 to everything (it is up, and failing);
- down: nothing listens on the port (connection refused), then a server starts on it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from footprint_probe import REPO, Daemon

sys.path.insert(0, str(REPO / "tests"))
from daemon_proc import clean_env, write_config  # test helpers, found through the path above
from fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-00000000bac4"


def _save_during(root: Path, saves: int, tag: str) -> None:
    for i in range(saves):
        folder = root / f"p{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".wakatime-project").write_text("")
        (folder / "notes.md").write_text(f"{tag} {i}\n")
        threading.Event().wait(0.3)


def one(kind: str, outage: float, saves: int) -> float:
    """Seconds from the server's return to the last heartbeat stored."""
    base = Path(tempfile.mkdtemp(prefix="hackatimed-recovery-"))
    try:
        return _one(base, kind, outage, saves)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _one(base: Path, kind: str, outage: float, saves: int) -> float:
    home, root = base / "home", base / "code"
    home.mkdir()
    root.mkdir()
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        config = write_config(
            base / "config.toml", url=url, key=KEY, roots=[root], data_dir=base / "data"
        )
        daemon = Daemon(["run", "--config", str(config)], env=clean_env(home))
        try:
            daemon.wait_line(lambda t: f"watching {root}" in t, within=60)
            if kind == "errors":
                return _errors(fake, root, outage, saves)
        except BaseException:
            daemon.stop()
            raise
        finally:
            if kind == "errors":
                daemon.stop()
    try:  # "down": the server has stopped; later a new one starts on the same port
        return _down(int(url.rsplit(":", 1)[1].split("/", 1)[0]), root, daemon, outage, saves)
    finally:
        daemon.stop()


def _errors(fake: FakeHackatime, root: Path, outage: float, saves: int) -> float:
    fake.fail_next(10**6, 503)
    started = time.monotonic()
    _save_during(root, saves, "errors")
    threading.Event().wait(max(0.0, outage - (time.monotonic() - started)))
    fake.clear_failures()
    came = time.monotonic()
    fake.wait_until(lambda f: f.stored_count >= saves, within=600)
    return time.monotonic() - came


def _down(port: int, root: Path, daemon: Daemon, outage: float, saves: int) -> float:
    started = time.monotonic()
    _save_during(root, saves, "down")
    daemon.wait_line(lambda t: "could not connect" in t, within=60)
    threading.Event().wait(max(0.0, outage - (time.monotonic() - started)))
    back = FakeHackatime(keys=[KEY], port=port)
    with back.running_in_thread():
        came = time.monotonic()
        back.wait_until(lambda f: f.stored_count >= saves, within=600)
        return time.monotonic() - came


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=120.0)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {}
    for kind in ("errors", "down"):
        for _ in range(args.repeat):
            took = one(kind, args.outage, args.saves)
            results.setdefault(kind, []).append(round(took, 1))
            print(f"{kind}: queue moved {took:.1f} s after the server came back", flush=True)
    summary = {
        k: {"runs_s": v, "max_s": max(v), "median_s": statistics.median(v)}
        for k, v in results.items()
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
