"""What reading git costs a real daemon: CPU per heartbeat for first saves (each file's HEAD
version read for its first diff) and for repeated saves, memory at rest after them, and the git
processes still alive as the repositories go quiet.

    python benchmarks/git_footprint.py [--repos 4] [--files 30] [--gap 0.6] [--json]

A tree of `--repos` git repositories of `--files` committed Python files each, watched by a
`hackatimed run` against the fake server (tests/fakeserver.py, 127.0.0.1). Every file is saved
once (its first save: its HEAD version is read), `--gap` seconds apart, round-robin over the
repositories, as a person saves one file at a time; then every file again (a repeated save,
diffed against the first). CPU is the daemon's and its children's (git), from /proc. Then the
daemon is left alone for 75 s: its `git` children are counted every 15 s, and its RSS taken.
Linux only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from footprint_cases import KEY, Context, Sizes
from footprint_probe import FakeServer, cpu_seconds, rss_mb, settle_cpu
from footprint_trees import commit_all, git, source, write


def git_children(pid: int) -> int:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return 0
    alive = 0
    for child in children:
        try:
            alive += child.name() == "git" or "git" in child.cmdline()[:1]
        except psutil.Error:
            continue
    return alive


def make_tree(base: Path, repos: int, files: int) -> tuple[Path, list[Path]]:
    root = base / "code"
    paths: list[list[Path]] = []
    for r in range(repos):
        repo = root / f"repo-{r}"
        (repo / "src").mkdir(parents=True)
        git(repo, "init", "-q")
        own = []
        for f in range(files):
            own.append(repo / "src" / f"mod_{f}.py")
            write(own[-1], source(r * files + f, 0))
        commit_all(repo, "start")
        paths.append(own)
    # Round-robin: consecutive saves land in different repositories.
    return root, [p for group in zip(*paths, strict=True) for p in group]


def saves(ctx: Context, d: Any, files: list[Path], version: int, gap: float) -> dict[str, float]:
    base = len(d.heartbeats)
    before = cpu_seconds(d.pid)
    for i, path in enumerate(files):
        write(path, source(i, version))
        time.sleep(gap)
    d.wait_heartbeats(base + len(files), within=60)
    settle_cpu(d.pid, quiet=1.0, within=30)
    made = len(d.heartbeats) - base
    spent = cpu_seconds(d.pid) - before
    return {"heartbeats": made, "cpu_ms_per_hb": 1000 * spent / max(1, made)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hackatimed-git-") as tmp:
        base = Path(tmp)
        root, files = make_tree(base, args.repos, args.files)
        server = FakeServer(KEY)
        try:
            ctx = Context(base, server, Sizes())
            with ctx.daemon([root]) as d:
                ctx.start_watching(d, [root])
                settle_cpu(d.pid, quiet=2.0, within=60)
                out: dict[str, Any] = {"rss_mb_before_edits": rss_mb(d.pid)}
                out["first_saves"] = saves(ctx, d, files, 1, args.gap)
                out["git_alive_after_edits"] = git_children(d.pid)
                out["repeated_saves"] = saves(ctx, d, files, 2, args.gap)
                alive = []
                for _ in range(5):
                    time.sleep(15)
                    alive.append(git_children(d.pid))
                out["git_alive_every_15s"] = alive
                out["rss_mb_at_rest_after_edits"] = rss_mb(d.pid)
        finally:
            server.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repos", type=int, default=4)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        sys.exit("Linux only: it reads /proc")
    out = run(args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
