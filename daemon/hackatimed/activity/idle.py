"""Is the person at the machine? Seconds since their last keyboard or mouse input, from the OS.

`choose_idle_source("auto", env=...)` probes, in order, what works here and keeps the first
source that answers:

- macOS: `ioreg -c IOHIDSystem`, HIDIdleTime (ns);
- Windows: `GetLastInputInfo` through ctypes;
- X11 (DISPLAY set, not a Wayland session): the XScreenSaver extension through ctypes, libX11 +
  libXss. Under Wayland, Xwayland's idle time counts only input to X11 windows, so it is skipped;
- GNOME/Mutter (X11 or Wayland): `org.gnome.Mutter.IdleMonitor.GetIdletime` (ms) on the session bus;
- KDE (`XDG_CURRENT_DESKTOP` names KDE): `org.freedesktop.ScreenSaver.GetSessionIdleTime`, which
  KDE answers in ms. Other desktops answer that method in seconds, hence the gate; Plasma 6 on
  Wayland refuses it (NotSupported), and the probe moves on;
- systemd-logind: the session's `IdleHint`/`IdleSinceHint`. Coarse: the hint turns on only when
  the desktop says so (GNOME: after its idle delay), or for a text session after minutes without
  tty input; until then it reads as "present".

With none working (or mode "off"): `NoIdleSource`, and edits alone decide.

D-Bus is reached through `gdbus` (GLib, on every GNOME) or `busctl` (systemd) subprocesses: no new
dependency. A subprocess costs a few ms to spawn, so those sources cache their answer for 2 s
(advancing a cached idle time by the time since), and the activity code polls at most every few
seconds, only while the person has edited recently. A cache miss blocks up to the 1 s timeout:
call `idle_seconds()` off the event loop (`asyncio.to_thread`). Sources are thread-safe.

The environment is injected (`env`): this module never reads os.environ; it hands `env` to the
subprocesses it starts, so the session bus they reach is the caller's. The sources themselves
live in `idle_commands` (those that run a command) and `idle_native` (those through ctypes).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from hackatimed.activity.idle_commands import (
    CommandIdleSource,
    CommandRunner,
    parse_busctl_uint,
    parse_gdbus_uint,
    parse_ioreg,
    parse_loginctl,
    run_command,
    session_bus_sources,
)
from hackatimed.activity.idle_native import WindowsIdleSource, X11IdleSource, windows_idle_seconds
from hackatimed.activity.session_env import x11_display
from hackatimed.clock import Clock, SystemClock

__all__ = [
    "CommandIdleSource",
    "CommandRunner",
    "FakeIdleSource",
    "IdleSource",
    "NoIdleSource",
    "WindowsIdleSource",
    "X11IdleSource",
    "choose_idle_source",
    "parse_busctl_uint",
    "parse_gdbus_uint",
    "parse_ioreg",
    "parse_loginctl",
    "run_command",
    "windows_idle_seconds",
]

log = logging.getLogger(__name__)


class IdleSource(Protocol):
    name: str  # shown by `status` and `doctor`

    def idle_seconds(self) -> float | None:
        """Seconds since the last keyboard/mouse input; None if it cannot tell right now."""
        ...


class NoIdleSource:
    name = "none"

    def idle_seconds(self) -> float | None:
        return None


class FakeIdleSource:
    """For tests and the accuracy benchmark: idle time is whatever the test sets."""

    def __init__(self, idle_seconds: float | None = 0.0, *, name: str = "fake") -> None:
        self.name = name
        self._idle = idle_seconds

    def set(self, idle_seconds: float | None) -> None:
        self._idle = idle_seconds

    def idle_seconds(self) -> float | None:
        return self._idle


# -- choosing ---------------------------------------------------------------------------------


def choose_idle_source(
    mode: Literal["auto", "off"],
    *,
    env: Mapping[str, str],
    platform: str = sys.platform,
    clock: Clock | None = None,
    run: CommandRunner = run_command,
) -> IdleSource:
    """The first source that answers on this machine, or `NoIdleSource`. Never raises."""
    if mode == "off":
        return NoIdleSource()
    for candidate in _candidates(env, platform, clock or SystemClock(), run):
        try:
            source = candidate()
            if source is not None and source.idle_seconds() is not None:
                log.debug("idle source: %s", source.name)
                return source
        except Exception as e:  # a broken library or tool must not stop the daemon
            log.debug("idle source probe failed: %r", e)
    log.debug("idle source: none answers; edits alone decide")
    return NoIdleSource()


def _candidates(
    env: Mapping[str, str], platform: str, clock: Clock, run: CommandRunner
) -> list[Callable[[], IdleSource | None]]:
    kw: dict[str, Any] = {"env": env, "clock": clock, "run": run}
    if platform == "darwin":
        argv = ["ioreg", "-c", "IOHIDSystem"]
        return [lambda: CommandIdleSource("macos-hid", argv, parse_ioreg, **kw)]
    if platform in ("win32", "cygwin"):
        return [WindowsIdleSource.load]
    found: list[Callable[[], IdleSource | None]] = []
    display = x11_display(env)
    if display is not None:
        found.append(lambda: X11IdleSource.load(display))
    if env.get("DBUS_SESSION_BUS_ADDRESS") or _runtime_bus(env):
        gnome = session_bus_sources(
            "gnome-mutter-dbus",
            "org.gnome.Mutter.IdleMonitor",
            "/org/gnome/Mutter/IdleMonitor/Core",
            "org.gnome.Mutter.IdleMonitor.GetIdletime",
            1e-3,
            **kw,
        )
        found += [_const(s) for s in gnome]
        if "KDE" in env.get("XDG_CURRENT_DESKTOP", "").upper().split(":"):
            kde = session_bus_sources(
                "kde-dbus",
                "org.freedesktop.ScreenSaver",
                "/org/freedesktop/ScreenSaver",
                "org.freedesktop.ScreenSaver.GetSessionIdleTime",
                1e-3,
                **kw,
            )
            found += [_const(s) for s in kde]
    # Run as a user service the daemon is in no session; "auto" is then the user's display one.
    session = env.get("XDG_SESSION_ID") or "auto"
    argv = ["loginctl", "show-session", session, "-p", "IdleHint", "-p", "IdleSinceHint"]

    def parse_logind(text: str) -> float | None:
        return parse_loginctl(text, now=clock.wall())

    found.append(_const(CommandIdleSource("logind-idlehint", argv, parse_logind, **kw)))
    return found


def _const(source: IdleSource) -> Callable[[], IdleSource | None]:
    return lambda: source


def _runtime_bus(env: Mapping[str, str]) -> bool:
    runtime = env.get("XDG_RUNTIME_DIR")
    return bool(runtime) and os.path.exists(os.path.join(runtime or "", "bus"))
