"""Settings taken from `~/.wakatime.cfg`, the INI file that Hackatime's setup and every WakaTime
plugin share, so a person who already set up Hackatime needs to configure nothing twice.

The file belongs to other programs: nothing in it is ever fatal. What cannot be used becomes a
warning, and a warning never quotes a line of the file, which may hold the API key.

Rules follow wakatime-cli where hackatimed can honour them:
- `exclude`, `include` and `[projectmap]` are regexes, one per line, kept as written; like
  wakatime-cli, their users match them case-insensitively (`re.IGNORECASE`). A pattern that does
  not compile is dropped with a warning. `include` keeps wakatime-cli's meaning: a path it
  matches is tracked even when an `exclude` pattern matches it too.
- `hide_file_names`, `hide_project_names`, `hide_branch_names` are `true`, `false`, or a list
  of regexes, matched as wakatime-cli matches them: against the file's path, the project's name,
  the branch's name (`privacy.apply_privacy`). A pattern that does not compile makes the
  switch hide everything (never less than what was asked), with a warning.
  `hide_dependencies` (hackatimed's own) is `true` or `false`; a list means `true`.
- Only `=` separates a key from its value, so a regex key may hold `:` (as in `(?:a|b)`).
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field
from pathlib import Path

from hackatimed.config.values import key_is_malformed
from hackatimed.errors import KEY_PAGE
from hackatimed.privacy import Hide

HACKATIME_SUFFIX = "/hackatime/v1"
# Endpoint tails that old plugin setups left in api_url; wakatime-cli strips them too.
_LEGACY_TAILS = (".bulk", "/users/current/heartbeats", "/heartbeats", "/heartbeat")
_ALIASES = {
    "api_key": ("api_key", "apikey"),
    "hide_file_names": ("hide_file_names", "hide_filenames", "hidefilenames"),
    "hide_project_names": ("hide_project_names", "hide_projectnames", "hideprojectnames"),
    "hide_branch_names": ("hide_branch_names", "hide_branchnames", "hidebranchnames"),
    "hide_dependencies": ("hide_dependencies",),
    "exclude": ("exclude", "ignore"),
}
_TRUE = frozenset({"1", "t", "true", "yes", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class WakatimeSettings:
    """What hackatimed can use from the file; None or empty: the file does not say."""

    path: Path | None = None
    api_url: str | None = None  # the base URL: `/hackatime/v1` and endpoint tails removed
    api_key: str | None = field(default=None, repr=False)
    hostname: str | None = None
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    hide_file_names: Hide | None = None
    hide_project_names: Hide | None = None
    hide_branch_names: Hide | None = None
    hide_dependencies: bool | None = None
    exclude_unknown_project: bool | None = None
    include_only_with_project_file: bool | None = None
    heartbeat_rate_limit_seconds: float | None = None
    project_map: tuple[tuple[str, str], ...] = ()  # (regex, project name with {0}-style groups)
    # The network, as wakatime-cli takes it. `proxy` is None when not set or not usable.
    proxy: str | None = field(default=None, repr=False)  # may hold a password
    no_ssl_verify: bool | None = None
    ssl_certs_file: str | None = None
    api_key_vault_cmd: str | None = field(default=None, repr=False)
    # Settings present in [settings] that hackatimed does not honour, with why: for `doctor`.
    not_honoured: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class _CaseKeepingParser(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        # [projectmap] keys are regexes: lower-casing them would change what they match.
        return optionstr


def base_url(api_url: str) -> str:
    """The base URL hackatimed wants, from a wakatime-style `api_url`."""
    url = api_url.strip().rstrip("/")
    for tail in _LEGACY_TAILS:
        url = url.removesuffix(tail)
    return url.removesuffix(HACKATIME_SUFFIX).rstrip("/")


def read_wakatime_cfg(path: Path) -> WakatimeSettings:
    """Read the file at `path`; a missing file is an empty result, a broken one a warning."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return WakatimeSettings()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        return WakatimeSettings(path=path, warnings=(_ignored(path, reason),))
    parser = _CaseKeepingParser(
        interpolation=None, delimiters=("=",), strict=False, default_section="\0"
    )
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        return WakatimeSettings(path=path, warnings=(_ignored(path, _where(exc)),))
    return _settings(path, parser)


def _ignored(path: Path, reason: str) -> str:
    return f"{path} could not be read ({reason}); hackatimed ignores it. Fix it or remove it."


def _where(exc: configparser.Error) -> str:
    # Never str(exc): configparser quotes the offending line, which may hold the key.
    line = getattr(exc, "lineno", None)
    if line is None and isinstance(exc, configparser.ParsingError) and exc.errors:
        line = exc.errors[0][0]
    return f"not valid INI at line {line}" if line else "not valid INI"


def _settings(path: Path, parser: configparser.ConfigParser) -> WakatimeSettings:
    raw: dict[str, str] = {}
    if parser.has_section("settings"):
        raw = {k.lower(): v for k, v in parser.items("settings")}
    warnings: list[str] = []

    def get(name: str) -> str | None:
        for alias in _ALIASES.get(name, (name,)):
            value = raw.get(alias, "").strip()
            if value:
                return value
        return None

    def hide(name: str) -> Hide | None:
        return _hide(path, name, get(name), warnings)

    api_url = get("api_url")
    api_key = get("api_key")
    if api_key and key_is_malformed(api_key):
        warnings.append(
            f"{path}: api_key holds spaces or control characters; it is not used. Copy it "
            f"again from {KEY_PAGE}."
        )
        api_key = None
    exclude = _regexes(path, "exclude", get("exclude"), warnings)
    include = _regexes(path, "include", get("include"), warnings)
    hide_file_names = hide("hide_file_names")
    hide_project_names = hide("hide_project_names")
    hide_branch_names = hide("hide_branch_names")
    hide_dependencies = _hides_all(hide("hide_dependencies"))
    exclude_unknown_project = _bool(path, "exclude_unknown_project", raw, warnings)
    include_only = _bool(path, "include_only_with_project_file", raw, warnings)
    project_map = _project_map(path, parser, warnings)
    not_honoured = _not_honoured(raw, parser)
    proxy = _proxy(get("proxy"), not_honoured)
    return WakatimeSettings(
        path=path,
        api_url=base_url(api_url) if api_url else None,
        api_key=api_key,
        hostname=get("hostname"),
        exclude=exclude,
        include=include,
        hide_file_names=hide_file_names,
        hide_project_names=hide_project_names,
        hide_branch_names=hide_branch_names,
        hide_dependencies=hide_dependencies,
        exclude_unknown_project=exclude_unknown_project,
        include_only_with_project_file=include_only,
        heartbeat_rate_limit_seconds=_seconds(path, "heartbeat_rate_limit_seconds", raw, warnings),
        project_map=project_map,
        proxy=proxy,
        no_ssl_verify=_bool(path, "no_ssl_verify", raw, warnings),
        ssl_certs_file=get("ssl_certs_file"),
        api_key_vault_cmd=get("api_key_vault_cmd"),
        not_honoured=tuple(not_honoured),
        warnings=tuple(warnings),
    )


# The [settings] hackatimed honours (`proxy` only in the forms `_proxy` takes).
_HONOURED = frozenset(
    {alias for aliases in _ALIASES.values() for alias in aliases}
    | {
        "api_url", "hostname", "include", "exclude_unknown_project",
        "include_only_with_project_file", "heartbeat_rate_limit_seconds", "proxy",
        "no_ssl_verify", "ssl_certs_file", "api_key_vault_cmd",
    }
)  # fmt: skip
# An editor plugin's own settings (its status bar, wakatime-cli's log and metrics): they mean
# nothing to a daemon, and saying so for each would bury what matters.
_EDITOR_ONLY = frozenset(
    {"debug", "log_file", "metrics", "status_bar_enabled", "status_bar_coding_activity",
     "status_bar_hide_categories"}
)  # fmt: skip
# Why, for what wakatime-cli does with a setting and hackatimed does not.
_WHY_NOT = {
    "hide_project_folder": "paths are sent whole; hide_file_names hides them",
    "timeout": "use api.timeout_seconds in hackatimed's config",
    "offline": "hackatimed always queues on disk",
    "import_cfg": "the file it names is not read",
    "[project_api_key]": "one key is used for every project",
    "[git]": "git settings such as project_from_git_remote are not read",
    "[git_submodule_projectmap]": "submodules are their own projects",
}
# Sections of wakatime-cli's own state or already read: not for `doctor` to name.
_KNOWN_SECTIONS = frozenset({"settings", "projectmap", "internal"})


def _not_honoured(raw: dict[str, str], parser: configparser.ConfigParser) -> list[str]:
    """Every setting (and section) of the file that hackatimed does not honour, with why."""
    found = []
    for name, value in raw.items():
        if value.strip() and name not in _HONOURED and name not in _EDITOR_ONLY:
            found.append(f"{name} ({_WHY_NOT.get(name, 'not supported')})")
    for section in parser.sections():
        if section.lower() not in _KNOWN_SECTIONS and parser.items(section):
            name = f"[{section}]"
            found.append(f"{name} ({_WHY_NOT.get(name, 'not supported')})")
    return found


def _proxy(value: str | None, not_honoured: list[str]) -> str | None:
    """wakatime-cli's `proxy` forms: `https://user:pass@host:port`, `http://...`, `host:port`
    (taken as http://), `socks5://...` and NTLM's `domain\\user:pass`. The last two need
    what hackatimed does not have (a SOCKS or NTLM client) and are named by `doctor`."""
    if value is None:
        return None
    if "\\" in value:
        not_honoured.append("proxy (an NTLM proxy, domain\\user:pass: not supported)")
        return None
    scheme, sep, _ = value.partition("://")
    if not sep:
        return f"http://{value}"
    if scheme.lower() in ("http", "https"):
        return value
    not_honoured.append(f"proxy ({scheme}:// proxies are not supported; http:// and https:// are)")
    return None


def _hide(path: Path, name: str, value: str | None, warnings: list[str]) -> Hide | None:
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    patterns = tuple(line.strip() for line in value.splitlines() if line.strip())
    if patterns == (".*",):
        return True
    for pattern in patterns:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error:
            what = name.removeprefix("hide_").replace("_", " ")
            warnings.append(
                f"{path}: {name}: {pattern!r} is not a valid regex, so {what} are hidden for "
                "every file until it is fixed."
            )
            return True
    return patterns


def _hides_all(rule: Hide | None) -> bool | None:
    """hide_dependencies has no patterns: a list of them can only mean "hide"."""
    return rule if rule is None or isinstance(rule, bool) else True


def _seconds(path: Path, name: str, raw: dict[str, str], warnings: list[str]) -> float | None:
    value = raw.get(name, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        warnings.append(f"{path}: {name} should be a number of seconds; it is ignored.")
        return None
    return seconds


def _bool(path: Path, name: str, raw: dict[str, str], warnings: list[str]) -> bool | None:
    value = raw.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    warnings.append(f"{path}: {name} should be true or false; it is ignored.")
    return None


def _regexes(path: Path, name: str, value: str | None, warnings: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for line in (value or "").splitlines():
        pattern = line.strip()
        if pattern and _compiles(path, name, pattern, warnings):
            kept.append(pattern)
    return tuple(kept)


def _project_map(
    path: Path, parser: configparser.ConfigParser, warnings: list[str]
) -> tuple[tuple[str, str], ...]:
    if not parser.has_section("projectmap"):
        return ()
    kept: list[tuple[str, str]] = []
    for regex, name in parser.items("projectmap"):
        pattern = regex.strip()
        if not name.strip():
            warnings.append(f"{path}: [projectmap] {regex.strip()} has no project name; skipped.")
        elif _compiles(path, "[projectmap]", pattern, warnings):
            kept.append((pattern, name.strip()))
    return tuple(kept)


def _compiles(path: Path, name: str, pattern: str, warnings: list[str]) -> bool:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        warnings.append(
            f"{path}: {name} pattern {pattern!r} is not a valid regex ({exc}); skipped."
        )
        return False
    return True
