"""Project and branch detection against real git and mercurial repositories made here."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from hackatimed.config.load import ProjectMapping
from hackatimed.detect.project import ProjectDetector, ProjectInfo, _format_name, _root_count

HAS_HG = shutil.which("hg") is not None
NEEDS_HG = pytest.mark.skipif(
    not HAS_HG, reason="mercurial (hg) is not installed; `apt-get install mercurial` to run these"
)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NEEDS_NON_ROOT = pytest.mark.skipif(
    IS_ROOT, reason="root reads files whatever their mode, so nothing can be made unreadable"
)

# Tests must not depend on the machine's git or hg configuration.
VCS_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "HGRCPATH": "",
    "HGPLAIN": "1",
    "HGUSER": "t <t@example.com>",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env=VCS_ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def hg(cwd: Path, *args: str) -> None:
    subprocess.run(["hg", *args], cwd=cwd, env=VCS_ENV, check=True, capture_output=True)


def write(path: Path, text: str | bytes = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def new_repo(path: Path, files: dict[str, str] | None = None, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in (files or {"README.md": "hello\n"}).items():
        write(path / name, text)
    if commit:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "first")
    return path


@dataclass(frozen=True)
class World:
    base: Path  # holds the watched root and the repositories kept outside it
    code: Path  # the watched root


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("world")
    code = base / "code"
    src = base / "src"  # repositories outside the watched root: submodule origin, bare repo

    plain = new_repo(code / "plain", {"src/app.py": "print(1)\n"})
    write(plain / "docs/.wakatime-project", "Docs\n")
    write(plain / "web/.wakatime-project", "{project}-web\n")
    (plain / "vendor/hgthing/.hg").mkdir(parents=True)  # mercurial inside git: git wins

    feature = new_repo(code / "feature")
    git(feature, "checkout", "-q", "-b", "feature/login")
    detached = new_repo(code / "detached")
    git(detached, "checkout", "-q", "--detach")
    new_repo(code / "unborn", commit=False)

    main = new_repo(code / "main")
    git(main, "worktree", "add", "-q", "-b", "feature/wt", str(code / "main-wt"))

    new_repo(src / "lib", {"lib.c": "int x;\n"})
    sup = new_repo(code / "super")
    git(sup, "submodule", "add", "-q", str(src / "lib"), "deps/lib")
    git(sup, "commit", "-q", "-m", "add lib")

    git(base, "clone", "-q", "--bare", str(code / "plain"), str(src / "proj.git"))
    git(src / "proj.git", "worktree", "add", "-q", str(code / "proj-main"), "main")
    git(base, "clone", "-q", "--bare", str(code / "plain"), str(code / "layout/.bare"))
    git(code / "layout/.bare", "worktree", "add", "-q", str(code / "layout/trunk"), "main")

    sep = code / "sepwork"
    git(base, "init", "-q", "-b", "main", f"--separate-git-dir={src / 'sep.git'}", str(sep))

    new_repo(code / "wp", {".wakatime-project": "Custom Name\nrelease/1.0\n", "a.py": ""})
    new_repo(code / "wp-empty", {".wakatime-project": "\n", "a.py": ""})
    write(code / "wp-nogit/.wakatime-project", "Named\n")
    write(code / "wp-crlf/.wakatime-project", "\ufeffWindows Name\r\nwin-branch\r\n")

    mono = new_repo(code / "monorepo", {"apps/web/x.ts": "", "apps/api/y.py": "", "libs/z.py": ""})
    write(mono / "apps/web/special/.wakatime-project", "Special\n")

    if HAS_HG:
        hg(base, "init", str(code / "hgrepo"))
        hg(code / "hgrepo", "branch", "-q", "stable")
        hg(base, "init", str(code / "hgdefault"))
        hg(base, "init", str(code / "hgouter"))
        new_repo(code / "hgouter/inner-git")

    write(code / "clients/acme/src/main.c")
    write(code / "loose/deep/er/f.txt")
    write(code / "top.txt")
    write(base / "elsewhere/f.txt")
    return World(base=base, code=code)


MAPPINGS = (
    ProjectMapping(name="apps", path=Path("MONO/apps")),
    ProjectMapping(name="web", path=Path("MONO/apps/web")),
    ProjectMapping(name="re-{0}", pattern=r"/monorepo/apps/(\w+)/"),  # loses to the folder maps
    ProjectMapping(name="re-{0}", pattern=r"/MONOREPO/(libs)/"),  # case-insensitive, as wakatime
    ProjectMapping(name="client-{0}", pattern=r"/clients/(\w+)/"),
    ProjectMapping(name="never", pattern=r"/clients/(unclosed"),  # invalid: ignored
)


def detector_for(world: World, **kwargs: object) -> ProjectDetector:
    mono = world.code / "monorepo"
    mappings = [
        ProjectMapping(m.name, Path(str(m.path).replace("MONO", str(mono))), m.pattern)
        if m.path is not None
        else m
        for m in MAPPINGS
    ]
    return ProjectDetector(roots=[world.code], mappings=mappings, **kwargs)  # type: ignore[arg-type]


# (file under the watched root, project, branch, project root under the watched root, rule start)
CASES = [
    ("plain/src/app.py", "plain", "main", "plain", "git repository "),
    ("plain/README.md", "plain", "main", "plain", "git repository "),
    ("plain/docs/guide.md", "Docs", "main", "plain/docs", ".wakatime-project at "),
    ("plain/web/index.ts", "plain-web", "main", "plain/web", ".wakatime-project at "),
    ("plain/vendor/hgthing/x.py", "plain", "main", "plain", "git repository "),
    ("feature/README.md", "feature", "feature/login", "feature", "git repository "),
    ("detached/README.md", "detached", None, "detached", "git repository "),
    ("unborn/README.md", "unborn", "main", "unborn", "git repository "),
    ("main-wt/README.md", "main", "feature/wt", "main-wt", "git worktree of "),
    ("main/README.md", "main", "main", "main", "git repository "),
    ("super/deps/lib/lib.c", "lib", "main", "super/deps/lib", "git submodule "),
    ("super/README.md", "super", "main", "super", "git repository "),
    ("proj-main/src/app.py", "proj", "main", "proj-main", "git worktree of "),
    ("layout/trunk/src/app.py", "layout", "main", "layout/trunk", "git worktree of "),
    ("sepwork/new.py", "sepwork", "main", "sepwork", "git repository "),
    ("wp/a.py", "Custom Name", "release/1.0", "wp", ".wakatime-project at "),
    ("wp-empty/a.py", "wp-empty", "main", "wp-empty", ".wakatime-project at "),
    ("wp-nogit/sub/x.py", "Named", None, "wp-nogit", ".wakatime-project at "),
    ("wp-crlf/x.py", "Windows Name", "win-branch", "wp-crlf", ".wakatime-project at "),
    ("monorepo/apps/web/x.ts", "web", "main", "monorepo/apps/web", "projects.map "),
    ("monorepo/apps/api/y.py", "apps", "main", "monorepo/apps", "projects.map "),
    ("monorepo/apps/web/special/s.ts", "Special", "main", "monorepo/apps/web/special", ".waka"),
    ("monorepo/libs/z.py", "re-libs", "main", "monorepo/libs", "projectmap regex "),
    ("monorepo/README.md", "monorepo", "main", "monorepo", "git repository "),
    ("clients/acme/src/main.c", "client-acme", None, "clients/acme", "projectmap regex "),
    ("loose/deep/er/f.txt", "loose", None, "loose", "folder below root "),
    ("top.txt", "code", None, "", "root folder "),
    ("not/yet/created.py", "not", None, "not", "folder below root "),
]
HG_CASES = [
    ("hgrepo/a.py", "hgrepo", "stable", "hgrepo", "mercurial repository "),
    ("hgdefault/a.py", "hgdefault", "default", "hgdefault", "mercurial repository "),
    ("hgouter/inner-git/README.md", "inner-git", "main", "hgouter/inner-git", "git repository "),
    ("hgouter/other.py", "hgouter", "default", "hgouter", "mercurial repository "),
]


def check(info: ProjectInfo, root: Path, project: str, branch: str | None, rule: str) -> None:
    assert (info.project, info.branch) == (project, branch), info
    assert info.root == root, info
    # wakatime-cli: the slashes of "<root>/", i.e. one per path component of the root.
    assert info.project_root_count == len(root.parts), info
    assert info.rule.startswith(rule), info


@pytest.mark.parametrize(("rel", "project", "branch", "root", "rule"), CASES)
def test_rules_in_order(
    world: World, rel: str, project: str, branch: str | None, root: str, rule: str
) -> None:
    info = detector_for(world).detect(world.code / rel)
    check(info, world.code / root if root else world.code, project, branch, rule)


@NEEDS_HG
@pytest.mark.parametrize(("rel", "project", "branch", "root", "rule"), HG_CASES)
def test_mercurial(
    world: World, rel: str, project: str, branch: str | None, root: str, rule: str
) -> None:
    info = detector_for(world).detect(world.code / rel)
    check(info, world.code / root, project, branch, rule)
    assert info.vcs_root == (world.code / root if rule.startswith("git") else None)


def test_rule_texts_name_what_decided(world: World) -> None:
    d = detector_for(world)
    code, mono = world.code, world.code / "monorepo"
    assert d.detect(code / "main-wt/a.py").rule == f"git worktree of {code / 'main'}"
    assert (
        d.detect(code / "proj-main/a.py").rule == f"git worktree of {world.base / 'src/proj.git'}"
    )
    assert d.detect(code / "super/deps/lib/a.c").rule == f"git submodule {code / 'super/deps/lib'}"
    assert d.detect(code / "wp/a.py").rule == f".wakatime-project at {code / 'wp'}"
    web = d.detect(mono / "apps/web/x.ts")
    assert web.rule == f"projects.map '{mono / 'apps/web'}' -> web"
    assert d.detect(mono / "libs/z.py").rule == "projectmap regex '/MONOREPO/(libs)/'"
    assert d.detect(code / "loose/f.txt").rule == f"folder below root {code}"
    assert d.detect(code / "top.txt").rule == f"root folder {code}"
    assert d.detect(code / "wp/a.py").branch_rule == f".wakatime-project at {code / 'wp'}, line 2"
    assert d.detect(code / "feature/a").branch_rule == f"git HEAD in {code / 'feature/.git'}"
    assert d.detect(code / "detached/a").branch_rule.startswith("detached")  # type: ignore[union-attr]


def test_vcs_root_is_the_git_work_tree_whatever_decided_the_project(world: World) -> None:
    d = detector_for(world)
    assert d.detect(world.code / "plain/docs/x.md").vcs_root == world.code / "plain"
    assert d.detect(world.code / "main-wt/x").vcs_root == world.code / "main-wt"
    assert d.detect(world.code / "super/deps/lib/x").vcs_root == world.code / "super/deps/lib"
    assert d.detect(world.code / "loose/x").vcs_root is None


def test_only_the_folder_fallback_is_an_unknown_project(world: World) -> None:
    d = detector_for(world)
    assert d.detect(world.code / "loose/x").from_folder
    assert d.detect(world.code / "top.txt").from_folder
    for known in ("plain/docs/x.md", "wp/a.py", "main-wt/x", "monorepo/apps/web/x.ts"):
        assert not d.detect(world.code / known).from_folder, known


def test_outside_every_root_there_is_no_project(world: World) -> None:
    info = detector_for(world).detect(world.base / "elsewhere/f.txt")
    assert info == ProjectInfo(None, None, None, None, "no project: not under any watched root")


def test_nested_roots_use_the_deepest(world: World) -> None:
    d = ProjectDetector(roots=[world.code, world.code / "loose"])
    info = d.detect(world.code / "loose/deep/er/f.txt")
    assert (info.project, info.root) == ("deep", world.code / "loose/deep")


def test_project_root_count_matches_wakatime_documentation() -> None:
    # The API docs' example: /Users/user/projects/wakatime is 5 for models/user.py below it.
    folder = "/Users/user/projects/wakatime"
    assert _root_count(f"{folder}/models/user.py", folder) == 5
    assert _root_count("/elsewhere/user.py", folder) is None


@pytest.mark.parametrize(
    ("template", "groups", "expected"),
    [
        ("project{0}", ("42",), "project42"),
        ("{1}-{0}", ("a", "b"), "b-a"),
        ("{}{}", ("a", "b"), "ab"),
        ("{{literal}}", (), "{literal}"),
        ("x{0}", (None,), "x"),  # an optional group that did not take part
        ("{name}", ("a",), None),  # named fields are an error in wakatime-cli: pattern skipped
        ("{3}", ("a",), None),
        ("{0.__class__}", ("a",), None),  # no attribute access
        ("open{", ("a",), None),
    ],
)
def test_projectmap_name_formatting(
    template: str, groups: tuple[str | None, ...], expected: str | None
) -> None:
    assert _format_name(template, groups) == expected


# ---- repositories broken, half-written, deleted ----


def fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def loop(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(path)


@pytest.mark.parametrize(
    "make_broken",
    [
        pytest.param(lambda f: write(f / ".git", ""), id="empty .git file"),
        pytest.param(lambda f: write(f / ".git", "not a gitdir line\n"), id="garbage .git file"),
        pytest.param(lambda f: write(f / ".git", b"\x00\xff\xfe\n"), id="binary .git file"),
        pytest.param(lambda f: write(f / ".git", "gitdir: /nonexistent/x\n"), id="points nowhere"),
        pytest.param(lambda f: write(f / ".git", "gitdir:\n"), id="gitdir empty"),
        pytest.param(lambda f: (f / ".git").symlink_to(f / "gone"), id="dangling symlink"),
        pytest.param(lambda f: (f / ".git").mkdir(), id="no HEAD yet"),
        pytest.param(lambda f: write(f / ".git/HEAD", ""), id="empty HEAD"),
        pytest.param(lambda f: write(f / ".git/HEAD", "garbage\n"), id="garbled HEAD"),
        pytest.param(lambda f: write(f / ".git/HEAD", "ref: nowhere\n"), id="HEAD without refs/"),
        pytest.param(lambda f: (f / ".git/HEAD").mkdir(parents=True), id="HEAD is a folder"),
        pytest.param(lambda f: fifo(f / ".git/HEAD"), id="HEAD is a FIFO"),
        pytest.param(lambda f: loop(f / ".git/HEAD"), id="HEAD is a symlink loop"),
        pytest.param(lambda f: write(f / ".git", "gitdir: .git\n"), id="gitdir is the file"),
        pytest.param(lambda f: fifo(f / ".wakatime-project"), id=".wakatime-project is a FIFO"),
        pytest.param(lambda f: (f / ".hg").touch(), id=".hg is a file"),
        pytest.param(lambda f: (f / ".wakatime-project").mkdir(), id=".wakatime-project folder"),
    ],
)
def test_broken_repositories_fall_back(tmp_path: Path, make_broken: object) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    make_broken(folder)  # type: ignore[operator]
    info = ProjectDetector(roots=[tmp_path]).detect(folder / "src/a.py")
    assert info == ProjectInfo(
        "proj", None, folder, len(folder.parts), f"folder below root {tmp_path}", from_folder=True
    )


def test_gitfile_pointing_to_a_folder_without_head(tmp_path: Path) -> None:
    (tmp_path / "gitdir").mkdir()
    write(tmp_path / "proj/.git", f"gitdir: {tmp_path / 'gitdir'}\n")
    info = ProjectDetector(roots=[tmp_path]).detect(tmp_path / "proj/a.py")
    assert (info.project, info.branch, info.rule[:6]) == ("proj", None, "folder")


def test_broken_gitfile_inside_a_repository_leaves_the_outer_one(tmp_path: Path) -> None:
    outer = new_repo(tmp_path / "outer")
    write(outer / "half/.git", "gitdir: ../nowhere\n")
    info = ProjectDetector(roots=[tmp_path]).detect(outer / "half/a.py")
    assert (info.project, info.branch, info.root) == ("outer", "main", outer)


def test_relative_gitdir_and_reftable_placeholder(tmp_path: Path) -> None:
    write(tmp_path / "store/HEAD", "ref: refs/heads/.invalid\n")  # how reftable repos look
    write(tmp_path / "proj/.git", "gitdir: ../store\n")
    info = ProjectDetector(roots=[tmp_path]).detect(tmp_path / "proj/a.py")
    assert (info.project, info.branch, info.rule) == (
        "proj",
        None,
        f"git repository {tmp_path / 'proj'}",
    )


def test_deleted_repository_after_invalidate_falls_back(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "gone")
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(repo / "README.md").rule.startswith("git repository")
    shutil.rmtree(repo)
    d.invalidate(repo / ".git/HEAD")
    info = d.detect(repo / "README.md")
    assert (info.project, info.branch, info.rule) == ("gone", None, f"folder below root {tmp_path}")
    assert d.head_blob(repo / "README.md") is None
    assert ProjectDetector(roots=[tmp_path]).detect(repo / "README.md").project == "gone"


@NEEDS_NON_ROOT
def test_unreadable_folders_and_files(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "locked")
    write(repo / "sub/.wakatime-project", "Secret\n").chmod(0)
    (repo / ".git").chmod(0)
    try:
        info = ProjectDetector(roots=[tmp_path]).detect(repo / "sub/a.py")
        assert (info.project, info.branch) == ("locked", None)
    finally:
        (repo / ".git").chmod(0o755)


# ---- caching and invalidation ----


def test_checkout_shows_after_invalidating_head(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"a.py": "", "pkg/b.py": ""})
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(repo / "a.py").branch == "main"
    git(repo, "checkout", "-q", "-b", "feature/x")
    assert d.detect(repo / "a.py").branch == "main"  # cached until the watcher says HEAD changed
    d.invalidate(repo / ".git/HEAD")
    assert d.detect(repo / "a.py").branch == "feature/x"
    assert d.detect(repo / "pkg/b.py").branch == "feature/x"
    git(repo, "checkout", "-q", "--detach")
    d.invalidate(repo / ".git/HEAD")
    assert d.detect(repo / "a.py").branch is None


def test_invalidation_is_targeted(tmp_path: Path) -> None:
    one, two = new_repo(tmp_path / "one"), new_repo(tmp_path / "two")
    d = ProjectDetector(roots=[tmp_path])
    d.detect(one / "a.py"), d.detect(two / "a.py")
    git(one, "checkout", "-q", "-b", "b1")
    git(two, "checkout", "-q", "-b", "b2")
    d.invalidate(two / ".git/HEAD")
    assert (d.detect(one / "a.py").branch, d.detect(two / "a.py").branch) == ("main", "b2")


def test_worktree_head_lives_in_the_main_repository(tmp_path: Path) -> None:
    main = new_repo(tmp_path / "main")
    git(main, "worktree", "add", "-q", "-b", "wt-branch", str(tmp_path / "wt"))
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(tmp_path / "wt/a.py").branch == "wt-branch"
    git(tmp_path / "wt", "checkout", "-q", "-b", "other")
    d.invalidate(main / ".git/worktrees/wt/HEAD")
    assert d.detect(tmp_path / "wt/a.py").branch == "other"


def test_wakatime_project_created_changed_and_removed(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"sub/a.py": ""})
    d = ProjectDetector(roots=[tmp_path])
    marker = repo / ".wakatime-project"
    assert d.detect(repo / "sub/a.py").project == "repo"
    write(marker, "First\n")
    d.invalidate(marker)
    assert d.detect(repo / "sub/a.py").project == "First"
    write(marker, "Second\nrel\n")
    d.invalidate(marker)
    assert (d.detect(repo / "sub/a.py").project, d.detect(repo / "sub/a.py").branch) == (
        "Second",
        "rel",
    )
    marker.unlink()
    d.invalidate(marker)
    assert d.detect(repo / "sub/a.py").project == "repo"


def test_git_init_in_a_watched_folder(tmp_path: Path) -> None:
    folder = tmp_path / "later"
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(folder / "x/a.py").rule.startswith("folder below root")
    new_repo(folder / "x")
    d.invalidate(folder / "x/.git/HEAD")
    assert (d.detect(folder / "x/a.py").project, d.detect(folder / "x/a.py").branch) == (
        "x",
        "main",
    )


@NEEDS_HG
def test_mercurial_branch_change(tmp_path: Path) -> None:
    hg(tmp_path, "init", "repo")
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(tmp_path / "repo/a.py").branch == "default"
    hg(tmp_path / "repo", "branch", "-q", "topic")
    d.invalidate(tmp_path / "repo/.hg/branch")
    assert d.detect(tmp_path / "repo/a.py").branch == "topic"


def test_set_roots_changes_the_fallback(tmp_path: Path) -> None:
    d = ProjectDetector(roots=[tmp_path])
    assert d.detect(tmp_path / "a/b/c.txt").project == "a"
    d.set_roots([tmp_path / "a"])
    assert d.detect(tmp_path / "a/b/c.txt").project == "b"


def test_warm_detection_does_not_touch_the_disk(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    d = ProjectDetector(roots=[tmp_path])
    first = d.detect(repo / "README.md")
    repo.rename(tmp_path / "moved")  # anything read from disk now would differ
    assert d.detect(repo / "README.md") is first


def test_caches_are_bounded(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    d = ProjectDetector(roots=[tmp_path], max_cached=8)
    files = [repo / f"d{i}" / f"e{i}" / "a.py" for i in range(40)]
    first = [d.detect(f) for f in files]
    assert len(d._files.items) <= 8 and len(d._folders.items) <= 8
    assert [d.detect(f) for f in files] == first


# ---- head_blob ----


def test_head_blob_is_the_committed_content(tmp_path: Path) -> None:
    content = b"line one\r\nbin \x00\xff\n\n"
    repo = new_repo(tmp_path / "repo", {})
    write(repo / "dir with space/ünï.txt", content)
    write(repo / "a.py", "old\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "c")
    write(repo / "a.py", "new\n")
    write(repo / "untracked.py", "u\n")
    d = ProjectDetector(roots=[tmp_path])
    assert d.head_blob(repo / "dir with space/ünï.txt") == content
    assert d.head_blob(repo / "a.py") == b"old\n"
    assert d.head_blob(repo / "untracked.py") is None
    assert d.head_blob(repo / "never/existed.py") is None
    assert d.head_blob(tmp_path / "outside.py") is None


def test_head_blob_without_commits(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo", {"a.py": "x\n"}, commit=False)
    assert ProjectDetector(roots=[tmp_path]).head_blob(repo / "a.py") is None


def test_head_blob_in_worktree_and_submodule(world: World) -> None:
    d = detector_for(world)
    assert d.head_blob(world.code / "main-wt/README.md") == b"hello\n"
    assert d.head_blob(world.code / "super/deps/lib/lib.c") == b"int x;\n"
    assert d.head_blob(world.code / "proj-main/src/app.py") == b"print(1)\n"
    assert d.head_blob(world.code / "loose/deep/er/f.txt") is None
