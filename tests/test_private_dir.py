"""The data folder is made private when hackatimed starts using it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from hackatimed.clock import FakeClock
from hackatimed.delivery.outbox import Outbox
from hackatimed.private_dir import make_private, privacy_problem


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_is_made_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    assert make_private(folder) is None
    assert mode(folder) == 0o700


def test_an_existing_folder_of_ours_that_others_can_read_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o755)
    assert privacy_problem(folder) is not None
    assert make_private(folder) is None
    assert mode(folder) == 0o700 and privacy_problem(folder) is None


def test_the_daemon_makes_its_data_folder_private_when_it_opens_the_queue(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o775)
    with Outbox(folder / "outbox.db", clock=FakeClock()):
        pass
    assert mode(folder) == 0o700


def test_a_folder_that_cannot_be_made_private_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o755)

    chmod = Path.chmod

    def refuse(self: Path, mode: int) -> None:
        if self == folder:  # a folder on a file system that keeps its own modes
            raise PermissionError(1, "Operation not permitted")
        chmod(self, mode)

    monkeypatch.setattr(Path, "chmod", refuse)
    problem = make_private(folder)
    assert problem is not None and "could not be changed: Operation not permitted" in problem
    with caplog.at_level(logging.WARNING), Outbox(folder / "outbox.db", clock=FakeClock()):
        pass
    said = [r.getMessage() for r in caplog.records if "readable by others" in r.getMessage()]
    assert len(said) == 1 and f"chmod 700 {folder}" in said[0]
