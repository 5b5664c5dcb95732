"""An Airflow home with a migrated SQLite metadata database, and a runner for ofsted_ingest."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def airflow_env(home: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OFSTED_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(overrides)
    return env


def _migrate(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory, worker_id) -> Path:
    """An Airflow home with a migrated SQLite metadata database, one per test process. The
    database is migrated once per session: xdist workers copy the first one's (migrating takes
    most of a minute on a busy machine); each keeps its own copy, since SQLite has one writer."""
    home = tmp_path_factory.mktemp("airflow_home")
    if worker_id == "master":  # no xdist: nothing to share (the parent folder is not ours)
        _migrate(home)
        return home
    shared = tmp_path_factory.getbasetemp().parent / "airflow_metadata"  # this session's workers only
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "ready").exists():
            _migrate(shared)
            (shared / "ready").touch()
    shutil.copyfile(shared / "airflow.db", home / "airflow.db")
    return home


def run_dag(
    home: Path,
    env: dict[str, str],
    conf: dict | None = None,
    timeout: int = 600,
    dag: str = "ofsted_ingest",
    args: tuple[str, ...] = (),
):
    """One run of the DAG via dag.test() in a subprocess; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_dag.py"), "--dag", dag, "--conf", json.dumps(conf or {}), *args],
        cwd=ROOT,
        env=airflow_env(home, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_dag(home: Path, env: dict[str, str], conf: dict | None = None, args: tuple[str, ...] = ()):
    """One run of ofsted_ingest as run_dag, started and left running (stdout, stderr piped)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_dag.py"), "--conf", json.dumps(conf or {}), *args],
        cwd=ROOT,
        env=airflow_env(home, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
