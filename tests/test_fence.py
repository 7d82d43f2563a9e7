"""The stage fences and valid text: one bad item is set aside, said once, and the rest go on."""

from __future__ import annotations

import logging
import os

import pytest

from hackatimed.fence import Fence, safe_message
from hackatimed.heartbeat import Heartbeat, valid_text, with_valid_text


def _name(raw: bytes) -> str:
    return os.fsdecode(raw)  # what the file system hands Python: surrogate escapes


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        (b"bad\xff\xfename.py", "bad\ufffd\ufffdname.py"),
        # Go's encoder replaces each byte of a cut-short sequence on its own, not the sequence.
        (b"cut\xe2\x82.py", "cut\ufffd\ufffd.py"),
        # An encoded surrogate is not UTF-8 either: three bytes, three replacements.
        (b"\xed\xa0\x80.py", "\ufffd\ufffd\ufffd.py"),
        ("caf\u00e9-\u65e5\u672c.py".encode(), "caf\u00e9-\u65e5\u672c.py"),
        (b"plain.py", "plain.py"),
    ],
)
def test_undecodable_bytes_become_one_replacement_each_as_go_writes_them(
    raw: bytes, sent: str
) -> None:
    assert valid_text(_name(raw)) == sent
    sent.encode("utf-8")  # and it is valid text


def test_every_text_field_of_a_heartbeat_is_made_valid() -> None:
    bad = _name(b"x\xff")
    hb = Heartbeat(
        entity=f"/code/{bad}/a.py",
        time=1.0,
        category="coding",
        is_write=True,
        user_agent="ua",
        project=bad,
        branch=bad,
        dependencies=(bad, "ok"),
    )
    clean = with_valid_text(hb)
    assert clean.entity == "/code/x\ufffd/a.py"
    assert clean.project == clean.branch == "x\ufffd"
    assert clean.dependencies == ("x\ufffd", "ok")
    assert with_valid_text(clean) is clean  # nothing to do: the same value


def test_a_fence_sets_an_item_aside_says_its_cause_once_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fence = Fence("detect", logging.getLogger("test.fence"))

    def boom() -> int:
        raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

    with caplog.at_level(logging.DEBUG, logger="test.fence"):
        results = [fence.run(f"/code/f{i}.py", boom) for i in range(3)]
        results.append(fence.run("/code/ok.py", lambda: 7))
    assert results == [None, None, None, 7]
    assert fence.set_aside == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "the same cause is said in full once"
    assert "/code/f0.py" in errors[0].getMessage()
    assert "UnicodeEncodeError" in errors[0].getMessage()
    assert "Traceback" not in errors[0].getMessage() and "in boom" in errors[0].getMessage()
    assert sum("seen 3 times" in r.getMessage() for r in caplog.records) == 1


def test_what_an_error_quotes_of_a_file_is_not_logged() -> None:
    secret = b"password=hunter2 \xff"
    try:
        secret.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert safe_message(exc) == "invalid start byte at position 17"
    long = ValueError("x" * 1000)
    assert len(safe_message(long)) < 210
    assert safe_message(FileNotFoundError(2, "No such file or directory", "/a")) == (
        "No such file or directory"
    )
