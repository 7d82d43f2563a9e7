"""The queue stage's fence: heartbeats into the outbox, one bad one set aside, never the batch.

The daemon commits each batch of heartbeats in one transaction. Should that fail for a reason
no one foresaw (an encoding, a bug), they are committed one by one, and those that still fail
are set aside by the fence (logged once per cause, without their content), so the others of
the batch are queued and the daemon goes on. A full disk is no such failure: the outbox holds
heartbeats in memory then (outbox.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Protocol

from hackatimed.config.values import DependenciesFormat
from hackatimed.delivery.wire import to_json
from hackatimed.fence import Fence
from hackatimed.heartbeat import Heartbeat

log = logging.getLogger(__name__)


class Queue(Protocol):
    def add(self, items: Sequence[tuple[float, str]]) -> int: ...


def enqueue(
    outbox: Queue, heartbeats: Sequence[Heartbeat], fmt: DependenciesFormat, fence: Fence
) -> list[Heartbeat]:
    """Commit `heartbeats` to `outbox` as their wire JSON; returns those committed (or held in
    memory by a full disk), in order. Blocking: call it from a worker thread."""
    bodies = [fence.run(hb.entity, partial(to_json, hb, fmt)) for hb in heartbeats]
    ready = [(hb, body) for hb, body in zip(heartbeats, bodies, strict=True) if body]
    try:
        outbox.add([(hb.time, body) for hb, body in ready])
        return [hb for hb, _ in ready]
    except Exception as exc:  # the fence: find the one that fails, keep the others
        log.debug("queueing %d heartbeats at once failed (%s): one by one", len(ready), exc)
    added = [fence.run(hb.entity, partial(outbox.add, [(hb.time, body)])) for hb, body in ready]
    return [hb for (hb, _), dropped in zip(ready, added, strict=True) if dropped is not None]
