"""The durable queue between detection and sending: one SQLite file in WAL mode.

A heartbeat is committed here, as the exact JSON text that will be sent (so a resend is
byte-identical and the server deduplicates it), before anything else happens to it; it leaves the
queue only when the server accepted that very item (`delete`) or refused it (`reject`, kept apart
with the reason).

Durability. WAL with `synchronous=NORMAL` already survives kill -9 at any instant: a commit has
written its frames to the WAL with write(2) before it returns, and the kernel keeps them whatever
happens to the process. It does not survive power loss (a laptop battery running flat) for the
last seconds of commits, which sit in the page cache until the next checkpoint. So `add` commits
with `synchronous=FULL` (one fsync of the WAL, also covering every earlier frame): heartbeats are
added a few at a time, so that costs nothing noticeable. Everything else (leases, deletes, retries)
commits with NORMAL: losing one of those to a power cut only means a resend the server
deduplicates, and the drain stays fast.

Concurrency. A running daemon and `hackatimed sync` may drain at once: a claim leases rows to its
claimer inside `BEGIN IMMEDIATE`, so no row is leased to two live claimers, and a claimer that dies
leaves a lease that simply expires. Leases use wall time, because they are compared across
processes; the default 60 s tolerates small skew. While a row is leased its `next_attempt` is its
lease expiry, so the one index on `next_attempt` answers "due and not leased", oldest due first.

Threads. One connection (`check_same_thread=False`) behind a lock: the daemon calls in through
`asyncio.to_thread`, whose pool threads come and go without telling anyone, so per-thread
connections would leak; SQLite serialises writers anyway, and the lock also guards the
in-memory overflow list.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from hackatimed.clock import Clock
from hackatimed.errors import HackatimedError

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.db"

_T = TypeVar("_T")
_SCHEMA_VERSION = 1
_IN_CHUNK = 500  # ids per `IN (...)`, far below SQLite's host-parameter limit
_TEXT_LIMIT = 500  # characters kept of an error or a rejection reason
_BUSY_TIMEOUT_SECONDS = 10.0
_VACUUM_FREE_PAGES = 2048  # give freed space back to the disk once this much (8 MB) is free
_LOUD_EVERY_SECONDS = 60.0
_CLOCK_STEP_SECONDS = 5.0  # a backward step of the wall clock smaller than this is ignored

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a late delete never hits a newer row
    time REAL NOT NULL,
    body TEXT NOT NULL,
    added_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires REAL
);
CREATE INDEX IF NOT EXISTS queue_due ON queue (next_attempt);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id INTEGER NOT NULL,
    time REAL NOT NULL,
    body TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    rejected_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES ('queued', 0), ('dropped', 0), ('last_error', NULL);
PRAGMA user_version = 1;
COMMIT;
"""


@dataclass(frozen=True, slots=True)
class QueuedHeartbeat:
    id: int
    body: str  # the exact JSON text to send
    attempts: int  # failed sends so far


@dataclass(frozen=True, slots=True)
class RejectedHeartbeat:
    id: int
    time: float
    body: str
    status: int
    reason: str
    rejected_at: float


@dataclass(frozen=True, slots=True)
class OutboxStats:
    queued: int  # on disk plus held in memory
    oldest_time: float | None  # heartbeat time of the first queued
    rejected: int  # rows in the rejected table
    last_rejection: str | None
    dropped_total: int = 0  # dropped by max_queued or the memory bound, ever
    in_memory: int = 0  # held in memory because the disk refused them
    next_due: float | None = None  # wall time the next row becomes claimable
    last_error: str | None = None  # of the last release


class _Corrupt(Exception):
    """The file opened but failed SQLite's quick check."""


def _connect(path: Path) -> sqlite3.Connection:
    """The one place a connection is made (tests wrap it to shrink `max_page_count`)."""
    return sqlite3.connect(
        path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )


def _primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _is_corrupt(exc: BaseException) -> bool:
    if isinstance(exc, _Corrupt):
        return True
    return _primary_code(exc) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _is_transient(exc: BaseException) -> bool:
    """Disk full, lock wait exhausted, or an I/O error: worth retrying later."""
    transient = (
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
    )
    return _primary_code(exc) in transient


def _chunks(ids: Sequence[int]) -> Iterator[tuple[int, ...]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield tuple(ids[start : start + _IN_CHUNK])


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _file_ident(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


class Outbox:
    """The queue in the SQLite file `path` (conventionally `data_dir / OUTBOX_FILE`)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock,
        max_queued: int = 1_000_000,
        lease_seconds: float = 60.0,
        max_in_memory: int = 10_000,
        max_rejected: int = 10_000,
    ) -> None:
        self._path = path
        self._clock = clock
        self._max_queued = max(1, max_queued)
        self._lease = lease_seconds
        self._max_in_memory = max(1, max_in_memory)
        self._max_rejected = max(1, max_rejected)
        # host:pid:nonce, so a later process on this host can tell a dead claimer's leases.
        self._owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._held: deque[tuple[float, str]] = deque()
        self._held_dropped = 0
        self._last_loud: float | None = None
        self._conn: sqlite3.Connection | None = None
        self._ident: tuple[int, int] | None = None
        self._closed = False
        self._open()
        with self._lock:
            self._guarded(self._reclaim_dead_leases, "take over the leases of dead claimers")

    # ---- public interface -------------------------------------------------------------

    def add(self, items: Sequence[tuple[float, str]]) -> int:
        """Queue (heartbeat time, exact JSON) pairs, committed durably on return.

        Returns how many heartbeats this call dropped to stay within `max_queued` (or, while the
        disk refuses writes, within the in-memory bound). Never raises for a full disk: the
        items are held in memory and written on the next `add` or `claim`.
        """
        batch = [(float(t), body) for t, body in items]
        if any(not isinstance(body, str) for _, body in batch):
            raise TypeError("outbox bodies must be the JSON text (str) to send")
        with self._lock:
            pending = [*self._held, *batch]
            if not pending:
                return 0
            try:
                dropped = self._recovering(lambda: self._insert(pending))
            except sqlite3.Error as exc:
                if not _is_transient(exc):
                    raise self._fatal(exc) from exc
                return self._hold(batch, exc)
            self._released_held()
            return dropped

    def claim(self, limit: int) -> list[QueuedHeartbeat]:
        """Lease up to `limit` due rows to this claimer, oldest due first."""
        if limit <= 0:
            return []
        with self._lock:
            self._flush_held()
            try:
                return self._recovering(lambda: self._claim(limit))
            except sqlite3.Error as exc:
                if _primary_code(exc) == sqlite3.SQLITE_FULL:
                    # Cannot write a lease, but sending is what frees the disk: hand out due
                    # rows unleased. At worst a concurrent claimer resends them, and the
                    # server deduplicates byte-identical heartbeats.
                    log.warning("outbox disk full: handing out %d rows without a lease", limit)
                    return self._recovering(lambda: self._peek(limit))
                self._transient_or_raise(exc, "claim heartbeats")
                return []

    def delete(self, ids: Iterable[int]) -> None:
        """Forget rows the server accepted."""
        id_list = list(ids)
        if id_list:
            with self._lock:
                self._guarded(lambda: self._delete(id_list), "delete sent heartbeats")

    def reject(self, rejections: Iterable[tuple[int, int, str]]) -> None:
        """Move rows the server refused, as (id, HTTP status, reason), to the rejected table."""
        rows = [
            (int(i), int(status), str(reason)[:_TEXT_LIMIT]) for i, status, reason in rejections
        ]
        if rows:
            with self._lock:
                self._guarded(lambda: self._reject(rows), "set aside rejected heartbeats")

    def release(self, ids: Iterable[int], *, error: str, retry_at: float | None) -> None:
        """Put leased rows back: one more attempt counted, due again at `retry_at` (None: now)."""
        id_list = list(ids)
        if id_list:
            with self._lock:
                self._guarded(
                    lambda: self._release(id_list, error[:_TEXT_LIMIT], retry_at),
                    "return heartbeats to the queue",
                )

    def stats(self) -> OutboxStats:
        with self._lock:
            return self._recovering(self._stats)

    def rejected(self, limit: int = 20) -> list[RejectedHeartbeat]:
        """The most recently rejected heartbeats, newest first."""
        with self._lock:
            return self._recovering(lambda: _read_rejected(self._connection(), limit))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._flush_held()
            if self._held:
                log.error(
                    "closing the outbox with %d heartbeats that could not be written to %s:"
                    " they are lost. Free some disk space.",
                    len(self._held),
                    self._path,
                )
            self._closed = True
            self._disconnect()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- opening, recovering ----------------------------------------------------------

    def _open(self) -> None:
        for attempt in (1, 2):
            try:
                self._conn = self._connect_checked()
                return
            except (sqlite3.Error, _Corrupt) as exc:
                self._disconnect()
                if not _is_corrupt(exc) or attempt == 2:
                    raise self._fatal(exc) from exc
                self._move_aside(exc)
            except OSError as exc:
                raise self._fatal(exc) from exc

    def _connect_checked(self) -> sqlite3.Connection:
        parent = self._path.parent
        if not parent.is_dir():
            # Heartbeats name files and projects: only their owner may read the queue.
            parent.mkdir(parents=True, mode=0o700)
            parent.chmod(0o700)
        os.close(os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600))
        self._path.chmod(0o600)  # SQLite gives -wal and -shm the same mode
        self._ident = _file_ident(self._path)
        conn = _connect(self._path)
        self._conn = conn
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only possible before any table
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            log.warning("outbox %s: SQLite refused WAL mode (got %r)", self._path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA fullfsync = ON")  # macOS: fsync alone does not reach the platter
        conn.execute("PRAGMA journal_size_limit = 4194304")
        problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            raise _Corrupt(problem)
        if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            conn.executescript(_SCHEMA)
        # A cheap self-check at start: the running count must match the table.
        with self._write() as c:
            c.execute("UPDATE meta SET value = (SELECT count(*) FROM queue) WHERE name = 'queued'")
        return conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _move_aside(self, reason: BaseException) -> None:
        stamp = datetime.fromtimestamp(self._clock.wall(), UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self._path.with_name(f"{self._path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self._path.with_name(f"{self._path.name}.corrupt-{stamp}-{n}")
        for suffix in ("", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                Path(f"{self._path}{suffix}").rename(f"{target}{suffix}")
        log.error(
            "The outbox database %s is damaged (%s). It was moved aside to %s and an empty"
            " queue started; heartbeats still in the damaged file will not be sent.",
            self._path,
            reason,
            target,
        )

    def _recovering(self, op: Callable[[], _T]) -> _T:
        """Run `op`; if the file proves damaged, move it aside, start afresh and run it again."""
        try:
            return op()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            # Another process may already have replaced the file: only move what we opened.
            if _file_ident(self._path) == self._ident:
                self._disconnect()
                self._move_aside(exc)
            else:
                self._disconnect()
            self._open()
            return op()

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the outbox is closed")
        if self._conn is None or _file_ident(self._path) != self._ident:
            if self._conn is not None:
                log.warning("outbox %s was replaced or removed: reopening it", self._path)
                self._disconnect()
            self._open()
        if self._conn is None:
            raise RuntimeError("the outbox could not be opened")
        return self._conn

    def _fatal(self, exc: BaseException) -> HackatimedError:
        return HackatimedError(
            f"cannot use the heartbeat queue {self._path}: {exc}. Check that its folder exists,"
            " is writable by you and its disk is healthy (storage.data_dir in the config)."
        )

    def _guarded(self, op: Callable[[], None], what: str) -> None:
        try:
            self._recovering(op)
        except sqlite3.Error as exc:
            self._transient_or_raise(exc, what)

    def _transient_or_raise(self, exc: sqlite3.Error, what: str) -> None:
        if not _is_transient(exc):
            raise self._fatal(exc) from exc
        # Rows stay as they were: a lease runs out and the row is sent again, deduplicated.
        log.warning("outbox %s: could not %s (%s); will retry", self._path, what, exc)

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        if durable:
            conn.execute("PRAGMA synchronous = FULL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.rollback()
            raise
        finally:
            if durable:
                with suppress(sqlite3.Error):
                    conn.execute("PRAGMA synchronous = NORMAL")

    # ---- the in-memory overflow ---------------------------------------------------------

    def _hold(self, batch: list[tuple[float, str]], exc: sqlite3.Error) -> int:
        self._held.extend(batch)
        overflow = max(0, len(self._held) - self._max_in_memory)
        for _ in range(overflow):
            self._held.popleft()
        self._held_dropped += overflow
        now = self._clock.monotonic()
        if overflow or self._last_loud is None or now - self._last_loud >= _LOUD_EVERY_SECONDS:
            self._last_loud = now
            log.error(
                "cannot write heartbeats to %s (%s): holding %d in memory (at most %d, %d dropped"
                " so far) and retrying on every write. Free some disk space.",
                self._path,
                exc,
                len(self._held),
                self._max_in_memory,
                self._held_dropped,
            )
        return overflow

    def _released_held(self) -> None:
        if self._last_loud is not None:
            log.warning("outbox %s writable again: held heartbeats written", self._path)
            self._last_loud = None
        self._held.clear()

    def _flush_held(self) -> None:
        if not self._held:
            return
        pending = list(self._held)
        try:
            self._recovering(lambda: self._insert(pending))
        except sqlite3.Error as exc:
            if not _is_transient(exc):
                raise self._fatal(exc) from exc
            self._hold([], exc)
            return
        self._released_held()

    # ---- the statements -----------------------------------------------------------------

    def _bump(self, conn: sqlite3.Connection, name: str, delta: int) -> int:
        conn.execute("UPDATE meta SET value = value + ? WHERE name = ?", (delta, name))
        value: int = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0]
        return value

    def _insert(self, pending: list[tuple[float, str]]) -> int:
        now = self._clock.wall()
        with self._write(durable=True) as conn:
            conn.executemany(
                "INSERT INTO queue (time, body, added_at, next_attempt) VALUES (?, ?, ?, ?)",
                [(t, body, now, now) for t, body in pending],
            )
            excess = self._bump(conn, "queued", len(pending)) - self._max_queued
            dropped = 0
            if excess > 0:
                dropped = conn.execute(
                    "DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?)",
                    (excess,),
                ).rowcount
                self._bump(conn, "queued", -dropped)
                self._bump(conn, "dropped", dropped)
        if dropped:
            log.warning(
                "outbox full (storage.max_queued = %d): dropped the %d oldest queued heartbeats."
                " Check why sending fails (hackatimed status) or raise storage.max_queued.",
                self._max_queued,
                dropped,
            )
        return dropped

    def _claim(self, limit: int) -> list[QueuedHeartbeat]:
        now = self._clock.wall()
        expires = now + self._lease
        with self._write() as conn:
            self._follow_clock_back(conn, now)
            rows = conn.execute(
                "SELECT id, body, attempts FROM queue WHERE next_attempt <= ?"
                " ORDER BY next_attempt, id LIMIT ?",
                (now, limit),
            ).fetchall()
            for chunk in _chunks([row[0] for row in rows]):
                conn.execute(
                    "UPDATE queue SET lease_owner = ?, lease_expires = ?, next_attempt = ?"
                    f" WHERE id IN ({_marks(len(chunk))})",
                    (self._owner, expires, expires, *chunk),
                )
        return [QueuedHeartbeat(*row) for row in rows]

    def _reclaim_dead_leases(self) -> None:
        """Free the leases of claimers on this host that no longer run (a daemon killed with
        -9, a crashed `sync`): their rows are due at once instead of after the lease runs out.

        A reused pid only keeps a lease until it expires, as before. Done once, at open: a
        process that starts is exactly when a dead predecessor's rows need picking up.
        """
        with self._write() as conn:
            owners = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT lease_owner FROM queue WHERE lease_owner IS NOT NULL"
                )
            ]
            dead = [o for o in owners if _dead_owner(o)]
            for owner in dead:
                conn.execute(
                    "UPDATE queue SET lease_owner = NULL, lease_expires = NULL,"
                    " next_attempt = ? WHERE lease_owner = ?",
                    (self._clock.wall(), owner),
                )
        if dead:
            log.info("took over the queued heartbeats of %d stopped process(es)", len(dead))

    def _follow_clock_back(self, conn: sqlite3.Connection, now: float) -> None:
        """After the wall clock steps back, move every future time back with it.

        Otherwise rows stamped by the clock before the step (a laptop clock corrected by NTP)
        would wait out the whole step before they are due again.
        """
        seen = conn.execute("SELECT value FROM meta WHERE name = 'wall_seen'").fetchone()
        if seen is not None and seen[0] is not None and now < seen[0] - _CLOCK_STEP_SECONDS:
            step = seen[0] - now
            moved = conn.execute(
                "UPDATE queue SET next_attempt = next_attempt - ?,"
                " lease_expires = lease_expires - ? WHERE next_attempt > ?",
                (step, step, now),
            ).rowcount
            log.warning(
                "the wall clock went back %.0f s: moved %d queued retry times back with it",
                step,
                moved,
            )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('wall_seen', ?)", (now,))

    def _peek(self, limit: int) -> list[QueuedHeartbeat]:
        rows = (
            self._connection()
            .execute(
                "SELECT id, body, attempts FROM queue WHERE next_attempt <= ?"
                " ORDER BY next_attempt, id LIMIT ?",
                (self._clock.wall(), limit),
            )
            .fetchall()
        )
        return [QueuedHeartbeat(*row) for row in rows]

    def _remove(self, conn: sqlite3.Connection, ids: Sequence[int]) -> None:
        removed = 0
        for chunk in _chunks(ids):
            removed += conn.execute(
                f"DELETE FROM queue WHERE id IN ({_marks(len(chunk))})", chunk
            ).rowcount
        self._bump(conn, "queued", -removed)

    def _delete(self, ids: Sequence[int]) -> None:
        with self._write() as conn:
            self._remove(conn, ids)
        conn = self._connection()
        if conn.execute("PRAGMA freelist_count").fetchone()[0] >= _VACUUM_FREE_PAGES:
            # Optional housekeeping: the rows are gone whether or not this gets its turn.
            # executescript steps it to the end; execute() would free a single page.
            with suppress(sqlite3.OperationalError):
                conn.executescript("PRAGMA incremental_vacuum")

    def _reject(self, rows: Sequence[tuple[int, int, str]]) -> None:
        now = self._clock.wall()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO rejected (id, time, body, status, reason, attempts, rejected_at)"
                " SELECT id, time, body, ?, ?, attempts + 1, ? FROM queue WHERE id = ?",
                [(status, reason, now, i) for i, status, reason in rows],
            )
            self._remove(conn, [i for i, _, _ in rows])
            conn.execute(
                "DELETE FROM rejected WHERE seq <= (SELECT max(seq) FROM rejected) - ?",
                (self._max_rejected,),
            )

    def _release(self, ids: Sequence[int], error: str, retry_at: float | None) -> None:
        due = self._clock.wall() if retry_at is None else retry_at
        with self._write() as conn:
            for chunk in _chunks(ids):
                # Only our own leases (or none): a row that another claimer took over after our
                # lease ran out stays theirs.
                conn.execute(
                    "UPDATE queue SET attempts = attempts + 1, last_error = ?, next_attempt = ?,"
                    " lease_owner = NULL, lease_expires = NULL"
                    f" WHERE id IN ({_marks(len(chunk))})"
                    " AND (lease_owner IS NULL OR lease_owner = ?)",
                    (error, due, *chunk, self._owner),
                )
            conn.execute("UPDATE meta SET value = ? WHERE name = 'last_error'", (error,))

    def _stats(self) -> OutboxStats:
        return _read_stats(
            self._connection(),
            held_times=[t for t, _ in self._held],
            held_dropped=self._held_dropped,
        )


def peek(path: Path) -> OutboxStats | None:
    """The figures of the queue in `path`, as another process (`status`) reads them: nothing is
    created or written, so it is safe beside a running daemon. None when there is no queue file.

    Raises sqlite3.Error or OSError when the file cannot be read.
    """
    conn = _open_read_only(path)
    if conn is None:
        return None
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            # Created a moment ago by an Outbox that has not made its tables yet.
            return OutboxStats(queued=0, oldest_time=None, rejected=0, last_rejection=None)
        return _read_stats(conn)
    finally:
        conn.close()


def peek_rejected(path: Path, limit: int = 20) -> list[RejectedHeartbeat]:
    """The most recently rejected heartbeats in `path`, newest first, read as `peek` reads."""
    conn = _open_read_only(path)
    if conn is None:
        return []
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            return []
        return _read_rejected(conn, limit)
    finally:
        conn.close()


def _open_read_only(path: Path) -> sqlite3.Connection | None:
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return None
    # A read-only connection to a WAL database whose -wal file is gone (no connection has it
    # open) would create the -wal and -shm files and leave them behind. The file alone then
    # holds every commit, and `immutable` reads it without them. A writer that opens it
    # meanwhile writes to a new -wal: the file itself changes only at a checkpoint, a thousand
    # pages later. With a -wal (or an old rollback journal) locking works as usual.
    wal_format = len(header) > 18 and header[18] == 2
    immutable = wal_format and not Path(f"{path}-wal").exists()
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)


def _read_stats(
    conn: sqlite3.Connection, *, held_times: Sequence[float] = (), held_dropped: int = 0
) -> OutboxStats:
    conn.execute("BEGIN")  # one snapshot for every figure
    try:
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        oldest = conn.execute("SELECT time FROM queue ORDER BY id LIMIT 1").fetchone()
        next_due = conn.execute("SELECT min(next_attempt) FROM queue").fetchone()[0]
        rejected = conn.execute("SELECT count(*) FROM rejected").fetchone()[0]
        last = conn.execute(
            "SELECT status, reason FROM rejected ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        with suppress(sqlite3.Error):
            conn.rollback()
    times = [*held_times, *([oldest[0]] if oldest else [])]
    return OutboxStats(
        queued=int(meta["queued"]) + len(held_times),
        oldest_time=min(times) if times else None,
        rejected=rejected,
        last_rejection=f"HTTP {last[0]}: {last[1]}" if last else None,
        dropped_total=int(meta["dropped"]) + held_dropped,
        in_memory=len(held_times),
        next_due=next_due,
        last_error=meta["last_error"],
    )


def _read_rejected(conn: sqlite3.Connection, limit: int) -> list[RejectedHeartbeat]:
    rows = conn.execute(
        "SELECT id, time, body, status, reason, rejected_at FROM rejected"
        " ORDER BY seq DESC LIMIT ?",
        (max(0, limit),),
    ).fetchall()
    return [RejectedHeartbeat(*row) for row in rows]


_HOST = socket.gethostname()


def _dead_owner(owner: str) -> bool:
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
        return False  # another host's claimer, or an older format: let the lease expire
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False
