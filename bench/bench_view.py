"""Page speed of the ratings view: each page's server time on the full history (a synthetic
England on the real council reference: ~600 graded reports, ~150 councils, with ~350 focused
visits, ~30 JTAIs and ~80 area SEND outcomes), on both engines.

Goal (issue 13): every page in at most 150 ms. Measured in process (FastAPI's TestClient: the
whole request, opening the warehouse, the queries and the template; no network).

    .venv/bin/python bench/bench_view.py [--postgres] [--repeat 15]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from etl.warehouse import connect, migrate  # noqa: E402
from etl.web import create_app  # noqa: E402
from etl.web.auth import token_viewer  # noqa: E402
from tests.support.england import bench_on_engines, load_england  # noqa: E402

PAGES = [
    "/",
    "/?area=help_and_protection&region=London",
    "/?area=area_send_outcome",
    "/?area=priority_actions",
    "/councils",
    "/councils?region=North+West&grade=good",
    "/councils/80487",
    "/councils/2637539",
    "/changes",
    "/changes?direction=declined&since=2024-01-01",
    "/changes.atom",
    "/councils/80487/changes.atom",
    "/councils.csv",
    "/reviews",
    "/england/over-time",
    "/england/over-time?area=help_and_protection&region=London&as_at=2020-03-31",
    "/england/over-time.csv",
    "/search?q=Barnt",
    "/search?q=%22return+home+interviews%22&region=London",
]
GOAL_MS = 150


def bench(url: str, label: str, repeat: int) -> bool:
    with connect(url) as wh:
        migrate(wh)
        graded = load_england(wh)
        councils = wh.fetchone("SELECT COUNT(*) FROM councils")[0]
        letters, actions = wh.fetchone("SELECT COUNT(*), SUM(priority_actions) FROM visits")
    client = TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: url))
    print(
        f"\n{label}: {graded} graded reports, {councils} councils, {letters} letters ({actions} areas for "
        f"priority action); median of {repeat} requests (max in brackets)"
    )
    ok = True
    for page in PAGES:
        assert client.get(page).status_code == 200, page  # warm up
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(page)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        median = statistics.median(times)
        ok &= median <= GOAL_MS
        print(f"  {page:48s} {median:7.1f} ms  ({max(times):6.1f})  {'ok' if median <= GOAL_MS else 'OVER GOAL'}")
    return ok


if __name__ == "__main__":
    sys.exit(bench_on_engines(bench, __doc__.splitlines()[0], f"every page at most {GOAL_MS} ms"))
