"""Fences around the pipeline's stages: one bad item is set aside, the rest go on.

A heartbeat, a file name or a file's content must never stop the daemon nor take the other
items of its batch down with it. Each stage (detect, queue, send) runs its items through
`Fence.run`: an unexpected error is logged with its cause and the item is skipped. The same
cause (the error's type and where it was raised) is logged in full once, then only counted at
debug level, so a file that fails on every save does not fill the log.

What is logged is the error's type, a short message and the traceback's frames, and the item's
label (a path or a queue id): never a file's content nor a heartbeat's body, and so never the
API key either (`safe_message` leaves out the text a decoding error quotes, and cuts the rest).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import TypeVar

from hackatimed.lru import Lru

_T = TypeVar("_T")
_CAUSES_REMEMBERED = 256  # distinct causes said in full; bounded like every cache here
_MESSAGE_CHARS = 200


def cause_of(exc: BaseException) -> str:
    """The error's type and the innermost place it was raised: what tells one bug from another."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


def safe_message(exc: BaseException) -> str:
    """The error's message, without what it may quote of a file: a decoding error's text is
    left out (its reason and position stay), anything else is cut short."""
    if isinstance(exc, UnicodeError) and hasattr(exc, "reason"):
        start = getattr(exc, "start", None)
        return f"{exc.reason}" + (f" at position {start}" if start is not None else "")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "..."


class Fence:
    """Unexpected errors of one stage (`stage`: "detect", "queue", "send")."""

    def __init__(self, stage: str, logger: logging.Logger) -> None:
        self.stage = stage
        self._log = logger
        self._said: Lru[str, int] = Lru(_CAUSES_REMEMBERED)
        self.set_aside = 0  # items skipped, ever

    def run(self, label: str, op: Callable[[], _T]) -> _T | None:
        """`op()`, or None when it raised (logged, counted, the item set aside)."""
        try:
            return op()
        except Exception as exc:  # the fence: whatever one item does, the others go on
            self.failed(label, exc)
            return None

    def failed(self, label: str, exc: Exception) -> None:
        """Say that `label` was set aside because of `exc`: in full the first time its cause
        is seen, at debug level after that."""
        self.set_aside += 1
        cause = cause_of(exc)
        seen = self._said.get(cause)
        self._said.put(cause, (seen or 0) + 1)
        if seen is None:
            self._log.error(
                "%s: set aside %s after an unexpected error (%s: %s); the rest goes on."
                " Please report this with the traceback below.\n%s",
                self.stage,
                label,
                type(exc).__name__,
                safe_message(exc),
                "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
            )
        else:
            self._log.debug(
                "%s: set aside %s (%s, seen %d times)", self.stage, label, cause, seen + 1
            )
