"""Catching up at start: from when, which files, and the bounds."""

from __future__ import annotations

import os
from pathlib import Path

from hackatimed.watch.catch_up import MAX_GAP_SECONDS, catch_up_since, recent_files
from hackatimed.watch.changes import ChangeKind

NOW = 1_767_225_600.0


def test_a_short_gap_is_caught_up_from_where_the_last_daemon_had_seen_all() -> None:
    assert catch_up_since(NOW - 5, now=NOW) == NOW - 5


def test_a_night_away_is_caught_up_only_for_the_last_few_minutes() -> None:
    assert catch_up_since(NOW - 8 * 3600, now=NOW) == NOW - MAX_GAP_SECONDS


def test_a_first_start_or_a_status_from_the_future_catches_up_nothing() -> None:
    assert catch_up_since(None, now=NOW) is None
    assert catch_up_since(0.0, now=NOW) is None
    assert catch_up_since(NOW + 10, now=NOW) is None


def touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    os.utime(path, (mtime, mtime))
    return path


def test_only_files_changed_in_the_gap_each_stamped_with_its_modification_time(
    tmp_path: Path,
) -> None:
    touch(tmp_path / "before.py", NOW - 20)
    at_edge = touch(tmp_path / "edge.py", NOW - 10)  # seen by the last daemon: not again
    in_gap = touch(tmp_path / "gap.py", NOW - 3)
    touch(tmp_path / "future.py", NOW + 60)
    (tmp_path / "folder.py").mkdir()
    os.symlink(in_gap, tmp_path / "link.py")
    found, complete = recent_files([str(tmp_path)], since=NOW - 10, until=NOW)
    assert complete
    assert [(c.path, c.at, c.kind) for c in found] == [(in_gap, NOW - 3, ChangeKind.MODIFIED)]
    assert at_edge not in {c.path for c in found}


def test_at_most_the_newest_files_oldest_first(tmp_path: Path) -> None:
    for i in range(30):
        touch(tmp_path / f"f{i:02d}.py", NOW - 30 + i)
    found, _ = recent_files([str(tmp_path)], since=NOW - 60, until=NOW, max_files=5)
    assert [c.path.name for c in found] == [f"f{i}.py" for i in range(25, 30)]


def test_the_walk_is_bounded_in_time_and_says_so(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "x.py", NOW - 1)
    found, complete = recent_files(
        [str(tmp_path / "a")], since=NOW - 60, until=NOW, walk_seconds=-1
    )
    assert (found, complete) == ([], False)
    _, complete = recent_files([str(tmp_path / "gone")], since=NOW - 60, until=NOW)
    assert complete  # a folder gone since it was watched is no failure
