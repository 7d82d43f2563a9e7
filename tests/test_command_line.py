"""The command line as habits expect it, through the real `hackatimed` process: global options
before or after the command, help and version, "did you mean", what `run --help` says of
--root, `explain` on what is not a file, `sync` stopped with Ctrl-C, and `init --example`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hackatimed.clock import SystemClock
from hackatimed.delivery.outbox import OUTBOX_FILE, Outbox
from tests.daemon_proc import clean_env, hackatimed, write_config
from tests.fakeserver import FakeHackatime

REPO = Path(__file__).resolve().parents[1]
KEY = "6f1f0e51-0000-4000-8000-0000000c0de5"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    return clean_env(tmp_path / "home")


def test_global_options_before_or_after_the_command(tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path / "c.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[tmp_path], data_dir=tmp_path / "data")  # fmt: skip
    before = hackatimed("--config", str(config), "status", "--json", env=env)
    after = hackatimed("status", "--json", "--config", str(config), env=env)
    assert before.returncode == after.returncode == 0, before.stderr
    assert json.loads(before.stdout)["config_path"] == str(config)
    assert json.loads(after.stdout)["config_path"] == str(config)


def test_bare_help_and_version(env: dict[str, str]) -> None:
    from hackatimed import __version__

    bare = hackatimed(env=env)
    assert bare.returncode == 0 and bare.stdout.startswith("usage: hackatimed")
    assert "install-service" in bare.stdout
    assert hackatimed("help", env=env).stdout == bare.stdout
    one = hackatimed("help", "sync", env=env)
    assert one.returncode == 0 and one.stdout.startswith("usage: hackatimed sync")
    version = hackatimed("version", env=env)
    assert (version.returncode, version.stdout) == (0, f"hackatimed {__version__}\n")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["stauts"], "no command 'stauts'; did you mean `hackatimed status`"),
        (["docter"], "did you mean `hackatimed doctor`?"),
        (["status", "--jsno"], "unrecognized argument --jsno; did you mean --json?"),
        (["run", "--rot", "x"], "did you mean --root?"),
        (["frobnicate"], "no command 'frobnicate'; `hackatimed help` lists them."),
    ],
)
def test_did_you_mean(env: dict[str, str], argv: list[str], said: str) -> None:
    done = hackatimed(*argv, env=env)
    assert done.returncode == 2
    assert said in done.stderr


def test_run_help_says_root_repeats_and_adds(env: dict[str, str]) -> None:
    text = " ".join(hackatimed("run", "--help", env=env).stdout.split())
    assert "repeat it for more" in text
    assert "Added to the folders in the config file (watch.roots), not instead of them" in text


def test_explain_of_a_missing_file_or_a_folder_is_exit_1(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = tmp_path / "code"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("print(1)\n")
    config = write_config(tmp_path / "c.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[root], data_dir=tmp_path / "data")  # fmt: skip
    done = hackatimed("explain", "--config", str(config), str(root / "gone.py"), str(root / "sub"),
                      str(root / "a.py"), env=env)  # fmt: skip
    assert done.returncode == 1
    assert f"hackatimed: {root / 'gone.py'}: no such file" in done.stderr
    assert f"hackatimed: {root / 'sub'}: is a folder" in done.stderr
    time_line = next(line for line in done.stdout.splitlines() if line.strip().startswith("time"))
    assert re.search(r"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*, local time\)", time_line), time_line
    assert hackatimed("explain", "--config", str(config), str(root / "a.py"),
                      env=env).returncode == 0  # fmt: skip


def test_sync_stopped_with_ctrl_c_says_what_stays_queued(
    tmp_path: Path, env: dict[str, str]
) -> None:
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        config = write_config(tmp_path / "c.toml", url=url, key=KEY, roots=[tmp_path],
                              data_dir=tmp_path / "data", extra="")  # fmt: skip
        text = config.read_text().replace("[heartbeats]\n", "[heartbeats]\nbatch_size = 5\n")
        config.write_text(text)
        with Outbox(tmp_path / "data" / OUTBOX_FILE, clock=SystemClock()) as outbox:
            now = time.time()
            outbox.add([(now - i, json.dumps({"entity": f"/f{i}", "type": "file",
                                              "time": now - i})) for i in range(20)])  # fmt: skip
        fake.delay_next(100, 30)  # every answer hangs: the sync is mid-request at Ctrl-C
        proc = subprocess.Popen([sys.executable, "-m", "hackatimed", "sync", "--config",
                                 str(config)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        fake.wait_until(lambda f: f.request_count >= 1, within=30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Stopped (Ctrl-C) after 0 heartbeats; 20 heartbeats stay queued" in out
    assert "Traceback" not in err


def test_init_example_prints_the_installed_example(env: dict[str, str]) -> None:
    done = hackatimed("init", "--example", env=env)
    assert done.returncode == 0
    assert done.stdout == (REPO / "config.example.toml").read_text(encoding="utf-8")
    packaged = REPO / "daemon" / "hackatimed" / "config" / "config.example.toml"
    assert packaged.read_bytes() == (REPO / "config.example.toml").read_bytes(), (
        f"copy {REPO / 'config.example.toml'} over {packaged}"
    )
    assert not (Path(env["HOME"]) / ".config").exists(), "--example writes nothing"
