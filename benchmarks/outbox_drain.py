"""Outbox throughput and memory: add, then drain (claim + delete) N heartbeats.

    python benchmarks/outbox_drain.py                 # 10,000 and 100,000 rows
    python benchmarks/outbox_drain.py --rows 1000000

Each size runs in its own process so that its peak memory is its own. The drain is the
outbox's share of `hackatimed sync`: claim 100, delete 100, as the sender does after a 201.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from hackatimed.clock import SystemClock
from hackatimed.delivery.outbox import Outbox

BATCH = 100


def heartbeat(i: int) -> tuple[float, str]:
    at = 1_767_225_600.0 + i * 0.5
    body = {
        "entity": f"/home/student/code/project-{i % 7}/src/module_{i % 311}/file_{i}.py",
        "type": "file",
        "time": at,
        "category": "coding",
        "project": f"project-{i % 7}",
        "branch": "feature/outbox",
        "language": "Python",
        "is_write": True,
        "lines": 120 + i % 50,
        "lineno": 17,
        "cursorpos": 4,
        "line_additions": 1,
        "line_deletions": 0,
        "dependencies": ["aiohttp", "pytest"],
        "machine": "laptop",
        "editor": "vim",
        "operating_system": "Linux",
        "user_agent": "hackatimed/0.1.0 (linux-6.1-x86_64) python/3.11.7",
    }
    return at, json.dumps(body, separators=(",", ":"))


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / (1 << 20)


def measure(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data" / "outbox.db"
        clock = SystemClock()
        out: dict[str, float] = {"rows": rows}
        with Outbox(path, clock=clock) as ob:
            out["rss_open_mb"] = rss_mb()
            start = time.perf_counter()
            for first in range(0, rows, BATCH):
                ob.add([heartbeat(i) for i in range(first, min(rows, first + BATCH))])
            out["add_per_s"] = rows / (time.perf_counter() - start)
            out["rss_after_add_mb"] = rss_mb()
            out["file_mb_full"] = path.stat().st_size / (1 << 20)
            start = time.perf_counter()
            ob.stats()
            out["stats_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        ob = Outbox(path, clock=clock)  # includes the quick_check of a full queue
        out["open_full_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        drained = 0
        while batch := ob.claim(BATCH):
            ob.delete(q.id for q in batch)
            drained += len(batch)
        out["drain_per_s"] = drained / (time.perf_counter() - start)
        out["rss_after_drain_mb"] = rss_mb()
        out["file_mb_drained"] = path.stat().st_size / (1 << 20)
        ob.close()
        if drained != rows:
            raise SystemExit(f"drained {drained} of {rows}")
        out["peak_rss_mb"] = peak_rss_mb()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.rows or [10_000, 100_000]
    if args.child:
        print(json.dumps(measure(sizes[0])))
        return
    for rows in sizes:
        cmd = [sys.executable, __file__, "--child", "--rows", str(rows)]
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
        print(
            f"{rows:>9,} rows: add {result['add_per_s']:>8,.0f}/s"
            f"  drain {result['drain_per_s']:>8,.0f}/s"
            f"  stats {result['stats_ms']:.1f} ms  open(full) {result['open_full_ms']:.0f} ms"
            f"  rss open/added/drained/peak {result['rss_open_mb']:.0f}"
            f"/{result['rss_after_add_mb']:.0f}/{result['rss_after_drain_mb']:.0f}"
            f"/{result['peak_rss_mb']:.0f} MB"
            f"  file {result['file_mb_full']:.1f} -> {result['file_mb_drained']:.1f} MB"
        )


if __name__ == "__main__":
    main()
