"""One truth about the key: a daemon started with a wrong `$HACKATIME_API_KEY`, while
`~/.wakatime.cfg` holds a good key, says at once that its key is refused; `status` and `doctor`
(run from a shell without that variable) report the daemon's own key source and verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProcess, clean_env, hackatimed, write_config
from tests.fakeserver import FakeHackatime

GOOD = "6f1f0e51-0000-4000-8000-00000000beef"
WRONG = "6f1f0e51-0000-4000-8000-0000000bad00"
PAGE = "https://hackatime.hackclub.com/my/wakatime_setup"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server() -> Iterator[tuple[FakeHackatime, str]]:
    fake = FakeHackatime(keys=[GOOD])
    with fake.running_in_thread() as url:
        yield fake, url


def test_the_daemons_own_key_and_verdict(tmp_path: Path, server: tuple[FakeHackatime, str]) -> None:
    _, url = server
    home = tmp_path / "home"
    home.mkdir()
    (home / ".wakatime.cfg").write_text(f"[settings]\napi_key = {GOOD}\n")
    root = tmp_path / "code"
    root.mkdir()
    config = write_config(tmp_path / "config.toml", url=url, key=None, roots=[root],
                          data_dir=tmp_path / "data")  # fmt: skip
    shell = clean_env(home)
    with DaemonProcess(
        ["run", "--config", str(config)], env=clean_env(home, HACKATIME_API_KEY=WRONG)
    ) as daemon:
        # At once, before any save.
        line = daemon.wait_for_line("was refused by the server")
        assert "the API key (from $HACKATIME_API_KEY)" in line and PAGE in line
        assert "holds another key that is not: unset $HACKATIME_API_KEY" in daemon.output()

        report = json.loads(hackatimed("status", "--json", "--config", str(config),
                                       env=shell).stdout)  # fmt: skip
        assert report["key_source"] == "$HACKATIME_API_KEY"
        assert report["key_verdict"] == "refused" and report["key_refused"] is True
        assert report["key_source_here"] == "~/.wakatime.cfg"
        text = hackatimed("status", "--config", str(config), env=shell).stdout
        key_line = next(line for line in text.splitlines() if "API key:" in line)
        assert "REFUSED by the server (from $HACKATIME_API_KEY)" in key_line
        assert f"`kill {daemon.proc.pid}`" in key_line
        assert "where $HACKATIME_API_KEY is not set: then it uses the key from ~/.wakatime.cfg" in (
            key_line
        )

        doctor = hackatimed("doctor", "--config", str(config), env=shell)
        assert doctor.returncode == 1
        assert "ok    API key       accepted by the server (from ~/.wakatime.cfg)" in doctor.stdout
        assert (
            f"FAIL  daemon key    the running daemon (pid {daemon.proc.pid}) uses the key from "
            "$HACKATIME_API_KEY, and the server refused it" in doctor.stdout
        )
        assert "this shell's settings give the key from ~/.wakatime.cfg" in doctor.stdout
        assert "start it again where $HACKATIME_API_KEY is not set" in doctor.stdout
        assert "no folders to watch" not in doctor.stdout
        assert daemon.stop() == 0
    for text in (daemon.output(), doctor.stdout, doctor.stderr):
        assert GOOD not in text and WRONG not in text

    # The same daemon with the good key: accepted, said at start, and published.
    with DaemonProcess(["run", "--config", str(config)], env=shell) as daemon:
        daemon.wait_for_line("is accepted by")
        report = json.loads(hackatimed("status", "--json", "--config", str(config),
                                       env=shell).stdout)  # fmt: skip
        assert report["key_source"] == "~/.wakatime.cfg"
        assert daemon.stop() == 0
