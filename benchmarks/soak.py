"""Soak: does `hackatimed run` stay flat over an hour of a realistic workload?

    python benchmarks/soak.py --minutes 65 --out /tmp/soak   # the figure in benchmarks/README.md
    python benchmarks/soak.py --minutes 3 --out /tmp/soak-quick

A real daemon process against the fake Hackatime server (tests/fakeserver.py, on 127.0.0.1, in
this process so that outages can be switched on and off). The workload, all on a clock of its
own (seeded, so two runs do the same):
- saves: one every 4-12 s of a random file of five git repositories (new content each time);
- checkouts: every 6 minutes one repository switches branch (every tracked file rewritten: a
  storm, which must not become heartbeats), and back 6 minutes later;
- bursts: every 7 minutes 400 files are written into a node_modules folder (ignored), and the
  previous burst's are removed;
- new files: every 5 minutes a few new source files, and old ones deleted (new paths for the
  per-path caches);
- outages: every 10 minutes the server answers 503 to everything for 90 s.

Every 30 s it samples the daemon's RSS, open file descriptors, threads, CPU time and inotify
watches into `<out>/samples.csv`; at the end `<out>/summary.json` holds the RSS curve's figures
(per 10 minutes, the slope of its second half) and how many saves arrived. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from footprint_probe import REPO, Daemon, cpu_seconds, rss_mb, thread_count, watch_count
from footprint_trees import commit_all, git, source, write

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
from daemon_proc import clean_env  # test helpers, found through the paths above
from fakeserver import FakeHackatime

KEY = "6f1f0e51-0000-4000-8000-0000000504a6"
REPOS = 5
FILES_PER_REPO = 16
SAMPLE_SECONDS = 30.0


@dataclass(slots=True)
class Workload:
    root: Path
    rng: random.Random
    files: list[Path] = field(default_factory=list)
    saves: list[tuple[str, float]] = field(default_factory=list)  # (path, time of the write)
    checkouts: int = 0
    bursts: int = 0
    outages: int = 0
    on_other: set[int] = field(default_factory=set)

    def repo(self, i: int) -> Path:
        return self.root / f"project{i}"

    def build(self) -> None:
        for i in range(REPOS):
            repo = self.repo(i)
            (repo / "src").mkdir(parents=True)
            git(repo, "init", "-q")
            write(repo / ".gitignore", "node_modules/\n")
            paths = [repo / "src" / f"mod_{n}.py" for n in range(FILES_PER_REPO)]
            for n, path in enumerate(paths):
                write(path, source(n, 1, lines=30))
            commit_all(repo, "main")
            git(repo, "checkout", "-q", "-b", "other")
            for n, path in enumerate(paths):
                write(path, source(n, 2, lines=30))
            commit_all(repo, "other")
            git(repo, "checkout", "-q", "main")
            self.files += paths

    def save(self) -> None:
        path = self.rng.choice(self.files)
        if not path.exists():
            return
        with path.open("a", encoding="utf-8") as f:
            f.write(f"# save {len(self.saves)} at {time.time():.3f}\n")
        self.saves.append((str(path), time.time()))

    def checkout(self) -> None:
        i = self.rng.randrange(REPOS)
        repo = self.repo(i)
        # Saves leave files modified: set them aside so the checkout rewrites the tree.
        git(repo, "stash", "-q", "--include-untracked")
        git(repo, "checkout", "-q", "main" if i in self.on_other else "other")
        self.on_other ^= {i}
        self.checkouts += 1

    def burst(self) -> None:
        nm = self.repo(self.bursts % REPOS) / "node_modules"
        shutil.rmtree(nm, ignore_errors=True)
        for n in range(400):
            pkg = nm / f"pkg{n // 20}"
            pkg.mkdir(parents=True, exist_ok=True)
            write(pkg / f"index{n}.js", f"module.exports = {n};\n")
        self.bursts += 1

    def churn(self) -> None:
        """New files (new paths for every per-path cache), and a few old new ones removed."""
        repo = self.repo(self.rng.randrange(REPOS))
        for _ in range(3):
            path = repo / "src" / f"new_{self.rng.randrange(10**9)}.py"
            write(path, source(0, 0, lines=10))
            self.files.append(path)
        extra = [p for p in self.files if p.name.startswith("new_")]
        for path in extra[:-30]:
            path.unlink(missing_ok=True)
            self.files.remove(path)


@dataclass(frozen=True, slots=True)
class Sample:
    minute: float
    rss_mb: float
    fds: int
    threads: int
    cpu_s: float
    watches: int
    stored: int


def sample(pid: int, started: float, fake: FakeHackatime) -> Sample:
    return Sample(
        minute=(time.monotonic() - started) / 60,
        rss_mb=rss_mb(pid),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=thread_count(pid),
        cpu_s=cpu_seconds(pid),
        watches=watch_count(pid),
        stored=fake.stored_count,
    )


def slope_mb_per_min(points: list[Sample]) -> float:
    """Least-squares slope of RSS over time."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p.minute for p in points], [p.rss_mb for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def run(
    minutes: float, out: Path, seed: int, scale: float = 1.0, settle: float = 15.0
) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="hackatimed-soak-"))
    work = Workload(base / "code", random.Random(seed))
    work.build()
    home = base / "home"
    home.mkdir()
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        config = base / "config.toml"
        config.write_text(
            f'[api]\nurl = "{url}"\nkey = "{KEY}"\ntimeout_seconds = 5\n\n'
            f'[watch]\nroots = ["{work.root}"]\n\n'
            '[heartbeats]\nflush_interval_seconds = 10\nmachine = "soak"\n\n'
            '[activity]\nsystem_idle = "off"\n\n'
            f'[storage]\ndata_dir = "{base / "data"}"\n\n[logging]\nlevel = "info"\n',
            encoding="utf-8",
        )
        config.chmod(0o600)
        daemon = Daemon(["run", "--config", str(config)], env=clean_env(home))
        daemon.wait_line(lambda t: f"watching {work.root}" in t, within=120)
        samples = drive(daemon, work, fake, minutes, out, scale)
        # Let the queue drain (nothing new stored for `settle` seconds), then stop as the
        # service would.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and daemon.alive():
            before = fake.stored_count
            time.sleep(settle)
            if fake.stored_count == before:
                break
        code = daemon.stop()
        (out / "daemon.log").write_text(daemon.output(last=10**9) + "\n", encoding="utf-8")
        arrived = {(hb["entity"], round(hb["time"])) for hb in fake.heartbeats if hb["is_write"]}
        entities = [hb["entity"] for hb in fake.heartbeats]
    lost = [
        (p, t) for p, t in work.saves if not any((p, round(t) + d) in arrived for d in (-1, 0, 1))
    ]
    summary = summarise(samples, work, code, lost, len(entities), len(set(entities)))
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(base, ignore_errors=True)
    return summary


def drive(
    daemon: Daemon, work: Workload, fake: FakeHackatime, minutes: float, out: Path, scale: float
) -> list[Sample]:
    """The workload for `minutes`; `scale` < 1 makes checkouts, bursts, churn and outages come
    more often (a quick check of the script itself)."""
    started = time.monotonic()
    end = started + minutes * 60
    samples: list[Sample] = []
    every = {"checkout": 360.0, "burst": 420.0, "churn": 300.0, "outage": 600.0}
    every = {k: v * scale for k, v in every.items()}
    timers = {"sample": 0.0, **every}
    outage_over: float | None = None
    next_save = started + work.rng.uniform(4, 12)
    with (out / "samples.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(Sample.__slots__)
        while time.monotonic() < end and daemon.alive():
            now = time.monotonic() - started
            if now >= timers["sample"]:
                timers["sample"] += SAMPLE_SECONDS
                s = sample(daemon.pid, started, fake)
                samples.append(s)
                writer.writerow([getattr(s, k) for k in Sample.__slots__])
                f.flush()
            for name, act in (
                ("checkout", work.checkout),
                ("burst", work.burst),
                ("churn", work.churn),
            ):
                if now >= timers[name]:
                    timers[name] += every[name]
                    act()
            if now >= timers["outage"]:
                timers["outage"] += every["outage"]
                fake.fail_next(10**6, 503)
                outage_over = time.monotonic() + 90 * min(1.0, scale * 3)
                work.outages += 1
            if outage_over is not None and time.monotonic() >= outage_over:
                fake.clear_failures()
                outage_over = None
            if time.monotonic() >= next_save:
                work.save()
                next_save = time.monotonic() + work.rng.uniform(4, 12)
            threading.Event().wait(0.25)
    fake.clear_failures()
    return samples


def summarise(
    samples: list[Sample],
    work: Workload,
    code: int,
    lost: list[tuple[str, float]],
    sent: int,
    distinct: int,
) -> dict[str, object]:
    by_ten = (
        {
            f"{m}min": next((s.rss_mb for s in samples if s.minute >= m), None)
            for m in range(0, int(samples[-1].minute) + 1, 10)
        }
        if samples
        else {}
    )
    half = [s for s in samples if s.minute >= samples[-1].minute / 2] if samples else []
    return {
        "minutes": round(samples[-1].minute, 1) if samples else 0,
        "exit_code": code,
        "rss_mb_every_10_min": by_ten,
        "rss_mb_max": max((s.rss_mb for s in samples), default=None),
        "rss_slope_second_half_mb_per_hour": round(60 * slope_mb_per_min(half), 2),
        "fds_min_max": [min(s.fds for s in samples), max(s.fds for s in samples)]
        if samples
        else [],
        "threads_min_max": [min(s.threads for s in samples), max(s.threads for s in samples)]
        if samples
        else [],
        "watches_min_max": [min(s.watches for s in samples), max(s.watches for s in samples)]
        if samples
        else [],
        "cpu_s_total": samples[-1].cpu_s if samples else None,
        "saves": len(work.saves),
        "saves_not_arrived": len(lost),
        "lost_examples": lost[:10],
        "heartbeats_stored": sent,
        "distinct_files": distinct,
        "checkouts": work.checkouts,
        "bursts": work.bursts,
        "outages": work.outages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=65.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/hackatimed-soak"))
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--scale", type=float, default=1.0, help="<1: events come more often")
    parser.add_argument("--settle", type=float, default=15.0, help="quiet seconds = drained")
    args = parser.parse_args(argv)
    summary = run(args.minutes, args.out, args.seed, args.scale, args.settle)
    print(json.dumps(summary, indent=2))
    return 0 if summary["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
