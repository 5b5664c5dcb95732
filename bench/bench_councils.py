"""How well the council lookup (etl.councils) finds what a person meant from a mistyped name,
and how fast. Every current council's name gets one-keystroke typos (a letter dropped, doubled,
swapped with the next, or replaced by its neighbour on the keyboard), seeded; each typo is
looked up as a command would:

- resolved: the typo still names the council (a unique beginning: "Barne");
- wrong: it resolved to ANOTHER council (the figure that must stay 0);
- refused: an error naming the closest councils: the meant one first, or among the five named.

    .venv/bin/python bench/bench_councils.py [--seed 24] [--per-name 6]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl import reference  # noqa: E402
from etl.councils import CouncilDirectory, CouncilNotFound  # noqa: E402

KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neighbour(c: str, rnd: random.Random) -> str:
    for row in KEYS:
        if c.lower() in row:
            i = row.index(c.lower())
            return row[max(0, min(len(row) - 1, i + rnd.choice((-1, 1))))]
    return c


def typo(name: str, rnd: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    i = rnd.choice(letters)
    kind = rnd.choice(("drop", "double", "swap", "neighbour"))
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    if kind == "swap" and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + neighbour(name[i], rnd) + name[i + 1 :]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=24)
    ap.add_argument("--per-name", type=int, default=6)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    directory = CouncilDirectory.from_reference()
    counts = {"resolved": 0, "wrong": 0, "first": 0, "top5": 0, "missed": 0}
    times, wrong, missed = [], [], []
    for council in [c for c in reference.councils() if c.exists]:
        for _ in range(args.per_name):
            typed = typo(council.name, rnd)
            started = time.perf_counter()
            try:
                found = directory.resolve(typed)
            except CouncilNotFound as exc:
                times.append(time.perf_counter() - started)
                named = [c.urn for c in exc.closest]
                key = "first" if named[:1] == [council.urn] else "top5" if council.urn in named else "missed"
                counts[key] += 1
                if key == "missed":
                    missed.append(f"{typed!r} for {council.name}: {', '.join(c.name for c in exc.closest) or '-'}")
                continue
            times.append(time.perf_counter() - started)
            ok = found.council.urn == council.urn
            counts["resolved" if ok else "wrong"] += 1
            if not ok:
                wrong.append(f"{typed!r} for {council.name} -> {found.council.name}")
    total = sum(counts.values())
    refused = counts["first"] + counts["top5"] + counts["missed"]
    print(f"{total} one-keystroke typos of {total // args.per_name} council names (seed {args.seed})")
    print(f"  still resolve to the council: {counts['resolved']}; resolve to another council: {counts['wrong']}")
    print(
        f"  refused with the closest councils: {refused}: the meant council first {counts['first']} "
        f"({counts['first'] / refused:.1%}), in the five named {counts['first'] + counts['top5']} "
        f"({(counts['first'] + counts['top5']) / refused:.1%}), not named {counts['missed']}"
    )
    ms = sorted(t * 1000 for t in times)
    print(
        f"  lookup time: p50 {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95)]:.2f} ms, max {ms[-1]:.2f} ms"
    )
    for line in wrong[:10]:
        print("  wrong:", line)
    for line in missed[:10]:
        print("  not named:", line)


if __name__ == "__main__":
    main()
