"""How often hackatimed says what wakatime-cli's own tests expect, per dependency parser and for
languages, read from a clone of wakatime-cli (`git clone https://github.com/wakatime/wakatime-cli`).

    python benchmarks/agreement.py WAKATIME_CLI_DIR [--json]

Dependencies: each of the 51 files of pkg/deps/testdata, parsed as the test that reads it says,
against the list that test expects (wakatime_cli_deps.py holds those lists). Languages: every
path of pkg/language/language_test.go's table (`TestDetect_ChromaTopLanguagesRetrofit`) and its
one-file tests, read from the clone (the expected names through pkg/heartbeat/language.go), each
file's first 512 bytes given as the daemon gives them. Disagreements are listed by name.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from hackatimed.detect.deps import PARSER_NAMES, parse_dependencies
from hackatimed.detect.language import LanguageDetector
from wakatime_cli_deps import EXPECTED

HEAD_BYTES = 512
_TABLE_ENTRY = re.compile(
    r"Filepaths: \[\]string\{(.*?)\},\s*(?:GuessLanguage: \w+,\s*)?"
    r"Expected:\s*heartbeat\.(Language\w+)",
    re.S,
)
_ONE_FILE = re.compile(
    r'language\.Detect\("([^"]+)", \w+\)\s*require\.NoError\(t, err\)\s*'
    r"assert\.Equal\(t, heartbeat\.(Language\w+), lang\)"
)


def deps_agreement(clone: Path) -> dict[str, Any]:
    testdata = clone / "pkg" / "deps" / "testdata"
    files: dict[str, bool] = {}
    by_parser: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    differs = []
    for name, language, expected in EXPECTED:
        text = (testdata / name).read_text(encoding="utf-8", errors="replace")
        got = parse_dependencies(language, text, filename=name)
        ok = len(got) == 1000 if expected is None else got == expected
        files[name] = files.get(name, True) and ok
        parser = (
            PARSER_NAMES.get(language.casefold(), "by_file_name") if language else "by_file_name"
        )
        by_parser[parser][0] += ok
        by_parser[parser][1] += 1
        if not ok:
            differs.append({"file": name, "language": language, "got": list(got)[:20]})
    return {
        "files": len(files),
        "agree": sum(files.values()),
        "by_parser": {k: {"agree": v[0], "cases": v[1]} for k, v in sorted(by_parser.items())},
        "differs": differs,
    }


def _language_names(clone: Path) -> dict[str, str]:
    """heartbeat.LanguageX -> the name wakatime-cli sends (its String())."""
    source = (clone / "pkg" / "heartbeat" / "language.go").read_text(encoding="utf-8")
    strings = dict(re.findall(r"\t(language\w+Str)\s*=\s*\"([^\"]*)\"", source))
    start = source.index("func (l Language) String() string")
    end = source.index("func (l Language)", start + 10)
    cases = re.findall(r"case (Language\w+):\s*return (language\w+Str)", source[start:end])
    return {const: strings[s] for const, s in cases if s in strings}


def language_agreement(clone: Path) -> dict[str, Any]:
    folder = clone / "pkg" / "language"
    test = (folder / "language_test.go").read_text(encoding="utf-8")
    names = _language_names(clone)
    cases: list[tuple[str, str]] = []
    for m in _TABLE_ENTRY.finditer(test):
        cases += [(p, m[2]) for p in re.findall(r'"([^"]*)"', m[1])]
    cases += [(m[1], m[2]) for m in _ONE_FILE.finditer(test)]
    detector = LanguageDetector()
    differs = []
    for path, const in cases:
        expected = names.get(const, const.removeprefix("Language"))
        file = (folder / path).resolve()
        head = file.read_bytes()[:HEAD_BYTES] if file.is_file() else None
        got = detector.detect(file, head=head).name
        if got != expected:
            differs.append({"path": path, "expected": expected, "got": got})
    return {"cases": len(cases), "agree": len(cases) - len(differs), "differs": differs}


def report(clone: Path) -> dict[str, Any]:
    return {"dependencies": deps_agreement(clone), "languages": language_agreement(clone)}


def lines(found: dict[str, Any]) -> list[str]:
    deps, langs = found["dependencies"], found["languages"]
    out = [
        f"dependencies: {deps['agree']} of wakatime-cli's {deps['files']} test files agree "
        f"({deps['agree'] / deps['files']:.0%})"
    ]
    out += [f"  {k:>14}: {v['agree']}/{v['cases']}" for k, v in deps["by_parser"].items()]
    out += [f"  differs: {d}" for d in deps["differs"]]
    out.append(f"languages: {langs['agree']} of {langs['cases']} test paths agree")
    out += [
        f"  differs: {d['path']}: {d['expected']} expected, {d['got']}" for d in langs["differs"]
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("clone", type=Path, help="a clone of wakatime-cli")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = report(args.clone)
    print(json.dumps(found, indent=2) if args.json else "\n".join(lines(found)))
    sys.exit(0)


if __name__ == "__main__":
    main()
