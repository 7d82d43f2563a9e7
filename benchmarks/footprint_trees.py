"""The folders the footprint runner watches: built once per run in a temp folder."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, **_GIT_ENV, "HOME": str(repo)}
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def source(module: int, version: int, *, lines: int = 60) -> str:
    """A Python module that looks like one a person writes: imports, functions, a version."""
    head = ["import os", "import json", "from pathlib import Path", "", f"VERSION = {version}", ""]
    body = []
    for i in range(max(1, (lines - len(head)) // 3)):
        body += [f"def step_{module}_{i}(x):", f"    return x * {i} + VERSION", ""]
    return "\n".join(head + body) + "\n"


@dataclass(frozen=True, slots=True)
class RestTree:
    root: Path
    folders: int
    files: int


def rest_tree(base: Path, *, projects: int, folders: int, files_per_folder: int) -> RestTree:
    """`projects` git repositories holding `folders` folders of `files_per_folder` files in all,
    committed with one small file so that .git stays small and the counts stay the stated ones."""
    root = base / "rest"
    root.mkdir(parents=True)
    made_folders = made_files = 0
    per_project = max(1, folders // projects)
    for p in range(projects):
        repo = root / f"project-{p:02d}"
        repo.mkdir()
        git(repo, "init", "-q")
        write(repo / "README.md", f"# project {p}\n")
        commit_all(repo, "start")
        for d in range(per_project):
            # Two levels, as real source trees nest: src/pkgNN/modNNN.
            folder = repo / "src" / f"pkg{d // 50:02d}" / f"mod{d:03d}"
            folder.mkdir(parents=True)
            made_folders += 1
            for f in range(files_per_folder):
                write(folder / f"file_{f}.py", f"VALUE = {p * 1000 + d * 10 + f}\n")
                made_files += 1
    return RestTree(root, made_folders, made_files)


@dataclass(frozen=True, slots=True)
class EconomyTree:
    root: Path
    source_folders: int
    ignored_folders: int
    ignored_inodes: frozenset[int]


def economy_tree(
    base: Path, *, projects: int, source_folders: int, nm_folders: int, name: str = "economy"
) -> EconomyTree:
    """Projects with a few hundred source folders and a node_modules of thousands."""
    root = base / name
    root.mkdir(parents=True)
    inodes: set[int] = set()
    made_source = made_nm = 0
    for p in range(projects):
        repo = root / f"web-{p}"
        repo.mkdir()
        write(repo / "package.json", '{"name": "web", "dependencies": {}}\n')
        for d in range(source_folders // projects):
            folder = repo / "src" / f"feature{d:03d}"
            folder.mkdir(parents=True)
            write(folder / "index.js", "export const x = 1;\n")
            made_source += 1
        nm = repo / "node_modules"
        made_nm += _node_modules(nm, nm_folders // projects, inodes)
    return EconomyTree(root, made_source, made_nm, frozenset(inodes))


@dataclass(frozen=True, slots=True)
class OverflowTree:
    root: Path
    source: list[Path]  # every source folder, where the burst's files go
    tracked: tuple[Path, Path]  # committed files: saved before the burst, and after it
    before_start: Path  # a folder for the file written before the daemon starts
    folders: int  # source folders, node_modules folders not counted


def overflow_tree(
    base: Path, *, projects: int, source_folders: int, nm_folders: int
) -> OverflowTree:
    """The economy's shape, each project a git repository with node_modules ignored and the
    source committed: a storm is then counted per repository, as on a real machine."""
    eco = economy_tree(
        base,
        projects=projects,
        source_folders=source_folders,
        nm_folders=nm_folders,
        name="overflow",
    )
    repos = sorted(p for p in eco.root.iterdir() if p.is_dir())
    for repo in repos:
        write(repo / ".gitignore", "node_modules/\n")
        git(repo, "init", "-q")
        commit_all(repo, "start")
    source = sorted(eco.root.glob("*/src/feature*"))
    tracked = (
        repos[-1] / "src" / "feature000" / "index.js",
        repos[0] / "src" / "feature001" / "index.js",
    )
    return OverflowTree(
        eco.root, source, tracked, repos[1 % len(repos)] / "src" / "feature002", len(source)
    )


def _node_modules(nm: Path, folders: int, inodes: set[int] | None = None) -> int:
    """Packages of ten folders each (lib/, dist/, ...), one small file per folder."""
    nm.mkdir(parents=True, exist_ok=True)
    if inodes is not None:
        inodes.add(nm.stat().st_ino)
    made = 0
    package = 0
    while made < folders:
        pkg = nm / f"pkg-{package:05d}"
        pkg.mkdir()
        made += 1
        if inodes is not None:
            inodes.add(pkg.stat().st_ino)
        for sub in range(min(9, folders - made)):
            folder = pkg / f"part{sub}"
            folder.mkdir()
            made += 1
            if inodes is not None:
                inodes.add(folder.stat().st_ino)
            write(folder / "index.js", "module.exports = 1;\n")
        package += 1
    return made


def install_like_npm(nm: Path, *, files: int, per_folder: int = 10) -> None:
    """What `npm install` does to the disk: many new folders, each with a few files."""
    nm.mkdir(parents=True, exist_ok=True)
    written = 0
    folder_no = 0
    while written < files:
        folder = nm / f"dep-{folder_no // 10:04d}" / f"lib{folder_no % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(min(per_folder, files - written)):
            write(folder / f"m{f}.js", f"module.exports = {written};\n")
            written += 1
        folder_no += 1


@dataclass(frozen=True, slots=True)
class StormTree:
    root: Path
    app: Path  # the repository a checkout rewrites; node_modules goes in it
    elsewhere: tuple[Path, Path]  # files in two other repositories, edited mid-storm
    tracked: int


def storm_tree(base: Path, *, tracked: int) -> StormTree:
    """A repository with `tracked` files on `main` and all of them different on `other`."""
    root = base / "storm"
    app = root / "app"
    app.mkdir(parents=True)
    git(app, "init", "-q")
    write(app / "package.json", '{"name": "app"}\n')
    write(app / ".gitignore", "node_modules/\n")
    paths = [app / "src" / f"area{i // 20:03d}" / f"mod_{i}.py" for i in range(tracked)]
    for i, path in enumerate(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, source(i, 1, lines=20))
    commit_all(app, "main")
    git(app, "checkout", "-q", "-b", "other")
    for i, path in enumerate(paths):
        write(path, source(i, 2, lines=20))
    commit_all(app, "other")
    git(app, "checkout", "-q", "main")
    elsewhere = []
    for name in ("notes", "docs"):
        other = root / name
        other.mkdir()
        git(other, "init", "-q")
        elsewhere.append(other / "plan.py")
        write(elsewhere[-1], source(0, 0))
        commit_all(other, "start")
    return StormTree(root, app, (elsewhere[0], elsewhere[1]), tracked)


@dataclass(frozen=True, slots=True)
class EditTree:
    root: Path
    files: list[Path]  # the cost figure's files, one per repository; files[0]: latency
    bulk: list[Path]  # the throughput figure's files, a few per repository


def edit_tree(base: Path, *, files: int, bulk_repos: int, bulk_per_repo: int) -> EditTree:
    """One file per repository for the cost figure and a few per repository for throughput:
    saves of many files of one repository within a few seconds are a storm (or are held back
    until the storm window has passed), which is not what these figures are about."""
    root = base / "edits"
    paths = []
    for i in range(files):
        repo = root / f"work-{i:02d}"
        repo.mkdir(parents=True)
        git(repo, "init", "-q")
        paths.append(repo / "module.py")
        write(paths[-1], source(i, 0))
        commit_all(repo, "start")
    bulk = []
    for r in range(bulk_repos):
        repo = root / f"bulk-{r:03d}"
        (repo / "src").mkdir(parents=True)
        git(repo, "init", "-q")
        for f in range(bulk_per_repo):
            bulk.append(repo / "src" / f"gen_{f}.py")
            write(bulk[-1], source(r * bulk_per_repo + f, 0, lines=30))
        commit_all(repo, "start")
    return EditTree(root, paths, bulk)
