"""The usual DAG integrity checks: imports cleanly and fast, touches no network or database at
import, and is configured as documented (schedule, retries, failure callback, params, assets)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.airflow_fixtures import ROOT, airflow_env

PROBE = r"""
import json, socket, sys, time
import airflow.sdk  # the framework's own import cost is not the DAG's
def refuse(*a, **k):
    raise RuntimeError("network or database touched at DAG import")
socket.socket.connect = refuse
socket.create_connection = refuse
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag   # as Airflow's processes parse dags/
t = time.perf_counter()
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]))
took = time.perf_counter() - t
dag = bag.dags.get("ofsted_ingest")
export = bag.dags.get("ofsted_export")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in
               ("etl", "duckdb", "psycopg", "pdfplumber", "pypdfium2", "requests", "apprise", "pandas"))
print(json.dumps({
    "errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "seconds": took, "heavy": heavy,
    "dags": sorted(bag.dags),
    "files": sorted(Path(f).name for f in bag.file_last_changed),
    "schedule": str(getattr(dag.timetable, "expression", dag.timetable)) if dag else None,
    "tasks": {t.task_id: {"retries": t.retries, "downstream": sorted(t.downstream_task_ids), "callbacks": bool(t.on_failure_callback),
                          "mapped": type(t).__name__.endswith("MappedOperator"),
                          "outlets": [a.name for a in t.outlets],
                          "one_at_a_time": t.max_active_tis_per_dag == 1,
                          "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None}
              for t in (dag.tasks if dag else [])},
    "params": {k: dag.params[k] for k in dag.params} if dag else {},
    "max_active_runs": dag.max_active_runs if dag else None,
    "export": {"schedule_assets": sorted(a.name for a in export.timetable.asset_condition.objects
                                         if hasattr(a, "name")) if export else None,
               "asset_uris": sorted(str(a.uri) for a in export.timetable.asset_condition.objects) if export else None,
               "outlets": [a.name for t in export.tasks for a in t.outlets] if export else None},
    "ingest_outlet_uris": sorted({str(a.uri) for t in (dag.tasks if dag else []) for a in t.outlets}),
}))
"""


def probe(tmp_path, **env):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dags")],
        capture_output=True,
        text=True,
        env=airflow_env(tmp_path, **env),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_dag_imports_fast_without_errors_network_or_heavy_modules(tmp_path):
    result = probe(tmp_path)
    assert result["errors"] == {}
    assert result["dags"] == ["ofsted_export", "ofsted_ingest"]
    # dags/ofsted_common.py, which both import, is not parsed as a DAG file (.airflowignore)
    assert result["files"] == ["ofsted_export.py", "ofsted_ingest.py"]
    assert result["seconds"] < 2.0, f"DAG folder took {result['seconds']:.2f}s to import"
    assert result["heavy"] == [], "the DAG file must import stage modules inside tasks only"


def test_dag_is_configured_as_documented(tmp_path):
    result = probe(tmp_path)
    tasks = result["tasks"]
    chain = [
        "start_or_skip",
        "begin",
        "discover",
        "download",
        "record_downloads",
        "plan_parse",
        "parse",
        "load",
        "detect_changes",
        "alert",
        "finish",
    ]
    assert sorted(tasks) == sorted(chain + ["check"])
    # the data-quality checks follow the load and feed the summary, but never gate the alerts
    assert "check" in tasks["detect_changes"]["downstream"] and tasks["check"]["downstream"] == ["finish"]
    for upstream, downstream in zip(chain, chain[1:]):
        assert downstream in tasks[upstream]["downstream"], f"{upstream} must run before {downstream}"
    assert all(t["callbacks"] and t["timeout"] for t in tasks.values()), "every task: failure callback, timeout"
    assert tasks["discover"]["retries"] >= 3 and tasks["download"]["retries"] >= 3, "network tasks retry"
    assert tasks["download"]["mapped"] and tasks["parse"]["mapped"] and not tasks["load"]["mapped"]
    assert "ofsted_warehouse.rating_changes" in tasks["detect_changes"]["outlets"]
    assert {"ofsted_warehouse.reports", "ofsted_warehouse.judgements"} <= set(tasks["load"]["outlets"])
    assert result["params"] == {
        "since": None,
        "reparse": False,
        "councils": [],
        "historic_alerts": False,
        "retry_quarantined": False,
    }
    # the site's pace: the tasks that request it run one at a time, each at the full rate
    assert [t for t, v in tasks.items() if v["one_at_a_time"]] == ["discover", "download"]
    assert result["max_active_runs"] == 1
    assert result["schedule"] == "0 * * * *"  # @hourly


def test_export_dag_is_scheduled_on_the_ingest_assets_and_emits_its_own(tmp_path):
    result = probe(tmp_path)
    export = result["export"]
    assert export["schedule_assets"] == ["ofsted_warehouse.rating_changes", "ofsted_warehouse.rating_history"]
    assert set(export["asset_uris"]) <= set(result["ingest_outlet_uris"]), "the same Assets ofsted_ingest updates"
    assert export["outlets"] == ["ofsted_export.files"]


def test_schedule_comes_from_settings(tmp_path):
    assert probe(tmp_path, OFSTED_SCHEDULE="0 6 * * 1")["schedule"] == "0 6 * * 1"
    assert "NullTimetable" in probe(tmp_path, OFSTED_SCHEDULE="none")["schedule"]
