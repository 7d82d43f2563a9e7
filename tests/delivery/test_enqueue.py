"""The queue stage's fence: one heartbeat that cannot be queued never takes its batch down."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from hackatimed.clock import FakeClock
from hackatimed.delivery.enqueue import enqueue
from hackatimed.delivery.outbox import Outbox
from hackatimed.fence import Fence
from hackatimed.heartbeat import Heartbeat


def hb(name: str, t: float) -> Heartbeat:
    return Heartbeat(
        entity=f"/code/{name}", time=t, category="coding", is_write=True, user_agent="ua"
    )


class Cursed:
    """A real outbox that fails, as no one foresaw, for any batch holding one heartbeat."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def add(self, items: Sequence[tuple[float, str]]) -> int:
        if any("cursed" in body for _, body in items):
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return self.outbox.add(items)


def test_the_others_of_the_batch_are_queued_and_the_bad_one_is_set_aside_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fence = Fence("queue", logging.getLogger("test.enqueue"))
    batch = [hb("main.py", 1.0), hb("cursed.py", 2.0), hb("util.py", 3.0)]
    with Outbox(tmp_path / "outbox.db", clock=FakeClock()) as outbox:
        with caplog.at_level(logging.ERROR):
            queued = enqueue(Cursed(outbox), batch, "array", fence)
        assert [h.entity for h in queued] == ["/code/main.py", "/code/util.py"]
        assert outbox.stats().queued == 2
    assert fence.set_aside == 1
    (said,) = [r.getMessage() for r in caplog.records]
    assert "set aside /code/cursed.py" in said and "UnicodeEncodeError" in said


def test_a_healthy_batch_is_one_transaction(tmp_path: Path) -> None:
    with Outbox(tmp_path / "outbox.db", clock=FakeClock()) as outbox:
        batch = [hb("a.py", 1.0), hb("b.py", 2.0)]
        assert enqueue(outbox, batch, "array", Fence("queue", logging.getLogger())) == batch
        assert outbox.stats().queued == 2
