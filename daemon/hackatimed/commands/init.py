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
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hackatimed.commands.common import RELOAD_ADVICE, check_key, config_path
from hackatimed.config.load import API_KEY_ENV, ENV_KEY_WINS, Config, home_of, load_config
from hackatimed.config.values import key_is_malformed
from hackatimed.errors import EXIT_FAILURE, EXIT_OK, KEY_PAGE, ConfigError, HackatimedError

EXAMPLE_NAME = "config.example.toml"  # in the package's config folder: a copy of the repository's
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
    said: str  # where it came from, and what the server said of it, for the summary
    refused: bool = False  # the server refused the only key there was: exit 1


# The server's word on a key: "accepted", "refused", or "unreachable" (then why).
KeyCheck = Callable[[str], tuple[str, str]]


def _unchecked(key: str) -> tuple[str, str]:
    """No server asked: for callers (tests) that pass no `check`."""
    return "unreachable", "not checked"


@dataclass(frozen=True, slots=True)
class _Found:
    """The keys outside the file: `$HACKATIME_API_KEY` and `~/.wakatime.cfg`'s (or None)."""

    env_key: str | None
    waka_key: str | None
    waka_label: str


def cmd_init(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    def check(key: str) -> tuple[str, str]:
        config = load_config(None, env=env, home=home_of(env), require_roots=False)
        return check_key(config, key)

    return init(args, env, prompts=terminal_prompts(), out=sys.stdout, check=check)


def init(
    args: argparse.Namespace,
    env: Mapping[str, str],
    *,
    prompts: Prompts,
    out: TextIO,
    check: KeyCheck = _unchecked,
) -> int:
    """`check` asks the server about a key; by default nothing is asked."""
    if getattr(args, "example", False):
        print(example_config(), end="", file=out)
        return EXIT_OK
    home = home_of(env)
    path = config_path(args, env)
    if path.exists() and not args.force:
        raise ConfigError(
            f"{path} already exists. Edit it, or run `hackatimed init --force` to replace it."
        )
    roots = _roots(args.root, home=home, prompts=prompts, out=out)
    key = _key(_found(env, home), prompts, out, check)
    write_private(path, render_config(roots, key.value, home=home))
    config = load_config(path, env=env, home=home)
    _summary(path, config, key, home=home, out=out, told_roots=not args.root)
    return EXIT_FAILURE if key.refused else EXIT_OK


def _found(env: Mapping[str, str], home: Path) -> _Found:
    # Only the key sources outside the file: a --force run starts afresh.
    found = load_config(None, env=env, home=home, require_roots=False).api
    without = {k: v for k, v in env.items() if k != API_KEY_ENV}
    waka = load_config(None, env=without, home=home, require_roots=False).api
    env_key = found.key.reveal() if found.key and found.key_source == f"${API_KEY_ENV}" else None
    return _Found(
        env_key=env_key,
        waka_key=waka.key.reveal() if waka.key else None,
        waka_label=waka.key_source or "~/.wakatime.cfg",
    )


def example_config() -> str:
    """config.example.toml, as installed with the package."""
    from importlib.resources import files

    return files("hackatimed.config").joinpath(EXAMPLE_NAME).read_text(encoding="utf-8")


def render_config(roots: Sequence[Path], key: str | None, *, home: Path) -> str:
    """The file init writes: the key (when it must be in the file) and the roots."""
    stamp = time.strftime("%Y-%m-%d")
    advice = textwrap.wrap(
        f"Every other key, with its default: `hackatimed init --example`. After an edit, "
        f"{RELOAD_ADVICE}.",
        width=96,
        break_on_hyphens=False,
    )
    lines = [
        f"# hackatimed configuration, written by `hackatimed init` on {stamp}.",
        *(f"# {line}" for line in advice),
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
        answer = _ask(prompts.ask, question)
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


def _key(found: _Found, prompts: Prompts, out: TextIO, check: KeyCheck) -> _Key:
    """Which key the daemon will use, checked with the server when it answers.

    A key in `$HACKATIME_API_KEY` wins over `~/.wakatime.cfg`'s, unless the server refuses it
    (or, with no server to ask, it is no key's shape) and the other one is not refused: a
    placeholder such as `your-key` must not hide a working key.
    """
    env_name, label = f"${API_KEY_ENV}", found.waka_label
    if found.env_key is not None:
        verdict, why = check(found.env_key)
        if verdict == "accepted":
            return _Key(found.env_key, f"from {env_name}, accepted by the server, saved in the "
                        "file (a service cannot see it)")  # fmt: skip
        other = found.waka_key if found.waka_key not in (None, found.env_key) else None
        if other is not None:
            theirs, their_why = check(other)
            placeholder = not _UUID.fullmatch(found.env_key) and bool(_UUID.fullmatch(other))
            if theirs != "refused" and (verdict == "refused" or placeholder):
                reason = (
                    "was refused by the server" if verdict == "refused"
                    else "is not shaped like a Hackatime key (8-4-4-4-12 hex digits)"
                )  # fmt: skip
                state = "accepted by the server" if theirs == "accepted" else their_why
                return _Key(None, f"the key in {env_name} {reason}, so the one in {label} is "
                            f"used ({state}; read when the daemon starts, not copied). Unset "
                            f"{env_name}: wherever it is set, it wins over {label}.")  # fmt: skip
        if verdict == "refused":
            print(f"  The key in {env_name} was refused by the server; it is not saved.", file=out)
            if not prompts.interactive:
                return _Key(None, f"REFUSED by the server (from {env_name}), not saved. Copy "
                            f"your key from {KEY_PAGE}, then run `hackatimed init --force` "
                            "again.", refused=True)  # fmt: skip
            return _ask_key(prompts, out, check)
        note = "" if _UUID.fullmatch(found.env_key) else "; it is not shaped like a Hackatime key"
        return _Key(found.env_key, f"from {env_name}, saved in the file (a service cannot see "
                    f"it); {why}{note}")  # fmt: skip
    if found.waka_key is not None:
        verdict, why = check(found.waka_key)
        if verdict == "refused":
            print(f"  The key in {label} was refused by the server.", file=out)
            if prompts.interactive:
                return _ask_key(prompts, out, check)
            return _Key(None, f"REFUSED by the server (from {label}). Copy your key from "
                        f"{KEY_PAGE} into {label}, or run `hackatimed init --force` on a "
                        "terminal to type it.", refused=True)  # fmt: skip
        state = "accepted by the server" if verdict == "accepted" else why
        return _Key(None, f"read from {label} when the daemon starts (not copied); {state}")
    if not prompts.interactive:
        return _Key(None, "none found")
    return _ask_key(prompts, out, check)


def _ask_key(prompts: Prompts, out: TextIO, check: KeyCheck) -> _Key:
    print(f"Your Hackatime API key is on {KEY_PAGE}.", file=out)
    for _ in range(3):
        typed = _ask(prompts.ask_secret, "API key (not shown as you type; Enter to skip): ")
        if not typed:
            return _Key(None, "none given")
        if key_is_malformed(typed):
            print("  That holds spaces or control characters; paste the key again.", file=out)
            continue
        verdict, why = check(typed)
        if verdict == "refused":
            print(f"  The server refused that key; copy it again from {KEY_PAGE}.", file=out)
            continue
        if verdict == "accepted":
            return _Key(typed, "as typed, accepted by the server, saved in the file")
        if not _UUID.fullmatch(typed):
            print(
                "  Note: Hackatime keys look like 8-4-4-4-12 hex digits; kept as typed.", file=out
            )
        return _Key(typed, f"as typed, saved in the file; {why}")
    raise ConfigError("No usable API key was typed; run `hackatimed init` again.")


def _ask(ask: Callable[[str], str], question: str) -> str:
    """An answer; Ctrl-D (end of input) stops init before anything is written."""
    try:
        return ask(question).strip()
    except EOFError:
        print(file=sys.stderr)
        raise HackatimedError("Stopped at end of input (Ctrl-D): nothing was written.") from None


def _summary(
    path: Path, config: Config, key: _Key, *, home: Path, out: TextIO, told_roots: bool
) -> None:
    """`told_roots`: the roots were asked for, and a missing one was said then."""
    print(f"Wrote {path} (only you can read it).", file=out)
    roots = ", ".join(_tilde(r, home) for r in config.watch.roots)
    print(f"  Watching: {roots}", file=out)
    print(f"  API key: {key.said}", file=out)
    for warning in (*config.warnings, *(() if told_roots else config.root_notes)):
        if not warning.startswith(ENV_KEY_WINS):  # the API key line said it already
            print(f"  Note: {warning}", file=out)
    if config.api.key is None:
        print(
            f"  Your key is on {KEY_PAGE}. "
            "Without a key, heartbeats are kept in the local queue until you set one: "
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
