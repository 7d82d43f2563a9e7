"""Install and remove hackatimed as a systemd user service or a launchd agent.

A plan says what would be written and run; `render` shows it for `--dry-run` and `apply`
does it, with every command going through an injected `run` so tests can record them.
The unit and the plist come from the package's templates; the API key never goes into
either, nor into any command line: the daemon reads it at run time.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from subprocess import CompletedProcess
from typing import Literal
from xml.sax.saxutils import escape

from hackatimed.errors import HackatimedError

ServicePlatform = Literal["systemd", "launchd"]
Runner = Callable[[Sequence[str]], CompletedProcess[str]]

UNIT_NAME = "hackatimed.service"
LAUNCHD_LABEL = "com.hackclub.hackatimed"
SYSTEMD_TEMPLATE = "hackatimed.service"
LAUNCHD_TEMPLATE = f"{LAUNCHD_LABEL}.plist"

_SYSTEMCTL = ("systemctl", "--user")
_NO_MANAGER_FIX = (
    "Run `hackatimed install-service` as yourself from a login session (a desktop, or SSH into "
    "this machine; not sudo or su). If your user has no service manager running, "
    "`loginctl enable-linger $USER` starts one at boot. Without systemd, start `hackatimed run` "
    "from your desktop's autostart instead."
)


@dataclass(frozen=True, slots=True)
class Command:
    argv: tuple[str, ...]
    # False for a stop that is expected to fail when nothing is loaded yet.
    check: bool = True


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """What install-service or uninstall-service would write, remove and run."""

    platform: ServicePlatform
    unit_path: Path
    # The file install writes; None when the plan removes it.
    content: str | None
    # Run before the file is written or removed, then after.
    before: tuple[Command, ...]
    after: tuple[Command, ...]
    # launchd only: the log folder, made by install (launchd will not) and removed by uninstall.
    log_dir: Path | None = None

    @property
    def commands(self) -> tuple[tuple[str, ...], ...]:
        return tuple(c.argv for c in (*self.before, *self.after))


@dataclass(frozen=True, slots=True)
class ServiceState:
    """What `status` and `doctor` say about the service. None: could not be told."""

    platform: ServicePlatform
    unit_path: Path
    installed: bool
    enabled: bool | None
    running: bool | None
    pid: int | None = None
    # Why enabled/running are unknown, with what to do; None when they are known.
    problem: str | None = None


def service_platform(platform: str = sys.platform) -> ServicePlatform:
    """The service manager for a `sys.platform` value (or a manager's own name)."""
    if platform == "systemd" or platform.startswith("linux"):
        return "systemd"
    if platform in ("launchd", "darwin"):
        return "launchd"
    raise HackatimedError(
        f"install-service knows systemd (Linux) and launchd (macOS), not {platform!r}. "
        "Start `hackatimed run` from your session's autostart instead."
    )


def daemon_command() -> tuple[str, ...]:
    """How the service starts this installation: its own interpreter, by absolute path.

    `sys.executable` is kept as it is (not resolved), so a venv's or pipx's python stays the
    venv's and keeps its packages.
    """
    return (sys.executable, "-m", "hackatimed")


def unit_path(*, platform: str, home: Path) -> Path:
    if service_platform(platform) == "systemd":
        return home / ".config" / "systemd" / "user" / UNIT_NAME
    return home / "Library" / "LaunchAgents" / LAUNCHD_TEMPLATE


def plan_install(
    *,
    platform: str,
    home: Path,
    uid: int,
    executable: Sequence[str],
    config_path: Path | None,
) -> ServicePlan:
    kind = service_platform(platform)
    argv = _daemon_argv(executable, config_path)
    path = unit_path(platform=kind, home=home)
    if kind == "systemd":
        content = _template(SYSTEMD_TEMPLATE).replace(
            "@EXEC_START@", " ".join(_systemd_quote(a) for a in argv)
        )
        return ServicePlan(
            platform=kind,
            unit_path=path,
            content=content,
            before=(),
            # enable + restart rather than `enable --now`: on a reinstall the running daemon
            # must pick up the new ExecStart, and restart also starts a stopped one.
            after=(
                Command((*_SYSTEMCTL, "daemon-reload")),
                Command((*_SYSTEMCTL, "enable", UNIT_NAME)),
                Command((*_SYSTEMCTL, "restart", UNIT_NAME)),
            ),
        )
    log_dir = home / "Library" / "Logs" / "hackatimed"
    arguments = "\n".join(f"        <string>{escape(a)}</string>" for a in argv)
    content = (
        _template(LAUNCHD_TEMPLATE)
        .replace("@PROGRAM_ARGUMENTS@", arguments)
        .replace("@LOG_DIR@", escape(str(log_dir)))
    )
    return ServicePlan(
        platform=kind,
        unit_path=path,
        content=content,
        # A loaded agent makes bootstrap fail ("service already loaded"): unload it first.
        before=(Command(("launchctl", "bootout", f"gui/{uid}/{LAUNCHD_LABEL}"), check=False),),
        after=(Command(("launchctl", "bootstrap", f"gui/{uid}", str(path))),),
        log_dir=log_dir,
    )


def plan_uninstall(*, platform: str, home: Path, uid: int) -> ServicePlan:
    kind = service_platform(platform)
    path = unit_path(platform=kind, home=home)
    # With the file gone the manager may still hold the unit, or nothing at all: stopping is
    # then best effort. With the file present a failed stop must stop the uninstall, or the
    # daemon would run on without its file.
    installed = path.exists()
    if kind == "systemd":
        return ServicePlan(
            platform=kind,
            unit_path=path,
            content=None,
            before=(Command((*_SYSTEMCTL, "disable", "--now", UNIT_NAME), check=installed),),
            after=(Command((*_SYSTEMCTL, "daemon-reload"), check=False),),
        )
    return ServicePlan(
        platform=kind,
        unit_path=path,
        content=None,
        before=(Command(("launchctl", "bootout", f"gui/{uid}/{LAUNCHD_LABEL}"), check=False),),
        after=(),
        log_dir=home / "Library" / "Logs" / "hackatimed",
    )


def apply(plan: ServicePlan, *, run: Runner, install: bool) -> str | None:
    """Write (or remove) the file and run the plan's commands, in order.

    Returns None when the service manager did all it was asked. An uninstall whose manager
    cannot be reached still removes the file, and returns why the manager could not be told.
    Raises HackatimedError naming the step that failed and what to do about it; an install
    whose manager cannot be reached is undone first, so a later uninstall is never stuck.
    """
    if install != (plan.content is not None):
        raise ValueError("apply(install=...) does not match the plan")
    if plan.content is not None:
        _install(plan, plan.content, run)
        return None
    return _uninstall(plan, run)


def _install(plan: ServicePlan, content: str, run: Runner) -> None:
    for command in plan.before:
        unreached = _run(command, run, plan.platform)
        if unreached is not None:
            raise HackatimedError(f"Nothing was installed: {unreached}. {_NO_MANAGER_FIX}")
    previous = _read_if_any(plan.unit_path)
    _write_file(plan.unit_path, content)
    if plan.log_dir is not None:
        _make_dir(plan.log_dir)
    for command in plan.after:
        unreached = _run(command, run, plan.platform)
        if unreached is not None:
            # Only systemd gets here, and its plan makes no log folder: the unit is all to undo.
            undone = _undo_write(plan.unit_path, previous)
            raise HackatimedError(
                f"The service was not installed: {unreached}. {undone} {_NO_MANAGER_FIX}"
            )


def _uninstall(plan: ServicePlan, run: Runner) -> str | None:
    unreached = None
    for command in plan.before:
        unreached = _run(command, run, plan.platform) or unreached
    _remove(plan.unit_path, plan.log_dir)
    if unreached is not None:
        # What `disable` would have removed; the rest of the plan needs the manager too.
        _remove_wants_link(plan.unit_path)
        return unreached
    for command in plan.after:
        _run(command, run, plan.platform)
    return None


def render(plan: ServicePlan) -> str:
    """The plan as a person reads it: the file, then the commands, in the order they run."""
    lines = [_shown(c) for c in plan.before]
    if plan.content is not None:
        lines.append(f"# write {plan.unit_path}:")
        lines.extend(plan.content.rstrip("\n").splitlines())
        lines.append(f"# end of {plan.unit_path}")
        if plan.log_dir is not None:
            lines.append(f"$ mkdir -p {shlex.quote(str(plan.log_dir))}")
    else:
        lines.append(f"$ rm -f {shlex.quote(str(plan.unit_path))}")
        if plan.log_dir is not None:
            lines.append(f"$ rm -rf {shlex.quote(str(plan.log_dir))}")
    lines.extend(_shown(c) for c in plan.after)
    return "\n".join(lines) + "\n"


def _shown(command: Command) -> str:
    # `|| true`: the shell's way to say that a failure here is expected and ignored.
    return f"$ {shlex.join(command.argv)}" + ("" if command.check else " || true")


def service_state(*, platform: str, home: Path, run: Runner) -> ServiceState:
    kind = service_platform(platform)
    path = unit_path(platform=kind, home=home)
    installed = path.is_file()
    argv: tuple[str, ...]
    if kind == "systemd":
        argv = (*_SYSTEMCTL, "show", "--property=UnitFileState,ActiveState,MainPID", UNIT_NAME)
    else:
        argv = ("launchctl", "list", LAUNCHD_LABEL)
    try:
        done = run(argv)
    except OSError as exc:
        problem = f"could not run {argv[0]} ({exc.strerror or exc}); {_fix_for(kind, '')}"
        return ServiceState(kind, path, installed, None, None, problem=problem)
    if kind == "systemd":
        return _systemd_state(path, installed, done)
    return _launchd_state(path, installed, done)


def run_command(argv: Sequence[str]) -> CompletedProcess[str]:
    """The real `run`: output captured, a bounded wait, never raising on a non-zero exit."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)


def _systemd_state(path: Path, installed: bool, done: CompletedProcess[str]) -> ServiceState:
    if done.returncode != 0:
        problem = f"systemctl --user show failed: {_tail(done)}; {_fix_for('systemd', done.stderr)}"
        return ServiceState("systemd", path, installed, None, None, problem=problem)
    props = dict(line.partition("=")[::2] for line in done.stdout.splitlines() if "=" in line)
    pid = int(props.get("MainPID", "0") or 0)
    return ServiceState(
        "systemd",
        path,
        installed,
        enabled=props.get("UnitFileState") in ("enabled", "enabled-runtime", "linked"),
        running=props.get("ActiveState") in ("active", "reloading"),
        pid=pid or None,
    )


def _launchd_state(path: Path, installed: bool, done: CompletedProcess[str]) -> ServiceState:
    # `launchctl list LABEL` fails when the agent is not loaded, and shows "PID" = N while
    # it runs. A loaded agent is the launchd form of an enabled one.
    if done.returncode != 0:
        return ServiceState("launchd", path, installed, enabled=False, running=False)
    match = re.search(r'"PID"\s*=\s*(\d+)', done.stdout)
    pid = int(match.group(1)) if match else None
    return ServiceState("launchd", path, installed, enabled=True, running=pid is not None, pid=pid)


def _daemon_argv(executable: Sequence[str], config_path: Path | None) -> tuple[str, ...]:
    if not executable or not Path(executable[0]).is_absolute():
        raise HackatimedError(
            f"The service needs an absolute path to start hackatimed, got {executable!r}. "
            "Run install-service from the installed hackatimed (pipx or a virtual environment)."
        )
    argv = (*executable, "run")
    if config_path is not None:
        argv = (*argv, "--config", str(config_path.expanduser().absolute()))
    return argv


def _systemd_quote(arg: str) -> str:
    # systemd expands %-specifiers and $VARIABLES in ExecStart= even inside quotes.
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if escaped and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _template(name: str) -> str:
    return files("hackatimed").joinpath("templates", name).read_text(encoding="utf-8")


def _write_file(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(content, encoding="utf-8")
        tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HackatimedError(
            f"Could not write {path}: {exc.strerror or exc}. "
            f"Check that you own {path.parent} and can write to it."
        ) from exc


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HackatimedError(
            f"Could not create the log folder {path}: {exc.strerror or exc}. "
            "Check that you own ~/Library/Logs."
        ) from exc


def _remove(path: Path, log_dir: Path | None) -> None:
    try:
        path.unlink(missing_ok=True)
        if log_dir is not None and log_dir.exists():
            shutil.rmtree(log_dir)
    except OSError as exc:
        raise HackatimedError(
            f"Could not remove {exc.filename or path}: {exc.strerror or exc}. "
            "Remove it by hand, then run uninstall-service again."
        ) from exc


def _run(command: Command, run: Runner, platform: ServicePlatform) -> str | None:
    """Run one command; return why the service manager could not be reached, if it could not.

    Any other failure of a checked command raises HackatimedError.
    """
    shown = shlex.join(command.argv)
    try:
        done = run(command.argv)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if platform == "systemd":
            return f"could not run `{shown}` ({reason})"
        if not command.check:
            return None
        raise HackatimedError(
            f"Could not run `{shown}`: {reason}. {_fix_for(platform, '')}"
        ) from exc
    if done.returncode == 0:
        return None
    if platform == "systemd" and _no_manager(done.stderr):
        return f"`{shown}` could not reach your user's service manager ({_tail(done)})"
    if command.check:
        raise HackatimedError(
            f"`{shown}` failed (exit status {done.returncode}): {_tail(done)}. "
            f"{_fix_for(platform, done.stderr)}"
        )
    return None


def _no_manager(stderr: str) -> bool:
    # systemctl's words when no user manager answers: no session bus (sudo, su, a container,
    # SSH without a login session) or no systemd at all.
    text = stderr.lower()
    return (
        "failed to connect to" in text and "bus" in text
    ) or "not been booted with systemd" in text


def _read_if_any(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        # Missing, or unreadable (then writing over it fails the same way).
        return None


def _undo_write(path: Path, previous: str | None) -> str:
    """Put the unit back as it was before install wrote it; say what was done."""
    if previous is None:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            return f"Could not remove {path} again ({exc.strerror or exc}): remove it by hand."
        return f"Removed {path} again."
    try:
        _write_file(path, previous)
    except HackatimedError:
        return f"Could not put back the earlier {path}: it holds the new unit, not yet loaded."
    return f"Put back the earlier {path}."


def _remove_wants_link(unit: Path) -> None:
    link = unit.parent / "default.target.wants" / unit.name
    try:
        if link.is_symlink():
            link.unlink()
    except OSError:
        pass  # a dangling link there is harmless: the manager skips what it cannot load


def _tail(done: CompletedProcess[str]) -> str:
    text = (done.stderr or done.stdout or "").strip()
    return text.splitlines()[-1] if text else "no output"


def _fix_for(platform: ServicePlatform, stderr: str) -> str:
    if platform == "systemd":
        if "bus" in stderr.lower() or "XDG_RUNTIME_DIR" in stderr:
            return (
                "systemctl --user needs your own login session: run it as yourself, not "
                "with sudo; over SSH, `loginctl enable-linger $USER` starts your user "
                "manager."
            )
        return (
            "Check `systemctl --user status hackatimed` and "
            "`journalctl --user -u hackatimed`; without systemd, start `hackatimed run` "
            "from your session's autostart instead."
        )
    return (
        "Check the file with `plutil -lint` and the agent with "
        f"`launchctl print gui/$(id -u)/{LAUNCHD_LABEL}`; if it is loaded already, run "
        "`hackatimed uninstall-service` first."
    )
