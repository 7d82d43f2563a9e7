"""Whose edit: the agents' session logs, followed as they grow, on a fake clock; and what the
activity rules do with an agent's edit and with one nobody made."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from hackatimed.activity.agent_formats import ClaudeFormat, CodexFormat, GeminiFormat, Mention
from hackatimed.activity.agents import AgentHomes, AgentLogs, Attribution, Tail
from hackatimed.activity.edits import Activity, Edit
from hackatimed.activity.idle import FakeIdleSource
from hackatimed.clock import FakeClock
from hackatimed.watch.changes import ChangeKind, FileChange
from tests.agentlogs import AiderSession, ClaudeSession, CodexSession, GeminiSession

T0 = 1_767_258_000.0  # 2026-01-01 09:00 UTC


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=T0)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "code" / "app" / ".git").mkdir(parents=True)
    (tmp_path / "code" / "app" / "src").mkdir()
    return tmp_path / "code" / "app"


def look(logs: AgentLogs, paths: list[Path] | None = None) -> None:
    """What `Attribution.sort` does for a save nobody's followed log claims yet."""
    logs.refresh(paths or [])
    logs.discover()


def logs_for(tmp_path: Path, clock: FakeClock) -> AgentLogs:
    return AgentLogs(AgentHomes.of(home=tmp_path / "home"), clock=clock)


# -- formats ------------------------------------------------------------------------------------


def test_claude_names_the_file_in_its_call_and_its_result(tmp_path: Path, repo: Path) -> None:
    session = ClaudeSession(tmp_path / "home", repo)
    target = repo / "src" / "engine.py"
    session.prompt("make it faster", T0)
    call = session.tool_use("MultiEdit", target, T0 + 1)
    session.tool_result(call, target, T0 + 2)
    session.tool_use("Read", target, T0 + 3)  # reading is not editing
    lines = session.log.read_bytes().splitlines()
    found = [m for line in lines for m in ClaudeFormat().mentions(line)]
    assert found == [
        Mention(call, str(target), T0 + 1, done=False),
        Mention(call, str(target), T0 + 2, done=True),
    ]


def test_codex_names_the_files_of_a_patch_relative_to_its_cwd(tmp_path: Path, repo: Path) -> None:
    session = CodexSession(tmp_path / "home", repo, datetime.fromtimestamp(T0))
    session.start(T0)
    a, b = repo / "src" / "a.py", repo / "src" / "new.py"
    a.write_text("old\n")
    session.apply_patch({a: "new\n", b: "x\n"}, T0 + 5)
    fmt = CodexFormat()
    found = [m for line in session.log.read_bytes().splitlines() for m in fmt.mentions(line)]
    assert found[0].cwd == str(repo)
    assert [(m.path, m.done) for m in found[2:]] == [
        ("src/a.py", False),
        ("src/new.py", False),
        ("", True),  # the call's output: closes both
        (str(a), True),
        (str(b), True),
    ]


def test_codex_patch_in_a_function_calls_json_arguments() -> None:
    patch = "*** Begin Patch\n*** Update File: lib/x.rs\n@@\n-a\n+b\n*** End Patch\n"
    args = json.dumps({"command": ["apply_patch", patch], "workdir": "/w"})
    item = {"type": "function_call", "name": "shell", "arguments": args, "call_id": "c1"}
    record = {"timestamp": "2026-01-01T09:00:00Z", "type": "response_item", "payload": item}
    line = json.dumps(record)
    (m,) = CodexFormat().mentions(line.encode())
    # Relative to the shell call's own working folder.
    assert (m.call, m.path, m.done) == ("c1", "/w/lib/x.rs", False)


def test_gemini_names_finished_edit_calls_in_the_end_of_its_session_file(
    tmp_path: Path, repo: Path
) -> None:
    session = GeminiSession(tmp_path / "home", repo, T0)
    a, b = repo / "src" / "a.py", repo / "src" / 'we"ird.py'
    session.prompt("make it faster", T0)
    session.edit(a, 'say "a"\n', T0 + 1)
    session.edit(b, "x\n", T0 + 2, tool="write_file")
    text = session.log.read_bytes()
    found = GeminiFormat().mentions(text)
    assert [(m.path, m.at, m.done) for m in found] == [
        (str(a), T0 + 1, True),
        (str(b), T0 + 2, True),
    ]
    # Its end only, cut inside the first call: the second is still found.
    cut = text[text.index(b'"args"') + 10 :]
    assert [m.path for m in GeminiFormat().mentions(cut)] == [str(b)]


# -- following a log ----------------------------------------------------------------------------


def test_a_tail_reads_only_what_was_appended_and_waits_for_whole_lines(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":')
    tail = Tail(log)
    assert list(tail.read()) == [b'{"a":1}']
    with log.open("ab") as f:
        f.write(b'2}\n{"c":3}\n')
    assert list(tail.read()) == [b'{"b":2}', b'{"c":3}']
    assert list(tail.read()) == []  # nothing new: nothing read
    log.write_bytes(b'{"d":4}\n')  # replaced by a shorter file: read from its start
    assert list(tail.read()) == [b'{"d":4}']


def test_a_tail_skips_a_line_longer_than_its_bound(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    log.write_bytes(b"x" * 5000 + b"\n" + b'{"ok":1}\n')
    assert list(Tail(log, max_line_bytes=1000).read()) == [b'{"ok":1}']


def test_a_tail_started_inside_a_file_drops_the_cut_line(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    log.write_bytes(b'{"first":1}\n{"second":2}\n')
    assert list(Tail(log, offset=3).read()) == [b'{"second":2}']


# -- claims -------------------------------------------------------------------------------------


def test_an_edit_is_the_agents_only_close_to_its_call(
    tmp_path: Path, repo: Path, clock: FakeClock
) -> None:
    logs = logs_for(tmp_path, clock)
    session = ClaudeSession(tmp_path / "home", repo)
    target = repo / "src" / "engine.py"
    session.edit(target, "fast\n", T0)
    look(logs, [target])
    assert logs.who(target, T0) == "Claude Code"
    assert logs.who(target, T0 + 60) is None  # the person's save a minute later
    assert logs.who(repo / "src" / "other.py", T0) is None
    assert logs.followed == (session.log,)


def test_a_failed_call_claims_nothing(tmp_path: Path, repo: Path, clock: FakeClock) -> None:
    logs = logs_for(tmp_path, clock)
    session = ClaudeSession(tmp_path / "home", repo)
    target = repo / "src" / "engine.py"
    call = session.tool_use("Edit", target, T0)
    look(logs, [target])
    assert logs.who(target, T0 + 5) == "Claude Code"  # waiting for approval: still claimed
    session.tool_result(call, target, T0 + 6, error=True)
    look(logs, [target])
    assert logs.who(target, T0 + 5) is None


def test_codex_and_aider_edits_are_theirs(tmp_path: Path, repo: Path, clock: FakeClock) -> None:
    logs = logs_for(tmp_path, clock)
    codex = CodexSession(tmp_path / "home", repo, datetime.fromtimestamp(T0))
    codex.start(T0)
    a, b = repo / "src" / "a.py", repo / "src" / "b.py"
    codex.apply_patch({a: "x\n"}, T0 + 1)
    aider = AiderSession(repo)
    aider.edit(b, "y\n")
    clock.advance(1)
    look(logs, [a, b])
    assert logs.who(a, T0 + 1) == "Codex CLI"
    # Aider's log has no times: its line is as old as the log's last write.
    assert logs.who(b, aider.log.stat().st_mtime) == "Aider"


def test_gemini_edits_are_its_own(tmp_path: Path, repo: Path, clock: FakeClock) -> None:
    logs = logs_for(tmp_path, clock)
    target = repo / "src" / "engine.py"
    look(logs, [target])
    session = GeminiSession(tmp_path / "home", repo, T0)
    session.prompt("make it faster", T0)
    session.edit(target, "fast\n", T0 + 1)
    look(logs, [target])
    assert logs.who(target, T0 + 1) == "Gemini CLI"
    assert logs.who(target, T0 + 60) is None
    size = session.log.stat().st_size
    look(logs, [target])  # unchanged: not read again
    session.edit(target, "faster\n", T0 + 2)
    look(logs, [target])
    assert logs.who(target, T0 + 2) == "Gemini CLI"
    assert logs.bytes_read == size + session.log.stat().st_size  # each version's end, once


def test_logs_are_read_from_where_the_last_read_stopped(
    tmp_path: Path, repo: Path, clock: FakeClock
) -> None:
    logs = logs_for(tmp_path, clock)
    session = ClaudeSession(tmp_path / "home", repo)
    session.prompt("hello " * 10_000, T0)
    look(logs)
    size = session.log.stat().st_size
    assert logs.bytes_read == size
    target = repo / "src" / "x.py"
    for i in range(5):
        session.edit(target, f"x = {i}\n", T0 + i)
        look(logs, [target])
        assert logs.who(target, T0 + i) == "Claude Code"
    # Each edit cost the lines appended for it, never the transcript again.
    assert logs.bytes_read == session.log.stat().st_size


# -- attribution --------------------------------------------------------------------------------


def test_attribution_marks_agents_drops_the_unattended_and_counts(
    tmp_path: Path, repo: Path, clock: FakeClock
) -> None:
    session = ClaudeSession(tmp_path / "home", repo)
    agent_file, own, synced = (repo / "src" / n for n in ("a.py", "b.py", "c.py"))
    session.edit(agent_file, "x\n", T0)
    attribution = Attribution(logs_for(tmp_path, clock), clock=clock, idle_after_seconds=300)
    edits = [Edit(agent_file, T0, True), Edit(own, T0, True)]
    sorted_ = attribution.sort(edits, lambda: 1.0)
    assert [(e.path, e.agent) for e in sorted_] == [(agent_file, "Claude Code"), (own, None)]
    # Nobody has given input for ten minutes and no agent claims it: not sent.
    assert attribution.sort([Edit(synced, T0, True)], lambda: 600.0) == []
    c = attribution.counts
    assert (c.person, c.agents, c.unattended, c.by_agent) == (1, 1, 1, (("Claude Code", 1),))
    # The settings change on reload.
    attribution.configure(idle_after_seconds=300, ai_edits="skip", unattended_edits="coding")
    assert attribution.sort([*edits, Edit(synced, T0, True)], lambda: 600.0) == [
        Edit(own, T0, True),
        Edit(synced, T0, True),
    ]


def test_without_an_idle_source_no_save_is_unattended(clock: FakeClock, tmp_path: Path) -> None:
    attribution = Attribution(None, clock=clock, idle_after_seconds=300)
    edit = Edit(tmp_path / "x.py", T0, True)
    assert attribution.sort([edit], lambda: None) == [edit]


def test_an_agents_edit_brings_no_keepalives(tmp_path: Path, repo: Path, clock: FakeClock) -> None:
    session = ClaudeSession(tmp_path / "home", repo)
    target = repo / "src" / "a.py"
    idle = FakeIdleSource(0.0)  # the person is there, reading what the agent does
    attribution = Attribution(logs_for(tmp_path, clock), clock=clock, idle_after_seconds=300)
    activity = Activity(clock=clock, idle=idle, sort=attribution.sort)
    session.edit(target, "x\n", clock.wall())
    activity.add(FileChange(target, ChangeKind.CLOSED, clock.wall()))
    released: list[Edit] = []
    for _ in range(10):
        clock.advance(30)
        released += activity.pop_due()
    assert [(e.is_write, e.agent) for e in released] == [(True, "Claude Code")]


def test_a_session_started_between_two_edits_is_followed_from_its_first(
    tmp_path: Path, repo: Path, clock: FakeClock
) -> None:
    logs = logs_for(tmp_path, clock)
    own = repo / "src" / "own.py"
    look(logs, [own])  # the agents' folders are looked at: nothing there yet
    clock.advance(1)  # well within the periodic rescan: the new folder's mtime says it
    session = ClaudeSession(tmp_path / "home", repo)
    target = repo / "src" / "engine.py"
    session.edit(target, "x\n", clock.wall())
    look(logs, [target])
    assert logs.who(target, clock.wall()) == "Claude Code"
    codex = CodexSession(tmp_path / "home", repo, datetime.fromtimestamp(clock.wall()))
    codex.start(clock.wall())
    codex.apply_patch({own: "y\n"}, clock.wall())
    look(logs, [own])
    assert logs.who(own, clock.wall()) == "Codex CLI"


def test_aiders_edits_an_hour_apart_do_not_claim_the_hour_between(
    tmp_path: Path, repo: Path, clock: FakeClock
) -> None:
    logs = logs_for(tmp_path, clock)
    aider = AiderSession(repo)
    target = repo / "src" / "a.py"
    aider.edit(target, "1\n")
    os.utime(aider.log, (T0, T0))
    look(logs, [target])
    assert logs.who(target, T0) == "Aider"
    aider.edit(target, "2\n")
    os.utime(aider.log, (T0 + 3600, T0 + 3600))
    look(logs, [target])
    assert logs.who(target, T0 + 1800) is None  # the person's save in between
    assert logs.who(target, T0 + 3600) == "Aider"
