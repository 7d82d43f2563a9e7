"""Built-in folder ignores look at where a folder stands: a repository named `build`, a package
named `coverage` that git tracks at the top of its repository, a watched root, and a folder an
include pattern names are tracked; the same names inside a project stay ignored. Real git
repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from hackatimed.watch.ignore import IgnoreRules
from hackatimed.watch.ignore_place import include_names_folder
from tests.gitrepo import make_repo


def test_a_repository_named_build_is_tracked(tmp_path: Path) -> None:
    code = tmp_path / "code"
    make_repo(code / "build", files={"main.c": "int main;\n"})
    make_repo(code / "app", files={"src/x.py": "x\n", ".gitignore": "*.o\n"})
    (code / "app" / "src" / "build").mkdir()
    (code / "app" / "src" / "build" / "out.c").write_text("o\n")
    rules = IgnoreRules(roots=[code])
    assert not rules.ignores_dir(code / "build")
    assert rules.ignores_file(code / "build" / "main.c") is None
    # Inside a project, `build` is still build output.
    assert rules.ignores_dir(code / "app" / "src" / "build")
    assert rules.ignores_file(code / "app" / "src" / "build" / "out.c") is not None


def test_coverage_py_keeps_its_package_jest_its_report_out(tmp_path: Path) -> None:
    code = tmp_path / "code"
    # coverage.py: the package `coverage/` at the top, tracked by git.
    make_repo(code / "coveragepy", files={"coverage/control.py": "x\n", "setup.py": "x\n"})
    # A JavaScript project: Jest's report `coverage/` at the top, untracked.
    make_repo(code / "web", files={"index.js": "x\n"})
    (code / "web" / "coverage").mkdir()
    (code / "web" / "coverage" / "lcov.info").write_text("x\n")
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(code / "coveragepy" / "coverage" / "control.py") is None
    assert rules.ignores_dir(code / "web" / "coverage")
    # Dependencies stay out at the top of a repository, gitignored or not.
    (code / "coveragepy" / "node_modules" / "x").mkdir(parents=True)
    assert rules.ignores_dir(code / "coveragepy" / "node_modules")
    # Deeper, the name decides.
    (code / "coveragepy" / "docs" / "build").mkdir(parents=True)
    assert rules.ignores_dir(code / "coveragepy" / "docs" / "build")


def test_untracked_build_output_at_the_top_stays_ignored(tmp_path: Path) -> None:
    code = tmp_path / "code"
    make_repo(code / "app", files={"main.c": "x\n"})  # no .gitignore at all
    (code / "app" / "build").mkdir()
    (code / "app" / "build" / "main.o").write_text("x\n")
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_dir(code / "app" / "build")


def test_a_dependency_folder_with_its_own_git_stays_ignored(tmp_path: Path) -> None:
    code = tmp_path / "code"
    make_repo(code / "app", files={"index.js": "x\n"})
    make_repo(code / "app" / "node_modules" / "from-git", files={"index.js": "x\n"})
    rules = IgnoreRules(roots=[code])
    assert rules.ignores_file(code / "app" / "node_modules" / "from-git" / "index.js")


def test_a_watched_root_is_never_ignored_for_its_name(tmp_path: Path) -> None:
    root = tmp_path / "build"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x\n")
    rules = IgnoreRules(roots=[root])
    assert rules.ignores_file(root / "src" / "a.py") is None


def test_an_include_naming_a_folder_beats_the_builtin_ignore(tmp_path: Path) -> None:
    code = tmp_path / "code"
    for folder in ("build", "node_modules/pkg", "dist"):
        (code / folder).mkdir(parents=True)
        (code / folder / "a.js").write_text("x\n")
    rules = IgnoreRules(roots=[code], include=["build/**", "*.js"])
    assert rules.ignores_file(code / "build" / "a.js") is None
    # `*.js` names no folder: node_modules and dist stay out.
    assert rules.ignores_file(code / "node_modules" / "pkg" / "a.js") is not None
    assert rules.ignores_file(code / "dist" / "a.js") is not None


@pytest.mark.parametrize(
    ("patterns", "rel", "named"),
    [
        (["build/**"], "build", True),
        (["/build/"], "build", True),
        (["build"], "app/build", True),  # no slash: at any depth
        (["**/build/*.py"], "app/build", True),
        (["app/build"], "app/build", True),
        (["app/build/**"], "build", False),  # anchored elsewhere
        (["build/**"], "app/build", False),  # a slash anchors it to the root
        (["*.py"], "build", False),
        (["**"], "node_modules", False),
        (["*/**"], "node_modules", False),
        (["!build/**"], "build", False),
        (["src/**"], "src/node_modules", False),
        (["bu*/**"], "build", True),
    ],
)
def test_include_names_folder(patterns: list[str], rel: str, named: bool) -> None:
    assert include_names_folder(patterns, rel) == named
