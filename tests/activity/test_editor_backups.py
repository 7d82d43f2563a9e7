"""VS Code's backups of unsaved changes, written as VS Code writes them, in real folders; and
the presence signals that ask them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hackatimed.activity.editor_backups import BackupSignal, backed_up_file, backup_folders
from hackatimed.activity.presence import Presence, PresenceSignals
from hackatimed.clock import FakeClock
from hackatimed.watch.ignore import IgnoreRules


def write_backup(folder: Path, workspace: str, name: str, preamble: str, text: str) -> Path:
    """What VS Code writes one second after the typing pauses: `<uri> <meta>\\n<text>`."""
    backup = folder / workspace / "file" / name
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_bytes(preamble.encode() + b"\n" + text.encode())
    return backup


META = '{"mtime":1764140000000,"ctime":1764130000000,"size":12,"etag":"3a6f","orphaned":false}'


@pytest.mark.parametrize(
    ("preamble", "want"),
    [
        (f"file:///home/me/code/app.py {META}", "/home/me/code/app.py"),
        ("file:///home/me/code/app.py", "/home/me/code/app.py"),  # metadata left out
        ("file:///home/me/my%20code/caf%C3%A9.py {}", "/home/me/my code/café.py"),
        ("file://localhost/home/me/x.py {}", "/home/me/x.py"),
        ("untitled:Untitled-1 {}", None),  # a buffer that is no file yet
        ("vscode-remote://ssh-remote%2Bbox/home/me/x.py {}", None),  # another machine's file
        ("file://server/share/x.py {}", None),  # a network share
        ("file:relative.py {}", None),
    ],
)
def test_the_first_line_names_the_file(tmp_path: Path, preamble: str, want: str | None) -> None:
    backup = write_backup(tmp_path, "ws", "1a2b", preamble, "print('unsaved')\n")
    assert backed_up_file(backup) == (None if want is None else Path(want))


def test_not_a_backup(tmp_path: Path) -> None:
    (tmp_path / "no-newline").write_bytes(b"file:///home/me/x.py")
    assert backed_up_file(tmp_path / "no-newline") is None
    (tmp_path / "huge").write_bytes(b"file:///x" + b"a" * 20_000 + b"\n")
    assert backed_up_file(tmp_path / "huge") is None
    assert backed_up_file(tmp_path / "missing") is None


def test_windows_paths_lose_the_slash_before_the_drive(tmp_path: Path) -> None:
    backup = write_backup(tmp_path, "ws", "1", "file:///c%3A/Users/me/app.py {}", "x")
    got = backed_up_file(backup)
    if os.name == "nt":
        assert got == Path("c:/Users/me/app.py")
    else:
        assert got is None  # not an absolute path here


def test_where_each_platform_keeps_them(tmp_path: Path) -> None:
    home = tmp_path
    linux = backup_folders(home=home, env={}, platform="linux")
    assert home / ".config/Code/Backups" in linux
    assert home / ".config/VSCodium/Backups" in linux
    assert home / ".config/Cursor/Backups" in linux
    assert home / ".var/app/com.visualstudio.code/config/Code/Backups" in linux
    xdg = backup_folders(home=home, env={"XDG_CONFIG_HOME": "/cfg"}, platform="linux")
    assert Path("/cfg/Code/Backups") in xdg
    mac = backup_folders(home=home, env={}, platform="darwin")
    assert home / "Library/Application Support/Code/Backups" in mac
    win = backup_folders(home=home, env={"APPDATA": "/appdata"}, platform="win32")
    assert Path("/appdata/Code/Backups") in win


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    (root / "app" / ".git").mkdir(parents=True)
    (root / "app" / "main.py").write_text("x\n")
    (root / "app" / "other.py").write_text("x\n")
    (root / "app" / ".env").write_text("SECRET=1\n")
    (root / "app" / ".gitignore").write_text(".env\n")
    return root


def signal(tmp_path: Path, code: Path) -> BackupSignal:
    rules = IgnoreRules(roots=[code], home=tmp_path)
    folders = backup_folders(home=tmp_path / "home", env={}, platform="linux")
    return BackupSignal(folders=folders, accepts=lambda p: rules.ignores_file(p) is None)


def test_the_file_whose_backup_changed_last_and_counts(tmp_path: Path, code: Path) -> None:
    backups = tmp_path / "home" / ".config" / "Code" / "Backups"
    now = time.time()
    older = write_backup(backups, "ws1", "a", f"file://{code}/app/other.py {META}", "1")
    newer = write_backup(backups, "ws2", "b", f"file://{code}/app/main.py {META}", "2")
    os.utime(older, (now - 10, now - 10))
    os.utime(newer, (now - 5, now - 5))
    backup_signal = signal(tmp_path, code)
    assert backup_signal(now - 30) == code / "app" / "main.py"
    # A backup older than the interval says nothing about now (a file left unsaved last week).
    assert backup_signal(now - 7) == code / "app" / "main.py"
    assert backup_signal(now - 1) is None
    # Unsaved changes to an ignored file, or one outside the roots, are not counted.
    os.utime(newer, (now - 20, now - 20))
    secret = write_backup(backups, "ws2", "c", f"file://{code}/app/.env {META}", "SECRET=2")
    outside = write_backup(backups, "ws3", "d", f"file://{tmp_path}/notes.txt {META}", "x")
    for backup in (secret, outside):
        os.utime(backup, (now, now))
    assert backup_signal(now - 15) == code / "app" / "other.py"


def test_no_backups_folder_is_no_answer(tmp_path: Path, code: Path) -> None:
    assert signal(tmp_path, code)(0.0) is None


def test_signals_are_asked_in_order_from_the_last_look() -> None:
    clock = FakeClock()
    asked: list[tuple[str, float]] = []

    def first(since: float) -> Path | None:
        asked.append(("first", since))
        return None

    def second(since: float) -> Path | None:
        asked.append(("second", since))
        return Path("/code/app/main.py")

    def third(since: float) -> Path | None:
        asked.append(("third", since))
        return Path("/never")

    look = PresenceSignals(clock=clock, signals=[first, second, third], every_seconds=30.0)
    assert look.look(3.0) == Presence(Path("/code/app/main.py"), clock.wall() - 3.0)
    since = clock.wall() - 30.0
    assert asked == [("first", since), ("second", since)]
    assert look.look(45.0) is None  # nobody typed since the last look: nothing is asked
    assert look.look(None) is None  # no idle source: nothing tells typing from an empty chair
    assert len(asked) == 2


def test_a_failing_signal_is_skipped_and_said(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()

    def broken(_since: float) -> Path | None:
        raise ValueError("title café.py - secret-project")

    def working(_since: float) -> Path | None:
        return Path("/code/app/main.py")

    look = PresenceSignals(clock=clock, signals=[broken, working])
    assert look.look(1.0) == Presence(Path("/code/app/main.py"), clock.wall() - 1.0)
    assert "ValueError" in caplog.text
    assert "secret-project" not in caplog.text
    caplog.clear()
    assert look.look(1.0) is not None
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # said once
