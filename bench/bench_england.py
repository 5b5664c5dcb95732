"""Speed of England at any date (etl.england) on a synthetic England the size of the real one
(~600 graded reports, ~150 councils, on the real council reference), on both engines:
`ofsted query england` and `ofsted query movement` as their functions answer them (the
connection open, as a page has it; and with opening the warehouse, as the command does), and
the rewrite of grade_timeline and grade_distribution that every refresh does.

Goal (issue 18): each query within 50 ms.

    .venv/bin/python bench/bench_england.py [--postgres] [--repeat 15]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl import derived, england  # noqa: E402
from etl.cli.query import render  # noqa: E402
from etl.graded import graded_reports  # noqa: E402
from etl.warehouse import connect, migrate  # noqa: E402
from tests.support.england import bench_on_engines, load_england  # noqa: E402

GOAL_MS = 50
DAY = date(2024, 3, 31)
QUERIES = {
    "england --as-at 2024-03-31": lambda wh: england.as_at(wh, DAY),
    "england --as-at 2024-03-31 --by region": lambda wh: england.as_at(wh, DAY, by_region=True),
    "england --area in_care --as-at 2014-03-31": lambda wh: england.as_at(wh, date(2014, 3, 31), "in_care"),
    "england (today) --by region": lambda wh: england.as_at(wh, date.today(), by_region=True),
    "movement --as-at 2024-03-31": lambda wh: england.movement(wh, DAY),
    "movement (today) --councils": lambda wh: england.movement_councils(wh, date.today()),
}


def timed(run, repeat: int) -> tuple[float, float]:
    run()  # warm up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def bench(url: str, label: str, repeat: int) -> bool:
    with connect(url) as wh:
        migrate(wh)
        graded = load_england(wh)
        rewrite, _ = timed(lambda: _rewrite(wh), 3)
        rows = wh.fetchone("SELECT COUNT(*) FROM grade_distribution")[0]
        spans = wh.fetchone("SELECT COUNT(*) FROM grade_timeline")[0]
    print(
        f"\n{label}: {graded} graded reports; grade_timeline {spans} rows, grade_distribution {rows} rows,"
        f" rewritten in {rewrite:.0f} ms; median of {repeat} (max in brackets)"
    )
    ok = True
    with connect(url) as wh:
        for name, query in QUERIES.items():
            median, worst = timed(lambda query=query: render(*query(wh), "json"), repeat)
            opened, _ = timed(lambda query=query: _with_connection(url, query), repeat)
            ok &= median <= GOAL_MS
            print(
                f"  {name:44s} {median:6.1f} ms ({worst:6.1f}); opening the warehouse too {opened:6.1f} ms"
                f"  {'ok' if median <= GOAL_MS else 'OVER GOAL'}"
            )
    return ok


def _rewrite(wh) -> None:
    with wh.transaction():
        derived.rewrite_england(wh, graded_reports(wh))


def _with_connection(url, query) -> None:
    with connect(url) as wh:
        render(*query(wh), "json")


if __name__ == "__main__":
    sys.exit(bench_on_engines(bench, __doc__.splitlines()[0], f"each query at most {GOAL_MS} ms"))
