"""What AI coding agents write in their own session logs about the files they edit.

Each agent appends to a log on this machine as it works. Only the records that name a file in an
edit call are of interest here; everything else in them (prompts, code, output) is skipped
unread where a cheap byte test allows, and is never kept, logged or sent.

- Claude Code: `~/.claude/projects/<folder>/<session>.jsonl` (and `$CLAUDE_CONFIG_DIR`), one JSON
  record a line. An assistant record carries `tool_use` blocks; `Edit`, `MultiEdit`, `Write`
  name the file in `input.file_path`, `NotebookEdit` in `input.notebook_path`. The tool's result
  comes later in a user record: a `tool_result` block (`tool_use_id`, `is_error`) and
  `toolUseResult.filePath`.
- Codex CLI: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, records `{timestamp, type,
  payload}`. `session_meta` and `turn_context` carry the `cwd`; a `response_item` whose payload
  is a `custom_tool_call` (or a `function_call`, `local_shell_call`) named `apply_patch` holds
  the patch, whose `*** Add File: p`, `*** Update File: p`, `*** Move to: p` lines name the
  files (relative to the cwd); its `*_output` record closes the call; an `event_msg`
  `patch_apply_end` lists the changed files (absolute) in `changes`.
- Aider: `.aider.chat.history.md` in the folder it runs in (the repository's top), Markdown.
  After writing a file it says `> Applied edit to <path>` (relative to that folder).
- Gemini CLI: `~/.gemini/tmp/<project hash>/chats/session-*.json`, one JSON document that it
  writes whole again at each change (so it is not appended to: its end is read instead). A
  `gemini` message's `toolCalls` hold records `{id, name, args, result, status, timestamp}`;
  `write_file` and `replace` name the file in `args.file_path` (absolute), recorded once the
  call has finished.

A `Mention` is one such statement: a call (before the write) or its result (after).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CLAUDE_EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit"})
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add File|Update File|Move to): (.+?)\s*$", re.MULTILINE)
_AIDER_APPLIED = re.compile(rb"^> Applied edit to (.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Mention:
    """An agent's log naming a file it edits. `path` as written (absolute, or relative to
    `cwd`); `path` "" for a result that names no file (it closes every file of its call).
    `at`: the record's own time (wall seconds), when it has one."""

    call: str
    path: str
    at: float | None
    done: bool  # the call's result, written after the file was
    failed: bool = False
    cwd: str | None = None


def iso_seconds(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _record(line: bytes, markers: tuple[bytes, ...]) -> dict[str, Any] | None:
    """The JSON record on `line`, if it holds one of `markers`: a byte test first, so that
    the lines that cannot matter (most of a transcript) are never parsed."""
    if not any(m in line for m in markers):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


class ClaudeFormat:
    agent = "Claude Code"
    # Only these lines can name an edited file: the rest (text, thinking, reads) is not parsed.
    _MARKERS = (b'"tool_use"', b'"toolUseResult"')

    def mentions(self, line: bytes) -> list[Mention]:
        record = _record(line, self._MARKERS)
        if record is None:
            return []
        at = iso_seconds(record.get("timestamp"))
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        found: list[Mention] = []
        for block in blocks:
            if block.get("type") == "tool_use" and block.get("name") in CLAUDE_EDIT_TOOLS:
                args = block.get("input")
                path = _claude_path(args) if isinstance(args, dict) else None
                if path:
                    found.append(Mention(str(block.get("id", "")), path, at, done=False))
            elif block.get("type") == "tool_result":
                result = record.get("toolUseResult")
                path = result.get("filePath") if isinstance(result, dict) else None
                call = str(block.get("tool_use_id", ""))
                failed = bool(block.get("is_error"))
                if (isinstance(path, str) and path) or failed:
                    name = path if isinstance(path, str) else ""
                    found.append(Mention(call, name, at, done=True, failed=failed))
        return found


def _claude_path(args: dict[str, Any]) -> str | None:
    for key in ("file_path", "notebook_path"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class CodexFormat:
    agent = "Codex CLI"
    _MARKERS = (b"Begin Patch", b"patch_apply", b'"session_meta"', b'"turn_context"', b"_output")

    def mentions(self, line: bytes) -> list[Mention]:
        record = _record(line, self._MARKERS)
        if record is None:
            return []
        at = iso_seconds(record.get("timestamp"))
        # Older rollouts wrote the item itself on the line, without the envelope.
        payload = record.get("payload", record)
        if not isinstance(payload, dict):
            return []
        kind = record.get("type")
        if kind in ("session_meta", "turn_context"):
            cwd = payload.get("cwd")
            return [Mention("", "", at, done=False, cwd=cwd)] if isinstance(cwd, str) else []
        item = payload.get("type")
        call = str(payload.get("call_id") or payload.get("id") or "")
        if item in ("custom_tool_call", "function_call", "local_shell_call"):
            return [Mention(call, p, at, done=False) for p in _patched_files(payload)]
        if isinstance(item, str) and item.endswith("_output"):
            return [Mention(call, "", at, done=True)]
        if item == "patch_apply_end":
            changes = payload.get("changes")
            failed = payload.get("success") is False
            names = list(changes) if isinstance(changes, dict) else []
            return [Mention(call, str(p), at, done=True, failed=failed) for p in names]
        return []


def _patched_files(payload: dict[str, Any]) -> list[str]:
    """The files an `apply_patch` call writes, wherever this version of Codex put the patch:
    the custom tool's `input`, a function call's JSON `arguments`, a shell call's argv. A
    shell call's `workdir`, when it has one, is what its relative paths are relative to."""
    texts: list[str] = []
    _strings(payload, texts, depth=0)
    found: list[str] = []
    for text in texts:
        if "*** Begin Patch" in text:
            found += _PATCH_FILE.findall(text)
    workdir = _workdir(payload.get("arguments"))
    if workdir:
        found = [p if os.path.isabs(p) else os.path.join(workdir, p) for p in found]
    return list(dict.fromkeys(found))


def _workdir(arguments: object) -> str | None:
    if not isinstance(arguments, str) or '"workdir"' not in arguments:
        return None
    try:
        args = json.loads(arguments)
    except ValueError:
        return None
    workdir = args.get("workdir") if isinstance(args, dict) else None
    return workdir if isinstance(workdir, str) and os.path.isabs(workdir) else None


def _strings(value: object, out: list[str], *, depth: int) -> None:
    if depth > 6:
        return
    if isinstance(value, str):
        if value.lstrip().startswith(("{", "[")) and "Begin Patch" in value:
            try:  # a function call's arguments: JSON in a string
                _strings(json.loads(value), out, depth=depth + 1)
                return
            except ValueError:
                pass
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out, depth=depth + 1)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out, depth=depth + 1)


# A tool call's record in Gemini's session file, from its id to its (absolute) file path. JSON
# strings hold no raw quote, so `"(?:[^"\\]|\\.)*"` is exactly one string.
_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'
_GEMINI_CALL = re.compile(
    rf'"id":\s*{_JSON_STRING},\s*"name":\s*"(?:write_file|replace|edit)",\s*"args":\s*\{{'
)
_GEMINI_PATH = re.compile(rf'"file_path":\s*{_JSON_STRING}')
_GEMINI_END = re.compile(rf'"status":\s*"(\w+)",\s*"timestamp":\s*{_JSON_STRING}')


class GeminiFormat:
    agent = "Gemini CLI"
    rewritten = True  # the file is written whole each time: its end is read, not its growth

    def mentions(self, text: bytes) -> list[Mention]:
        """The finished edit calls in `text`, the end of a session file (its first record may
        be cut)."""
        found: list[Mention] = []
        body = text.decode("utf-8", errors="replace")
        calls = list(_GEMINI_CALL.finditer(body))
        for i, call in enumerate(calls):
            stop = calls[i + 1].start() if i + 1 < len(calls) else len(body)
            path = _GEMINI_PATH.search(body, call.end(), stop)
            end = _GEMINI_END.search(body, call.end(), stop)
            if path is None or end is None:
                continue  # not finished yet: it is recorded again when it is
            name = _unescape(path.group(1))
            at = iso_seconds(_unescape(end.group(2)))
            failed = end.group(1) in ("error", "cancelled")
            found.append(Mention(_unescape(call.group(1)), name, at, done=True, failed=failed))
        return found


def _unescape(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text


class AiderFormat:
    agent = "Aider"

    def mentions(self, line: bytes) -> list[Mention]:
        if not line.startswith(b"> Applied edit to "):
            return []
        m = _AIDER_APPLIED.match(line)
        if m is None:
            return []
        path = m.group(1).decode("utf-8", errors="replace")
        return [Mention("", path, None, done=True)]


Format = ClaudeFormat | CodexFormat | AiderFormat | GeminiFormat
