"""Idle sources through ctypes, with no subprocess: X11's XScreenSaver extension and Windows'
`GetLastInputInfo`."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any


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


def windows_idle_seconds(tick_ms: int, last_input_ms: int) -> float:
    """GetTickCount() - LASTINPUTINFO.dwTime, both 32-bit: the difference wraps every 49.7 days."""
    return ((tick_ms - last_input_ms) & 0xFFFFFFFF) / 1000.0


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
