from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hackatimed.detect.content import (
    MAX_LINES_BYTES,
    ContentFacts,
    ContentTracker,
    Snapshot,
    count_lines,
    read_snapshot,
)

P = Path("/project/file.py")


def snap(data: bytes) -> Snapshot:
    return Snapshot(data, len(data), True, b"\0" in data[:8000])


def no_baseline() -> bytes | None:
    return None


def facts_after(old: bytes | None, new: bytes) -> ContentFacts:
    """The facts of saving `new` when `old` is what git HEAD holds (None: no baseline)."""
    return ContentTracker().observe(P, snap(new), baseline=lambda: old)


# --- reading ------------------------------------------------------------------------------


def test_reads_a_regular_file(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_bytes(b"print(1)\n")
    assert read_snapshot(f) == Snapshot(b"print(1)\n", 9, True, False)


def test_flags_binary_content(tmp_path: Path) -> None:
    f = tmp_path / "img.png"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    s = read_snapshot(f)
    assert s.binary and s.data is not None and s.is_regular


def test_too_big_is_not_read_but_sized(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    f.write_bytes(b"x\n" * 100)
    assert read_snapshot(f, max_bytes=199) == Snapshot(None, 200, True, False)
    assert read_snapshot(f, max_bytes=200).data == b"x\n" * 100


@pytest.mark.parametrize("name", ["missing.py", "dir", "file.py/below", "loop"])
def test_unreadable_paths_give_no_data(tmp_path: Path, name: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file.py").write_text("x\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    s = read_snapshot(tmp_path / name)
    assert s.data is None and not s.is_regular and s.size is None


def test_a_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert read_snapshot(fifo) == Snapshot(None, None, False, False)
    assert time.monotonic() - started < 1


def test_a_device_is_skipped() -> None:
    assert read_snapshot(Path("/dev/zero")) == Snapshot(None, None, False, False)


def test_a_symlink_to_a_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_bytes(b"a\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert read_snapshot(tmp_path / "link.py").data == b"a\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_gives_no_data(tmp_path: Path) -> None:
    f = tmp_path / "secret.py"
    f.write_bytes(b"x\n")
    f.chmod(0)
    assert read_snapshot(f) == Snapshot(None, 2, True, False)


# --- line counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"\n", 1),
        (b"a", 1),
        (b"a\n", 1),
        (b"a\nb", 2),
        (b"a\r\nb\r\n", 2),
        (b"\n\n\n", 3),
    ],
)
def test_count_lines(data: bytes, lines: int) -> None:
    assert count_lines(data) == lines


# --- changes against the baseline (git HEAD) on the first save ----------------------------

HEAD = b"import os\n\ndef main():\n    return 1\n"

CHANGES = [
    pytest.param(
        HEAD,
        b"import os\n\ndef main():\n    return 2\n",
        ContentFacts(lines=4, lineno=4, cursorpos=34, line_additions=1, line_deletions=1),
        id="one line changed",
    ),
    pytest.param(
        HEAD,
        b"import os\nimport sys\n\ndef main():\n    return 1\n",
        ContentFacts(lines=5, lineno=2, cursorpos=10, line_additions=1, line_deletions=0),
        id="line inserted",
    ),
    pytest.param(
        HEAD,
        b"import os\n\ndef main():\n",
        ContentFacts(lines=3, lineno=3, cursorpos=23, line_additions=0, line_deletions=1),
        id="last line deleted: the position is clamped to the last line",
    ),
    pytest.param(
        HEAD,
        b"\ndef main():\n    return 1\n",
        ContentFacts(lines=3, lineno=1, cursorpos=0, line_additions=0, line_deletions=1),
        id="first line deleted",
    ),
    pytest.param(
        HEAD,
        HEAD,
        ContentFacts(lines=4, line_additions=0, line_deletions=0),
        id="unchanged: no position",
    ),
    pytest.param(
        b"",
        b"a\nb\n",
        ContentFacts(lines=2, lineno=1, cursorpos=0, line_additions=2, line_deletions=0),
        id="known new file: all lines added",
    ),
    pytest.param(
        b"a\nb\n",
        b"",
        ContentFacts(lines=0, lineno=1, cursorpos=0, line_additions=0, line_deletions=2),
        id="emptied",
    ),
    pytest.param(
        b"a\nb\n",
        b"a\nb",
        ContentFacts(lines=2, lineno=2, cursorpos=3, line_additions=1, line_deletions=1),
        id="last newline removed counts as a changed line",
    ),
    pytest.param(
        b"x = 1\ny = 2\nz = 3\n",
        b"x = 1\ny = 2 + 40\nz = 3\n",
        ContentFacts(lines=3, lineno=2, cursorpos=11, line_additions=1, line_deletions=1),
        id="cursor at the first changed character, not the line start",
    ),
    pytest.param(
        "s = 'héllo wörld'\nt = 1\n".encode(),
        "s = 'héllo wörld!'\nt = 1\n".encode(),
        ContentFacts(lines=2, lineno=1, cursorpos=16, line_additions=1, line_deletions=1),
        id="cursorpos counts code points, not bytes",
    ),
    pytest.param(
        "é\n".encode(),
        "è\n".encode(),
        ContentFacts(lines=1, lineno=1, cursorpos=0, line_additions=1, line_deletions=1),
        id="change inside a multi-byte character points at its start",
    ),
    pytest.param(
        b"\xff\xfe bad\nok\n",
        b"\xff\xfe bad\nok!\n",
        ContentFacts(lines=2, lineno=2, cursorpos=None, line_additions=1, line_deletions=1),
        id="invalid UTF-8 before the change: no cursorpos, the rest known",
    ),
    pytest.param(
        b"a\nb\nc\nd\n",
        b"A\nb\nc\nD\n",
        ContentFacts(lines=4, lineno=1, cursorpos=0, line_additions=2, line_deletions=2),
        id="two edits far apart",
    ),
    pytest.param(
        b"a\nb\n",
        b"a\r\nb\r\n",
        ContentFacts(lines=2, lineno=1, cursorpos=1, line_additions=2, line_deletions=2),
        id="line endings converted",
    ),
    pytest.param(
        None,
        HEAD,
        ContentFacts(lines=4),
        id="no baseline: changes and position left out",
    ),
    pytest.param(
        b"\0binary\0",
        HEAD,
        ContentFacts(lines=4),
        id="binary baseline is no baseline",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CHANGES)
def test_first_save_diffs_against_the_baseline(
    old: bytes | None, new: bytes, expected: ContentFacts
) -> None:
    assert facts_after(old, new) == expected


def test_counts_match_git_numstat(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    f = repo / "m.py"
    old = b"".join(b"line %d\n" % i for i in range(300))
    f.write_bytes(old)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "m.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    lines = old.splitlines(keepends=True)
    lines[10:13] = [b"new a\n", b"new b\n"]
    lines.insert(200, b"inserted\n")
    del lines[250]
    new = b"".join(lines)
    f.write_bytes(new)

    def head() -> bytes | None:
        r = subprocess.run([*git, "show", "HEAD:m.py"], capture_output=True, check=False)
        return r.stdout if r.returncode == 0 else None

    numstat = subprocess.run([*git, "diff", "--numstat"], capture_output=True, check=True)
    added, deleted = (int(n) for n in numstat.stdout.split()[:2])
    facts = ContentTracker().observe(f, read_snapshot(f), baseline=head)
    assert (facts.line_additions, facts.line_deletions) == (added, deleted) == (3, 4)
    assert facts.lineno == 11


# --- later saves diff against the previous save -------------------------------------------


def test_later_saves_diff_against_the_previous_save_not_the_baseline() -> None:
    tracker = ContentTracker()
    calls: list[int] = []

    def head() -> bytes:
        calls.append(1)
        return b"a\n"

    tracker.observe(P, snap(b"a\nb\n"), baseline=head)
    facts = tracker.observe(P, snap(b"a\nb\nc\n"), baseline=head)
    assert facts == ContentFacts(lines=3, lineno=3, cursorpos=4, line_additions=1, line_deletions=0)
    assert calls == [1]


def test_unreadable_save_keeps_the_previous_content() -> None:
    tracker = ContentTracker()
    tracker.observe(P, snap(b"a\n"), baseline=no_baseline)
    assert tracker.observe(P, Snapshot(None, None, False, False), baseline=no_baseline) == (
        ContentFacts()
    )
    facts = tracker.observe(P, snap(b"a\nb\n"), baseline=no_baseline)
    assert (facts.line_additions, facts.line_deletions) == (1, 0)


def test_binary_and_oversized_content_give_no_facts_and_are_not_kept() -> None:
    tracker = ContentTracker()
    tracker.observe(P, snap(b"a\n"), baseline=no_baseline)
    assert tracker.observe(P, snap(b"\0\x01\x02"), baseline=no_baseline) == ContentFacts()
    assert tracker.budget_used() == 0
    big = b"x\n" * (MAX_LINES_BYTES // 2 + 1)
    assert tracker.observe(Path("/big"), snap(big), baseline=lambda: b"") == ContentFacts()
    assert tracker.budget_used() == 0
    # After binary content the old text is gone: no diff, and no double count against HEAD.
    assert tracker.observe(P, snap(b"a\n"), baseline=lambda: b"") == ContentFacts(lines=1)


def test_a_failing_baseline_is_no_baseline() -> None:
    def broken() -> bytes:
        raise RuntimeError("git went away")

    assert ContentTracker().observe(P, snap(b"a\n"), baseline=broken) == ContentFacts(lines=1)


# --- the memory budget --------------------------------------------------------------------


def test_budget_evicts_least_recently_observed() -> None:
    tracker = ContentTracker(byte_budget=10)
    a, b, c = Path("/a"), Path("/b"), Path("/c")
    tracker.observe(a, snap(b"aaaa\n"), baseline=no_baseline)
    tracker.observe(b, snap(b"bbbb\n"), baseline=no_baseline)
    assert tracker.budget_used() == 10
    tracker.observe(a, snap(b"aaaa\n"), baseline=no_baseline)  # a is now the most recent
    tracker.observe(c, snap(b"cc\n"), baseline=no_baseline)
    assert tracker.budget_used() == 8  # b went
    kept = tracker.observe(a, snap(b"aaaa\nA\n"), baseline=no_baseline)
    assert (kept.line_additions, kept.line_deletions) == (1, 0)


def test_evicted_file_gets_no_changes_rather_than_a_second_diff_against_head() -> None:
    tracker = ContentTracker(byte_budget=6)
    a = Path("/a")
    asked: list[Path] = []

    def head() -> bytes:
        asked.append(a)
        return b""

    tracker.observe(a, snap(b"head\n"), baseline=head)
    tracker.observe(Path("/b"), snap(b"bbbbb\n"), baseline=no_baseline)  # evicts a
    assert tracker.observe(a, snap(b"head\ny\n"), baseline=head) == ContentFacts(lines=2)
    assert asked == [a]


def test_content_larger_than_the_budget_is_not_kept() -> None:
    tracker = ContentTracker(byte_budget=4)
    tracker.observe(P, snap(b"12345\n"), baseline=no_baseline)
    assert tracker.budget_used() == 0
    assert tracker.observe(P, snap(b"123456\n"), baseline=lambda: b"") == ContentFacts(lines=1)


def test_forget_starts_the_file_afresh() -> None:
    tracker = ContentTracker()
    tracker.observe(P, snap(b"a\n"), baseline=no_baseline)
    tracker.forget(P)
    assert tracker.budget_used() == 0
    facts = tracker.observe(P, snap(b"a\nb\n"), baseline=lambda: b"a\n")
    assert (facts.line_additions, facts.line_deletions) == (1, 0)


def test_budget_default_holds_several_of_the_largest_files() -> None:
    tracker = ContentTracker()
    data = b"x\n" * (MAX_LINES_BYTES // 2)
    for i in range(4):
        tracker.observe(Path(f"/f{i}"), snap(data), baseline=no_baseline)
    assert tracker.budget_used() == 4 * len(data)
    tracker.observe(Path("/f4"), snap(data), baseline=no_baseline)
    assert tracker.budget_used() == 4 * len(data)


def test_concurrent_callers_keep_the_budget_accounting_exact() -> None:
    tracker = ContentTracker(byte_budget=64 * 1024)
    paths = [Path(f"/p{i}") for i in range(40)]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for n in range(300):
                path = paths[(seed * 7 + n) % len(paths)]
                if n % 11 == 0:
                    tracker.forget(path)
                else:
                    tracker.observe(path, snap(b"x\n" * (n % 50 + seed)), baseline=lambda: b"")
        except BaseException as e:  # surfaced below; a thread's exception is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert tracker.budget_used() == sum(len(v) for v in tracker._contents.values())
    assert tracker.budget_used() <= 64 * 1024


# --- cost ---------------------------------------------------------------------------------


def _two_mib_of_code() -> bytes:
    lines = [
        b"    value_%d = compute(%d, 'text') + offset\n" % (i, i * 7919) for i in range(60_000)
    ]
    data = b"".join(lines)[:MAX_LINES_BYTES]
    return data[: data.rfind(b"\n") + 1]


def _time(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def test_one_line_edit_in_a_two_mib_file_takes_milliseconds() -> None:
    old = _two_mib_of_code()
    middle = old.find(b"\n", len(old) // 2) + 1
    new = old[:middle] + b"    inserted = True\n" + old[middle:]
    tracker = ContentTracker()

    def save_twice() -> ContentFacts:
        tracker.observe(P, snap(old), baseline=no_baseline)
        return tracker.observe(P, snap(new), baseline=no_baseline)

    assert save_twice().line_additions == 1
    # Measured 1.5-2.5 ms per save here; a whole-file SequenceMatcher would take seconds.
    assert _time(save_twice) < 0.05


def test_rewrites_and_repetitive_content_stay_bounded() -> None:
    old = _two_mib_of_code()
    rewritten = old.replace(b"compute", b"calc")
    braces = b"{\n\n}\n" * 30_000
    shuffled = b"}\n\n{\n" * 30_000
    tracker = ContentTracker()

    def rewrite() -> None:
        tracker.observe(P, snap(old), baseline=no_baseline)
        tracker.observe(P, snap(rewritten), baseline=no_baseline)
        tracker.observe(P, snap(braces), baseline=no_baseline)
        tracker.observe(P, snap(shuffled), baseline=no_baseline)

    assert _time(rewrite) < 1.0
