from __future__ import annotations

import dataclasses
import json

import pytest

from hackatimed.heartbeat import WIRE_FIELDS, Heartbeat, PrivacyRules, apply_privacy


def full() -> Heartbeat:
    return Heartbeat(
        entity="/home/a/code/app/src/main.py",
        time=1_767_225_600.25,
        category="coding",
        is_write=True,
        user_agent="ua",
        project="app",
        branch="feature/x",
        language="Python",
        lines=10,
        lineno=3,
        cursorpos=42,
        line_additions=2,
        line_deletions=1,
        project_root_count=4,
        dependencies=("requests", "numpy"),
        machine="box",
        editor="vim",
        operating_system="linux",
    )


def test_wire_fields_are_exactly_the_dataclass_fields() -> None:
    assert {f.name for f in dataclasses.fields(Heartbeat)} == set(WIRE_FIELDS)


def test_to_wire_keeps_the_guide_order_and_leaves_unknowns_out() -> None:
    wire = full().to_wire()
    assert list(wire) == list(WIRE_FIELDS)
    bare = Heartbeat(entity="/x", time=1.5e9, category="coding", is_write=False, user_agent="u")
    assert bare.to_wire() == {
        "entity": "/x",
        "type": "file",
        "time": 1.5e9,
        "category": "coding",
        "is_write": False,
        "user_agent": "u",
    }


def test_empty_dependencies_are_left_out() -> None:
    assert "dependencies" not in dataclasses.replace(full(), dependencies=()).to_wire()


@pytest.mark.parametrize(
    ("deps", "expected"),
    [
        (("a", "b"), "{a,b}"),
        (
            ("with space", 'q"uote', "c,omma", "back\\slash"),
            '{"with space","q\\"uote","c,omma","back\\\\slash"}',
        ),
        (("",), '{""}'),
    ],
)
def test_pg_array_quotes_what_postgres_needs_quoted(deps: tuple[str, ...], expected: str) -> None:
    hb = dataclasses.replace(full(), dependencies=deps)
    assert hb.to_wire("pg-array")["dependencies"] == expected
    assert hb.to_wire("array")["dependencies"] == list(deps)


def test_to_json_is_compact_and_byte_stable() -> None:
    text = full().to_json()
    assert text == full().to_json()
    assert json.loads(text) == full().to_wire()
    assert ", " not in text and ": " not in text


def test_non_ascii_stays_readable_in_json() -> None:
    hb = dataclasses.replace(full(), entity="/home/a/código/ü.py")
    assert "código" in hb.to_json()


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
