"""The pipeline's pace through Airflow's dag.test (what `make run` does) against a fake site of
150 councils: the first run's pace ratio = wall time / (requests / rate) (goal <= 1.2: the
configured rate is the pace), the repeat run's requests and downloads, and a run after one
recently published file was re-issued under the same URL.

    .venv/bin/python bench/bench_pace.py [--councils 150] [--rate 2]

Requests are counted by the fake site, not by the client. The wall time is the whole
`scripts/run_dag.py` process (Airflow start-up, every task, parsing and loading included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fakesite import FakeOfstedSite  # noqa: E402


def airflow_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OFSTED_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def run(site: FakeOfstedSite, env: dict[str, str], rate: float, label: str) -> None:
    site.reset_counters()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_dag.py")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"{label}: the run failed")
    requests = sum(site.requests.values())
    files = sum(n for path, n in site.requests.items() if path.startswith("/v1/file/"))
    floor = requests / rate
    print(
        f"{label:<30} requests={requests:>4} (files {files:>4}) downloaded={site.files_served:>4} "
        f"wall={wall:6.1f}s floor={floor:6.1f}s pace ratio={wall / floor if floor else float('nan'):.2f}",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--councils", type=int, default=150)
    ap.add_argument("--rate", type=float, default=2.0, help="OFSTED_REQUESTS_PER_SECOND")
    args = ap.parse_args()
    with FakeOfstedSite(councils=args.councils) as site, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "airflow"
        # one recently published file, so the re-issue run has something to revalidate
        recent = site.add_publication(next(iter(site.councils)), "focused_visit", date.today() - timedelta(days=10))
        env = airflow_env(
            home,
            site.env(
                OFSTED_DATA_DIR=str(Path(tmp) / "data"),
                OFSTED_SCHEDULE="none",
                OFSTED_REQUESTS_PER_SECOND=str(args.rate),
                OFSTED_CONCURRENCY="2",
            ),
        )
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
        print(f"fake site: {len(site.councils)} councils, {len(site.files)} files; rate {args.rate}/s", flush=True)
        run(site, env, args.rate, "first run")
        run(site, env, args.rate, "repeat run, nothing new")
        if hasattr(site, "reissue"):
            site.reissue(recent)
            run(site, env, args.rate, "one file re-issued")
    return 0


if __name__ == "__main__":
    sys.exit(main())
