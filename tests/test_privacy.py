"""Every privacy switch, on the wire: a real daemon per switch sends one real edit to the fake
server, and the whole captured request (path, query, every header, the raw body bytes) must not
hold what the switch hides. Each secret does show up in the runs where it is not hidden, so a
switch that stopped working would fail here.

`hide_project_names` hides the project *field*; the folder names in the file's path still go
with the entity, as in wakatime-cli, unless `hide_file_names` is on too. So the project here is
named by `.wakatime-project`, with a name that appears in no path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProcess, clean_env, write_config
from tests.fakeserver import FakeHackatime, RecordedRequest
from tests.gitrepo import make_repo

KEY = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
PROJECT = "Zephyr Secret Name"
BRANCH = "feature/hush-hush-branch"
DEPENDENCY = "zorblatt_secret_lib"
FILE_STEM = "topsecret_plan"

pytestmark = pytest.mark.timeout(90)


def run_daemon(
    tmp_path: Path, privacy: str, make: dict[str, str], control: str, *, waka: str = ""
) -> tuple[list[RecordedRequest], str]:
    """Start a daemon with `[privacy]` set as given (and `waka` as ~/.wakatime.cfg), write each
    file of `make` (path under the root -> content) and then `control` (public-app/main.py),
    wait until `control` arrives, stop the daemon (which sends whatever is left) and return
    every request the server saw, and the daemon's log."""
    fake = FakeHackatime(keys=[KEY])
    home = tmp_path / "home"
    home.mkdir()
    if waka:
        (home / ".wakatime.cfg").write_text(waka)
    root = tmp_path / "code"
    make_repo(
        root / "zz-folder",
        branch=BRANCH,
        files={".wakatime-project": f"{PROJECT}\n", "README.md": "hi\n"},
    )
    make_repo(root / "public-app", files={"README.md": "hi\n"})
    with fake.running_in_thread() as url:
        config = write_config(
            tmp_path / "config.toml",
            url=url,
            key=KEY,
            roots=[root],
            data_dir=tmp_path / "data",
            extra=f"\n[privacy]\n{privacy}\n",
        )
        with DaemonProcess(["run", "--config", str(config)], env=clean_env(home)) as daemon:
            daemon.wait_for_line(f"watching {root}")
            for name, text in make.items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            (root / control).write_text("print('control')\n")
            fake.wait_until(lambda f: any(is_control(h) for h in f.heartbeats), 30)
            assert daemon.stop() == 0, daemon.output()
        return list(fake.requests), daemon.output()


def wire_text(requests: Sequence[RecordedRequest]) -> str:
    """Everything that went over the wire, as one searchable text."""
    parts = []
    for r in requests:
        parts.append(f"{r.method} {r.path} {json.dumps(r.query)}")
        parts.extend(f"{name}: {value}" for name, value in r.headers.items())
        parts.append(r.body.decode("utf-8"))
    return "\n".join(parts)


def sent(requests: Sequence[RecordedRequest]) -> list[dict[str, Any]]:
    return [hb for r in requests if r.path.endswith(".bulk") for hb in r.json]


def is_control(hb: dict[str, Any]) -> bool:
    """The heartbeat of public-app/main.py, whichever fields the switch left."""
    return bool(
        hb["entity"].endswith("public-app/main.py")
        or hb.get("project") == "public-app"
        or hb.get("branch") == "main"
    )


SECRET_FILE = {
    f"zz-folder/src/{FILE_STEM}.py": f"import {DEPENDENCY}\n\nprint('plan')\n",
}
CASES = {
    "hide_file_names": [FILE_STEM, "zz-folder", "src/", DEPENDENCY],
    "hide_project_names": [PROJECT],
    "hide_branch_names": ["hush-hush"],
    "hide_dependencies": [DEPENDENCY],
}


@pytest.fixture(scope="module")
def wires(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """One daemon per switch, each with only that switch on."""
    found = {}
    for switch in CASES:
        tmp = tmp_path_factory.mktemp(switch)
        requests, log = run_daemon(tmp, f"{switch} = true", SECRET_FILE, "public-app/main.py")
        assert KEY not in log
        found[switch] = (wire_text(requests), sent(requests))
    return found


HIDDEN_FIELD = {
    "hide_file_names": "lines",  # and the entity becomes HIDDEN.py
    "hide_project_names": "project",
    "hide_branch_names": "branch",
    "hide_dependencies": "dependencies",
}


@pytest.mark.parametrize("switch", list(CASES))
def test_each_switch_keeps_its_secrets_off_the_wire(
    switch: str, wires: dict[str, tuple[str, list[dict[str, Any]]]]
) -> None:
    text, heartbeats = wires[switch]
    secret_hb = [h for h in heartbeats if not is_control(h)]
    assert len(secret_hb) == 1, heartbeats  # the edit did arrive, only hidden
    for secret in CASES[switch]:
        assert secret not in text, f"{switch}: {secret!r} went over the wire"
        assert json.dumps(secret)[1:-1] not in text
    hb = secret_hb[0]
    assert HIDDEN_FIELD[switch] not in hb
    assert hb["language"] == "Python" and hb["is_write"] is True
    if switch == "hide_file_names":
        assert hb["entity"] == "HIDDEN.py"
    else:
        assert hb["entity"].endswith(f"/zz-folder/src/{FILE_STEM}.py")


def test_each_secret_is_sent_where_no_switch_hides_it(
    wires: dict[str, tuple[str, list[dict[str, Any]]]],
) -> None:
    """Without this, a secret missing from every run (a detection bug, a renamed fixture) would
    let the test above pass whatever the switches do."""
    for secret in {s for secrets in CASES.values() for s in secrets}:
        shown_by = [sw for sw, (text, _) in wires.items() if secret in text]
        hidden_by = [sw for sw, secrets in CASES.items() if secret in secrets]
        assert shown_by, f"{secret!r} never reached the wire: the test proves nothing about it"
        assert not set(shown_by) & set(hidden_by)


def test_excluded_and_unknown_projects_send_nothing(tmp_path: Path) -> None:
    make_repo(tmp_path / "code" / "secret-client", files={"README.md": "x\n"})
    requests, _ = run_daemon(
        tmp_path,
        'exclude_projects = ["secret-*"]\nexclude_unknown_project = true',
        {
            "secret-client/billing.py": "import stripe\n",
            "loose-notes/todo.py": "# no repository, no project file\n",
            "scratch.py": "# straight in the root\n",
        },
        "public-app/main.py",
    )
    text = wire_text(requests)
    assert [h["entity"] for h in sent(requests)] == [str(tmp_path / "code/public-app/main.py")]
    for secret in ("secret-client", "billing", "loose-notes", "todo.py", "scratch"):
        assert secret not in text


def test_wakatime_cfg_patterns_hide_only_what_they_match(tmp_path: Path) -> None:
    """A WakaTime user's `hide_file_names` list: the secret folder's file is hidden, the
    control file in another project goes out whole."""
    requests, log = run_daemon(
        tmp_path,
        "",
        SECRET_FILE,
        "public-app/main.py",
        waka="[settings]\nhide_file_names =\n    /ZZ-FOLDER/\n    \\.env$\n",
    )
    text = wire_text(requests)
    for secret in (FILE_STEM, "zz-folder", DEPENDENCY):
        assert secret not in text
    heartbeats = sent(requests)
    (hidden,) = [h for h in heartbeats if not is_control(h)]
    assert hidden["entity"] == "HIDDEN.py" and "lines" not in hidden
    (control,) = [h for h in heartbeats if is_control(h)]
    assert control["entity"] == str(tmp_path / "code/public-app/main.py")
    assert control["project"] == "public-app" and control["lines"] == 1
    assert "cannot hide per path" not in log
