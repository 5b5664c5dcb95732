"""scripts/run_dag.py's terminal side (the Airflow side runs in test_end_to_end and friends)."""

from __future__ import annotations

import importlib.util

from tests.support.airflow_fixtures import ROOT

spec = importlib.util.spec_from_file_location("run_dag", ROOT / "scripts" / "run_dag.py")
run_dag = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_dag)


def test_site_text_reaches_the_terminal_without_control_characters(capsys):
    screen = run_dag.Screen()
    screen.line("      note from \x1b]0;owned\x07 Barnet\x9b2J")
    screen.task({"task": "discover", "map_index": -1, "state": "failed", "error": "FetchError: http://x/\x1b[31mred"})
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "note from \ufffd]0;owned\ufffd Barnet\ufffd2J" in out
    assert "FAILED discover" in out and "\ufffd[31mred" in out


def test_task_lines_name_mapped_tasks_and_retries(capsys):
    screen = run_dag.Screen()
    screen.task({"task": "download", "map_index": 2, "state": "running", "try": 2})
    screen.task({"task": "download", "map_index": 2, "state": "success"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  > download[2] (try 2)" and lines[1].startswith("  ok download[2] (")
