"""`hackatimed init`: the file it writes loads, is private, and never takes the key as an argument;
without a terminal it asks nothing; on one, the key is read without echo."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hackatimed.cli import build_parser, main
from hackatimed.commands.init import Prompts, init
from hackatimed.config.load import ApiKey, load_config
from hackatimed.errors import ConfigError
from tests.daemon_proc import clean_env

KEY = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
WAKA_KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


class ScriptedPrompts:
    """Answers in order; records which questions were asked, and how."""

    def __init__(self, answers: list[str], secrets: list[str]) -> None:
        self.answers: Iterator[str] = iter(answers)
        self.secrets: Iterator[str] = iter(secrets)
        self.asked: list[tuple[str, str]] = []

    def ask(self, question: str) -> str:
        self.asked.append(("plain", question))
        return next(self.answers)

    def ask_secret(self, question: str) -> str:
        self.asked.append(("secret", question))
        return next(self.secrets)

    def prompts(self) -> Prompts:
        return Prompts(interactive=True, ask=self.ask, ask_secret=self.ask_secret)


NO_TERMINAL = Prompts(
    interactive=False,
    ask=lambda q: pytest.fail(f"asked {q!r} without a terminal"),
    ask_secret=lambda q: pytest.fail(f"asked {q!r} without a terminal"),
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def config_file(home: Path) -> Path:
    return home / ".config" / "hackatimed" / "config.toml"


def run_init(
    argv: list[str], env: dict[str, str], prompts: Prompts = NO_TERMINAL
) -> tuple[int, str]:
    out = io.StringIO()
    args = build_parser().parse_args(["init", *argv])
    return init(args, env, prompts=prompts, out=out), out.getvalue()


def test_without_a_terminal_roots_and_the_env_key_make_a_private_loadable_file(
    home: Path, tmp_path: Path
) -> None:
    code = home / "code"
    code.mkdir()
    other = tmp_path / "elsewhere"
    env = clean_env(home, HACKATIME_API_KEY=KEY)
    status, out = run_init(["--root", "~/code", "--root", str(other)], env)
    assert status == 0
    path = config_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A service does not see $HACKATIME_API_KEY: the file must hold it.
    config = load_config(path, env=clean_env(home), home=home)
    assert config.api.key == ApiKey(KEY)
    assert config.api.key_source == "api.key"
    assert config.watch.roots == (code, other)
    assert '"~/code"' in path.read_text()
    assert KEY not in out
    assert f"Wrote {path}" in out
    assert "does not exist yet" in out  # `other` is watched once it appears


def test_a_key_in_wakatime_cfg_stays_there(home: Path) -> None:
    (home / ".wakatime.cfg").write_text(f"[settings]\napi_key = {WAKA_KEY}\n")
    (home / "code").mkdir()
    env = clean_env(home)
    status, out = run_init(["--root", str(home / "code")], env)
    assert status == 0
    text = config_file(home).read_text()
    assert WAKA_KEY not in text
    assert "[api]" not in text
    config = load_config(config_file(home), env=env, home=home)
    assert (config.api.key, config.api.key_source) == (ApiKey(WAKA_KEY), "~/.wakatime.cfg")
    assert "read from ~/.wakatime.cfg" in out
    assert WAKA_KEY not in out


def test_on_a_terminal_it_asks_for_roots_and_reads_the_key_without_echo(
    home: Path, tmp_path: Path
) -> None:
    (home / "code").mkdir()
    (home / "notes.txt").write_text("a file, not a folder\n")
    prompts = ScriptedPrompts(
        answers=["~/notes.txt", "~/code", str(tmp_path / "work"), ""],
        secrets=["has a space", f"  {KEY}  "],
    )
    env = clean_env(home)
    status, out = run_init([], env, prompts.prompts())
    assert status == 0
    config = load_config(config_file(home), env=env, home=home)
    assert config.watch.roots == (home / "code", tmp_path / "work")
    assert config.api.key == ApiKey(KEY)
    kinds = [kind for kind, _ in prompts.asked]
    assert kinds == ["plain"] * 4 + ["secret"] * 2, prompts.asked
    assert "is not a folder" in out
    assert "spaces or control characters" in out
    assert "hackatime.hackclub.com/my/wakatime_setup" in out
    assert KEY not in out


def test_an_empty_first_answer_takes_the_suggested_folder(home: Path) -> None:
    (home / "projects").mkdir()
    prompts = ScriptedPrompts(answers=[""], secrets=[""])
    env = clean_env(home)
    status, out = run_init([], env, prompts.prompts())
    assert status == 0
    assert prompts.asked[0] == ("plain", "Folder [~/projects]: ")
    config = load_config(config_file(home), env=env, home=home)
    assert config.watch.roots == (home / "projects",)
    assert config.api.key is None
    assert "kept in the local queue" in out


def test_without_a_terminal_and_without_roots_it_stops_with_exit_2(home: Path) -> None:
    with pytest.raises(ConfigError, match="--root") as raised:
        run_init([], clean_env(home, HACKATIME_API_KEY=KEY))
    assert raised.value.exit_code == 2
    assert not config_file(home).exists()


def test_without_a_terminal_or_any_key_it_writes_a_keyless_config(home: Path) -> None:
    (home / "code").mkdir()
    env = clean_env(home)
    status, out = run_init(["--root", "~/code"], env)
    assert status == 0
    assert load_config(config_file(home), env=env, home=home).api.key is None
    assert "API key: none found" in out


def test_an_existing_file_is_kept_without_force(home: Path) -> None:
    (home / "code").mkdir()
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text('[watch]\nroots = ["/old"]\n')
    env = clean_env(home, HACKATIME_API_KEY=KEY)
    with pytest.raises(ConfigError, match="--force") as raised:
        run_init(["--root", "~/code"], env)
    assert raised.value.exit_code == 2
    assert path.read_text() == '[watch]\nroots = ["/old"]\n'
    status, _ = run_init(["--root", "~/code", "--force"], env)
    assert status == 0
    assert load_config(path, env=env, home=home).watch.roots == (home / "code",)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_awkward_folder_names_survive_the_round_trip(home: Path, tmp_path: Path) -> None:
    weird = tmp_path / 'quote " back \\ slash' / "ünï cødé\ttab"
    weird.mkdir(parents=True)
    config = tmp_path / "custom place" / "hackatimed.toml"
    env = clean_env(home)
    status, _ = run_init(["--config", str(config), "--root", str(weird)], env)
    assert status == 0
    assert load_config(config, env=env, home=home).watch.roots == (weird,)


def test_the_key_is_never_a_command_line_argument(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["init", "--root", str(home), "--key", KEY], env=clean_env(home))
    assert raised.value.code == 2
    assert not config_file(home).exists()
    for action in build_parser()._subparsers._group_actions[0].choices["init"]._actions:  # type: ignore[union-attr]
        assert not any("key" in opt for opt in action.option_strings)


def test_a_real_process_with_stdin_not_a_terminal(home: Path) -> None:
    """Through the installed entry point: no prompt appears, the answer is exit status 2."""
    done = subprocess.run(
        [sys.executable, "-m", "hackatimed", "init"],
        env=clean_env(home, HACKATIME_API_KEY=KEY),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert "--root" in done.stderr
    assert "Traceback" not in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert done.stdout == ""
