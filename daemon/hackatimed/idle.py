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
subprocesses it starts, so the session bus they reach is the caller's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from hackatimed.clock import Clock, SystemClock

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_SECONDS = 1.0
CACHE_SECONDS = 2.0


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


# -- parsing the answers (pure, tested on recorded output) ------------------------------------

_IOREG_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')
_GDBUS_UINT = re.compile(r"^\(\s*(?:u?int(?:16|32|64)\s+)?(\d+)\s*,?\s*\)$")
_BUSCTL_UINT = re.compile(r"^[qutnix]\s+(\d+)$")


def parse_ioreg(text: str) -> float | None:
    """`ioreg -c IOHIDSystem`: the first HIDIdleTime, in ns, as seconds."""
    m = _IOREG_IDLE.search(text)
    return int(m.group(1)) / 1e9 if m else None


def parse_gdbus_uint(text: str) -> int | None:
    """`gdbus call` printing one integer: `(uint64 1234,)`."""
    m = _GDBUS_UINT.match(text.strip())
    return int(m.group(1)) if m else None


def parse_busctl_uint(text: str) -> int | None:
    """`busctl call` printing one integer: `t 1234`."""
    m = _BUSCTL_UINT.match(text.strip())
    return int(m.group(1)) if m else None


def parse_loginctl(text: str, *, now: float) -> float | None:
    """`loginctl show-session ID -p IdleHint -p IdleSinceHint`, against the wall clock `now`.

    Not idle reads as 0 s; idle, as the time since the hint was set (a lower bound: the desktop
    sets it some minutes after the last input).
    """
    props = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    hint = props.get("IdleHint")
    if hint == "no":
        return 0.0
    if hint != "yes":
        return None
    try:
        since_us = int(props.get("IdleSinceHint", ""))
    except ValueError:
        return None
    return max(0.0, now - since_us / 1e6) if since_us > 0 else None


def windows_idle_seconds(tick_ms: int, last_input_ms: int) -> float:
    """GetTickCount() - LASTINPUTINFO.dwTime, both 32-bit: the difference wraps every 49.7 days."""
    return ((tick_ms - last_input_ms) & 0xFFFFFFFF) / 1000.0


# -- sources that run a command ---------------------------------------------------------------

CommandRunner = Callable[[Sequence[str], Mapping[str, str]], str | None]


def run_command(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """stdout of a command that succeeded within the timeout; None for any failure, quietly."""
    exe = shutil.which(argv[0], path=env.get("PATH", os.defpath))
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, *argv[1:]],
            env={**env, "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


class CommandIdleSource:
    """Asks a command, parses its answer, and reuses the answer for `cache_seconds`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        parse: Callable[[str], float | None],
        *,
        env: Mapping[str, str],
        clock: Clock,
        run: CommandRunner = run_command,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self._parse = parse
        self._env = env
        self._clock = clock
        self._run = run
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._asked_at: float | None = None
        self._answer: float | None = None

    def idle_seconds(self) -> float | None:
        with self._lock:
            now = self._clock.monotonic()
            if self._asked_at is None or now - self._asked_at >= self._cache_seconds:
                out = self._run(self.argv, self._env)
                self._answer = self._parse(out) if out is not None else None
                self._asked_at = now
            if self._answer is None:
                return None
            # No input since the answer, or the answer is stale anyway: idle time grows with it.
            return self._answer + (now - self._asked_at)


def _gdbus_call(dest: str, path: str, method: str) -> list[str]:
    return ["gdbus", "call", "--session", "--dest", dest, "--object-path", path, "--method", method]


def _busctl_call(dest: str, path: str, method: str) -> list[str]:
    interface, _, member = method.rpartition(".")
    return ["busctl", "--user", "call", dest, path, interface, member]


def _session_bus_sources(
    name: str,
    dest: str,
    path: str,
    method: str,
    to_seconds: float,
    **kw: Any,
) -> list[CommandIdleSource]:
    def scaled(parse: Callable[[str], int | None]) -> Callable[[str], float | None]:
        def parse_scaled(text: str) -> float | None:
            value = parse(text)
            return value * to_seconds if value is not None else None

        return parse_scaled

    return [
        CommandIdleSource(name, _gdbus_call(dest, path, method), scaled(parse_gdbus_uint), **kw),
        CommandIdleSource(name, _busctl_call(dest, path, method), scaled(parse_busctl_uint), **kw),
    ]


# -- sources through ctypes -------------------------------------------------------------------


class _XScreenSaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),  # ms since the last input
        ("event_mask", ctypes.c_ulong),
    ]


# Xlib's default handlers end the process: on a protocol error, and on an I/O error (the X server
# went away). These let a failed call return instead. Module-level, so the callbacks outlive every
# call into Xlib.
_X_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_X_IO_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_X_IO_EXIT_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_broken_displays: set[int] = set()


def _ignore_x_error(_display: int | None, _event: int | None) -> int:
    return 0


def _x_io_error(display: int | None) -> int:
    if display:
        _broken_displays.add(display)
    return 0


def _x_io_exit(display: int | None, _data: int | None) -> None:
    if display:
        _broken_displays.add(display)


_on_x_error = _X_ERROR_HANDLER(_ignore_x_error)
_on_x_io_error = _X_IO_ERROR_HANDLER(_x_io_error)
_on_x_io_exit = _X_IO_EXIT_HANDLER(_x_io_exit)


class X11IdleSource:
    """The XScreenSaver extension's idle time, over one connection kept open (0.2 ms a question).

    A connection per question would cost 25-75 ms, and an X server may count a new client as
    activity (Xvfb does: idle never grew past the polling interval). Keeping one open is safe only
    where libX11 (1.7+) lets us survive the server going away (`XSetIOErrorExitHandler`); then a
    broken connection is dropped and the next question reconnects. With an older libX11, each
    question opens and closes its own connection.
    """

    name = "x11-screensaver"

    def __init__(self, display: str, xlib: ctypes.CDLL, xss: ctypes.CDLL) -> None:
        self._display_name = display.encode()
        self._xlib = xlib
        self._xss = xss
        self._keep_open = hasattr(xlib, "XSetIOErrorExitHandler")
        self._display: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, display: str) -> X11IdleSource | None:
        libx11, libxss = ctypes.util.find_library("X11"), ctypes.util.find_library("Xss")
        if not libx11 or not libxss:
            return None
        try:
            xlib, xss = ctypes.CDLL(libx11), ctypes.CDLL(libxss)
        except OSError:
            return None
        _declare(xlib, xss)
        xlib.XSetErrorHandler(_on_x_error)
        if hasattr(xlib, "XSetIOErrorExitHandler"):
            xlib.XSetIOErrorHandler(_on_x_io_error)
        return cls(display, xlib, xss)

    def idle_seconds(self) -> float | None:
        with self._lock:
            display = self._display or self._connect()
            if display is None:
                return None
            idle = self._query(display)
            if display in _broken_displays:
                # Xlib has given up on it; closing it would only touch the dead socket again.
                _broken_displays.discard(display)
                self._display = None
                return None
            if not self._keep_open:
                self._xlib.XCloseDisplay(display)
                self._display = None
            return idle

    def _connect(self) -> int | None:
        display: int | None = self._xlib.XOpenDisplay(self._display_name)
        if not display:
            return None
        if self._keep_open:
            self._xlib.XSetIOErrorExitHandler(display, _on_x_io_exit, None)
            self._display = display
        return display

    def _query(self, display: int) -> float | None:
        event_base, error_base = ctypes.c_int(), ctypes.c_int()
        if not self._xss.XScreenSaverQueryExtension(
            display, ctypes.byref(event_base), ctypes.byref(error_base)
        ):
            return None
        info = self._xss.XScreenSaverAllocInfo()
        if not info:
            return None
        try:
            root = self._xlib.XDefaultRootWindow(display)
            if not self._xss.XScreenSaverQueryInfo(display, root, info):
                return None
            return float(info.contents.idle) / 1000.0
        finally:
            self._xlib.XFree(info)


def _declare(xlib: ctypes.CDLL, xss: ctypes.CDLL) -> None:
    display_p = ctypes.c_void_p
    xlib.XOpenDisplay.restype = display_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [display_p]
    xlib.XCloseDisplay.argtypes = [display_p]
    xlib.XFree.argtypes = [ctypes.c_void_p]
    xlib.XSetErrorHandler.argtypes = [_X_ERROR_HANDLER]
    xlib.XSetErrorHandler.restype = ctypes.c_void_p
    if hasattr(xlib, "XSetIOErrorExitHandler"):
        xlib.XSetIOErrorHandler.argtypes = [_X_IO_ERROR_HANDLER]
        xlib.XSetIOErrorHandler.restype = ctypes.c_void_p
        xlib.XSetIOErrorExitHandler.argtypes = [display_p, _X_IO_EXIT_HANDLER, ctypes.c_void_p]
        xlib.XSetIOErrorExitHandler.restype = None
    xss.XScreenSaverQueryExtension.argtypes = [
        display_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
    ]
    xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
    xss.XScreenSaverQueryInfo.argtypes = [
        display_p,
        ctypes.c_ulong,
        ctypes.POINTER(_XScreenSaverInfo),
    ]


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint)]


class WindowsIdleSource:
    name = "windows-lastinput"

    def __init__(self, user32: Any, kernel32: Any) -> None:
        self._user32 = user32
        self._kernel32 = kernel32

    @classmethod
    def load(cls) -> WindowsIdleSource | None:
        win_dll = getattr(ctypes, "WinDLL", None)  # exists on Windows only
        if win_dll is None:
            return None
        try:
            user32, kernel32 = win_dll("user32"), win_dll("kernel32")
        except OSError:
            return None
        kernel32.GetTickCount.restype = ctypes.c_uint
        return cls(user32, kernel32)

    def idle_seconds(self) -> float | None:
        info = _LastInputInfo()
        info.cbSize = ctypes.sizeof(info)
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        return windows_idle_seconds(int(self._kernel32.GetTickCount()), int(info.dwTime))


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
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    display = env.get("DISPLAY")
    if display and not wayland:
        found.append(lambda: X11IdleSource.load(display))
    if env.get("DBUS_SESSION_BUS_ADDRESS") or _runtime_bus(env):
        gnome = _session_bus_sources(
            "gnome-mutter-dbus",
            "org.gnome.Mutter.IdleMonitor",
            "/org/gnome/Mutter/IdleMonitor/Core",
            "org.gnome.Mutter.IdleMonitor.GetIdletime",
            1e-3,
            **kw,
        )
        found += [_const(s) for s in gnome]
        if "KDE" in env.get("XDG_CURRENT_DESKTOP", "").upper().split(":"):
            kde = _session_bus_sources(
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
