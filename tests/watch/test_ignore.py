"""Ignore rules, on real folders, real .gitignore files and real git repositories.

Where git has an opinion (gitignore files, info/exclude, worktrees), `git check-ignore` is the
oracle: the rules must agree with it path by path.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from hackatimed.config.load import WatchConfig
from hackatimed.watch.ignore import IgnoreReason, IgnoreRules, is_rule_file
from hackatimed.watch.ignore_spec import git_excludes_file

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no one's core.excludesFile may sway the oracle
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=GIT_ENV,
        check=False,
        timeout=30,
    )


def git_ignored(repo: Path, paths: Iterable[Path]) -> set[Path]:
    """What git itself ignores among `paths` (which exist)."""
    rels = [str(p.relative_to(repo)) + ("/" if p.is_dir() else "") for p in paths]
    out = git(repo, "check-ignore", "--stdin", stdin="\n".join(rels) + "\n")
    assert out.returncode in (0, 1), out.stderr
    return {repo / line.rstrip("/") for line in out.stdout.splitlines()}


def make(root: Path, *entries: str) -> None:
    """Create files (and folders, for names ending in /) below root."""
    for entry in entries:
        path = root / entry
        if entry.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x\n")


def reason(rules: IgnoreRules, path: Path) -> IgnoreReason | None:
    return rules.folder_reason(path) if path.is_dir() else rules.ignores_file(path)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    root.mkdir()
    return root


@pytest.fixture
def repo(code: Path) -> Path:
    repo = code / "proj"
    repo.mkdir()
    assert git(repo, "init", "-q").returncode == 0
    (repo / ".gitignore").write_text(
        "# generated\n"
        "*.log\n"
        "!keep.log\n"
        "gen/\n"
        "!gen/inside.txt\n"  # cannot re-include below an ignored folder
        "/anchored.txt\n"
        "out/*\n"
        "!out/kept.txt\n"
        "docs/**/draft-*\n"
        "\n"
        "trailing\\ space\\ \n"
    )
    (repo / "sub").mkdir()
    (repo / "sub" / ".gitignore").write_text("!x.log\nlocal.txt\n/only-here.md\n")
    (repo / ".git" / "info" / "exclude").write_text("# mine\nsecret.txt\n")
    make(
        repo,
        "a.py",
        "a.log",
        "keep.log",
        "gen/inside.txt",
        "gen/deep/file.c",
        "src/gen/x.c",
        "src/gen.txt",
        "anchored.txt",
        "src/anchored.txt",
        "out/kept.txt",
        "out/other.txt",
        "out/nested/file.txt",
        "docs/a/b/draft-1.md",
        "docs/final.md",
        "sub/x.log",
        "sub/y.log",
        "sub/local.txt",
        "sub/deeper/local.txt",
        "only-here.md",
        "sub/only-here.md",
        "sub/deeper/only-here.md",
        "secret.txt",
        "sub/secret.txt",
        "trailing space ",
        "trailing space",
    )
    return repo


GITIGNORE_TABLE: list[tuple[str, str | None]] = [
    # path below the repository, and the gitignore line that decides (None: tracked)
    ("a.py", None),
    ("a.log", "*.log"),
    ("keep.log", None),
    ("gen", "gen/"),
    ("gen/inside.txt", "gen/"),  # the folder is ignored, so the negation cannot reach in
    ("gen/deep/file.c", "gen/"),
    ("src/gen", "gen/"),  # dir-only pattern without a slash: any depth
    ("src/gen.txt", None),
    ("anchored.txt", "/anchored.txt"),
    ("src/anchored.txt", None),
    ("out/kept.txt", None),
    ("out/other.txt", "out/*"),
    ("out/nested", "out/*"),
    ("out/nested/file.txt", "out/*"),
    ("docs/a/b/draft-1.md", "docs/**/draft-*"),
    ("docs/final.md", None),
    ("sub/x.log", None),  # the nested .gitignore re-includes it
    ("sub/y.log", "*.log"),
    ("sub/local.txt", "local.txt"),
    ("sub/deeper/local.txt", "local.txt"),
    ("only-here.md", None),
    ("sub/only-here.md", "/only-here.md"),  # anchored to the nested .gitignore's folder
    ("sub/deeper/only-here.md", None),
    ("secret.txt", "secret.txt"),  # .git/info/exclude
    ("sub/secret.txt", "secret.txt"),
    ("trailing space ", "trailing\\ space\\ "),
    ("trailing space", None),
]


def test_gitignore_table_agrees_with_git(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code])
    by_git = git_ignored(repo, [repo / rel for rel, _ in GITIGNORE_TABLE])
    for rel, line in GITIGNORE_TABLE:
        path = repo / rel
        got = reason(rules, path)
        assert (got is not None) == (path in by_git), f"{rel}: git and the rules disagree: {got}"
        if line is None:
            assert got is None, rel
        else:
            assert got is not None and got.rule == "gitignore", rel
            assert got.pattern == line, rel


def test_gitignore_reason_names_the_file_and_line(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code])
    nested = rules.ignores_file(repo / "sub" / "local.txt")
    assert nested == IgnoreReason(
        "gitignore", "local.txt", repo / "sub" / "local.txt", repo / "sub" / ".gitignore", 2
    )
    excluded = rules.ignores_file(repo / "secret.txt")
    assert excluded is not None
    assert (excluded.source, excluded.line) == (repo / ".git" / "info" / "exclude", 2)
    inside = rules.ignores_file(repo / "gen" / "deep" / "file.c")
    assert inside is not None and inside.path == repo / "gen"  # the folder that rules it out
    assert "'gen/'" in inside.describe() and ".gitignore, line 4" in inside.describe()


def test_dir_only_pattern_leaves_a_file_of_that_name(code: Path, repo: Path) -> None:
    make(repo, "lib/gen")  # a file named like the dir-only pattern
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(repo / "lib" / "gen") is None
    assert rules.ignores_dir(repo / "src" / "gen")
    assert git_ignored(repo, [repo / "lib" / "gen"]) == set()


def test_gitignore_outside_a_repository_has_no_effect(code: Path) -> None:
    make(code, "plain/.gitignore", "plain/a.log")
    (code / "plain" / ".gitignore").write_text("*.log\n")
    assert IgnoreRules(roots=[code]).ignores_file(code / "plain" / "a.log") is None


def test_root_inside_a_repository_still_follows_its_gitignore(repo: Path) -> None:
    rules = IgnoreRules(roots=[repo / "sub"])
    assert rules.ignores_file(repo / "sub" / "y.log") is not None
    assert rules.ignores_file(repo / "sub" / "x.log") is None


def test_nested_repository_starts_afresh(code: Path, repo: Path) -> None:
    inner = repo / "vendored-lib"
    make(inner, "a.log", "b.txt")
    assert git(inner, "init", "-q").returncode == 0
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(inner / "a.log") is None  # the outer *.log stops at the inner repo
    assert git_ignored(inner, [inner / "a.log"]) == set()


def test_linked_worktree_uses_the_main_repositorys_info_exclude(code: Path, repo: Path) -> None:
    assert git(repo, "add", ".gitignore").returncode == 0
    assert git(repo, "commit", "-q", "-m", "init").returncode == 0
    worktree = code / "proj-wt"
    assert git(repo, "worktree", "add", "-q", str(worktree)).returncode == 0
    make(worktree, "secret.txt", "w.log", "w.py")
    rules = IgnoreRules(roots=[code])
    expected = git_ignored(worktree, [worktree / n for n in ("secret.txt", "w.log", "w.py")])
    assert expected == {worktree / "secret.txt", worktree / "w.log"}
    for name in ("secret.txt", "w.log", "w.py"):
        assert (rules.ignores_file(worktree / name) is not None) == (worktree / name in expected)


def test_respect_gitignore_off(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code], respect_gitignore=False)
    assert rules.ignores_file(repo / "a.log") is None
    assert rules.ignores_file(repo / "secret.txt") is None
    assert rules.ignores_dir(repo / ".git")  # built-ins still hold


def test_malformed_gitignore_line_is_skipped(code: Path, repo: Path) -> None:
    (repo / ".gitignore").write_text("!\n*.log\n")
    rules = IgnoreRules(roots=[code])
    hit = rules.ignores_file(repo / "a.log")
    assert hit is not None and hit.line == 2
    assert rules.ignores_file(repo / "a.py") is None


@pytest.mark.parametrize(
    ("folder", "rule", "pattern"),
    [
        (".git", "builtin-folder", ".git"),
        (".hg", "builtin-folder", ".hg"),
        ("node_modules", "builtin-folder", "node_modules"),
        ("web/node_modules", "builtin-folder", "node_modules"),
        ("__pycache__", "builtin-folder", "__pycache__"),
        (".venv", "builtin-folder", ".venv"),
        (".mypy_cache", "builtin-folder", ".mypy_cache"),
        ("target", "builtin-folder", "target"),
        ("dist", "builtin-folder", "dist"),
        ("build", "builtin-folder", "build"),
        ("vendor", "builtin-folder", "vendor"),
        (".idea", "builtin-folder", ".idea"),
        ("pkg.egg-info", "builtin-folder", "*.egg-info"),
        ("cmake-build-debug", "builtin-folder", "cmake-build-*"),
        ("Pods", "builtin-folder", "Pods"),
        ("DerivedData", "builtin-folder", "DerivedData"),
        (".terraform", "builtin-folder", ".terraform"),
        ("coverage", "builtin-folder", "coverage"),
        ("py311", "virtualenv", "pyvenv.cfg"),  # any name, found by its marker
        ("scratch-cache", "cache-folder", "CACHEDIR.TAG"),
        (".vscode", None, None),  # settings.json and launch.json are edited by hand
        ("env", None, None),  # without pyvenv.cfg: may be real configuration
        ("src", None, None),
        ("builder", None, None),
    ],
)
def test_builtin_folders(code: Path, folder: str, rule: str | None, pattern: str | None) -> None:
    make(code, f"p/{folder}/", "p/py311/pyvenv.cfg", "p/scratch-cache/CACHEDIR.TAG")
    rules = IgnoreRules(roots=[code])
    got = rules.folder_reason(code / "p" / folder)
    assert rules.ignores_dir(code / "p" / folder) == (rule is not None)
    if rule is None:
        assert got is None
        assert rules.ignores_file(code / "p" / folder / "x.py") is None
    else:
        assert got is not None and (got.rule, got.pattern) == (rule, pattern)
        inner = rules.ignores_file(code / "p" / folder / "deep" / "x.py")
        assert inner == got  # everything below an ignored folder, for the same reason


EDITOR_TEMPORARIES = [
    (".main.py.swp", "Vim swap"),
    (".main.py.swo", "Vim swap"),
    (".main.py.swx", "Vim swap"),
    ("4913", "Vim write probe"),
    ("5036", "Vim write probe"),  # 4913 + 123: vim's next probe when 4913 exists
    ("main.py~", "backup"),
    ("#main.py#", "Emacs auto-save"),
    (".#main.py", "Emacs lock"),
    ("main.py___jb_tmp___", "JetBrains"),
    ("main.py___jb_old___", "JetBrains"),
    (".goutputstream-AB12CD", "GIO"),
    (".~lock.report.odt#", "LibreOffice"),
    ("~$report.docx", "Office lock"),
    ("settings.json.vsctmp", "VS Code"),
    ("main.py.kate-swp", "Kate"),
    ("main.py.tmp", "temporary"),
    ("sedAb12Cd", "sed -i"),
    ("._main.py", "AppleDouble"),
    (".DS_Store", "OS litter"),
    ("Thumbs.db", "OS litter"),
    ("desktop.ini", "OS litter"),
    (".directory", "OS litter"),
]
TRACKED_LOOKALIKES = [
    "main.py",
    "5037",  # not on vim's probe ladder
    "4912",
    "2024",
    "icon.svg",
    "swap.py",
    "#notes.md",
    "tmp.py",
    "notes.tmpl",
    "sed.py",
    "sedimentary",
    ".gitignore",
    ".env",
    "lock.py",
    "Makefile",
]


@pytest.mark.parametrize(("name", "label"), EDITOR_TEMPORARIES)
def test_editor_temporaries_and_os_litter(code: Path, name: str, label: str) -> None:
    make(code, f"p/{name}")
    got = IgnoreRules(roots=[code]).ignores_file(code / "p" / name)
    assert got is not None and got.rule == "builtin-file"
    assert label in got.pattern
    assert label in got.describe()


@pytest.mark.parametrize("name", TRACKED_LOOKALIKES)
def test_lookalikes_are_tracked(code: Path, name: str) -> None:
    make(code, f"p/{name}")
    assert IgnoreRules(roots=[code]).ignores_file(code / "p" / name) is None


@pytest.mark.parametrize(
    ("present", "name", "swap"),
    [
        (["example.swg"], "example.swg", False),  # SWIG's interface file, alone
        (["typemaps.swg", "module.i"], "typemaps.swg", False),
        ([".main.c.swg", "main.c"], ".main.c.swg", True),  # Vim's 7th swap, beside its file
        ([".bashrc.swg", ".bashrc"], ".bashrc.swg", True),  # a hidden file's swap: no extra dot
        ([".new.c.swg"], ".new.c.swg", True),  # a new buffer's swap: hidden, as Vim names it
        (["notes.swg", "notes"], "notes.swg", True),  # its file beside it
    ],
)
def test_a_swig_file_is_not_a_vim_swap_file(
    code: Path, present: list[str], name: str, swap: bool
) -> None:
    make(code, *(f"p/{n}" for n in present))
    got = IgnoreRules(roots=[code]).ignores_file(code / "p" / name)
    assert (got is not None and "Vim swap" in got.pattern) == swap
    assert swap or got is None


def test_outside_roots(code: Path, tmp_path: Path) -> None:
    make(tmp_path, "elsewhere/a.py")
    rules = IgnoreRules(roots=[code])
    got = rules.ignores_file(tmp_path / "elsewhere" / "a.py")
    assert got is not None and got.rule == "outside-roots"
    assert rules.ignores_dir(tmp_path)
    assert not rules.ignores_dir(code)
    assert IgnoreRules(roots=[]).ignores_file(code / "a.py") is not None


def test_watch_exclude_patterns_are_relative_to_each_root(code: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    make(code, "a/scratch/x.py", "scratch/y.py", "top.md", "a/top.md", "private/k.py", "a.bak")
    make(other, "private/k.py", "top.md")
    rules = IgnoreRules(
        roots=[code, other],
        exclude=["scratch/", "/top.md", "*.bak", f"{code}/private", "~/other/top.md"],
        home=tmp_path,
    )
    assert rules.ignores_dir(code / "a" / "scratch")
    assert rules.ignores_dir(code / "scratch")
    got = rules.ignores_file(code / "scratch" / "y.py")
    assert got is not None and (got.rule, got.pattern) == ("watch-exclude", "scratch/")
    assert rules.ignores_file(code / "top.md") is not None  # anchored to the root
    assert rules.ignores_file(code / "a" / "top.md") is None
    assert rules.ignores_file(code / "a.bak") is not None
    assert rules.ignores_dir(code / "private")  # an absolute path, inside this root
    assert not rules.ignores_dir(other / "private")  # ...and only there
    assert rules.ignores_file(other / "top.md") is not None  # ~ expanded against `home`
    assert rules.ignores_file(code / "top.md") is not None


def test_home_pattern_without_home_is_skipped_with_a_warning(
    code: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make(code, "x.py")
    with caplog.at_level(logging.WARNING):
        rules = IgnoreRules(roots=[code], exclude=["~/code/x.py"])
    assert rules.ignores_file(code / "x.py") is None
    assert "~/code/x.py" in caplog.text


def test_include_beats_exclude(code: Path) -> None:
    make(code, "p/important.log", "p/other.log", "p/a.py", "p/README.md", "p/docs/x.py")
    rules = IgnoreRules(roots=[code], exclude=["*.log", "docs/"], include=["important.log", "*.py"])
    assert rules.ignores_file(code / "p" / "important.log") is None
    assert rules.ignores_file(code / "p" / "a.py") is None
    other = rules.ignores_file(code / "p" / "other.log")
    assert other is not None and other.rule == "watch-include"
    readme = rules.ignores_file(code / "p" / "README.md")
    assert readme is not None and readme.rule == "watch-include"
    # An excluded folder is never watched, so an include cannot reach into it (as in git).
    docs = rules.ignores_file(code / "p" / "docs" / "x.py")
    assert docs is not None and docs.rule == "watch-exclude"


def test_include_does_not_override_builtins_or_gitignore(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code], include=["*.log", "*.swp"])
    make(code, "p/.a.swp")
    assert rules.ignores_file(repo / "a.log") is not None
    assert rules.ignores_file(code / "p" / ".a.swp") is not None


def test_wakatime_regexes_match_the_absolute_path_case_insensitively(
    code: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make(code, "Secret/a.py", "secret/keep.py", "open/b.py")
    with caplog.at_level(logging.WARNING):
        rules = IgnoreRules(
            roots=[code],
            exclude_regex=["/SECRET/", "(?i)^/nowhere/", "([unclosed"],
            include_regex=["keep\\.py$"],
        )
    assert "([unclosed" in caplog.text  # skipped with a warning, as wakatime-cli does
    got = rules.ignores_file(code / "Secret" / "a.py")
    assert got is not None and (got.rule, got.pattern) == ("exclude-regex", "/SECRET/")
    assert rules.ignores_file(code / "secret" / "keep.py") is None  # include rescues
    assert rules.ignores_file(code / "open" / "b.py") is None


def test_invalidate_after_editing_a_gitignore(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code])
    make(repo, "src/new.tmpl", "sub/deeper/z.txt", "notes/")
    assert rules.ignores_file(repo / "src" / "new.tmpl") is None
    assert rules.ignores_file(repo / "sub" / "deeper" / "z.txt") is None
    assert not rules.ignores_dir(repo / "notes")

    (repo / ".gitignore").write_text("*.tmpl\nnotes/\n")
    assert rules.ignores_file(repo / "src" / "new.tmpl") is None  # cached until told
    rules.invalidate(repo / ".gitignore")
    assert rules.ignores_file(repo / "src" / "new.tmpl") is not None
    assert rules.ignores_dir(repo / "notes")
    assert rules.ignores_file(repo / "a.log") is None  # the old line is gone

    (repo / "sub" / ".gitignore").write_text("z.txt\n")
    rules.invalidate(repo / "sub" / ".gitignore")
    assert rules.ignores_file(repo / "sub" / "deeper" / "z.txt") is not None


def test_invalidate_after_editing_info_exclude(code: Path, repo: Path) -> None:
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(repo / "a.py") is None
    (repo / ".git" / "info" / "exclude").write_text("a.py\n")
    rules.invalidate(repo / ".git" / "info" / "exclude")
    assert rules.ignores_file(repo / "a.py") is not None


def test_invalidate_after_a_repository_or_virtualenv_appears(code: Path) -> None:
    make(code, "p/.gitignore", "p/a.log", "p/myenv/lib/x.py")
    (code / "p" / ".gitignore").write_text("*.log\n")
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(code / "p" / "a.log") is None
    assert not rules.ignores_dir(code / "p" / "myenv")
    assert git(code / "p", "init", "-q").returncode == 0
    rules.invalidate(code / "p" / ".git")
    assert rules.ignores_file(code / "p" / "a.log") is not None
    make(code, "p/myenv/pyvenv.cfg")
    rules.invalidate(code / "p" / "myenv" / "pyvenv.cfg")
    assert rules.ignores_dir(code / "p" / "myenv")


def test_is_rule_file() -> None:
    for path in ("/r/.gitignore", "/r/.git", "/r/.git/info/exclude", "/r/v/pyvenv.cfg"):
        assert is_rule_file(Path(path)), path
    for path in ("/r/a.py", "/r/gitignore.md", "/r/src/.gitkeep"):
        assert not is_rule_file(Path(path)), path


def test_cache_stays_bounded_and_right(code: Path, repo: Path) -> None:
    folders = [repo / f"d{i}" for i in range(200)]
    for folder in folders:
        make(folder, "a.log", "a.py")
    rules = IgnoreRules(roots=[code], max_cached_folders=32)
    for _ in range(2):
        for folder in folders:
            assert rules.ignores_file(folder / "a.log") is not None
            assert rules.ignores_file(folder / "a.py") is None
    assert len(rules._folders) <= 32


def test_innermost_root_decides(code: Path) -> None:
    inner = code / "inner"
    make(inner, "x.md", "y.md")
    rules = IgnoreRules(roots=[code, inner], exclude=["/x.md"])
    assert rules.ignores_file(inner / "x.md") is not None  # anchored to the inner root
    assert rules.ignores_file(inner / "y.md") is None


# -- git's global excludes (core.excludesFile) --------------------------------------------------


def test_git_global_excludes_apply_inside_repositories_as_git_applies_them(
    code: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[core]\n\texcludesFile = ~/.gitignore_global\n")
    (home / ".gitignore_global").write_text("*.bak2\n.idea/\nnotes-*.md\n")
    with (repo / ".gitignore").open("a") as f:
        f.write("!keep.bak2\n")  # a repository's own rule beats the global one
    make(repo, "a.bak2", "keep.bak2", ".idea/workspace.xml", "notes-mine.md", "src/main.py")
    make(code, "loose/b.bak2")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    rules = IgnoreRules.from_config(WatchConfig(roots=(code,)), home=home)
    paths = [repo / n for n in ("a.bak2", "keep.bak2", ".idea", "notes-mine.md", "src/main.py")]
    oracle = {k: v for k, v in GIT_ENV.items() if k != "GIT_CONFIG_GLOBAL"} | {"HOME": str(home)}
    rels = [str(p.relative_to(repo)) + ("/" if p.is_dir() else "") for p in paths]
    out = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--stdin"],
        input="\n".join(rels) + "\n",
        capture_output=True,
        text=True,
        env=oracle,
        check=False,
    )
    expected = {repo / line.rstrip("/") for line in out.stdout.splitlines()}
    assert expected == {repo / "a.bak2", repo / ".idea", repo / "notes-mine.md"}
    for path in paths:
        assert (reason(rules, path) is not None) == (path in expected), path
    hit = rules.ignores_file(repo / "a.bak2")
    assert hit is not None and hit.source == home / ".gitignore_global"
    # Outside any repository git has no say, its global file neither.
    assert rules.ignores_file(code / "loose" / "b.bak2") is None


def test_git_global_excludes_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    home = tmp_path / "home"
    home.mkdir()
    assert git_excludes_file(home) is None  # no config, no default file
    default = home / ".config" / "git" / "ignore"
    default.parent.mkdir(parents=True)
    default.write_text("*.tmp2\n")
    assert git_excludes_file(home) == default
