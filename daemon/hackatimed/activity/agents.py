"""Whose edit is it: an AI coding agent's, when its own session log names the file in an edit
call close to the moment of the write.

The logs are followed as they grow: each is a `Tail` that remembers how far it has read and reads
only the bytes appended since, so an edit never costs a whole transcript. They are read when an
edit is to be attributed (at most once per batch of edits), never on a timer: nothing wakes the
daemon while nobody writes. Memory is bounded: at most `max_logs` logs followed (the most
recently written), a partial line of at most `max_line_bytes`, claims kept for `keep_seconds`.

Nothing read here leaves this module but an agent's name for a path; the logs' paths are logged
at debug level, their content never.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from hackatimed.activity.agent_formats import (
    AiderFormat,
    ClaudeFormat,
    CodexFormat,
    Format,
    GeminiFormat,
    Mention,
)
from hackatimed.activity.edits import Edit, RepositoryScopes
from hackatimed.clock import Clock, local_date

log = logging.getLogger(__name__)

AIDER_HISTORY = ".aider.chat.history.md"
# A call's result may name a write made this long before it (a long MultiEdit, a slow disk).
RESULT_BEFORE_SECONDS = 30.0
# A call seen without its result yet (waiting for the person's approval, say) claims the file
# for this long.
PENDING_SECONDS = 600.0
# Clock slack between the agent's timestamps and the write's event (which the daemon stamps
# when it takes the event, a little after the write).
SLACK_SECONDS = 2.0
_CHUNK = 1 << 20
_FIRST_READ_BYTES = 256 * 1024
_MAX_DIRS = 4096

AiEdits = Literal["ai coding", "skip", "coding"]
UnattendedEdits = Literal["skip", "coding"]


class Tail:
    """A growing file, read from where the last read stopped, line by line."""

    def __init__(self, path: Path, *, offset: int = 0, max_line_bytes: int = 4 << 20) -> None:
        self.path = path
        self._offset = offset
        self._skip_first = offset > 0  # the first line read may be the end of a line
        self._partial = b""
        self._skipping = False  # inside a line longer than max_line_bytes
        self._max_line = max_line_bytes
        self._inode: int | None = None
        self.mtime = 0.0
        self.bytes_read = 0  # in all: what following it has cost

    def read(self) -> Iterator[bytes]:
        """The complete lines appended since the last read. A file replaced or truncated is
        read again from its start."""
        try:
            st = os.stat(self.path)
        except OSError:
            return
        if self._inode is not None and (st.st_ino != self._inode or st.st_size < self._offset):
            self._offset, self._partial, self._skipping = 0, b"", False
        self._inode, self.mtime = st.st_ino, st.st_mtime
        if st.st_size <= self._offset:
            return
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                while chunk := f.read(_CHUNK):
                    self._offset += len(chunk)
                    self.bytes_read += len(chunk)
                    yield from self._lines(chunk)
        except OSError as exc:
            log.debug("agent log %s unreadable: %s", self.path, exc)

    def _lines(self, chunk: bytes) -> Iterator[bytes]:
        parts = chunk.split(b"\n")
        last = parts.pop()
        for part in parts:
            line, self._partial = self._partial + part, b""
            # The end of a line too long to keep, or of the line the first read started in.
            skip = self._skipping or self._skip_first or len(line) > self._max_line
            self._skipping = self._skip_first = False
            if not skip:
                yield line
        if self._skipping:
            return
        self._partial += last
        if len(self._partial) > self._max_line:
            # A record this long (a tool's whole output) is not kept: its call's claim stands.
            self._partial, self._skipping = b"", True


class EndOfFile:
    """A file written whole again at each change (Gemini's session file): when it changed,
    its last `max_bytes` are read, as one piece. Bounded, whatever the file's size."""

    def __init__(self, path: Path, *, max_bytes: int = _FIRST_READ_BYTES) -> None:
        self.path = path
        self._max = max_bytes
        self._seen: tuple[int, int] | None = None
        self.mtime = 0.0
        self.bytes_read = 0

    def read(self) -> Iterator[bytes]:
        try:
            st = os.stat(self.path)
            if (st.st_mtime_ns, st.st_size) == self._seen:
                return
            self._seen, self.mtime = (st.st_mtime_ns, st.st_size), st.st_mtime
            with open(self.path, "rb") as f:
                f.seek(max(0, st.st_size - self._max))
                data = f.read(self._max)
        except OSError as exc:
            log.debug("agent log %s unreadable: %s", self.path, exc)
            return
        self.bytes_read += len(data)
        yield data


@dataclass(slots=True)
class _Claim:
    agent: str
    since: float
    until: float
    done: bool = False  # the result is in: the call wrote nothing after `until`
    used: bool = False  # an edit was the agent's by it


class ClaimBook:
    """Which files each agent's calls claim, and when."""

    def __init__(self, *, keep_seconds: float = 3600.0, max_claims: int = 4096) -> None:
        self._claims: OrderedDict[tuple[str, str, str], _Claim] = OrderedDict()
        self._keep = keep_seconds
        self._max = max_claims

    def __len__(self) -> int:
        return len(self._claims)

    def note(self, agent: str, log_id: str, m: Mention, path: str, at: float) -> None:
        """`path`: the mention's path made absolute ("" for a result naming no file); `at`: the
        mention's time."""
        if not m.done:
            self._put((log_id, m.call, path), _Claim(agent, at, at + PENDING_SECONDS))
            return
        known = self._claims.get((log_id, m.call, path))
        if known is not None and known.done and not m.failed and m.call:
            return  # read again (a file written whole each time): nothing new
        keys = (
            [(log_id, m.call, path)]
            if path
            else [k for k in self._claims if k[0] == log_id and k[1] == m.call and m.call]
        )
        for key in keys:
            claim = self._claims.get(key)
            if m.failed:
                self._claims.pop(key, None)
            elif claim is not None and m.call:
                claim.until, claim.done = at, True
            elif path:
                # A result of its own (Aider's lines have no call to close): a claim of its own,
                # never a window stretched from an earlier edit of the same file.
                self._put(key, _Claim(agent, at - RESULT_BEFORE_SECONDS, at, done=True))

    def who(self, path: str, at: float, *, mark: bool = True) -> str | None:
        """The agent claiming the write of `path` at `at`; `mark`: it is taken (not a mere
        look), so a later save after the call's result is not the agent's."""
        for (_log, _call, claimed), claim in reversed(self._claims.items()):
            if claimed != path:
                continue
            # Once a finished call's write is found, a later save is someone else's: the slack
            # after its result is only for the event of its own write.
            until = claim.until if claim.used and claim.done else claim.until + SLACK_SECONDS
            if claim.since - SLACK_SECONDS <= at <= until:
                claim.used = claim.used or mark
                return claim.agent
        return None

    def prune(self, now: float) -> None:
        for key in [k for k, c in self._claims.items() if c.until < now - self._keep]:
            del self._claims[key]

    def _put(self, key: tuple[str, str, str], claim: _Claim) -> None:
        self._claims[key] = claim
        self._claims.move_to_end(key)
        while len(self._claims) > self._max:
            self._claims.popitem(last=False)


@dataclass(frozen=True, slots=True)
class AgentHomes:
    """Where the agents keep their logs: Claude Code's config folders (each holding
    `projects/`), Codex's home (holding `sessions/`), Gemini's (holding `tmp/`). Aider's log is
    in the project itself."""

    claude: tuple[Path, ...] = ()
    codex: tuple[Path, ...] = ()
    gemini: tuple[Path, ...] = ()

    def log_folders(self) -> tuple[Path, ...]:
        """The folders holding only agents' logs: never anyone's edits, even under a root."""
        return (
            *(c / "projects" for c in self.claude),
            *(c / "sessions" for c in self.codex),
            *(g / "tmp" for g in self.gemini),
        )

    @classmethod
    def of(cls, *, home: Path, env: dict[str, str] | None = None) -> AgentHomes:
        env = env or {}
        claude = [Path(env["CLAUDE_CONFIG_DIR"])] if env.get("CLAUDE_CONFIG_DIR") else []
        claude += [home / ".claude", home / ".config" / "claude"]
        codex = [Path(env["CODEX_HOME"])] if env.get("CODEX_HOME") else [home / ".codex"]
        return cls(
            claude=tuple(dict.fromkeys(claude)), codex=tuple(codex), gemini=(home / ".gemini",)
        )


@dataclass(slots=True)
class _Dir:
    # Claude: 0 projects/, 1 a project, 2 a session's folder, 3 its subagents/. Codex: 1 a day.
    # Gemini: 0 tmp/, 1 a project, 2 its chats/.
    depth: int
    fmt: Format
    mtime: int | None = None


def _descend(fmt: Format, depth: int, name: str) -> bool:
    if isinstance(fmt, ClaudeFormat):
        return depth in (0, 1) or (depth == 2 and name == "subagents")
    if isinstance(fmt, GeminiFormat):
        return depth == 0 or (depth == 1 and name == "chats")
    return False


def _holds_logs(fmt: Format, depth: int, name: str) -> bool:
    if isinstance(fmt, GeminiFormat):
        return depth == 2 and name.startswith("session-") and name.endswith(".json")
    return name.endswith(".jsonl") and depth in (1, 3)


@dataclass(slots=True)
class _Followed:
    tail: Tail | EndOfFile
    fmt: Format
    cwd: str | None = None


class AgentLogs:
    """Follows the agents' session logs and answers `who(path, at)`: the agent whose log
    claims the write of `path` at `at` (wall seconds), or None."""

    def __init__(
        self,
        homes: AgentHomes,
        *,
        clock: Clock,
        active_seconds: float = 6 * 3600.0,
        rescan_seconds: float = 30.0,
        max_logs: int = 64,
        scope_of: Callable[[Path], str] | None = None,
    ) -> None:
        """`active_seconds`: a log written within this long is followed; `rescan_seconds`: the
        agents' folders are listed again at most this often (only while edits come)."""
        self._homes = homes
        self._clock = clock
        self._active = active_seconds
        self._rescan = rescan_seconds
        self._max_logs = max_logs
        self._scope_of = scope_of or RepositoryScopes()
        self._followed: OrderedDict[str, _Followed] = OrderedDict()
        self._scan_at = float("-inf")
        self._prune_at = float("-inf")
        self._dirs: dict[str, _Dir] = {}
        self._new_dirs: list[str] = []
        self._roots_day: date | None = None
        self._book = ClaimBook()

    @property
    def followed(self) -> tuple[Path, ...]:
        return tuple(Path(p) for p in self._followed)

    @property
    def bytes_read(self) -> int:
        return sum(f.tail.bytes_read for f in self._followed.values())

    def who(self, path: Path, at: float, *, mark: bool = True) -> str | None:
        return self._book.who(os.path.normpath(path), at, mark=mark)

    def refresh(self, paths: Sequence[Path] = ()) -> None:
        """Read what the followed logs gained since the last call (a stat each, and the bytes
        appended). `paths`: the files about to be attributed (an Aider log is looked for at
        the top of their repositories)."""
        for path in paths:
            self._find_aider(path)
        for followed in self._followed.values():
            self._read(followed)
        now = self._clock.monotonic()
        if now >= self._prune_at:
            self._prune_at = now + self._rescan
            self._book.prune(self._clock.wall())

    def discover(self) -> None:
        """Look for logs not followed yet (a session started since), and read them: asked
        only for a save that no followed log claims, so an agent's steady work costs no more
        than its own log's growth."""
        now = self._clock.monotonic()
        self._track_roots()
        everything = now >= self._scan_at
        if everything:
            self._scan_at = now + self._rescan
        before = set(self._followed)
        self._look(everything=everything)
        for name, followed in self._followed.items():
            if name not in before:
                self._read(followed)

    # -- finding the logs ----------------------------------------------------------------------
    # A new session creates a file, which changes its folder's mtime: the agents' folders are
    # stat'ed at each refresh (a few dozen stats, tens of microseconds) and listed only when
    # changed, so a session that starts between two edits is followed from its first one. A
    # file appended to changes no folder: the periodic full listing (every `rescan_seconds`)
    # finds an old session taken up again.

    def _track_roots(self) -> None:
        today = local_date(self._clock.wall())
        if today == self._roots_day:
            return
        self._roots_day = today
        for folder in self._homes.claude:
            self._track(str(folder / "projects"), 0, ClaudeFormat())
        for folder in self._homes.codex:
            for day in (today, today - timedelta(days=1)):
                self._track(str(_codex_day(folder, day)), 1, CodexFormat())
        for folder in self._homes.gemini:
            self._track(str(folder / "tmp"), 0, GeminiFormat())

    def _track(self, folder: str, depth: int, fmt: Format) -> None:
        if folder not in self._dirs and len(self._dirs) < _MAX_DIRS:
            self._dirs[folder] = _Dir(depth, fmt)
            self._new_dirs.append(folder)

    def _look(self, *, everything: bool) -> None:
        self._new_dirs.clear()
        for folder, d in list(self._dirs.items()):
            self._look_at(folder, d, everything=everything)
        # A listing may have found new folders (a new project): they are looked at now.
        while self._new_dirs:
            folder = self._new_dirs.pop()
            self._look_at(folder, self._dirs[folder], everything=True)

    def _look_at(self, folder: str, d: _Dir, *, everything: bool) -> None:
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            d.mtime = None
            return
        if everything or mtime != d.mtime:
            d.mtime = mtime
            self._list(folder, d)

    def _list(self, folder: str, d: _Dir) -> None:
        horizon = self._clock.wall() - self._active
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                if _holds_logs(d.fmt, d.depth, entry.name) and entry.is_file():
                    if entry.stat().st_mtime >= horizon:
                        self._follow(Path(entry.path), d.fmt)
                elif (
                    _descend(d.fmt, d.depth, entry.name)
                    and entry.is_dir()
                    # Projects are few; a session's folder only matters while it is in use.
                    and (d.depth == 0 or entry.stat().st_mtime >= horizon)
                ):
                    self._track(entry.path, d.depth + 1, d.fmt)
            except OSError:
                continue

    def _find_aider(self, path: Path) -> None:
        # One stat per repository per batch of edits: Aider may start at any moment.
        scope = self._scope_of(path) or os.path.dirname(path)
        history = os.path.join(scope, AIDER_HISTORY)
        if history not in self._followed and os.path.isfile(history):
            self._follow(Path(history), AiderFormat())

    def _follow(self, path: Path, fmt: Format) -> None:
        name = str(path)
        if name in self._followed:
            self._followed.move_to_end(name)
            return
        try:
            # Only its end is read: a call just before it was seen still counts (a new log is
            # read whole), hours of an old transcript are not read.
            offset = max(0, os.path.getsize(path) - _FIRST_READ_BYTES)
        except OSError:
            return
        log.debug("following agent log %s", path)
        tail = EndOfFile(path) if isinstance(fmt, GeminiFormat) else Tail(path, offset=offset)
        self._followed[name] = _Followed(tail, fmt)
        while len(self._followed) > self._max_logs:
            self._followed.popitem(last=False)

    # -- reading -------------------------------------------------------------------------------

    def _read(self, followed: _Followed) -> None:
        tail, fmt = followed.tail, followed.fmt
        log_id = str(tail.path)
        for line in tail.read():
            for m in fmt.mentions(line):
                if m.cwd is not None:
                    followed.cwd = m.cwd
                if m.cwd is not None or (not m.path and not m.done):
                    continue
                path = self._absolute(m.path, followed, tail.path)
                # A record without a time of its own (Aider's) is as old as the file's last write.
                at = m.at if m.at is not None else tail.mtime
                self._book.note(fmt.agent, log_id, m, path, at)

    @staticmethod
    def _absolute(path: str, followed: _Followed, log_path: Path) -> str:
        if not path or os.path.isabs(path):
            return os.path.normpath(path) if path else ""
        base = log_path.parent if isinstance(followed.fmt, AiderFormat) else followed.cwd
        return os.path.normpath(os.path.join(base or "/", path))


def _codex_day(home: Path, day: date) -> Path:
    return home / "sessions" / f"{day.year:04d}" / f"{day.month:02d}" / f"{day.day:02d}"


# -- attribution -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditCounts:
    """Today's saves, by whose they were (keepalives are not counted)."""

    day: str = ""
    person: int = 0
    agents: int = 0
    unattended: int = 0  # no agent's, made while nobody gave input: not sent (or as configured)
    by_agent: tuple[tuple[str, int], ...] = ()


class Attribution:
    """Sorts released edits: an agent's (marked with its name, or dropped), the person's, or
    nobody's (made while the idle source says nobody has given input for longer than
    `idle_after_seconds`: dropped, or kept as the person's)."""

    def __init__(
        self,
        logs: AgentLogs | None,
        *,
        clock: Clock,
        idle_after_seconds: float,
        ai_edits: AiEdits = "ai coding",
        unattended_edits: UnattendedEdits = "skip",
    ) -> None:
        self._logs = logs
        self._clock = clock
        self.configure(
            idle_after_seconds=idle_after_seconds,
            ai_edits=ai_edits,
            unattended_edits=unattended_edits,
        )
        self.counts = EditCounts()

    def configure(
        self, *, idle_after_seconds: float, ai_edits: AiEdits, unattended_edits: UnattendedEdits
    ) -> None:
        self._idle_after = idle_after_seconds
        self._ai_edits = ai_edits
        self._unattended = unattended_edits

    def sort(self, edits: Sequence[Edit], idle: Callable[[], float | None]) -> list[Edit]:
        """In a worker thread: reads the agents' logs, and asks `idle` (the seconds since the
        last input, None without an idle source) only for a save no agent claims."""
        writes = [e for e in edits if e.is_write]
        logs = self._logs
        if logs is not None and writes:
            logs.refresh([e.path for e in writes])
            if any(logs.who(e.path, e.at, mark=False) is None for e in writes):
                logs.discover()
        now = self._clock.wall()
        out: list[Edit] = []
        for edit in edits:
            if not edit.is_write:
                out.append(edit)
                continue
            agent = self._logs.who(edit.path, edit.at) if self._logs is not None else None
            if agent is not None:
                self._count(agent=agent)
                if self._ai_edits == "skip":
                    log.debug(
                        "not sent: %s was written by %s (activity.ai_edits)", edit.path, agent
                    )
                    continue
                out.append(replace(edit, agent=agent))
            elif self._unattended_at(edit, idle(), now):
                self._count(unattended=True)
                if self._unattended == "skip":
                    log.debug(
                        "not sent: %s changed with no input for %.0f s and no agent claims it "
                        "(activity.unattended_edits)",
                        edit.path,
                        (idle() or 0.0) - (now - edit.at),
                    )
                    continue
                out.append(edit)
            else:
                self._count()
                out.append(edit)
        return out

    def _unattended_at(self, edit: Edit, idle_seconds: float | None, now: float) -> bool:
        if idle_seconds is None:
            return False  # nothing to ask: a save is taken to be the person's
        # The idle time at the moment of the write, not of the release a moment later.
        return idle_seconds - max(0.0, now - edit.at) > self._idle_after

    def _count(self, *, agent: str | None = None, unattended: bool = False) -> None:
        day = local_date(self._clock.wall()).isoformat()
        c = self.counts if self.counts.day == day else EditCounts(day=day)
        if agent is not None:
            by = dict(c.by_agent)
            by[agent] = by.get(agent, 0) + 1
            c = replace(c, agents=c.agents + 1, by_agent=tuple(sorted(by.items())))
        elif unattended:
            c = replace(c, unattended=c.unattended + 1)
        else:
            c = replace(c, person=c.person + 1)
        self.counts = c
