"""ofsted_export under Airflow: after an ofsted_ingest run (dag.test) against the fake site, the
export DAG (dag.test) writes the workbook and files that match the warehouse."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from etl import export
from etl.warehouse import connect
from tests.support.airflow_fixtures import run_dag
from tests.support.fakesite import FakeOfstedSite
from tests.support.synth_reports import report_pdf

pytestmark = [pytest.mark.xdist_group("airflow_export"), pytest.mark.timeout(1200)]
GRADES5 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def test_export_dag_after_an_ingest(airflow_home, tmp_path):
    warehouse = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    site = FakeOfstedSite(councils=0, publications=False)
    site.add_council("80487", "Barnet")
    site.add_publication(
        "80487",
        "inspection",
        date(2024, 4, 17),
        report_pdf(
            "ilacs_2023",
            "Barnet",
            dict(zip(GRADES5, ["good", "good", "requires_improvement", "good", "good"])),
            inspection_start=date(2024, 2, 26),
            inspection_end=date(2024, 3, 8),
            lead_inspector="Pat Inspector",
        ),
    )
    site.add_council("2733698", "Westmorland and Furness")  # listed, never inspected
    with site:
        env = site.env(
            OFSTED_DATA_DIR=str(tmp_path),
            OFSTED_LANDING=str(tmp_path / "landing"),
            OFSTED_WAREHOUSE_URL=warehouse,
            OFSTED_EXPORT_URL=str(tmp_path / "out"),
        )
        ingest = run_dag(airflow_home, env)
        assert ingest.returncode == 0, ingest.stdout[-4000:] + ingest.stderr[-4000:]
        assert "check failed" not in ingest.stdout  # both councils are in the reference
        done = run_dag(airflow_home, env, dag="ofsted_export")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["location"] == str(tmp_path / "out") and "ofsted-ratings.xlsx" in summary["files"]
    sheet = pd.read_excel(tmp_path / "out" / "ofsted-ratings.xlsx", sheet_name="Summary", dtype=str)
    with connect(warehouse) as wh:
        names, rows = wh.query(
            "SELECT urn, local_authority, region, overall_effectiveness, help_and_protection,"
            " lead_inspector FROM latest_inspections ORDER BY local_authority"
        )
    headings = [export.heading(n) for n in names]  # the workbook in words
    got = sheet[headings].astype(object).where(sheet[headings].notna(), None).values.tolist()
    assert got == [[export.in_words(n, v) for n, v in zip(names, r)] for r in rows]
    assert got[0] == ["80487", "Barnet", "London", "Good", "Requires improvement to be good", "Pat Inspector"]
    assert got[1][:4] == ["2733698", "Westmorland and Furness", "North West", None]
    assert len(pd.read_parquet(tmp_path / "out" / "rating_history.parquet")) == summary["rows"]["rating_history"]
