"""Networks as they are: the proxy variables with NO_PROXY, `proxy` in ~/.wakatime.cfg in
wakatime-cli's forms, `ssl_certs_file` and `no_ssl_verify`, `api_key_vault_cmd`,
`include_only_with_project_file`, what `doctor` says is not honoured, and `$WAKATIME_HOME`.
Through the real `hackatimed` command; every server is on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_proc import clean_env, hackatimed, write_config
from tests.fakeserver import FakeHackatime
from tests.gitrepo import make_repo

KEY = "6f1f0e51-0000-4000-8000-00000000ab1e"
TODAY = "/api/hackatime/v1/users/current/statusbar/today"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def servers() -> Iterator[tuple[FakeHackatime, str, FakeHackatime, str]]:
    """The server, and a second fake that stands in for a proxy: a request sent through a
    proxy reaches it in absolute form, and it answers as the server would."""
    server, proxy = FakeHackatime(keys=[KEY]), FakeHackatime(keys=[KEY])
    with server.running_in_thread() as url, proxy.running_in_thread() as proxy_url:
        yield server, url, proxy, proxy_url.removesuffix("/api")


def config_for(tmp_path: Path, url: str) -> Path:
    return write_config(tmp_path / "c.toml", url=url, key=KEY, roots=[tmp_path],
                        data_dir=tmp_path / "data")  # fmt: skip


def asked(fake: FakeHackatime) -> int:
    return sum(1 for r in fake.requests if r.path == TODAY)


def test_proxy_variables_with_no_proxy(
    tmp_path: Path, home: Path, servers: tuple[FakeHackatime, str, FakeHackatime, str]
) -> None:
    server, url, proxy, proxy_url = servers
    config = config_for(tmp_path, url)
    # A ~/.netrc for every host must not take the key's place (aiohttp's trust_env would).
    (home / ".netrc").write_text("default login someone password elsewhere\n")
    (home / ".netrc").chmod(0o600)
    doctor = hackatimed(
        "doctor", "--config", str(config), env=clean_env(home, HTTP_PROXY=proxy_url)
    )
    assert f"requests go through the proxy {proxy_url} ($HTTP_PROXY)" in doctor.stdout
    proxy.requests.clear()
    through = hackatimed("today", "--config", str(config),
                         env=clean_env(home, HTTP_PROXY=proxy_url))  # fmt: skip
    assert through.returncode == 0, through.stderr
    assert (asked(proxy), asked(server)) == (1, 0), "the request went through the proxy"

    bypass = clean_env(home, HTTP_PROXY=proxy_url, NO_PROXY="127.0.0.1")
    direct = hackatimed("today", "--config", str(config), env=bypass)
    assert direct.returncode == 0, direct.stderr
    assert (asked(proxy), asked(server)) == (1, 1), "NO_PROXY names the server: direct"


@pytest.mark.parametrize("form", ["bare", "http"])
def test_proxy_in_wakatime_cfg_wins_over_the_variables(
    tmp_path: Path,
    home: Path,
    servers: tuple[FakeHackatime, str, FakeHackatime, str],
    form: str,
) -> None:
    server, url, proxy, proxy_url = servers
    bare = proxy_url.removeprefix("http://")
    given = bare if form == "bare" else f"http://student:pa55word@{bare}"
    (home / ".wakatime.cfg").write_text(f"[settings]\nproxy = {given}\n")
    config = config_for(tmp_path, url)
    done = hackatimed("today", "--config", str(config),
                      env=clean_env(home, NO_PROXY="127.0.0.1"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (asked(proxy), asked(server)) == (1, 0)
    if form == "http":
        sent = next(r for r in proxy.requests if r.path == TODAY)
        assert sent.headers["Proxy-Authorization"].startswith("Basic ")
        doctor = hackatimed("doctor", "--config", str(config), env=clean_env(home))
        assert f"through the proxy http://{bare} (proxy in ~/.wakatime.cfg)" in doctor.stdout
        assert "pa55word" not in doctor.stdout + doctor.stderr


@pytest.mark.parametrize(
    ("host", "no_proxy", "bypassed"),
    [
        ("api.example.org", "example.org", True),
        ("api.example.org", ".example.org", True),
        ("example.org", "other.org, example.org:443", True),
        ("notexample.org", "example.org", False),
        ("127.0.0.1", "localhost,127.0.0.1", True),
        ("::1", "[::1]:8080", True),
        ("anything", "*", True),
        ("host", "", False),
    ],
)
def test_no_proxy_as_curl_reads_it(host: str, no_proxy: str, bypassed: bool) -> None:
    from hackatimed.config.load import _bypassed

    assert _bypassed(host, no_proxy) is bypassed


def test_a_socks_proxy_variable_is_said_and_not_used(tmp_path: Path, home: Path) -> None:
    from hackatimed.config.load import load_config

    env = clean_env(home, ALL_PROXY="socks5://127.0.0.1:1080")
    config = load_config(None, env=env, home=home, require_roots=False)
    assert config.api.proxy is None
    assert any("$ALL_PROXY names a socks5:// proxy" in w for w in config.warnings)


def test_heartbeat_rate_limit_seconds_is_honoured(tmp_path: Path, home: Path) -> None:
    from hackatimed.config.load import load_config

    (home / ".wakatime.cfg").write_text("[settings]\nheartbeat_rate_limit_seconds = 45\n")
    config = load_config(None, env=clean_env(home), home=home, require_roots=False)
    assert config.heartbeats.rate_limit_seconds == 45
    assert config.not_honoured == ()
    mine = tmp_path / "mine.toml"
    mine.write_text("[heartbeats]\nrate_limit_seconds = 20\n")
    config = load_config(mine, env=clean_env(home), home=home, require_roots=False)
    assert config.heartbeats.rate_limit_seconds == 20, "the TOML wins"


def test_doctor_names_what_is_not_honoured(tmp_path: Path, home: Path) -> None:
    (home / ".wakatime.cfg").write_text(
        "[settings]\nproxy = socks5://user:secretpass@127.0.0.1:1080\nhide_project_folder = true\n"
        "timeout = 5\napi_url = http://127.0.0.1:9/api/hackatime/v1\nimport_cfg = ~/other.cfg\n"
        "status_bar_enabled = true\nheartbeat_rate_limit_seconds = 30\n"
        f"[project_api_key]\nwork/.* = {KEY}\n"
    )
    config = write_config(tmp_path / "c.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[tmp_path], data_dir=tmp_path / "data")  # fmt: skip
    done = hackatimed("doctor", "--config", str(config), env=clean_env(home))
    line = next(x for x in done.stdout.splitlines() if x.startswith("warn  wakatime.cfg"))
    assert "not honoured by hackatimed" in line
    assert "proxy (socks5:// proxies are not supported" in line
    assert "hide_project_folder (" in line and "timeout (" in line
    assert "import_cfg (the file it names is not read)" in line
    assert "[project_api_key] (one key is used for every project)" in line
    assert "status_bar_enabled" not in line, "an editor's own setting: nothing to say"
    assert "heartbeat_rate_limit_seconds" not in line and "api_url" not in line
    assert KEY not in done.stdout + done.stderr
    assert "secretpass" not in done.stdout + done.stderr


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[FakeHackatime, str, Path]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate to test with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    fake = FakeHackatime(keys=[KEY], ssl_context=context)
    with fake.running_in_thread() as url:
        yield fake, url, cert


def test_tls_settings(
    tmp_path: Path, home: Path, tls_server: tuple[FakeHackatime, str, Path]
) -> None:
    fake, url, cert = tls_server
    config = config_for(tmp_path, url)
    refused = hackatimed("today", "--config", str(config), env=clean_env(home))
    assert refused.returncode == 1
    assert "TLS verification failed" in refused.stderr, refused.stderr

    (home / ".wakatime.cfg").write_text(f"[settings]\nssl_certs_file = {cert}\n")
    trusted = hackatimed("today", "--config", str(config), env=clean_env(home))
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stderr == ""

    (home / ".wakatime.cfg").write_text("[settings]\nno_ssl_verify = true\n")
    unchecked = hackatimed("today", "--config", str(config), env=clean_env(home))
    assert unchecked.returncode == 0, unchecked.stderr
    assert "TLS verification is off (no_ssl_verify in ~/.wakatime.cfg)" in unchecked.stderr
    assert asked(fake) == 2


def test_api_key_vault_cmd_runs_without_a_shell_and_is_never_shown(
    tmp_path: Path, home: Path, servers: tuple[FakeHackatime, str, FakeHackatime, str]
) -> None:
    _, url, _, _ = servers
    vault = tmp_path / "vault.py"
    marker = tmp_path / "shell-ran"
    vault.write_text(f"import sys\nprint(' {KEY} ')\nprint(sys.argv[1:], file=sys.stderr)\n")
    # `;` and `>` would mean something to a shell; here they are two more arguments.
    (home / ".wakatime.cfg").write_text(
        f"[settings]\napi_key_vault_cmd = {sys.executable} {vault} ; >{marker}\n"
    )
    config = write_config(tmp_path / "c.toml", url=url, key=None, roots=[tmp_path],
                          data_dir=tmp_path / "data")  # fmt: skip
    env = clean_env(home)
    done = hackatimed("today", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "no shell ran the command"
    assert f"[';', '>{marker}']" in done.stderr
    report = json.loads(hackatimed("status", "--json", "--config", str(config), env=env).stdout)
    assert report["key_source"] == "api_key_vault_cmd in ~/.wakatime.cfg"
    doctor = hackatimed("doctor", "--config", str(config), env=env)
    assert "accepted by the server (from api_key_vault_cmd in ~/.wakatime.cfg)" in doctor.stdout
    for text in (done.stdout, doctor.stdout, doctor.stderr, json.dumps(report)):
        assert KEY not in text

    vault.write_text("import sys\nsys.exit(3)\n")
    failed = hackatimed("doctor", "--config", str(config), env=env)
    assert "api_key_vault_cmd in ~/.wakatime.cfg: " in failed.stdout
    assert "exited with status 3; no key from it." in failed.stdout


def test_include_only_with_project_file(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "code"
    plain = make_repo(root / "plain", files={"a.py": "x = 1\n"})
    marked = make_repo(root / "marked", files={"b.py": "y = 2\n", ".wakatime-project": "mine\n"})
    (home / ".wakatime.cfg").write_text("[settings]\ninclude_only_with_project_file = true\n")
    config = write_config(tmp_path / "c.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[root], data_dir=tmp_path / "data")  # fmt: skip
    done = hackatimed("explain", "--json", "--config", str(config), str(plain / "a.py"),
                      str(marked / "b.py"), env=clean_env(home))  # fmt: skip
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert "include_only_with_project_file" in first["skipped"]
    assert second["project"] == "mine"


def test_wakatime_home_is_named_by_its_path(tmp_path: Path, home: Path) -> None:
    elsewhere = tmp_path / "waka"
    elsewhere.mkdir()
    (elsewhere / ".wakatime.cfg").write_text(f"[settings]\napi_key = {KEY}\n")
    config = write_config(tmp_path / "c.toml", url="http://127.0.0.1:9/api", key=None,
                          roots=[tmp_path], data_dir=tmp_path / "data")  # fmt: skip
    env = clean_env(home, WAKATIME_HOME=str(elsewhere))
    report = json.loads(hackatimed("status", "--json", "--config", str(config), env=env).stdout)
    assert report["key_source"] == str(elsewhere / ".wakatime.cfg")
