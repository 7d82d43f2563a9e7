"""A file's git HEAD version (the baseline of its first diff), asked for many files at once:
one `git cat-file --batch` process per repository and batch of edits, not one per file.

Real repositories made with git; the only stand-in is a counter wrapped around the real
`subprocess.run`, to count the git processes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hackatimed.activity.editor import EditorDetector
from hackatimed.activity.edits import Edit
from hackatimed.clock import FakeClock
from hackatimed.config.load import Config
from hackatimed.detect import vcs
from hackatimed.detect.builder import HeartbeatBuilder
from hackatimed.detect.project import ProjectDetector
from hackatimed.heartbeat import Heartbeat
from tests.gitrepo import make_repo

BINARY = bytes(range(256)) * 3


@pytest.fixture
def git_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Every `git cat-file` run (each still run for real); the test's own git commands are not
    counted."""
    runs: list[list[str]] = []
    real = subprocess.run

    def counting(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if "cat-file" in args:
            runs.append(list(args))
        return real(args, **kwargs)

    monkeypatch.setattr(vcs.subprocess, "run", counting)
    yield runs


def test_head_blobs_answers_each_file_in_order_from_one_process(
    tmp_path: Path, git_runs: list[list[str]]
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        files={"a.py": "old a\n", "dir with space/ünï.txt": "ünï\n", "src/b.py": "b\n"},
    )
    (repo / "bin.dat").write_bytes(BINARY)
    (repo / "empty.txt").write_bytes(b"")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "2"],
        check=True,
    )
    (repo / "a.py").write_text("new a\n")  # the working copy differs: HEAD's is answered
    asked = [
        "a.py",
        "untracked.py",
        "dir with space/ünï.txt",
        "src",  # a folder: not a blob
        "bin.dat",
        "line\nbreak.py",  # cannot be asked on one line
        "empty.txt",
        "src/b.py",
    ]
    blobs = vcs.head_blobs(str(repo), asked)
    assert blobs == [b"old a\n", None, "ünï\n".encode(), None, BINARY, None, b"", b"b\n"]
    assert len(git_runs) == 1
    assert vcs.head_blob(str(repo), "src/b.py") == b"b\n"


def test_head_blobs_without_commits_or_outside_a_repository(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    (empty / "a.py").write_text("a\n")
    assert vcs.head_blobs(str(empty), ["a.py", "b.py"]) == [None, None]
    plain = tmp_path / "plain"
    plain.mkdir()
    assert vcs.head_blobs(str(plain), ["a.py"]) == [None]
    assert vcs.head_blobs(str(tmp_path / "gone"), ["a.py"]) == [None]
    assert vcs.head_blobs(str(plain), []) == []


def test_project_detector_asks_once_per_repository(
    tmp_path: Path, git_runs: list[list[str]]
) -> None:
    one = make_repo(tmp_path / "one", files={"a.py": "1a\n", "b.py": "1b\n"})
    two = make_repo(tmp_path / "two", files={"c.py": "2c\n"})
    (tmp_path / "loose.py").write_text("no repo\n")
    detector = ProjectDetector(roots=[tmp_path])
    files = [one / "a.py", two / "c.py", one / "b.py", tmp_path / "loose.py"]
    assert detector.head_blobs(files) == {
        one / "a.py": b"1a\n",
        two / "c.py": b"2c\n",
        one / "b.py": b"1b\n",
        tmp_path / "loose.py": None,
    }
    assert len(git_runs) == 2


def _builder(tmp_path: Path, root: Path) -> HeartbeatBuilder:
    clock = FakeClock()
    config = replace(Config(), watch=replace(Config().watch, roots=(root,)))
    return HeartbeatBuilder(
        config,
        clock=clock,
        home=tmp_path / "home",
        hostname="testhost",
        editors=EditorDetector(override="vim", clock=clock),
    )


def _changes(hb: Heartbeat) -> tuple[str, int | None, int | None, int | None]:
    return hb.entity, hb.line_additions, hb.line_deletions, hb.lineno


def test_a_batch_of_first_saves_diffs_each_against_head_with_one_git_process(
    tmp_path: Path, git_runs: list[list[str]]
) -> None:
    root = tmp_path / "code"
    repo = make_repo(
        root / "app", files={f"m{i}.py": "".join(f"line {n}\n" for n in range(9)) for i in range(4)}
    )
    for i in range(4):  # m0: one line added, m1: two, ...
        path = repo / f"m{i}.py"
        path.write_text(path.read_text() + "".join(f"new {n}\n" for n in range(i + 1)))
    edits = [Edit(path=repo / f"m{i}.py", at=1_767_225_600.0 + i, is_write=True) for i in range(4)]

    batched = _builder(tmp_path, root).build_many(edits)
    assert len(git_runs) == 1
    one_by_one = [_builder(tmp_path, root).build(e) for e in edits]
    assert len(git_runs) == 1 + 4

    assert [_changes(hb) for hb in batched] == [_changes(hb) for hb in one_by_one if hb is not None]
    assert [hb.line_additions for hb in batched] == [1, 2, 3, 4]
    assert [hb.line_deletions for hb in batched] == [0, 0, 0, 0]


def test_files_already_seen_need_no_git_at_all(tmp_path: Path, git_runs: list[list[str]]) -> None:
    root = tmp_path / "code"
    repo = make_repo(root / "app", files={"a.py": "a\n", "b.py": "b\n"})
    builder = _builder(tmp_path, root)
    for name in ("a.py", "b.py"):
        (repo / name).write_text(f"{name} 1\n")
    edits = [Edit(path=repo / n, at=1_767_225_600.0, is_write=True) for n in ("a.py", "b.py")]
    assert len(builder.build_many(edits)) == 2
    assert len(git_runs) == 1
    for name in ("a.py", "b.py"):
        (repo / name).write_text(f"{name} 2\n")
    second = builder.build_many([replace(e, at=e.at + 60) for e in edits])
    assert len(git_runs) == 1, "the second saves diff against the first, not against HEAD"
    assert [(hb.line_additions, hb.line_deletions) for hb in second] == [(1, 1), (1, 1)]
