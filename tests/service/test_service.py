"""The service files: rendered, checked by their own tools, installed and removed in a temp home."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from hackatimed.errors import HackatimedError
from hackatimed.service import install as service

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "daemon" / "hackatimed" / "service" / "templates"
SECRET = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
PYTHON = sys.executable


class Recorder:
    """A fake `run`: records each command and answers from a table (default: success)."""

    def __init__(self, answers: dict[str, CompletedProcess[str]] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self._answers = answers or {}

    def __call__(self, argv: Sequence[str]) -> CompletedProcess[str]:
        self.calls.append(tuple(argv))
        for needle, answer in self._answers.items():
            if needle in " ".join(argv):
                return answer
        return CompletedProcess(list(argv), 0, "", "")


def failed(stderr: str, code: int = 1) -> CompletedProcess[str]:
    return CompletedProcess([], code, "", stderr)


def config_with_key(tmp_path: Path) -> Path:
    path = tmp_path / "conf dir" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'[api]\nkey = "{SECRET}"\n[watch]\nroots = ["~/code"]\n')
    return path


def install_plan(platform: str, home: Path, config: Path | None = None) -> service.ServicePlan:
    return service.plan_install(
        platform=platform,
        home=home,
        uid=1234,
        executable=(PYTHON, "-m", "hackatimed"),
        config_path=config,
    )


@pytest.mark.parametrize(
    ("template", "copy"),
    [
        ("hackatimed.service", REPO / "systemd" / "hackatimed.service"),
        ("com.hackclub.hackatimed.plist", REPO / "launchd" / "com.hackclub.hackatimed.plist"),
    ],
)
def test_repository_copies_equal_the_packaged_templates(template: str, copy: Path) -> None:
    assert copy.read_bytes() == (TEMPLATES / template).read_bytes(), (
        f"{copy} differs from the packaged template: copy {TEMPLATES / template} over it"
    )


def test_systemd_unit_content(tmp_path: Path) -> None:
    config = config_with_key(tmp_path)
    plan = install_plan("linux", tmp_path, config)
    assert plan.platform == "systemd"
    assert plan.unit_path == tmp_path / ".config/systemd/user/hackatimed.service"
    assert plan.content is not None
    lines = plan.content.splitlines()
    exec_start = [line for line in lines if line.startswith("ExecStart=")]
    # The folder has a space: the argument is quoted as systemd expects.
    assert exec_start == [f'ExecStart={PYTHON} -m hackatimed run --config "{config}"']
    for wanted in (
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",  # the daemon reloads its config on SIGHUP
        "StartLimitBurst=5",
        "KillSignal=SIGTERM",
        "Environment=PYTHONUNBUFFERED=1",
        "NoNewPrivileges=yes",
        "WantedBy=default.target",
    ):
        assert wanted in lines
    assert "@EXEC_START@" not in plan.content
    assert not any(line.startswith(("StandardOutput=file", "StandardError=file")) for line in lines)
    assert plan.commands == (
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "hackatimed.service"),
        ("systemctl", "--user", "restart", "hackatimed.service"),
    )


def test_systemd_quoting_keeps_specifiers_and_variables_literal(tmp_path: Path) -> None:
    config = tmp_path / "100%" / "$HOME" / 'say "hi".toml'
    plan = install_plan("linux", tmp_path, config)
    assert plan.content is not None
    line = next(x for x in plan.content.splitlines() if x.startswith("ExecStart="))
    expected = str(config).replace("%", "%%").replace("$", "$$").replace('"', '\\"')
    assert line.endswith(f'--config "{expected}"')


def test_launchd_plist_parses_and_has_what_launchd_needs(tmp_path: Path) -> None:
    config = config_with_key(tmp_path)
    plan = install_plan("darwin", tmp_path, config)
    assert plan.platform == "launchd"
    assert plan.unit_path == tmp_path / "Library/LaunchAgents/com.hackclub.hackatimed.plist"
    assert plan.content is not None
    plist = plistlib.loads(plan.content.encode())
    logs = str(tmp_path / "Library/Logs/hackatimed/hackatimed.log")
    assert plist["Label"] == "com.hackclub.hackatimed"
    assert plist["ProgramArguments"] == [PYTHON, "-m", "hackatimed", "run", "--config", str(config)]
    assert all(Path(a).is_absolute() for a in (plist["ProgramArguments"][0], config))
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ProcessType"] == "Background"
    assert plist["StandardOutPath"] == logs
    assert plist["StandardErrorPath"] == logs
    assert plist["EnvironmentVariables"] == {"PYTHONUNBUFFERED": "1"}
    assert plan.commands == (
        ("launchctl", "bootout", "gui/1234/com.hackclub.hackatimed"),
        ("launchctl", "bootstrap", "gui/1234", str(plan.unit_path)),
    )


def test_plist_escapes_xml_in_paths(tmp_path: Path) -> None:
    home = tmp_path / "a&b <c>"
    plan = install_plan("darwin", home, home / "config.toml")
    assert plan.content is not None
    plist = plistlib.loads(plan.content.encode())
    assert plist["ProgramArguments"][-1] == str(home / "config.toml")
    assert plist["StandardOutPath"].startswith(str(home))


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_the_key_is_in_no_file_command_or_rendering(
    tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HACKATIME_API_KEY", SECRET)
    config = config_with_key(tmp_path)
    plan = install_plan(platform, tmp_path / "home", config)
    run = Recorder()
    service.apply(plan, run=run, install=True)
    written = plan.unit_path.read_text()
    assert SECRET in config.read_text()  # the key is there to be leaked, and is not
    assert SECRET not in written
    assert SECRET not in service.render(plan)
    assert not any(SECRET in arg for call in run.calls for arg in call)
    assert "HACKATIME_API_KEY" not in written


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    plan = install_plan("linux", tmp_path / "home", config_with_key(tmp_path))
    service.apply(plan, run=Recorder(), install=True)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    # --user needs a runtime dir; verify also checks that ExecStart's program is executable.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path / "home")}
    done = subprocess.run(
        ["systemd-analyze", "verify", "--user", str(plan.unit_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    # verify exits 0 even for unknown keys; any line about our file is a defect.
    assert done.returncode == 0, output
    assert str(plan.unit_path) not in output, output
    assert "hackatimed.service" not in output, output


def test_systemd_analyze_catches_a_broken_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    # The check above must be able to fail: a misspelt key shows up in its output.
    plan = install_plan("linux", tmp_path / "home", None)
    assert plan.content is not None
    unit = tmp_path / "hackatimed.service"
    unit.write_text(plan.content.replace("Restart=", "Restrat="))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    done = subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert "Restrat" in done.stdout + done.stderr


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_install_then_uninstall_leaves_nothing(tmp_path: Path, platform: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    run = Recorder()
    plan = install_plan(platform, home)
    service.apply(plan, run=run, install=True)
    assert plan.unit_path.read_text() == plan.content
    assert oct(plan.unit_path.stat().st_mode & 0o777) == oct(0o644)
    if plan.log_dir is not None:
        assert plan.log_dir.is_dir()
    assert run.calls == list(plan.commands)
    assert service.service_state(platform=platform, home=home, run=Recorder()).installed

    run = Recorder()
    removal = service.plan_uninstall(platform=platform, home=home, uid=1234)
    assert service.apply(removal, run=run, install=False) is None  # the manager was told
    assert run.calls == list(removal.commands)
    assert not plan.unit_path.exists()
    leftovers = [p for p in home.rglob("*") if p.is_file() or "hackatimed" in p.name]
    assert leftovers == []


def test_systemd_uninstall_stops_before_removing_and_reloads_after(tmp_path: Path) -> None:
    service.apply(install_plan("linux", tmp_path), run=Recorder(), install=True)
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    assert removal.commands == (
        ("systemctl", "--user", "disable", "--now", "hackatimed.service"),
        ("systemctl", "--user", "daemon-reload"),
    )
    seen: list[bool] = []

    def run(argv: Sequence[str]) -> CompletedProcess[str]:
        seen.append(removal.unit_path.exists())
        return CompletedProcess(list(argv), 0, "", "")

    service.apply(removal, run=run, install=False)
    assert seen == [True, False]


def test_a_failed_stop_keeps_the_installed_unit(tmp_path: Path) -> None:
    # The manager answered and refused: removing the file would leave a daemon without one.
    plan = install_plan("linux", tmp_path)
    service.apply(plan, run=Recorder(), install=True)
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    run = Recorder({"disable": failed("Failed to stop hackatimed.service: Access denied")})
    with pytest.raises(HackatimedError, match="systemctl --user status hackatimed") as raised:
        service.apply(removal, run=run, install=False)
    assert "systemctl --user disable --now hackatimed.service" in str(raised.value)
    assert plan.unit_path.exists()


# What systemctl --user says with no user manager to talk to: this container (no session bus),
# sudo or su (no $XDG_RUNTIME_DIR), newer systemd's wording, no systemd at all.
NO_MANAGER = [
    "Failed to connect to bus: No medium found",
    "Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined",
    "Failed to connect to user scope bus via local transport: No such file or directory",
    "System has not been booted with systemd as init system (PID 1). Can't operate.\n"
    "Failed to connect to bus: Host is down",
]


@pytest.mark.parametrize("stderr", NO_MANAGER)
def test_install_without_a_reachable_manager_removes_the_unit_again(
    tmp_path: Path, stderr: str
) -> None:
    plan = install_plan("linux", tmp_path)
    run = Recorder({"daemon-reload": failed(stderr)})
    with pytest.raises(HackatimedError) as raised:
        service.apply(plan, run=run, install=True)
    message = str(raised.value)
    assert not plan.unit_path.exists()
    assert not (tmp_path / ".config").exists(), "a failed install leaves no empty folder"
    assert run.calls == [("systemctl", "--user", "daemon-reload")]
    reload = "`systemctl --user daemon-reload`"
    assert message.startswith(f"The service was not installed: {reload} could not reach your ")
    assert stderr.splitlines()[-1] in message
    assert f"Removed {plan.unit_path} again." in message
    for advice in (
        "login session",
        "loginctl enable-linger $USER",
        "`hackatimed run`",
        "autostart",
    ):
        assert advice in message
    # Nothing is left for uninstall to trip over.
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    assert removal.before[0].check is False


def test_a_reinstall_without_a_reachable_manager_puts_the_earlier_unit_back(
    tmp_path: Path,
) -> None:
    service.apply(install_plan("linux", tmp_path), run=Recorder(), install=True)
    plan = install_plan("linux", tmp_path, tmp_path / "other.toml")
    earlier = plan.unit_path.read_text()
    assert plan.content != earlier
    with pytest.raises(HackatimedError, match=f"Put back the earlier {plan.unit_path}"):
        service.apply(plan, run=Recorder({"reload": failed(NO_MANAGER[0])}), install=True)
    assert plan.unit_path.read_text() == earlier


def test_a_missing_systemctl_is_an_unreachable_manager(tmp_path: Path) -> None:
    def run(argv: Sequence[str]) -> CompletedProcess[str]:
        raise FileNotFoundError(2, "No such file or directory", argv[0])

    plan = install_plan("linux", tmp_path)
    with pytest.raises(HackatimedError, match="could not run `systemctl --user daemon-reload`"):
        service.apply(plan, run=run, install=True)
    assert not plan.unit_path.exists()
    service.apply(install_plan("linux", tmp_path), run=Recorder(), install=True)
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    assert service.apply(removal, run=run, install=False) is not None
    assert not plan.unit_path.exists()
    state = service.service_state(platform="linux", home=tmp_path, run=run)
    assert state.enabled is None
    assert state.running is None
    assert state.problem is not None
    assert "autostart" in state.problem


@pytest.mark.parametrize("stderr", NO_MANAGER)
def test_uninstall_without_a_reachable_manager_removes_the_unit_anyway(
    tmp_path: Path, stderr: str
) -> None:
    plan = install_plan("linux", tmp_path)
    service.apply(plan, run=Recorder(), install=True)
    # What `systemctl --user enable` made while a manager answered.
    wants = plan.unit_path.parent / "default.target.wants" / "hackatimed.service"
    wants.parent.mkdir()
    wants.symlink_to(plan.unit_path)
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    run = Recorder({"systemctl": failed(stderr)})
    unreached = service.apply(removal, run=run, install=False)
    assert unreached is not None
    stop = "`systemctl --user disable --now hackatimed.service`"
    assert unreached.startswith(f"{stop} could not reach your user's service manager (")
    assert not plan.unit_path.exists()
    assert not wants.is_symlink()
    # The reload would need the manager too: not tried.
    assert run.calls == [("systemctl", "--user", "disable", "--now", "hackatimed.service")]


def test_uninstall_when_nothing_is_installed_succeeds(tmp_path: Path) -> None:
    removal = service.plan_uninstall(platform="linux", home=tmp_path, uid=1)
    run = Recorder({"disable": failed("Unit file hackatimed.service does not exist.")})
    service.apply(removal, run=run, install=False)
    assert len(run.calls) == 2


def test_launchd_install_tolerates_an_agent_that_is_not_loaded(tmp_path: Path) -> None:
    plan = install_plan("darwin", tmp_path)
    run = Recorder({"bootout": failed("Boot-out failed: 3: No such process", 3)})
    service.apply(plan, run=run, install=True)
    assert run.calls[-1][:2] == ("launchctl", "bootstrap")


def test_launchd_bootstrap_failure_says_what_to_do(tmp_path: Path) -> None:
    plan = install_plan("darwin", tmp_path)
    run = Recorder({"bootstrap": failed("Bootstrap failed: 5: Input/output error", 5)})
    with pytest.raises(HackatimedError, match=r"plutil -lint.*uninstall-service") as raised:
        service.apply(plan, run=run, install=True)
    assert "Input/output error" in str(raised.value)


def test_render_shows_the_file_and_every_command(tmp_path: Path) -> None:
    plan = install_plan("linux", tmp_path)
    assert plan.content is not None
    text = service.render(plan)
    assert plan.content.rstrip("\n") in text
    assert str(plan.unit_path) in text
    assert text.index("ExecStart=") < text.index("$ systemctl --user daemon-reload")
    assert "$ systemctl --user restart hackatimed.service" in text
    removal = service.render(service.plan_uninstall(platform="darwin", home=tmp_path, uid=7))
    assert "$ launchctl bootout gui/7/com.hackclub.hackatimed || true" in removal
    assert "rm -rf" in removal


def test_systemd_state_from_systemctl_show(tmp_path: Path) -> None:
    service.apply(install_plan("linux", tmp_path), run=Recorder(), install=True)
    shown = "UnitFileState=enabled\nActiveState=active\nMainPID=4242\n"
    run = Recorder({"show": CompletedProcess([], 0, shown, "")})
    state = service.service_state(platform="linux", home=tmp_path, run=run)
    assert (state.installed, state.enabled, state.running, state.pid) == (True, True, True, 4242)
    stopped = "UnitFileState=disabled\nActiveState=failed\nMainPID=0\n"
    run = Recorder({"show": CompletedProcess([], 0, stopped, "")})
    state = service.service_state(platform="linux", home=tmp_path, run=run)
    assert (state.enabled, state.running, state.pid, state.problem) == (False, False, None, None)


def test_launchd_state_from_launchctl_list(tmp_path: Path) -> None:
    listed = '{\n\t"Label" = "com.hackclub.hackatimed";\n\t"PID" = 977;\n};\n'
    run = Recorder({"list": CompletedProcess([], 0, listed, "")})
    state = service.service_state(platform="darwin", home=tmp_path, run=run)
    assert (state.installed, state.enabled, state.running, state.pid) == (False, True, True, 977)
    run = Recorder({"list": failed('Could not find service "com.hackclub.hackatimed"')})
    state = service.service_state(platform="darwin", home=tmp_path, run=run)
    assert (state.enabled, state.running) == (False, False)


def test_relative_executable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HackatimedError, match="absolute path"):
        service.plan_install(
            platform="linux", home=tmp_path, uid=1, executable=("hackatimed",), config_path=None
        )


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(HackatimedError, match=r"systemd .*launchd"):
        service.service_platform("win32")
    assert service.service_platform("linux") == "systemd"
    assert service.service_platform("darwin") == "launchd"


def test_daemon_command_is_this_interpreter() -> None:
    command = service.daemon_command()
    assert command == (sys.executable, "-m", "hackatimed")
    done = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
