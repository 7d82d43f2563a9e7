"""Editors' saves, replayed on a real folder through a real watchdog observer, the real ignore
rules and the real activity code: every save is one edit of the real file, and the temporaries,
probes, backups, swap and lock files around it are none. One test drives a real vim in tmux."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hackatimed.activity.edits import Activity, Edit
from hackatimed.activity.idle import NoIdleSource
from hackatimed.clock import FakeClock, SystemClock
from hackatimed.watch.changes import ChangeKind, FileChange
from hackatimed.watch.ignore import IgnoreRules
from hackatimed.watch.watcher import Watcher
from tests.watch.test_watcher import Collector

# -- the editors' sequences of file operations ---------------------------------------------------


def write(path: Path, data: bytes, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> None:
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def vim_probe(folder: Path) -> None:
    """Vim (backupcopy=auto) checks it may create a file with the same owner: `4913`."""
    probe = folder / "4913"
    fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
    os.close(fd)
    os.unlink(probe)


def vim_default(f: Path, data: bytes) -> None:
    """Vim and Neovim by default (writebackup, nobackup, backupcopy=auto on a file with one
    link): probe, rename the file to its backup, write a new file, delete the backup; the swap
    file is written alongside."""
    swap = f.with_name(f".{f.name}.swp")
    write(swap, b"b0VIM 9.0")
    vim_probe(f.parent)
    backup = f.with_name(f.name + "~")
    os.rename(f, backup)
    write(f, data)
    os.unlink(backup)
    write(swap, b"b0VIM 9.0 after write")


def neovim_default(f: Path, data: bytes) -> None:
    """Neovim keeps its swap file under ~/.local/state, but probes and backs up alongside."""
    vim_probe(f.parent)
    backup = f.with_name(f.name + "~")
    os.rename(f, backup)
    write(f, data)
    os.unlink(backup)


def vim_backupcopy_yes(f: Path, data: bytes) -> None:
    """backupcopy=yes: copy to the backup, then overwrite the file in place."""
    backup = f.with_name(f.name + "~")
    write(backup, f.read_bytes())
    write(f, data, os.O_WRONLY | os.O_TRUNC)
    os.unlink(backup)


def vim_backupcopy_no(f: Path, data: bytes) -> None:
    backup = f.with_name(f.name + "~")
    os.rename(f, backup)
    write(f, data)
    os.unlink(backup)


def vim_backup_kept(f: Path, data: bytes) -> None:
    """`:set backup`: the backup stays."""
    vim_probe(f.parent)
    backup = f.with_name(f.name + "~")
    if backup.exists():
        backup.unlink()
    os.rename(f, backup)
    write(f, data)


def jetbrains_safe_write(f: Path, data: bytes) -> None:
    tmp = f.with_name(f.name + "___jb_tmp___")
    old = f.with_name(f.name + "___jb_old___")
    write(tmp, data)
    os.rename(f, old)
    os.rename(tmp, f)
    os.unlink(old)


def gedit(f: Path, data: bytes) -> None:
    tmp = f.with_name(f".goutputstream-{uuid.uuid4().hex[:6].upper()}")
    write(tmp, data)
    os.rename(tmp, f)


def emacs(f: Path, data: bytes) -> None:
    """Lock link on the first change, auto-save file, backup by renaming on the first save,
    a new file written, then the auto-save file and the lock removed."""
    lock = f.with_name(f".#{f.name}")
    autosave = f.with_name(f"#{f.name}#")
    backup = f.with_name(f.name + "~")
    os.symlink("someone@host.4242:1767225600", lock)
    write(autosave, data)
    if not backup.exists():
        os.rename(f, backup)
    write(f, data)
    os.unlink(autosave)
    os.unlink(lock)


def vscode_atomic(f: Path, data: bytes) -> None:
    tmp = f.with_name(f.name + ".vsctmp")
    write(tmp, data)
    os.rename(tmp, f)


def in_place(f: Path, data: bytes) -> None:
    """VS Code's ordinary save, nano, and most others: truncate and write."""
    write(f, data, os.O_WRONLY | os.O_TRUNC)


EDITORS: dict[str, Callable[[Path, bytes], None]] = {
    "vim": vim_default,
    "neovim": neovim_default,
    "vim-backupcopy-yes": vim_backupcopy_yes,
    "vim-backupcopy-no": vim_backupcopy_no,
    "vim-backup-kept": vim_backup_kept,
    "jetbrains": jetbrains_safe_write,
    "gedit": gedit,
    "emacs": emacs,
    "vscode-atomic": vscode_atomic,
    "in-place": in_place,
}


# -- the pipeline: watcher -> ignore rules -> activity, as the daemon wires it -------------------


class Pipeline:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rules = IgnoreRules(roots=[root])
        self.clock = FakeClock()
        self.activity = Activity(clock=self.clock, idle=NoIdleSource())
        self.seen = Collector(self.rules)

    def __call__(self, change: FileChange) -> None:
        self.seen(change)
        if ".git" in change.path.parts or self.rules.ignores_file(change.path) is not None:
            return
        self.activity.add(change)

    async def edits(self) -> list[Edit]:
        """Everything the editor did has arrived: let the burst windows pass and take them."""
        await self.seen.settle(self.root)
        self.clock.advance(30)
        return self.activity.pop_due()


@pytest.fixture
async def pipeline(tmp_path: Path) -> AsyncIterator[Pipeline]:
    root = tmp_path / "code"
    (root / "proj/src").mkdir(parents=True)
    (root / "proj/src/main.py").write_text("print('hello')\n")
    p = Pipeline(root)
    watcher = Watcher(
        roots=[root],
        sink=p,
        loop=asyncio.get_running_loop(),
        clock=SystemClock(),
        ignores_dir=p.rules.ignores_dir,
    )
    await asyncio.to_thread(watcher.start)
    await p.edits()
    try:
        yield p
    finally:
        await asyncio.to_thread(watcher.stop)


@pytest.mark.parametrize("editor", sorted(EDITORS))
async def test_each_save_is_one_edit_of_the_real_file(pipeline: Pipeline, editor: str) -> None:
    f = pipeline.root / "proj/src/main.py"
    save = EDITORS[editor]
    for n in range(3):
        before = len(pipeline.seen.changes)
        await asyncio.to_thread(save, f, f"print({n})\n".encode())
        edits = await pipeline.edits()
        got = [(c.path.name, c.kind.value) for c in pipeline.seen.changes[before:]]
        assert [(e.path, e.is_write) for e in edits] == [(f, True)], (editor, n, got)
        assert f.read_text() == f"print({n})\n"
        touched = {c.path.name for c in pipeline.seen.changes[before:]}
        assert "main.py" in touched
    temporaries = {c.path.name for c in pipeline.seen.changes} - {"main.py"}
    temporaries = {n for n in temporaries if not n.startswith(".settled-")}
    if editor != "in-place":
        assert temporaries, "the replay should have made temporaries for the watcher to see"


async def test_a_new_file_saved_by_vim_is_one_edit(pipeline: Pipeline) -> None:
    f = pipeline.root / "proj/src/new.py"

    def vim_new_file() -> None:
        vim_probe(f.parent)
        write(f, b"x = 1\n")

    await asyncio.to_thread(vim_new_file)
    assert [e.path for e in await pipeline.edits()] == [f]


# -- a real vim in tmux ----------------------------------------------------------------------------


class Tmux:
    def __init__(self, cwd: Path) -> None:
        self.socket = f"hackatimed-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.cwd = cwd

    def run(self, *args: str) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, timeout=10
        )

    def start(self, command: str) -> None:
        session = ["new-session", "-d", "-s", "t", "-x", "100", "-y", "30", "-c", str(self.cwd)]
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *session, command],
            check=True,
            capture_output=True,
            timeout=10,
            env={**os.environ, "TERM": "xterm-256color"},
        )

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


# Vim's own defaults (no vimrc, no viminfo): swap file, writebackup, backupcopy=auto. Its
# default 'backupskip' makes no backup at all for files under /tmp, where the test's folder is:
# emptied, vim saves as it would in a home folder.
VIM_SETTINGS = {
    "defaults": "set backupskip=",  # probe 4913, rename to main.py~, write anew, delete the ~
    "in-place": "set backupskip= backupcopy=yes",  # copy to main.py~, overwrite in place
    "backup-kept": "set backupskip= backup",  # as the defaults, and main.py~ stays
}


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("settings", sorted(VIM_SETTINGS))
async def test_a_real_vim_save_is_one_edit(pipeline: Pipeline, settings: str) -> None:
    folder = pipeline.root / "proj/src"
    f = folder / "main.py"
    tmux = Tmux(folder)
    tmux.start(f"vim -u NONE -N -i NONE -c '{VIM_SETTINGS[settings]}' main.py")
    try:
        swap = folder / ".main.py.swp"
        await pipeline.seen.wait_for_path(swap)  # vim has the file open
        await asyncio.to_thread(tmux.keys, "ggOx = 42", "Escape", ":w", "Enter")
        # The save is over when the new main.py is closed; what vim does after (deleting the
        # backup, updating the swap file) is ignored anyway.
        await pipeline.seen.wait_for(lambda c: c.path == f and c.kind is ChangeKind.CLOSED)
        edits = await pipeline.edits()
        assert [(e.path, e.is_write) for e in edits] == [(f, True)]
        assert f.read_text().startswith("x = 42\n")
        names = {c.path.name for c in pipeline.seen.changes}
        assert {".main.py.swp", "main.py"} <= names
        assert "main.py~" in names  # vim really made its backup
        if settings != "in-place":
            assert "4913" in names  # and probed the folder before renaming
        await asyncio.to_thread(tmux.keys, ":q", "Enter")
        await pipeline.seen.wait_for(lambda c: c.path == swap and not swap.exists())
        assert await pipeline.edits() == []
    finally:
        await asyncio.to_thread(tmux.kill)
