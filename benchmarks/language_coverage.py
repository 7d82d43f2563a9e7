"""How many real files get a language, and how long detection takes per call.

    python benchmarks/language_coverage.py [ROOT ...] [--limit N] [--json]

Walks the roots (default: this machine's Python installation, /usr/share and /usr/include), and
for every regular file reads its first 512 bytes (as the daemon has them when it builds a
heartbeat) and asks one LanguageDetector. Reports the share detected from the name alone and with
the head, the same over text files only (no NUL byte in the head: what a person edits), the most
common extensions left unknown, and the time per `detect` call: cold (a fresh detector for each
call, so every `.h`/`.m` file pays for listing its folder) and warm (the same call again).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from hackatimed.detect.language import LanguageDetector

DEFAULT_ROOTS = ("/root/.pyenv/versions/3.11.7", "/usr/share", "/usr/include")
HEAD_BYTES = 512


def files(roots: list[str], limit: int | None) -> Iterator[Path]:
    count = 0
    for root in roots:
        for folder, _dirs, names in os.walk(root):
            for name in sorted(names):
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                yield Path(path)
                count += 1
                if limit is not None and count >= limit:
                    return


def head_of(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return None


def percentile(values: list[int], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] / 1000


def summary(values: list[int]) -> dict[str, float]:
    return {
        "median_us": statistics.median(values) / 1000,
        "p99_us": percentile(values, 99),
        "max_us": max(values) / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", default=list(DEFAULT_ROOTS))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    paths = list(files(args.roots, args.limit))
    heads = {path: head_of(path) for path in paths}

    cold: list[int] = []
    warm: list[int] = []
    neighbour_cold: list[int] = []
    neighbour_warm: list[int] = []
    by_name = with_head = text_files = text_detected = 0
    unknown_ext: collections.Counter[str] = collections.Counter()
    languages: collections.Counter[str] = collections.Counter()
    name_only = LanguageDetector()
    for path in paths:
        head = heads[path]
        if name_only.detect(path).name is not None:
            by_name += 1
        detector = LanguageDetector()
        t0 = time.perf_counter_ns()
        guess = detector.detect(path, head=head)
        t1 = time.perf_counter_ns()
        detector.detect(path, head=head)
        t2 = time.perf_counter_ns()
        is_text = bool(head) and b"\0" not in (head or b"")
        text_files += is_text
        cold.append(t1 - t0)
        warm.append(t2 - t1)
        if path.suffix.lower() in (".h", ".m", ".mm"):
            neighbour_cold.append(t1 - t0)
            neighbour_warm.append(t2 - t1)
        if guess.name is None:
            unknown_ext[path.suffix.lower() or "(none)"] += 1
        else:
            with_head += 1
            text_detected += is_text
            languages[guess.name] += 1

    total = len(paths)
    report = {
        "roots": args.roots,
        "files": total,
        "detected_by_name": by_name,
        "detected_with_head": with_head,
        "share_by_name": round(by_name / total, 4) if total else 0.0,
        "share_with_head": round(with_head / total, 4) if total else 0.0,
        "text_files": text_files,
        "text_detected": text_detected,
        "share_of_text_files": round(text_detected / text_files, 4) if text_files else 0.0,
        "cold": summary(cold),
        "warm": summary(warm),
        "neighbour_files": len(neighbour_cold),
        "neighbour_cold": summary(neighbour_cold) if neighbour_cold else {},
        "neighbour_warm": summary(neighbour_warm) if neighbour_warm else {},
        "top_languages": languages.most_common(15),
        "top_unknown_extensions": unknown_ext.most_common(20),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"files: {total} under {', '.join(args.roots)}")
    print(f"detected from the name alone: {by_name} ({report['share_by_name']:.1%})")
    print(
        f"detected with the first {HEAD_BYTES} bytes: {with_head} ({report['share_with_head']:.1%})"
    )
    print(
        f"text files (no NUL in the head): {text_files}, detected {text_detected}"
        f" ({report['share_of_text_files']:.1%})"
    )
    for label in ("cold", "warm", "neighbour_cold", "neighbour_warm"):
        if report[label]:
            s = report[label]
            print(f"{label:>15}: median {s['median_us']:.1f} µs, p99 {s['p99_us']:.1f} µs")
    print("top languages:", ", ".join(f"{n} {c}" for n, c in report["top_languages"]))
    print("top unknown:", ", ".join(f"{e} {c}" for e, c in report["top_unknown_extensions"]))


if __name__ == "__main__":
    main()
