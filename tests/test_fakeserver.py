"""The fake Hackatime server behaves as HACKATIME_API.md says the real one does."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakeserver import FakeHackatime

KEY = "test-key"
BULK = "/hackatime/v1/users/current/heartbeats.bulk"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def hb(entity: str = "/code/a.py", time: float = T0, **extra: Any) -> dict[str, Any]:
    return {"entity": entity, "type": "file", "time": time, "category": "coding", **extra}


@pytest.fixture
async def fake() -> AsyncIterator[FakeHackatime]:
    server = FakeHackatime(keys=[KEY], forbidden_keys=["doomed"])
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    fake: FakeHackatime,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    path: str = BULK,
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {KEY}"} if headers is None else headers
    async with http.post(fake.base_url + path, data=data, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_bulk_stores_known_fields_and_answers_each_item(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    first = hb(project="pro\x07ject", dependencies=["aiohttp", "yarl"], unknown_field=1)
    second = hb("/code/b.py", T0 + 30, category="", dependencies="{a,b}", machine="mine")
    status, answer = await post(
        http,
        fake,
        [first, second],
        headers={"Authorization": f"Bearer {KEY}", "X-Machine-Name": "box"},
    )
    assert status == 201
    assert [entry[1] for entry in answer["responses"]] == [201, 201]
    stored_a, stored_b = fake.heartbeats
    assert stored_a["project"] == "project"
    assert stored_a["dependencies"] == ["aiohttp", "yarl"]
    assert "unknown_field" not in stored_a
    assert stored_b["category"] == "coding"
    assert "dependencies" not in stored_b
    assert stored_a["machine"] == stored_b["machine"] == "box"
    assert answer["responses"][0][0] == stored_a
    recorded = fake.requests[0]
    assert recorded.path == "/api" + BULK
    assert recorded.headers["authorization"] == f"Bearer {KEY}"
    assert recorded.json == [first, second]


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"Authorization": f"bearer {KEY}"}, "", 201),
        ({"Authorization": f"BEARER {KEY}"}, "", 201),
        ({"Authorization": "Basic " + base64.b64encode(KEY.encode()).decode()}, "", 201),
        ({"Authorization": "Basic " + base64.b64encode(f"user:{KEY}".encode()).decode()}, "", 401),
        ({}, f"?api_key={KEY}", 201),
        ({"Authorization": "Bearer wrong"}, f"?api_key={KEY}", 401),
        ({"Authorization": "Bearer wrong"}, "", 401),
        ({}, "", 401),
        ({"Authorization": "Bearer doomed"}, "", 403),
    ],
)
async def test_auth_forms(
    fake: FakeHackatime,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    query: str,
    expected: int,
) -> None:
    status, answer = await post(http, fake, [hb()], headers=headers, path=BULK + query)
    assert status == expected
    if expected == 401:
        assert answer == {"error": "Unauthorized"}
        assert fake.heartbeats == []


@pytest.mark.parametrize(
    ("body", "error_start"),
    [
        ([hb(time=T0 + i) for i in range(101)], "Too many heartbeats"),
        ([], "No data provided"),
        (b"", "No data provided"),
        (hb(), "No data provided"),
        (b"[{not json", "No data provided"),
    ],
)
async def test_whole_request_400(
    fake: FakeHackatime, http: aiohttp.ClientSession, body: Any, error_start: str
) -> None:
    status, answer = await post(http, fake, body)
    assert status == 400
    assert answer["error"].startswith(error_start)
    assert fake.heartbeats == []


async def test_hundred_items_is_fine(fake: FakeHackatime, http: aiohttp.ClientSession) -> None:
    status, answer = await post(http, fake, [hb(time=T0 + i) for i in range(100)])
    assert status == 201
    assert len(answer["responses"]) == 100
    assert fake.stored_count == 100


async def test_time_units_are_divided_down_and_bad_times_fail_that_item(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    body = [
        hb("/ms", T0 * 1e3),
        hb("/us", T0 * 1e6),
        hb("/ns", T0 * 1e9),
        hb("/far", 5e9 * 1e3 * 1e3 * 1e3 * 1e3),
        hb("/old", 5e8),
        hb("/text", "soon"),
        hb("/fine", T0 + 0.25),
    ]
    status, answer = await post(http, fake, body)
    assert status == 201
    assert [entry[1] for entry in answer["responses"]] == [201, 201, 201, 422, 422, 422, 201]
    assert answer["responses"][4][0]["error"]
    assert [h["time"] for h in fake.heartbeats] == pytest.approx([T0, T0, T0, T0 + 0.25])


async def test_duplicates_succeed_and_are_stored_once(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    _, first = await post(http, fake, [hb(), hb()])
    _, again = await post(http, fake, [hb()])
    assert [e[1] for e in first["responses"] + again["responses"]] == [201, 201, 201]
    assert fake.stored_count == 1
    await post(http, fake, [hb(lineno=3)])
    assert fake.stored_count == 2


async def test_single_endpoint_reads_the_first_item(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    status, answer = await post(http, fake, [hb(), hb("/x")], path=BULK.removesuffix(".bulk"))
    assert status == 202
    assert answer["entity"] == "/code/a.py"
    assert fake.stored_count == 1


async def test_fail_next_then_recovers(fake: FakeHackatime, http: aiohttp.ClientSession) -> None:
    fake.fail_next(2, 503)
    statuses = [(await post(http, fake, [hb()]))[0] for _ in range(3)]
    assert statuses == [503, 503, 201]
    assert len(fake.requests) == 3


@pytest.mark.parametrize("header", [True, False])
async def test_rate_limit(fake: FakeHackatime, http: aiohttp.ClientSession, header: bool) -> None:
    fake.rate_limit_next(1, retry_after=7, header=header)
    async with http.post(
        fake.base_url + BULK, json=[hb()], headers={"Authorization": f"Bearer {KEY}"}
    ) as resp:
        assert resp.status == 429
        assert resp.headers.get("Retry-After") == ("7" if header else None)
        assert resp.headers["X-RateLimit-Remaining"] == "0"
        assert (await resp.json())["retry_after"] == 7
    assert (await post(http, fake, [hb()]))[0] == 201


async def test_drop_closes_mid_response(fake: FakeHackatime, http: aiohttp.ClientSession) -> None:
    fake.drop_next()
    with pytest.raises(aiohttp.ClientPayloadError):
        await post(http, fake, [hb()])
    assert (await post(http, fake, [hb()]))[0] == 201


async def test_delay_hangs_past_a_timeout_and_stop_releases_it(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    fake.delay_next(1, 30)
    with pytest.raises(TimeoutError):
        async with http.post(
            fake.base_url + BULK,
            json=[hb()],
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    await asyncio.wait_for(fake.stop(), 5)


async def test_reject_entities_and_omitted_answers(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    fake.reject_entities.add("/bad")
    fake.omit_last_responses(1)
    _, answer = await post(http, fake, [hb("/good"), hb("/bad"), hb("/lost")])
    assert [e[1] for e in answer["responses"]] == [201, 422]
    assert [h["entity"] for h in fake.heartbeats] == ["/good"]
    _, answer = await post(http, fake, [hb("/lost")])
    assert [e[1] for e in answer["responses"]] == [201]


async def test_stats_bearer_only_and_computed_with_the_two_minute_rule(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    body = [
        hb("/a.py", T0, project="p", language="Python"),
        hb("/a.py", T0 + 60, project="p", language="Python"),
        hb("/b.rs", T0 + 3600, project="q", language="Rust"),
        hb("/b.rs", T0 + 3630, project="q", language="Rust"),
    ]
    await post(http, fake, body)
    url = fake.base_url + "/v1/users/my/stats"
    basic = "Basic " + base64.b64encode(KEY.encode()).decode()
    for headers in ({"Authorization": basic}, {}):
        async with http.get(url, headers=headers, params={"api_key": KEY}) as resp:
            assert (resp.status, await resp.json()) == (404, {"error": "User not found"})
    params = {
        "start_date": "2026-01-01",
        "end_date": "2026-01-01",
        "features": "projects,languages",
    }
    async with http.get(url, headers={"Authorization": f"Bearer {KEY}"}, params=params) as resp:
        data = (await resp.json())["data"]
    assert data["total_seconds"] == 60 + 120 + 30
    assert {p["name"]: p["total_seconds"] for p in data["projects"]} == {"p": 60, "q": 30}
    assert {lang["name"] for lang in data["languages"]} == {"Python", "Rust"}
    params = {"start": "2026-01-02", "end": "2026-01-03"}
    async with http.get(url, headers={"Authorization": f"Bearer {KEY}"}, params=params) as resp:
        data = (await resp.json())["data"]
    assert data["total_seconds"] == 0
    assert "projects" not in data and data["languages"] == []


async def test_today(fake: FakeHackatime, http: aiohttp.ClientSession) -> None:
    await post(http, fake, [hb(time=T0 + 100), hb(time=T0 + 400), hb(time=T0 - 50)])
    fake.today = datetime.date(2026, 1, 1)
    url = fake.base_url + "/hackatime/v1/users/current/statusbar/today"
    async with http.get(url, params={"api_key": KEY}) as resp:
        assert await resp.json() == {
            "data": {"grand_total": {"text": "2 mins", "total_seconds": 120.0}}
        }


async def test_until_wakes_on_arrival(fake: FakeHackatime, http: aiohttp.ClientSession) -> None:
    waiter = asyncio.create_task(fake.until(lambda f: f.stored_count == 2))
    await post(http, fake, [hb(), hb(time=T0 + 1)])
    await asyncio.wait_for(waiter, 5)
    with pytest.raises(TimeoutError, match="2 heartbeats stored"):
        await fake.until(lambda f: f.stored_count == 3, within=0.05)


def urlopen(url: str, body: Any = None) -> Any:
    """A synchronous request, as a non-asyncio caller would make it (only to 127.0.0.1)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {KEY}"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (127.0.0.1)
    return urllib.request.urlopen(request, timeout=5)  # noqa: S310


def test_running_in_thread_for_synchronous_callers() -> None:
    fake = FakeHackatime(keys=[KEY])
    with fake.running_in_thread() as url:
        with urlopen(url + BULK, [hb()]) as resp:
            assert resp.status == 201
        fake.wait_until(lambda f: f.stored_count == 1, within=5)
    with pytest.raises(urllib.error.URLError):
        urlopen(url + BULK, [hb()])


def test_command_line_server() -> None:
    script = Path(__file__).with_name("fakeserver.py")
    with subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--key", KEY, "--no-record"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api")
        with urlopen(url + BULK, [hb()]) as resp:
            assert resp.status == 201
        with urlopen(url.removesuffix("/api") + "/_fake/state") as resp:
            assert json.load(resp) == {"requests": 1, "heartbeats": 1}
        proc.terminate()
        assert proc.wait(10) == 0


async def test_ai_attribution_fields_are_stored_and_stats_filter_by_category(
    fake: FakeHackatime, http: aiohttp.ClientSession
) -> None:
    # As Hackatime's ingest: `ai_line_changes` and `human_line_changes` are kept, and a
    # category filter sums only that category's heartbeats with the two-minute rule.
    body = [
        hb("/a.py", T0, human_line_changes=2),
        hb("/a.py", T0 + 60, human_line_changes=1),
        hb("/b.py", T0 + 10, category="ai coding", ai_line_changes=7),
        hb("/b.py", T0 + 40, category="ai coding", ai_line_changes=3),
    ]
    status, _ = await post(http, fake, body)
    assert status == 201
    stored = {(h["entity"], h["time"]): h for h in fake.heartbeats}
    assert stored["/a.py", T0]["human_line_changes"] == 2
    assert stored["/b.py", T0 + 10]["ai_line_changes"] == 7
    assert "ai_line_changes" not in stored["/a.py", T0]
    url = fake.base_url + "/v1/users/my/stats"
    totals = {}
    for category in ("coding", "ai coding"):
        params = {"start_date": "2026-01-01", "filter_by_category": category}
        async with http.get(url, headers={"Authorization": f"Bearer {KEY}"}, params=params) as r:
            totals[category] = (await r.json())["data"]["total_seconds"]
    assert totals == {"coding": 60, "ai coding": 30}
