"""`hackatimed init`: first-time setup, writing the config file (mode 0600).

The key is taken from `$HACKATIME_API_KEY` (and written into the file, since a service does not
see shell variables) or left in `~/.wakatime.cfg` (which the daemon reads anyway), else asked for
without echo on a terminal. It is never a command-line argument: other users can read those.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hackatimed.commands.common import KEY_PAGE, config_path
from hackatimed.config.load import API_KEY_ENV, Config, home_of, load_config
from hackatimed.config.values import key_is_malformed
from hackatimed.errors import ConfigError, HackatimedError

SUGGESTED_ROOTS = ("code", "projects", "src", "dev")
_UUID = re.compile(r"(waka_)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True, slots=True)
class Prompts:
    """How init asks: `interactive` False means never ask (no terminal)."""

    interactive: bool
    ask: Callable[[str], str]
    ask_secret: Callable[[str], str]


def terminal_prompts() -> Prompts:
    return Prompts(interactive=sys.stdin.isatty(), ask=input, ask_secret=getpass.getpass)


@dataclass(frozen=True, slots=True)
class _Key:
    value: str | None  # what goes into the file; None: nothing (no key, or ~/.wakatime.cfg's)
    said: str  # where it came from, for the summary


def cmd_init(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    return init(args, env, prompts=terminal_prompts(), out=sys.stdout)


def init(args: argparse.Namespace, env: Mapping[str, str], *, prompts: Prompts, out: TextIO) -> int:
    home = home_of(env)
    path = config_path(args, env)
    if path.exists() and not args.force:
        raise ConfigError(
            f"{path} already exists. Edit it, or run `hackatimed init --force` to replace it."
        )
    roots = _roots(args.root, home=home, prompts=prompts, out=out)
    # Only the key sources outside the file: a --force run starts afresh.
    found = load_config(None, env=env, home=home, require_roots=False).api
    key = _key(found.key.reveal() if found.key else None, found.key_source, prompts, out)
    write_private(path, render_config(roots, key.value, home=home))
    config = load_config(path, env=env, home=home)
    _summary(path, config, key, home=home, out=out)
    return 0


def render_config(roots: Sequence[Path], key: str | None, *, home: Path) -> str:
    """The file init writes: the key (when it must be in the file) and the roots."""
    stamp = time.strftime("%Y-%m-%d")
    lines = [
        f"# hackatimed configuration, written by `hackatimed init` on {stamp}.",
        "# Every other key, with its default, is in config.example.toml. After an edit, restart",
        "# the daemon (`systemctl --user restart hackatimed`) or send it SIGHUP.",
        "",
    ]
    if key is not None:
        lines += ["[api]", f"key = {_toml_string(key)}", ""]
    shown = ", ".join(_toml_string(_tilde(r, home)) for r in roots)
    lines += ["[watch]", f"roots = [{shown}]", ""]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable and writable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise HackatimedError(
            f"Could not create {path}: {exc.strerror or exc}. Check that you own "
            f"{path.parent}, or choose another place with --config."
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp made it 0600
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise HackatimedError(f"Could not write {path}: {exc.strerror or exc}.") from None


def _roots(given: Sequence[Path], *, home: Path, prompts: Prompts, out: TextIO) -> list[Path]:
    if given:
        roots = [_absolute(str(r), home) for r in given]
        for root in roots:
            if root.exists() and not root.is_dir():
                raise ConfigError(f"--root {root} is not a folder; give folders to watch.")
        return list(dict.fromkeys(roots))
    if not prompts.interactive:
        raise ConfigError(
            "No folders to watch: pass them with --root (hackatimed init --root ~/code), or run "
            "`hackatimed init` on a terminal to be asked."
        )
    return _ask_roots(home=home, prompts=prompts, out=out)


def _ask_roots(*, home: Path, prompts: Prompts, out: TextIO) -> list[Path]:
    suggested = next((home / n for n in SUGGESTED_ROOTS if (home / n).is_dir()), None)
    print("Which folders should hackatimed watch? One per line; an empty line ends.", file=out)
    roots: list[Path] = []
    while True:
        if roots:
            question = "Another folder (Enter when done): "
        elif suggested is not None:
            question = f"Folder [{_tilde(suggested, home)}]: "
        else:
            question = "Folder: "
        try:
            answer = prompts.ask(question).strip()
        except EOFError:
            answer = ""
        if not answer:
            if roots:
                return roots
            if suggested is None:
                raise ConfigError("No folder given, so there is nothing to watch.")
            return [suggested]
        root = _absolute(answer, home)
        if root.exists() and not root.is_dir():
            print(f"  {root} is not a folder.", file=out)
            continue
        if not root.exists():
            print(f"  {root} does not exist yet; it is watched once it appears.", file=out)
        if root not in roots:
            roots.append(root)


def _key(found: str | None, source: str | None, prompts: Prompts, out: TextIO) -> _Key:
    if found is not None and source == f"${API_KEY_ENV}":
        return _Key(found, f"from ${API_KEY_ENV}, saved in the file (a service cannot see it)")
    if found is not None:
        return _Key(None, f"read from {source} when the daemon starts (not copied)")
    if not prompts.interactive:
        return _Key(None, "none found")
    print(f"Your Hackatime API key is on {KEY_PAGE}.", file=out)
    for _ in range(3):
        try:
            typed = prompts.ask_secret("API key (not shown as you type; Enter to skip): ").strip()
        except EOFError:
            typed = ""
        if not typed:
            return _Key(None, "none given")
        if key_is_malformed(typed):
            print("  That holds spaces or control characters; paste the key again.", file=out)
            continue
        if not _UUID.fullmatch(typed):
            print(
                "  Note: Hackatime keys look like 8-4-4-4-12 hex digits; kept as typed.", file=out
            )
        return _Key(typed, "as typed, saved in the file")
    raise ConfigError("No usable API key was typed; run `hackatimed init` again.")


def _summary(path: Path, config: Config, key: _Key, *, home: Path, out: TextIO) -> None:
    print(f"Wrote {path} (only you can read it).", file=out)
    roots = ", ".join(_tilde(r, home) for r in config.watch.roots)
    print(f"  Watching: {roots}", file=out)
    print(f"  API key: {key.said}", file=out)
    for warning in config.warnings:
        print(f"  Note: {warning}", file=out)
    if config.api.key is None:
        print(
            "  Without a key, heartbeats are kept in the local queue until you set one: "
            f"run `hackatimed init --force` with ${API_KEY_ENV} set, or add api.key to the file.",
            file=out,
        )
    print(
        "Next: `hackatimed install-service` starts it now and at every login; "
        "`hackatimed doctor` checks the setup.",
        file=out,
    )


def _absolute(raw: str, home: Path) -> Path:
    if raw == "~" or raw.startswith("~/"):
        return Path(os.path.normpath(home / raw[2:]))
    return Path(os.path.abspath(os.path.expanduser(raw)))


def _tilde(path: Path, home: Path) -> str:
    try:
        rest = path.relative_to(home)
    except ValueError:
        return str(path)
    return "~" if rest == Path() else f"~/{rest.as_posix()}"


def _toml_string(text: str) -> str:
    # JSON's string escapes are TOML's too, except that TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
