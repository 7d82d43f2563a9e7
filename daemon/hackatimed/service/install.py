"""Install and remove hackatimed as a systemd user service or a launchd agent.

A plan says what would be written and run; `render` shows it for `--dry-run` and `apply`
does it, with every command going through an injected `run` so tests can record them.
The unit and the plist come from the package's templates; the API key never goes into
either, nor into any command line: the daemon reads it at run time. Running the manager's
commands and reading the service's state is `manager`'s part.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from xml.sax.saxutils import escape

from hackatimed.errors import HackatimedError
from hackatimed.service.manager import (
    LAUNCHD_LABEL,
    LAUNCHD_TEMPLATE,
    SYSTEMCTL,
    UNIT_NAME,
    Command,
    Runner,
    ServicePlatform,
    ServiceState,
    run_command,
    run_step,
    service_platform,
    service_state,
    unit_path,
)

__all__ = [
    "LAUNCHD_LABEL",
    "LAUNCHD_TEMPLATE",
    "SYSTEMD_TEMPLATE",
    "UNIT_NAME",
    "Command",
    "Runner",
    "ServicePlan",
    "ServicePlatform",
    "ServiceState",
    "apply",
    "daemon_command",
    "plan_install",
    "plan_uninstall",
    "render",
    "run_command",
    "service_platform",
    "service_state",
    "unit_path",
]

SYSTEMD_TEMPLATE = "hackatimed.service"
_NO_MANAGER_FIX = (
    "Run `hackatimed install-service` as yourself from a login session (a desktop, or SSH into "
    "this machine; not sudo or su). If your user has no service manager running, "
    "`loginctl enable-linger $USER` starts one at boot. Without systemd, start `hackatimed run` "
    "from your desktop's autostart instead."
)


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


def daemon_command() -> tuple[str, ...]:
    """How the service starts this installation: its own interpreter, by absolute path.

    `sys.executable` is kept as it is (not resolved), so a venv's or pipx's python stays the
    venv's and keeps its packages.
    """
    return (sys.executable, "-m", "hackatimed")


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
                Command((*SYSTEMCTL, "daemon-reload")),
                Command((*SYSTEMCTL, "enable", UNIT_NAME)),
                Command((*SYSTEMCTL, "restart", UNIT_NAME)),
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
            before=(Command((*SYSTEMCTL, "disable", "--now", UNIT_NAME), check=installed),),
            after=(Command((*SYSTEMCTL, "daemon-reload"), check=False),),
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
        unreached = run_step(command, run, plan.platform)
        if unreached is not None:
            raise HackatimedError(f"Nothing was installed: {unreached}. {_NO_MANAGER_FIX}")
    previous = _read_if_any(plan.unit_path)
    # Folders made for the unit are removed again if the install is undone: a failed install
    # leaves nothing behind, not even an empty ~/.config/systemd/user/.
    made = _missing_folders(plan.unit_path.parent)
    _write_file(plan.unit_path, content)
    if plan.log_dir is not None:
        _make_dir(plan.log_dir)
    for command in plan.after:
        unreached = run_step(command, run, plan.platform)
        if unreached is not None:
            # Only systemd gets here, and its plan makes no log folder: the unit is all to undo.
            undone = _undo_write(plan.unit_path, previous)
            _remove_empty(made)
            raise HackatimedError(
                f"The service was not installed: {unreached}. {undone} {_NO_MANAGER_FIX}"
            )


def _uninstall(plan: ServicePlan, run: Runner) -> str | None:
    unreached = None
    for command in plan.before:
        unreached = run_step(command, run, plan.platform) or unreached
    _remove(plan.unit_path, plan.log_dir)
    if unreached is not None:
        # What `disable` would have removed; the rest of the plan needs the manager too.
        _remove_wants_link(plan.unit_path)
        return unreached
    for command in plan.after:
        run_step(command, run, plan.platform)
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
    return files("hackatimed.service").joinpath("templates", name).read_text(encoding="utf-8")


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


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (something else wrote there meanwhile): keep it and its parents


def _remove_wants_link(unit: Path) -> None:
    link = unit.parent / "default.target.wants" / unit.name
    try:
        if link.is_symlink():
            link.unlink()
    except OSError:
        pass  # a dangling link there is harmless: the manager skips what it cannot load
