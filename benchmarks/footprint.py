"""Footprint of `hackatimed run`: memory and CPU at rest, start-up, inotify watches, storms,
latency, cost per heartbeat and throughput, measured from outside a real daemon process.

    python benchmarks/footprint.py              # full run (~10 min), rewrites
                                                # the table in benchmarks/README.md
    python benchmarks/footprint.py --only storm --only latency
    python benchmarks/footprint.py --quick      # tiny sizes, 1 repetition

The overflow group runs only when asked for (`--only overflow`): it needs root, and lowers the
machine-wide fs.inotify.max_queued_events for the few seconds its daemon takes to start.

Linux only (it reads /proc). Each figure is the median of `--repeat` runs (default 3), each run
a fresh daemon against the fake Hackatime server (tests/fakeserver.py) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import footprint_cases as cases
import footprint_trees as trees
from footprint_probe import REPO, FakeServer, machine

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- footprint:begin -->", "<!-- footprint:end -->"
LEGACY_CPU_S = 0.19  # the cheapest legacy-client call measured (FIELD_NOTES.md: 0.19-0.23 s)
QUIET_S = 0.5  # the coalescer's quiet window (activity.Activity's default)
FLUSH_SECONDS = cases.Sizes().flush_seconds  # the goals are for the full run's config
GROUPS = ("rest", "economy", "storm", "edits")  # a run without --only
ON_REQUEST = ("overflow",)
ALIASES = {
    "memory": "rest",
    "cpu": "rest",
    "startup": "rest",
    "latency": "edits",
    "cost": "edits",
    "throughput": "edits",
}

Samples = dict[str, float]


@dataclass(frozen=True, slots=True)
class Figure:
    group: str
    name: str
    key: str
    goal: str
    unit: str
    check: Callable[[float], bool] | None  # None: reported, no goal
    detail: Callable[[dict[str, float]], str] = lambda m: ""
    relative_to: str | None = None  # the check is of the value minus this key's median


def _mb(v: float) -> str:
    return f"{v:.1f} MB"


FIGURES = (
    Figure(
        "rest",
        "memory at rest",
        "rest_rss_mb",
        "RSS < 60 MB",
        "MB",
        lambda v: v < 60,
        lambda m: f"{m['rest_watches']:.0f} watches",
    ),
    Figure(
        "rest",
        "CPU at rest",
        "idle_cpu_pct",
        "< 0.2% of a core",
        "%",
        lambda v: v < 0.2,
    ),
    Figure(
        "rest",
        "wake-ups at rest",
        "idle_wakeups_per_s",
        "≤ 1 per 3 s",
        "/s",
        lambda v: v <= 1 / 3,
        lambda m: "context switches of all threads",
    ),
    Figure(
        "rest",
        "start-up: `watching` logged",
        "startup_logged_s",
        "< 2 s",
        "s",
        lambda v: v < 2,
    ),
    Figure(
        "rest",
        "start-up: watches placed",
        "startup_watches_s",
        "< 2 s",
        "s",
        lambda v: v < 2,
        lambda m: f"{m['startup_cpu_s']:.2f} s CPU by then",
    ),
    Figure(
        "economy",
        "watch economy",
        "economy_watches",
        "≤ source folders + 60",
        "",
        lambda v: v <= 60,
        lambda m: (
            f"{m['economy_source_folders']:,.0f} source folders, "
            f"{m['economy_nm_folders']:,.0f} in node_modules, of which "
            f"{m['economy_ignored_watched']:.0f} watched; placed in "
            f"{m['economy_placed_s']:.2f} s; RSS {_mb(m['economy_rss_mb'])}"
        ),
        relative_to="economy_source_folders",
    ),
    Figure(
        "storm",
        "storm: daemon CPU",
        "storm_cpu_s",
        "< 3 s",
        "s",
        lambda v: v < 3,
        lambda m: f"{m['storm_watches_after']:.0f} watches after",
    ),
    Figure("storm", "storm: RSS growth", "storm_rss_growth_mb", "< 20 MB", "MB", lambda v: v < 20),
    Figure(
        "storm",
        "storm: heartbeats for storm files",
        "storm_heartbeats",
        "0",
        "",
        lambda v: v == 0,
    ),
    Figure(
        "storm",
        "storm: edit elsewhere accepted",
        "storm_edit_accepted_s",
        f"≤ {FLUSH_SECONDS + 1:g} s (flush + 1 s)",
        "s",
        lambda v: v <= FLUSH_SECONDS + 1,
        lambda m: f"committed after {m['storm_edit_committed_s']:.2f} s",
    ),
    Figure(
        "overflow",
        "overflow: CPU over the next 30 s",
        "overflow_cpu_pct",
        "< 5% of a core",
        "%",
        lambda v: v < 5,
        lambda m: (
            f"{m['overflow_lines']:.0f} overflow lines; busiest second "
            f"{m['overflow_busiest_pct']:.0f}%; burst written in {m['overflow_burst_s']:.1f} s"
        ),
    ),
    Figure(
        "overflow",
        "overflow: watches after",
        "overflow_watches_after",
        "= watches before",
        "",
        lambda v: v == 0,
        lambda m: (
            f"{m['overflow_watches_before']:,.0f} before; "
            f"{m['overflow_folders']:,.0f} source folders"
        ),
        relative_to="overflow_watches_before",
    ),
    Figure(
        "overflow",
        "overflow: later save accepted",
        "overflow_save_accepted_s",
        f"≤ {FLUSH_SECONDS + 1:g} s (flush + 1 s)",
        "s",
        lambda v: v <= FLUSH_SECONDS + 1,
        lambda m: f"committed after {_format(m['overflow_save_committed_s'], 's')}",
    ),
    Figure(
        "overflow",
        "overflow: rescan heartbeats for old changes",
        "overflow_stale_heartbeats",
        "0",
        "",
        lambda v: v == 0,
        lambda m: (
            f"written before start: {m['overflow_early_heartbeats']:.0f}, seen before the "
            f"burst: {m['overflow_seen_again']:.0f}; burst files: "
            f"{m['overflow_burst_heartbeats']:.0f} (a storm)"
        ),
    ),
    Figure(
        "edits",
        "latency: committed to the outbox",
        "latency_committed_s",
        f"≤ {QUIET_S + 0.05:g} s (window + 50 ms)",
        "s",
        lambda v: v <= QUIET_S + 0.05,
    ),
    Figure(
        "edits",
        "latency: accepted by the server",
        "latency_accepted_s",
        f"≤ {FLUSH_SECONDS + 1:g} s (flush + 1 s)",
        "s",
        lambda v: v <= FLUSH_SECONDS + 1,
    ),
    Figure(
        "edits",
        "cost per heartbeat",
        "cost_cpu_ms_per_hb",
        f"≤ {1000 * LEGACY_CPU_S / 100:.1f} ms CPU (≥ 100x cheaper)",
        "ms",
        lambda v: v <= 1000 * LEGACY_CPU_S / 100,
        lambda m: (
            f"{LEGACY_CPU_S * 1000 / m['cost_cpu_ms_per_hb']:.0f}x cheaper than "
            f"{LEGACY_CPU_S} s; {m['cost_heartbeats']:.0f} heartbeats"
        ),
    ),
    Figure(
        "edits",
        "throughput",
        "throughput_hb_per_s",
        "(reported)",
        "heartbeats/s",
        None,
        lambda m: (
            f"{m['throughput_heartbeats']:.0f} of {m['throughput_saves']:.0f} saves; "
            f"CPU {m['throughput_cpu_pct']:.0f}% of a core, "
            f"{m['throughput_cpu_ms_per_hb']:.2f} ms per heartbeat "
            f"(≈ {1000 / m['throughput_cpu_ms_per_hb']:.0f}/s at one core)"
        ),
    ),
)


# -- running ---------------------------------------------------------------------------------


def run(groups: list[str], sizes: cases.Sizes, repeat: int) -> dict[str, list[Samples]]:
    results: dict[str, list[Samples]] = {}
    with tempfile.TemporaryDirectory(prefix="hackatimed-footprint-") as tmp:
        base = Path(tmp)
        server = FakeServer(cases.KEY)
        try:
            ctx = cases.Context(base, server, sizes)
            for group in groups:
                started = time.monotonic()
                once = _prepare(group, base, sizes, ctx)
                results[group] = []
                for i in range(repeat):
                    _say(f"{group}: run {i + 1} of {repeat}")
                    results[group].append(once())
                _say(f"{group}: {time.monotonic() - started:.0f} s")
        finally:
            server.close()
    return results


def _prepare(group: str, base: Path, s: cases.Sizes, ctx: cases.Context) -> Callable[[], Samples]:
    _say(f"{group}: building the tree")
    if group == "rest":
        rest = trees.rest_tree(
            base,
            projects=s.rest_projects,
            folders=s.rest_folders,
            files_per_folder=s.rest_files_per_folder,
        )
        _say(f"rest: {rest.folders} folders, {rest.files} files")
        return lambda: cases.rest(ctx, rest)
    if group == "economy":
        eco = trees.economy_tree(
            base,
            projects=s.economy_projects,
            source_folders=s.economy_source,
            nm_folders=s.economy_nm,
        )
        _say(f"economy: {eco.source_folders} source folders, {eco.ignored_folders} in node_modules")
        return lambda: cases.economy(ctx, eco)
    if group == "storm":
        storm = trees.storm_tree(base, tracked=s.storm_tracked)
        return lambda: cases.storm(ctx, storm)
    if group == "overflow":
        over = trees.overflow_tree(
            base,
            projects=s.overflow_projects,
            source_folders=s.overflow_source,
            nm_folders=s.overflow_nm,
        )
        _say(f"overflow: {over.folders} source folders, {s.overflow_nm} in node_modules")
        return lambda: cases.overflow(ctx, over)
    edit = trees.edit_tree(
        base, files=s.edit_files, bulk_repos=s.bulk_repos, bulk_per_repo=s.bulk_per_repo
    )
    return lambda: cases.edits(ctx, edit)


def _say(text: str) -> None:
    print(f"[footprint {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- judging and reporting ---------------------------------------------------------------------


def _pending(fig: Figure, medians: dict[str, float]) -> str | None:
    """Why a figure cannot be judged yet: what it depends on (issue 4) is not in this build,
    as seen in this very run."""
    reasons = []
    if fig.group == "economy" and medians.get("economy_ignored_watched", 0) > 0:
        reasons.append("ignored folders are still watched (issue 4's watch economy)")
    if fig.group == "storm":
        if medians.get("storm_nm_watched", 0) > 0:
            reasons.append("node_modules is still watched (issue 4's watch economy)")
        if not medians.get("storm_recognised"):
            reasons.append("the daemon did not recognise the storm (issue 4's storm rules)")
    if fig.group == "overflow" and not medians.get("overflow_lines"):
        reasons.append("the kernel queue did not overflow")
    return "pending: " + "; ".join(reasons) if reasons else None


def _format(value: float, unit: str) -> str:
    if math.isinf(value):
        return "never"
    if unit in ("MB", "s", "ms", "%", "/s"):
        digits = 3 if abs(value) < 0.1 else 2 if abs(value) < 10 else 1
        text = f"{value:.{digits}f}"
        return f"{text}{unit}" if unit == "%" else f"{text} {unit}"
    if unit == "heartbeats/s":
        return f"{value:.0f} {unit}"
    return f"{value:,.0f}"


Row = tuple[str, ...]


def rows(results: dict[str, list[Samples]]) -> list[Row]:
    out: list[Row] = []
    for fig in FIGURES:
        runs = results.get(fig.group)
        if not runs:
            continue
        medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        value = medians[fig.key]
        judged = value - medians[fig.relative_to] if fig.relative_to else value
        if fig.check is None:
            verdict = "—"
        else:
            verdict = _pending(fig, medians) or ("met" if fig.check(judged) else "**missed**")
        spread = [r[fig.key] for r in runs]
        runs_text = f"{len(runs)}: " + ", ".join(_format(v, fig.unit) for v in spread)
        out.append(
            (fig.name, fig.goal, _format(value, fig.unit), verdict, fig.detail(medians), runs_text)
        )
    return out


HEADER = ("figure", "goal", "median", "verdict", "also", "runs")


def table(found: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in found]
    return "\n".join(lines)


def machine_line() -> str:
    m = machine()
    return (
        f"Machine: {m['cores']} cores, {m['memory']}, {m['cpu']}, Python {m['python']}, "
        f"{m['kernel']}. Code: {revision()} with {versions()}; "
        f"run {time.strftime('%Y-%m-%d %H:%M')}."
    )


def versions() -> str:
    """The versions of the dependencies whose admitted range matters most (pyproject.toml),
    as installed for the interpreter that runs the daemon (this one)."""
    found = []
    for name in ("watchdog", "inotify_simple"):
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"no {name}")
    return ", ".join(found)


def revision() -> str:
    """The commit measured, and the daemon's files that differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "daemon/hackatimed").splitlines()
    if not dirty:
        return commit
    names = ", ".join(sorted(Path(line[3:]).name for line in dirty))
    return f"{commit} with uncommitted changes to {names}"


def write_readme(path: Path, found: Sequence[Row], *, partial: bool) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        old, tail = rest.split(END, 1)
        if partial:
            found = _merge(old, found)
    else:
        head, tail = text.rstrip("\n") + "\n\n## Footprint\n\n", "\n"
    block = f"{BEGIN}\n{machine_line()}\n\n{table(found)}\n{END}"
    path.write_text(head + block + tail, encoding="utf-8")


def _merge(old_block: str, found: Sequence[Row]) -> list[Row]:
    """Keep the rows of figures this run did not measure, in the table's order."""
    new = {r[0]: r for r in found}
    old = {}
    for line in old_block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == len(HEADER) and cells[0] != HEADER[0]:
            old[cells[0]] = tuple(cells)
    merged = []
    for fig in FIGURES:
        row = new.get(fig.name) or old.get(fig.name)
        if row:
            merged.append(row)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these (repeatable): " + ", ".join([*GROUPS, *ON_REQUEST, *ALIASES]),
    )
    parser.add_argument("--repeat", type=int, help="runs per figure (default 3; --quick: 1)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every sample here")
    parser.add_argument(
        "--readme",
        choices=("auto", "yes", "no"),
        default="auto",
        help="rewrite the table in benchmarks/README.md (auto: not for --quick)",
    )
    args = parser.parse_args(argv)
    # SIGTERM ends the run like Ctrl-C, so the daemons and the fake server are stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    groups = []
    for name in args.only or GROUPS:
        group = ALIASES.get(name, name)
        if group not in GROUPS + ON_REQUEST:
            parser.error(f"unknown figure {name!r}")
        if group not in groups:
            groups.append(group)
    sizes = cases.QUICK if args.quick else cases.Sizes()
    repeat = args.repeat or (1 if args.quick else 3)
    started = time.monotonic()
    results = run(groups, sizes, repeat)
    found = rows(results)
    print(machine_line())
    print(table(found))
    _say(f"done in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "runs": results, "rows": found}, indent=1)
        )
    if args.readme == "yes" or (args.readme == "auto" and not args.quick):
        write_readme(README, found, partial=set(groups) != set(GROUPS + ON_REQUEST))
    return 0


if __name__ == "__main__":
    sys.exit(main())
