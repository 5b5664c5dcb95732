"""The production topology without containers (scripts/distributed_test.py): Airflow's
api-server, scheduler, dag-processor, triggerer and two Celery workers as processes on the local
PostgreSQL and Redis, running ofsted_ingest against the fake site while a worker is SIGKILLed
and the scheduler is restarted. A few minutes: in an xdist group of its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1300  # the harness's own waits end well before; pytest-timeout's below stops this
pytestmark = [pytest.mark.xdist_group("distributed"), pytest.mark.timeout(TIMEOUT + 200)]


def run_harness(*args: str) -> tuple[int, str]:
    """Run the script; on timeout SIGTERM it, so it stops its processes and drops its databases."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "distributed_test.py"), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=180)
        pytest.fail(f"distributed test timed out after {TIMEOUT}s:\n{out[-12000:]}")
    return proc.returncode, out


def test_runs_survive_a_killed_worker_and_a_restarted_scheduler():
    code, out = run_harness("--councils", "4")
    result = next((json.loads(line[len("RESULT ") :]) for line in out.splitlines() if line.startswith("RESULT ")), None)
    harness_lines = "\n".join(line for line in out.splitlines() if line.startswith("["))
    assert code == 0 and result is not None, f"{harness_lines}\n\n{out[-8000:]}"
    expected = result["expected"]
    assert expected["reports"] == 12 and expected["judgements"] == 36
    kill, restart = result["worker_kill"], result["scheduler_restart"]
    # the killed worker's task was retried (on the surviving worker) and the run succeeded
    assert kill["state"] == "success" and kill["killed_task"].startswith("download[")
    # the killed task had stored a file in the landing store that it had not yet reported
    assert result["killed_batch"]["in_landing_store"] >= 1 and kill["rows_before"]["stored_files"]["rows"] == 0
    assert any(r.startswith(kill["killed_task"]) for r in kill["retried"]), kill
    assert kill["retried_on"] == [w for w in ("worker1", "worker2") if w != kill["killed"]], kill
    assert restart["state"] == "success"
    for res in (kill, restart):
        assert {t: f["duplicates"] for t, f in res["rows_after"].items()} == dict.fromkeys(res["rows_after"], 0)
        assert {t: res["rows_after"][t]["rows"] for t in expected} == expected
    # nothing loaded before the kill was lost, and the re-run changed no row count
    assert all(kill["rows_after"][t]["rows"] >= f["rows"] for t, f in kill["rows_before"].items())
    assert restart["rows_after"] == restart["rows_before"]
    assert result["problems"] == []
