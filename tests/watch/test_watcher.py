"""The watcher on real folders with a real watchdog observer: which folders get a watch (counted by
the kernel itself, in /proc/self/fdinfo), the watch limit, queue overflow without the endless loop
of watchdog 7.1, and roots that vanish and come back. The kernel seam is the inotify object each
root's emitter makes (`inotify_factory`)."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from hackatimed.clock import SystemClock
from hackatimed.watch.changes import ChangeKind, FileChange
from hackatimed.watch.ignore import IgnoreRules, is_rule_file
from hackatimed.watch.watcher import Watcher
from tests.gitrepo import git, make_repo

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

if sys.platform.startswith("linux"):
    from inotify_simple import INotify

    from hackatimed.watch import inotify_emitter


class Collector:
    """The watcher's sink: remembers every change and lets a test await the one it expects."""

    def __init__(self, rules: IgnoreRules | None = None) -> None:
        self.changes: list[FileChange] = []
        self._rules = rules
        self._arrived = asyncio.Event()
        self._settled = 0

    def __call__(self, change: FileChange) -> None:
        # What the daemon does first: a changed rule file invalidates the cached rules.
        if self._rules is not None and is_rule_file(change.path):
            self._rules.invalidate(change.path)
        self.changes.append(change)
        self._arrived.set()

    async def wait_for(
        self, accept: Callable[[FileChange], bool], within: float = 10.0
    ) -> FileChange:
        seen = 0
        async with asyncio.timeout(within):
            while True:
                for c in self.changes[seen:]:
                    if accept(c):
                        return c
                seen = len(self.changes)
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_for_path(self, path: Path, within: float = 10.0) -> FileChange:
        return await self.wait_for(lambda c: c.path == path, within)

    async def settle(self, folder: Path) -> None:
        """Every event before this call has arrived: the kernel queue is ordered, so once a
        file written now is reported closed, so is everything before it. The file is new each
        time (`.settled-N.tmp`, ignored by the rules) so an old one cannot answer."""
        self._settled += 1
        sentinel = folder / f".settled-{self._settled}.tmp"
        await asyncio.to_thread(sentinel.write_text, "done")
        await self.wait_for(lambda c: c.path == sentinel and c.kind is ChangeKind.CLOSED)

    def paths(self) -> set[Path]:
        return {c.path for c in self.changes}


def inotify_watches(fd: int | None = None) -> int:
    """Watches the kernel holds for this process (or for one inotify descriptor)."""
    total = 0
    for name in os.listdir("/proc/self/fd"):
        if fd is not None and int(name) != fd:
            continue
        try:
            if os.readlink(f"/proc/self/fd/{name}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{name}") as info:
                total += sum(1 for line in info if line.startswith("inotify wd:"))
        except OSError:
            continue
    return total


def watched_paths(watcher: Watcher) -> set[Path]:
    groups = watcher._policy.groups()
    return {Path(p) for g in groups if g.is_recursive for p in g.watched_folders()}


class Running:
    def __init__(self, watcher: Watcher, sink: Collector) -> None:
        self.watcher = watcher
        self.sink = sink


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Running]]:
    watchers: list[Watcher] = []
    pending: list[Running] = []

    def make(
        roots: list[Path],
        *,
        rules: bool = True,
        observer_factory: Callable[..., BaseObserver] | None = None,
        root_poll_seconds: float = 3600.0,
    ) -> Running:
        ignore = IgnoreRules(roots=roots) if rules else None
        sink = Collector(ignore)
        kwargs = {} if observer_factory is None else {"observer_factory": observer_factory}
        w = Watcher(
            roots=roots,
            sink=sink,
            loop=asyncio.get_running_loop(),
            clock=SystemClock(),
            ignores_dir=ignore.ignores_dir if ignore else None,
            root_poll_seconds=root_poll_seconds,
            **kwargs,  # type: ignore[arg-type]
        )
        watchers.append(w)
        running = Running(w, sink)
        pending.append(running)
        return running

    yield make
    for w in watchers:
        await asyncio.to_thread(w.stop)


async def started(running: Running) -> Running:
    await asyncio.to_thread(running.watcher.start)
    return running


# -- which folders are watched ------------------------------------------------------------------


@linux_only
def test_linux_gets_the_pruning_observer() -> None:
    watcher = Watcher(
        roots=[], sink=lambda c: None, loop=asyncio.new_event_loop(), clock=SystemClock()
    )
    try:
        assert isinstance(watcher._observer, inotify_emitter.PrunedInotifyObserver)
    finally:
        watcher._observer.stop()
        watcher._loop.close()


def project_tree(root: Path) -> Path:
    repo = make_repo(root / "app", files={"src/main.py": "print()\n", ".gitignore": "gen/\n"})
    for d in (
        "src/pkg/sub",
        "gen/a/b",
        "node_modules/left-pad/lib",
        "node_modules/.bin",
        "build/out",
        "__pycache__",
        "myenv/lib/python3.11",
        "docs",
    ):
        (repo / d).mkdir(parents=True, exist_ok=True)
    (repo / "myenv/pyvenv.cfg").write_text("home = /usr/bin\n")
    git(repo, "worktree", "add", "-q", str(root / "wt"), "-b", "other")
    (repo / ".git/modules/libs/dep/objects/ab").mkdir(parents=True)
    (repo / ".git/modules/libs/dep/HEAD").write_text("ref: refs/heads/main\n")
    return repo


@linux_only
async def test_ignored_folders_get_no_watch_and_git_only_where_heads_live(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    repo = project_tree(tmp_path)
    running = await started(start([tmp_path]))
    watched = {p.relative_to(tmp_path).as_posix() for p in watched_paths(running.watcher)}
    assert watched == {
        ".",
        "app",
        "app/src",
        "app/src/pkg",
        "app/src/pkg/sub",
        "app/docs",
        "app/.git",
        "app/.git/info",
        "app/.git/worktrees",
        "app/.git/worktrees/wt",
        "app/.git/modules",
        "app/.git/modules/libs",
        "app/.git/modules/libs/dep",
        "wt",
        "wt/src",
    }
    assert running.watcher.watched_folders == len(watched)
    assert kernel_watches(running.watcher) == len(watched)
    # What is left out is there: the exact set above leaves it out on purpose. (A count of all
    # folders was compared before, and .git/objects' count varies with the commit's hash.)
    for unwatched in (
        ".git/objects",
        ".git/refs",
        "gen/a",
        "node_modules/left-pad/lib",
        "build/out",
        "__pycache__",
        "myenv/lib",
    ):
        assert (repo / unwatched).is_dir()


@linux_only
async def test_edits_arrive_and_a_branch_switch_is_seen(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    repo = make_repo(tmp_path / "app", files={"src/main.py": "x = 1\n"})
    running = await started(start([tmp_path]))
    (repo / "src/main.py").write_text("x = 2\n")
    await running.sink.wait_for_path(repo / "src/main.py")
    git(repo, "checkout", "-q", "-b", "feature")
    await running.sink.wait_for_path(repo / ".git/HEAD")


@linux_only
async def test_new_folders_are_watched_unless_ignored(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    running = await started(start([tmp_path]))
    deep = tmp_path / "p/a/b/c"
    deep.mkdir(parents=True)
    (deep / "new.py").write_text("x\n")
    await running.sink.wait_for_path(deep / "new.py")
    (tmp_path / "p/node_modules/m/lib").mkdir(parents=True)
    (tmp_path / "p/node_modules/m/lib/i.js").write_text("x\n")
    await running.sink.settle(tmp_path / "p/a")
    watched = watched_paths(running.watcher)
    assert deep in watched
    assert not any("node_modules" in p.parts for p in watched)


@linux_only
async def test_a_gitignore_change_moves_the_watches(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    repo = make_repo(tmp_path / "app", files={"src/x.py": "x\n"})
    (repo / "gen/deep").mkdir(parents=True)
    running = await started(start([tmp_path]))
    assert repo / "gen/deep" in watched_paths(running.watcher)

    (repo / ".gitignore").write_text("gen/\n")
    await running.sink.wait_for_path(repo / ".gitignore")
    await wait_until(lambda: repo / "gen" not in watched_paths(running.watcher))
    assert repo / "gen/deep" not in watched_paths(running.watcher)

    (repo / ".gitignore").write_text("")
    await wait_until(lambda: repo / "gen/deep" in watched_paths(running.watcher))
    (repo / "gen/deep/g.py").write_text("x\n")
    await running.sink.wait_for_path(repo / "gen/deep/g.py")


@linux_only
async def test_a_folder_renamed_is_not_an_edit_of_every_file_in_it(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    pkg = tmp_path / "p/pkg"
    pkg.mkdir(parents=True)
    for i in range(30):
        (pkg / f"m{i}.py").write_text("x\n")
    running = await started(start([tmp_path]))
    pkg.rename(tmp_path / "p/pkg2")
    (tmp_path / "p/pkg2/m3.py").write_text("y\n")
    await running.sink.wait_for_path(tmp_path / "p/pkg2/m3.py")
    await running.sink.settle(tmp_path / "p")
    assert {p.name for p in running.sink.paths()} == {"m3.py", ".settled-1.tmp"}


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (state set by other threads: nothing to await)
            await asyncio.sleep(0.02)


def count_folders(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_dir())


def kernel_watches(watcher: Watcher) -> int:
    """What the kernel holds for the roots' inotify descriptors."""
    assert isinstance(watcher._observer, inotify_emitter.PrunedInotifyObserver)
    return sum(inotify_watches(g.fileno()) for g in watcher._policy.groups() if g.is_recursive)


# -- the kernel's limits -------------------------------------------------------------------------


if sys.platform.startswith("linux"):

    class LimitedInotify(INotify):  # type: ignore[misc]
        """The kernel seam: answers ENOSPC once `limit` watches exist, as a laptop with a low
        fs.inotify.max_user_watches would."""

        def __init__(self, limit: int) -> None:
            super().__init__()
            self.limit = limit
            self.refused = 0

        def add_watch(self, path: str, mask: int) -> int:
            if inotify_watches(self.fileno()) >= self.limit:
                self.refused += 1
                raise OSError(errno.ENOSPC, "inotify watch limit reached")
            return int(super().add_watch(path, mask))

    class HeldInotify(INotify):  # type: ignore[misc]
        """The kernel seam: `held` keeps the reader from reading, so the kernel queue fills."""

        def __init__(self) -> None:
            super().__init__()
            self.held = threading.Lock()

        def read(self, timeout: int | None = None) -> list[object]:
            with self.held:
                return list(super().read(timeout=timeout))


def voluntary_switches(thread: threading.Thread) -> int:
    with open(f"/proc/self/task/{thread.native_id}/status") as status:
        line = next(x for x in status if x.startswith("voluntary_ctxt_switches:"))
    return int(line.split()[1])


@linux_only
async def test_a_watcher_at_rest_does_not_wake(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """The reader blocks until the kernel has an event (or stop): no poll every second per root,
    which a battery pays for. Counted by the kernel, as context switches of the reader thread."""
    running = await started(start([tmp_path]))
    (tmp_path / "a.py").write_text("x\n")
    await running.sink.wait_for_path(tmp_path / "a.py")
    reader = next(t for t in threading.enumerate() if isinstance(t, inotify_emitter.PrunedEmitter))
    before = voluntary_switches(reader)
    await asyncio.sleep(3.0)  # the point is time passing with nothing to do
    assert voluntary_switches(reader) - before <= 1


def observer_on(fd: INotify) -> Callable[..., BaseObserver]:
    """The pruning observer, the root's emitter on `fd` (tests here have one root, watched
    first); the watch on the folder above the root gets an inotify of its own."""
    given: list[INotify] = []

    def factory() -> INotify:
        if given:
            return INotify()
        given.append(fd)
        return fd

    return lambda policy: inotify_emitter.PrunedInotifyObserver(policy, inotify_factory=factory)


@linux_only
async def test_the_watch_limit_is_said_once_and_watching_goes_on(
    tmp_path: Path, start: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(40):
        (tmp_path / f"p{i:02d}/src").mkdir(parents=True)
    fd = LimitedInotify(limit=25)
    running = await started(start([tmp_path], observer_factory=observer_on(fd)))
    watched = sorted(watched_paths(running.watcher))
    assert running.watcher.watched_folders == 25 == len(watched)
    assert fd.refused == 1  # the walk stops at the first refusal instead of trying every folder
    # New folders are refused too, but said only once.
    (tmp_path / "p00/more").mkdir()
    leaf = next(p for p in watched if p != tmp_path)
    (leaf / "x.py").write_text("x\n")
    await running.sink.wait_for_path(leaf / "x.py")
    await wait_until(lambda: bool(running.watcher.errors))
    assert len(running.watcher.errors) == 1
    message = running.watcher.errors[0]
    assert "fs.inotify.max_user_watches" in message and "25 folders are watched" in message
    assert sum("max_user_watches" in r.getMessage() for r in caplog.records) == 1


# -- overflow of the kernel's event queue ---------------------------------------------------------


def big_tree(root: Path, *, projects: int = 3, folders: int = 2200) -> int:
    """Projects with node_modules, as FIELD_NOTES.md describes: `folders` folders in each."""
    made = 0
    for p in range(projects):
        proj = root / f"proj{p}"
        for i in range(folders // 3):
            (proj / f"src/mod{i // 20}/pkg{i}").mkdir(parents=True, exist_ok=True)
            made += 1
        for i in range(folders - folders // 3):
            (proj / f"node_modules/dep{i // 10}/lib{i}").mkdir(parents=True, exist_ok=True)
            made += 1
    return made


@pytest.fixture(scope="module")
def large_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # On tmpfs when there is one: making 6,600 folders and 12,000 files on a slow disk would
    # take most of a minute, and the kernel's inotify behaves the same on either.
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        root = Path(tempfile.mkdtemp(prefix="hackatimed-large-", dir=shm))
    else:
        root = tmp_path_factory.mktemp("large")
    assert big_tree(root) >= 6000
    yield root
    shutil.rmtree(root, ignore_errors=True)


def read_int(path: str) -> int:
    with open(path) as f:
        return int(f.read())


def cpu_seconds_over(seconds: float, sample: Callable[[], int | None]) -> tuple[float, set[int]]:
    """This process's CPU time over `seconds` of wall time, less what the sampling itself took
    (reading fdinfo of thousands of watches is not cheap), and what `sample` read meanwhile."""
    seen: set[int] = set()
    sampling = 0.0
    cpu = time.process_time()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.thread_time()
        value = sample()
        sampling += time.thread_time() - started
        if value is not None:
            seen.add(value)
        time.sleep(0.1)
    return time.process_time() - cpu - sampling, seen


@linux_only
async def test_plain_watchdog_on_a_large_tree_does_not_loop(
    large_tree: Path, start: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    """The fallback (every folder watched, as on other platforms): FIELD_NOTES.md's tree of
    6,600 folders with node_modules must not send watchdog 7.1 into its overflow loop."""
    before = inotify_watches()
    running = await started(start([large_tree], observer_factory=lambda policy: Observer()))
    assert running.watcher.watched_folders is None
    placed = inotify_watches() - before
    assert placed > 6000
    cpu, counts = await asyncio.to_thread(cpu_seconds_over, 2.0, lambda: inotify_watches() - before)
    assert counts == {placed}
    assert cpu < 0.2
    assert not [r for r in caplog.records if "overflow" in r.getMessage()]


@linux_only
async def test_an_overflow_rescans_what_changed_and_does_not_loop(
    large_tree: Path, start: Callable[..., Running], caplog: pytest.LogCaptureFixture
) -> None:
    fd = HeldInotify()
    running = await started(start([large_tree], observer_factory=observer_on(fd)))
    watcher = running.watcher
    watched = watcher.watched_folders
    assert watched is not None and 2000 < watched < 3000  # node_modules is not watched

    # Hold the reader while more events than the kernel queue holds are produced: an overflow,
    # for certain.
    queue_size = read_int("/proc/sys/fs/inotify/max_queued_events")
    src = sorted(p for p in (large_tree / "proj1/src").iterdir())
    written: list[Path] = []
    with fd.held:
        for i in range(queue_size // 2 + 4000):
            f = src[i % len(src)] / f"gen{i}.py"
            f.write_text("x\n")
            written.append(f)
    await wait_until(lambda: watcher.overflows >= 1)
    await running.sink.settle(large_tree / "proj0")
    await wait_until(lambda: set(written) <= running.sink.paths(), within=20)

    overflows = watcher.overflows
    cpu, counts = await asyncio.to_thread(
        cpu_seconds_over, 2.0, lambda: inotify_watches(fd.fileno())
    )
    assert counts == {watched}
    assert watcher.watched_folders == watched
    assert watcher.overflows == overflows
    assert cpu < 0.2


def source_folders(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_dir() and "node_modules" not in p.parts)


@linux_only
async def test_a_large_tree_is_watched_only_where_sources_are(
    large_tree: Path, start: Callable[..., Running]
) -> None:
    """Issue 11's bound: the source folders plus at most 60, whatever node_modules holds."""
    sources = source_folders(large_tree)
    assert sources >= 1500 and count_folders(large_tree) - sources >= 4000
    running = await started(start([large_tree]))
    watched = running.watcher.watched_folders
    assert watched is not None and watched <= sources + 60
    assert kernel_watches(running.watcher) == watched


@linux_only
async def test_the_rescan_after_an_overflow_invents_nothing(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """Files changed before the watcher started, or whose change an event already told, are not
    reported again by the rescan; a change whose event the overflow lost is."""
    src = tmp_path / "p/src"
    src.mkdir(parents=True)
    before = src / "before.py"
    before.write_text("written before the daemon started\n")
    fd = HeldInotify()
    running = await started(start([tmp_path], observer_factory=observer_on(fd)))
    seen = src / "seen.py"
    seen.write_text("x\n")
    await running.sink.wait_for(lambda c: c.path == seen and c.kind is ChangeKind.CLOSED)
    told = sum(1 for c in running.sink.changes if c.path == seen)

    queue_size = read_int("/proc/sys/fs/inotify/max_queued_events")
    with fd.held:
        for i in range(queue_size // 2):
            (src / f"churn{i}.py").write_text("x\n")  # three events each: an overflow
        lost = src / "lost.py"
        lost.write_text("its events are past the end of the queue\n")
    await wait_until(lambda: running.watcher.overflows >= 1)
    found = await running.sink.wait_for(
        lambda c: c.path == lost and c.at == lost.stat().st_mtime, within=10
    )
    assert found.kind is ChangeKind.MODIFIED
    await running.sink.settle(src)
    assert before not in running.sink.paths()
    assert sum(1 for c in running.sink.changes if c.path == seen) == told


@linux_only
async def test_a_folder_moved_out_is_no_longer_watched_and_one_moved_within_is_followed(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    root = tmp_path / "code"
    (root / "p/pkg/sub").mkdir(parents=True)
    (root / "p/out/deep").mkdir(parents=True)
    running = await started(start([root]))
    before = running.watcher.watched_folders
    assert before is not None
    (root / "p/pkg").rename(root / "p/pkg2")
    (root / "p/out").rename(tmp_path / "out")
    await wait_until(lambda: running.watcher.watched_folders == before - 2)
    assert root / "p/pkg2/sub" in watched_paths(running.watcher)
    (tmp_path / "out/deep/away.py").write_text("x\n")
    (root / "p/pkg2/sub/here.py").write_text("x\n")
    await running.sink.wait_for_path(root / "p/pkg2/sub/here.py")
    await running.sink.settle(root / "p")
    assert not any(c.path.name == "away.py" for c in running.sink.changes)
    assert kernel_watches(running.watcher) == before - 2


# -- roots that come and go -------------------------------------------------------------------


async def test_a_root_absent_at_start_is_watched_when_it_appears(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    root = tmp_path / "later/code"
    running = await started(start([root]))  # the poll is an hour: only the event can do it
    assert running.watcher.watched_roots == ()
    (tmp_path / "later").mkdir()
    root.mkdir()
    await wait_until(lambda: running.watcher.watched_roots == (root,))
    (root / "a.py").write_text("x\n")
    await running.sink.wait_for_path(root / "a.py")


async def test_a_root_deleted_and_recreated_is_watched_again(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    root = tmp_path / "code"
    (root / "src").mkdir(parents=True)
    running = await started(start([root]))
    shutil.rmtree(root)
    await wait_until(lambda: running.watcher.watched_roots == ())
    (root / "src").mkdir(parents=True)
    await wait_until(lambda: running.watcher.watched_roots == (root,))
    (root / "src/b.py").write_text("x\n")
    await running.sink.wait_for_path(root / "src/b.py")


@linux_only
async def test_a_root_renamed_away_is_not_followed(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    root = tmp_path / "code"
    root.mkdir()
    running = await started(start([root]))
    root.rename(tmp_path / "old")
    await wait_until(lambda: running.watcher.watched_roots == ())
    (tmp_path / "old/stale.py").write_text("x\n")
    root.mkdir()
    await wait_until(lambda: running.watcher.watched_roots == (root,))
    (root / "c.py").write_text("x\n")
    await running.sink.wait_for_path(root / "c.py")
    assert not any(c.path.name == "stale.py" for c in running.sink.changes)


async def test_events_reach_the_sink_on_the_loop_thread(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    threads: list[threading.Thread] = []
    running = await started(start([tmp_path]))
    inner = running.sink

    def sink(change: FileChange) -> None:
        threads.append(threading.current_thread())
        inner(change)

    running.watcher._sink = sink
    (tmp_path / "t.py").write_text("x\n")
    await inner.wait_for_path(tmp_path / "t.py")
    assert threads and all(t is threading.main_thread() for t in threads)


# -- a real checkout, through the daemon's filter and Activity ----------------------------------


@linux_only
async def test_a_real_checkout_makes_no_edits_but_moves_the_branch(tmp_path: Path) -> None:
    from hackatimed.activity.edits import Activity, Edit
    from hackatimed.activity.idle import NoIdleSource
    from hackatimed.config.load import Config, HeartbeatConfig, WatchConfig
    from hackatimed.detect.builder import HeartbeatBuilder

    root = tmp_path / "code"
    files = {f"src/pkg{i // 30}/m{i}.py": f"V = {i}\n" for i in range(300)}
    repo = make_repo(root / "app", files={**files, "main.py": "x = 1\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    for name in files:
        (repo / name).write_text("V = 'feature'\n")
    git(repo, "commit", "-qam", "feature")
    git(repo, "checkout", "-q", "main")

    clock = SystemClock()
    config = Config(watch=WatchConfig(roots=(root,)), heartbeats=HeartbeatConfig(editor="vim"))
    builder = HeartbeatBuilder(config, clock=clock, home=tmp_path, hostname="test")
    activity = Activity(clock=clock, idle=NoIdleSource())
    seen = Collector()

    def on_change(change: FileChange) -> None:  # the daemon's _on_change
        seen(change)
        if not builder.on_meta_change(change.path) and builder.accepts(change.path):
            activity.add(change)

    watcher = Watcher(
        roots=[root],
        sink=on_change,
        loop=asyncio.get_running_loop(),
        clock=clock,
        ignores_dir=builder.ignore.ignores_dir,
    )
    await asyncio.to_thread(watcher.start)
    try:
        assert builder.explain(repo / "main.py").heartbeat.branch == "main"  # type: ignore[union-attr]
        await asyncio.to_thread(git, repo, "checkout", "-q", "feature")
        await seen.settle(root)
        edits: list[Edit] = []
        # The daemon's loop, in real time, for as long as any burst could still be held back.
        until = clock.monotonic() + 10
        while (due := activity.next_due()) is not None and due < until:
            await asyncio.sleep(max(0.0, due - clock.monotonic()))
            edits += activity.pop_due()
        assert edits == []
        assert activity.storms >= 1
        assert sum(1 for c in seen.changes if c.path.suffix == ".py") >= 300
        hb = builder.explain(repo / "main.py").heartbeat
        assert hb is not None and hb.branch == "feature"
    finally:
        await asyncio.to_thread(watcher.stop)


async def test_roots_added_and_removed_on_reload(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    running = await started(start([a]))
    running.watcher.set_roots([a, b])
    await wait_until(lambda: set(running.watcher.watched_roots) == {a, b})
    (b / "new.py").write_text("x\n")
    await running.sink.wait_for_path(b / "new.py")
    running.watcher.set_roots([b])
    await wait_until(lambda: running.watcher.watched_roots == (b,))
    (a / "gone.py").write_text("x\n")
    await running.sink.settle(b)
    assert a / "gone.py" not in running.sink.paths()


@linux_only
async def test_replaced_rules_move_the_watches(tmp_path: Path) -> None:
    (tmp_path / "p/gen/deep").mkdir(parents=True)
    rules = [IgnoreRules(roots=[tmp_path])]
    sink = Collector()
    watcher = Watcher(
        roots=[tmp_path],
        sink=sink,
        loop=asyncio.get_running_loop(),
        clock=SystemClock(),
        ignores_dir=lambda p: rules[0].ignores_dir(p),
    )
    await asyncio.to_thread(watcher.start)
    try:
        assert tmp_path / "p/gen/deep" in watched_paths(watcher)
        rules[0] = IgnoreRules(roots=[tmp_path], exclude=["gen/"])
        watcher.rules_changed()
        await wait_until(lambda: tmp_path / "p/gen" not in watched_paths(watcher))
        assert tmp_path / "p" in watched_paths(watcher)
    finally:
        await asyncio.to_thread(watcher.stop)


@linux_only
async def test_a_root_whose_parent_is_renamed_is_let_go_at_once(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """Renaming a folder above a root sends the root no event: inotify follows the moved
    folder, and its events would come under the old path. The root's parent is watched on its
    own, so its move is seen at once (no `check_roots`, no tick: the poll is an hour here), the
    moved root is let go, and its configured path is watched again as soon as it exists, so a
    save made there right after arrives. The moved folder is not followed outside the roots."""
    root = tmp_path / "parent" / "code"
    root.mkdir(parents=True)
    running = await started(start([root]))
    (tmp_path / "parent").rename(tmp_path / "moved")
    await wait_until(lambda: running.watcher.watched_roots == ())
    moved = tmp_path / "moved" / "code"
    (moved / "after.py").write_text("x\n")
    root.mkdir(parents=True)  # the configured folder exists again: watched again
    await wait_until(lambda: running.watcher.watched_roots == (root,))
    (root / "new.py").write_text("x\n")
    await running.sink.wait_for_path(root / "new.py")
    assert not any(c.path.name == "after.py" for c in running.sink.changes)


@linux_only
async def test_a_root_whose_grandparent_is_renamed_is_let_go_at_the_next_check(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """Further up, only the tick's `check_roots` finds the move (watching every folder up to
    / would mean events for all of $HOME)."""
    root = tmp_path / "top" / "parent" / "code"
    root.mkdir(parents=True)
    running = await started(start([root]))
    (tmp_path / "top").rename(tmp_path / "moved")
    moved = tmp_path / "moved" / "parent" / "code"
    (moved / "during.py").write_text("x\n")
    await running.sink.wait_for(lambda c: c.path.name == "during.py")
    await asyncio.to_thread(running.watcher.check_roots)
    assert running.watcher.watched_roots == ()
    root.mkdir(parents=True)
    await wait_until(lambda: running.watcher.watched_roots == (root,))
    (root / "new.py").write_text("x\n")
    await running.sink.wait_for_path(root / "new.py")


@linux_only
async def test_a_parent_that_cannot_be_watched_is_no_watch_error(
    tmp_path: Path, start: Callable[..., Running]
) -> None:
    """The folder above a root is watched for its moves only: if the kernel refuses it, the
    root is watched all the same, `status` shows no error, and the tick still checks."""
    root = tmp_path / "parent" / "code"
    root.mkdir(parents=True)

    class RefusesTheParent(INotify):  # type: ignore[misc]
        def add_watch(self, path: str | bytes, mask: int) -> int:
            if os.fsdecode(path) == str(root.parent):
                raise PermissionError(13, "Permission denied")
            return int(super().add_watch(path, mask))

    running = await started(
        start(
            [root],
            observer_factory=lambda policy: inotify_emitter.PrunedInotifyObserver(
                policy, inotify_factory=RefusesTheParent
            ),
        )
    )
    (root / "a.py").write_text("x\n")
    await running.sink.wait_for_path(root / "a.py")
    assert running.watcher.watched_roots == (root,)
    assert running.watcher.errors == []
