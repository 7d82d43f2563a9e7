"""A real X server for tests (Xvfb), and a stand-in for the window manager it lacks.

The window manager's part is played through Xlib with ctypes, here and not in the package: it
creates windows, names them the way toolkits do, and sets the root's `_NET_ACTIVE_WINDOW` as an
EWMH window manager would.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import shutil
import subprocess
from collections.abc import Iterator

import pytest

_XA_CARDINAL = 6
_XA_STRING = 31
_XA_WINDOW = 33
_XA_WM_NAME = 39
_PROP_MODE_REPLACE = 0


class Xvfb:
    def __init__(self, proc: subprocess.Popen[str], display: str) -> None:
        self.proc = proc
        self.display = display

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def running_xvfb(display: str | None = None) -> Iterator[Xvfb]:
    """An Xvfb on `display`, or on the first free one; skips the test where Xvfb is missing."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    proc = subprocess.Popen(
        ["Xvfb", *([display] if display else []), "-displayfd", "1", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    number = proc.stdout.readline().strip()  # Xvfb writes it once it accepts connections
    server = Xvfb(proc, f":{number}")
    try:
        if not number:
            pytest.fail(f"Xvfb did not start (exit status {proc.wait(timeout=10)})")
        yield server
    finally:
        server.stop()


@pytest.fixture(name="xvfb")
def xvfb_fixture() -> Iterator[Xvfb]:
    with running_xvfb() as server:
        yield server


class FakeWindowManager:
    """Windows with titles and processes, and which of them is active, on a server with no WM.

    Every change is synced: when a method returns, the server has it, and any other client's next
    request sees it.
    """

    def __init__(self, display: str) -> None:
        path = ctypes.util.find_library("X11")
        assert path is not None, "libX11 is missing"
        self._x = ctypes.CDLL(path)
        self._declare()
        self._display: int | None = self._x.XOpenDisplay(display.encode())
        assert self._display, f"cannot open display {display}"
        self.root: int = self._x.XDefaultRootWindow(self._display)

    def atom(self, name: str) -> int:
        return int(self._x.XInternAtom(self._display, name.encode(), False))

    def window(
        self,
        *,
        net_wm_name: str | None = None,
        wm_name: str | None = None,
        pid: int | None = None,
    ) -> int:
        window = int(self._x.XCreateSimpleWindow(self._display, self.root, 0, 0, 10, 10, 0, 0, 0))
        if net_wm_name is not None:
            utf8 = self.atom("UTF8_STRING")
            self._set(window, self.atom("_NET_WM_NAME"), utf8, 8, net_wm_name.encode())
        if wm_name is not None:
            self._set(window, _XA_WM_NAME, _XA_STRING, 8, wm_name.encode("latin-1"))
        if pid is not None:
            self._set(window, self.atom("_NET_WM_PID"), _XA_CARDINAL, 32, _longs(pid))
        self._sync()
        return window

    def set_text(self, window: int, prop: str, kind: str, value: bytes) -> None:
        """Any 8-bit property, typed as the caller says (for programs that get it wrong)."""
        self._set(window, self.atom(prop), self.atom(kind), 8, value)
        self._sync()

    def activate(self, window: int) -> None:
        """Name `window` active; 0 is what a window manager sets when nothing has the focus."""
        self._set(self.root, self.atom("_NET_ACTIVE_WINDOW"), _XA_WINDOW, 32, _longs(window))
        self._sync()

    def forget_active(self) -> None:
        """No `_NET_ACTIVE_WINDOW` at all, as before any window manager started."""
        self._x.XDeleteProperty(self._display, self.root, self.atom("_NET_ACTIVE_WINDOW"))
        self._sync()

    def destroy(self, window: int) -> None:
        self._x.XDestroyWindow(self._display, window)
        self._sync()

    def close(self) -> None:
        """Close before the server stops: Xlib's default handlers end the process on a dead link."""
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = None

    def _set(self, window: int, prop: int, kind: int, fmt: int, data: bytes) -> None:
        count = len(data) // (ctypes.sizeof(ctypes.c_long) if fmt == 32 else 1)
        buffer = ctypes.create_string_buffer(data, len(data))
        self._x.XChangeProperty(
            self._display, window, prop, kind, fmt, _PROP_MODE_REPLACE, buffer, count
        )

    def _sync(self) -> None:
        self._x.XSync(self._display, False)

    def _declare(self) -> None:
        x, display_p, xid = self._x, ctypes.c_void_p, ctypes.c_ulong
        x.XOpenDisplay.restype = display_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = xid
        x.XDefaultRootWindow.argtypes = [display_p]
        x.XInternAtom.restype = xid
        x.XInternAtom.argtypes = [display_p, ctypes.c_char_p, ctypes.c_int]
        x.XCreateSimpleWindow.restype = xid
        x.XCreateSimpleWindow.argtypes = [
            display_p,
            xid,  # parent
            ctypes.c_int,  # x
            ctypes.c_int,  # y
            ctypes.c_uint,  # width
            ctypes.c_uint,  # height
            ctypes.c_uint,  # border width
            ctypes.c_ulong,  # border pixel
            ctypes.c_ulong,  # background pixel
        ]
        x.XChangeProperty.argtypes = [
            display_p,
            xid,  # window
            xid,  # property
            xid,  # type
            ctypes.c_int,  # format
            ctypes.c_int,  # mode
            ctypes.c_char_p,
            ctypes.c_int,  # items
        ]
        x.XDeleteProperty.argtypes = [display_p, xid, xid]
        x.XDestroyWindow.argtypes = [display_p, xid]
        x.XSync.argtypes = [display_p, ctypes.c_int]
        x.XCloseDisplay.argtypes = [display_p]


def _longs(*values: int) -> bytes:
    """Format-32 data the way Xlib takes it from a client: C longs."""
    return bytes((ctypes.c_long * len(values))(*values))
