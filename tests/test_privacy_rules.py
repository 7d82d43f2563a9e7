"""What each privacy switch takes out of a heartbeat (on the wire: tests/test_privacy.py)."""

from __future__ import annotations

import dataclasses

from hackatimed.privacy import PrivacyRules, apply_privacy
from tests.heartbeats import full


def test_no_rules_changes_nothing() -> None:
    hb = full()
    assert apply_privacy(hb, PrivacyRules()) is hb


def test_hidden_file_name_keeps_the_extension_only() -> None:
    hb = apply_privacy(full(), PrivacyRules(hide_file_names=True))
    assert hb.entity == "HIDDEN.py"
    assert (hb.lines, hb.lineno, hb.cursorpos, hb.dependencies, hb.project_root_count) == (
        None,
    ) * 5
    assert hb.branch is None
    assert (hb.project, hb.language, hb.line_additions) == ("app", "Python", 2)


def test_extensionless_hidden_file() -> None:
    hb = apply_privacy(
        dataclasses.replace(full(), entity="/a/Makefile"), PrivacyRules(hide_file_names=True)
    )
    assert hb.entity == "HIDDEN"


# -- privacy patterns, as ~/.wakatime.cfg gives them -------------------------------------------


def test_file_patterns_hide_only_the_files_they_match() -> None:
    rules = PrivacyRules(hide_file_names=(r"/secret/", r"\.ENV$"))
    kept = apply_privacy(full(), rules)
    assert kept == full()  # /home/a/code/app/src/main.py matches neither
    hidden = apply_privacy(dataclasses.replace(full(), entity="/home/me/secret/plan.md"), rules)
    assert hidden.entity == "HIDDEN.md"
    assert (hidden.lines, hidden.lineno, hidden.dependencies, hidden.branch) == (
        None,
        None,
        None,
        None,
    )
    assert hidden.project == full().project
    # Case-insensitive, as wakatime-cli matches them.
    assert (
        apply_privacy(dataclasses.replace(full(), entity="/x/.env"), rules).entity == "HIDDEN.env"
    )


def test_project_patterns_match_the_project_name() -> None:
    rules = PrivacyRules(hide_project_names=("^client-",))
    assert apply_privacy(full(), rules) == full()
    hidden = apply_privacy(dataclasses.replace(full(), project="client-acme"), rules)
    assert hidden.project is None and hidden.branch is None and hidden.lines is None
    assert hidden.entity == full().entity
    assert apply_privacy(dataclasses.replace(full(), project=None), rules).lines == full().lines


def test_branch_patterns_hide_matching_branches_and_spare_others_of_a_hidden_file() -> None:
    rules = PrivacyRules(hide_file_names=True, hide_branch_names=("^feature/secret",))
    # A hidden file keeps a branch that no branch pattern matches, as in wakatime-cli.
    assert apply_privacy(full(), rules).branch == full().branch
    secret = dataclasses.replace(full(), branch="feature/secret-deal")
    assert apply_privacy(secret, rules).branch is None
    only_branches = PrivacyRules(hide_branch_names=("^feature/secret",))
    assert apply_privacy(secret, only_branches).branch is None
    assert apply_privacy(secret, only_branches).entity == secret.entity
    assert apply_privacy(full(), only_branches) == full()
