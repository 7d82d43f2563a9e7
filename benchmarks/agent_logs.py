"""What following the AI agents' session logs costs per save.

    python benchmarks/agent_logs.py [--projects 40] [--sessions 25] [--saves 400]

A home folder like a heavy user's: Claude Code's `projects/` with `--projects` folders of
`--sessions` transcripts each (all but three untouched for two days), and a Codex day folder.
Then `--saves` saves are attributed the way the daemon does it (`Attribution.sort`, which
refreshes `AgentLogs`): half of them an agent's (its call and result appended to an active
transcript just before), half the person's (nothing appended). Reported: CPU per save (the
process's own CPU time, so a busy machine does not inflate it), bytes of transcript read per
save, and the memory `AgentLogs` holds (tracemalloc).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

from hackatimed.activity.agents import AgentHomes, AgentLogs, Attribution
from hackatimed.activity.edits import Edit
from hackatimed.clock import SystemClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from agentlogs import ClaudeSession, CodexSession  # test helpers: the agents' own formats

TWO_DAYS = 2 * 86_400.0


def make_home(base: Path, *, projects: int, sessions: int) -> tuple[Path, list[ClaudeSession]]:
    home = base / "home"
    old = time.time() - TWO_DAYS
    active: list[ClaudeSession] = []
    for p in range(projects):
        cwd = base / "code" / f"project{p}"
        cwd.mkdir(parents=True)
        for _ in range(sessions):
            s = ClaudeSession(home, cwd)
            for i in range(20):  # ~20 kB of an old conversation
                s.prompt(f"question {i} " + "words " * 100, old)
                s.tool_use("Read", cwd / "a.py", old)
            if len(active) < 3 and p % 13 == 0:
                active.append(s)
            else:
                os.utime(s.log, (old, old))
    codex = CodexSession(home, base / "code" / "project0", datetime.now())
    codex.start(time.time())
    return home, active


def attribute_saves(
    active: list[ClaudeSession], attribution: Attribution, saves: int, *, tag: str
) -> tuple[list[float], list[float]]:
    """Half the saves an agent's, half the person's; the CPU each attribution took."""
    clock = SystemClock()
    agent_cpu: list[float] = []
    person_cpu: list[float] = []
    for i in range(saves):
        session = active[i % len(active)]
        target = session.cwd / f"{tag}{i % 7}.py"
        if i % 2 == 0:
            session.edit(target, f"x = {i}\n", clock.wall())
        else:
            target.write_text(f"y = {i}\n")
        start = time.process_time()
        sorted_ = attribution.sort([Edit(target, clock.wall(), True)], lambda: 0.0)
        spent = time.process_time() - start
        assert (sorted_[0].agent is not None) == (i % 2 == 0), (i, sorted_)
        (agent_cpu if i % 2 == 0 else person_cpu).append(spent)
    return agent_cpu, person_cpu


def measure(base: Path, *, projects: int, sessions: int, saves: int) -> dict[str, float]:
    home, active = make_home(base, projects=projects, sessions=sessions)
    clock = SystemClock()
    logs = AgentLogs(AgentHomes.of(home=home), clock=clock)
    attribution = Attribution(logs, clock=clock, idle_after_seconds=300)
    attribution.sort(
        [Edit(base / "code" / "warm.py", clock.wall(), True)], lambda: 0.0
    )  # first look
    first_read = logs.bytes_read
    agent_cpu, person_cpu = attribute_saves(active, attribution, saves, tag="timed")
    per_save = (logs.bytes_read - first_read) / saves
    # Memory apart: tracemalloc slows every allocation, so it is off while CPU is measured.
    tracemalloc.start()
    logs = AgentLogs(AgentHomes.of(home=home), clock=clock)
    again = Attribution(logs, clock=clock, idle_after_seconds=300)
    attribute_saves(active, again, saves, tag="traced")
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "transcripts": projects * sessions,
        "followed": len(logs.followed),
        "first_look_bytes": first_read,
        "agent_save_cpu_ms_median": 1000 * statistics.median(agent_cpu),
        "person_save_cpu_ms_median": 1000 * statistics.median(person_cpu),
        "cpu_ms_mean": 1000 * statistics.mean(agent_cpu + person_cpu),
        "bytes_read_per_save": per_save,
        "memory_held_kib": held / 1024,
        "memory_peak_kib": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--saves", type=int, default=400)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="hackatimed-agents-"))
    try:
        found = measure(base, projects=args.projects, sessions=args.sessions, saves=args.saves)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for name, value in found.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")


if __name__ == "__main__":
    main()
