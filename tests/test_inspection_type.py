"""An ILACS inspection's type (short: one week on site, standard: two; issue 28) kept in
`reports` and `latest_inspections`, shown on the council page and the councils list, and in
the exports, on both engines. (Its reading from the dates: tests/test_parse.py.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from etl import load, reference
from etl.config import Settings
from etl.export import export
from etl.web import create_app
from etl.web.auth import token_viewer
from tests.support.warehouse_fixtures import load_records, make_report, rows_of

BARNET, BROMLEY = "80487", "80488"
GOOD = dict.fromkeys(
    ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"), "good"
)
SIF = {"overall_effectiveness": "requires_improvement"}


def inspected(urn, n, framework, end, days, kind=None, judgements=None):
    """A report on site for `days` days up to `end`, typed `kind`."""
    record = make_report(
        urn, n, framework, end, judgements or (GOOD if framework != "sif" else SIF), parser_version="1.6.0"
    )
    return replace(record, inspection_start=end - timedelta(days=days - 1), inspection_type=kind)


@pytest.fixture
def typed(wh):
    load_records(
        wh,
        [
            inspected(BARNET, 1, "ilacs_2023", date(2023, 5, 12), 5, "short"),
            inspected(BARNET, 2, "ilacs_2023", date(2026, 3, 13), 12, "standard"),
            inspected(BROMLEY, 3, "sif", date(2016, 6, 24), 19),
        ],
    )
    reference.sync(wh)
    return wh


def test_the_type_is_stored_per_report_and_latest_inspections_gives_the_latest_ones(typed):
    assert [
        r["inspection_type"] for r in rows_of(typed, "SELECT inspection_type FROM reports ORDER BY inspection_end")
    ] == [None, "short", "standard"]
    latest = {r["urn"]: r for r in rows_of(typed, "SELECT urn, framework, inspection_type FROM latest_inspections")}
    assert latest[BARNET] == {"urn": BARNET, "framework": "ilacs_2023", "inspection_type": "standard"}
    assert latest[BROMLEY]["inspection_type"] is None  # a SIF inspection has no type


@pytest.mark.parametrize("framework, kind", [("sif", "short"), ("ilacs_2023", "long"), (None, "standard")])
def test_a_type_that_is_not_an_ilacs_inspections_short_or_standard_is_refused_and_nothing_is_loaded(
    wh, framework, kind
):
    record = inspected(BARNET, 1, framework or "ilacs_2023", date(2024, 5, 10), 5, kind)
    if framework is None:
        record = replace(record, framework=None, judgements={}, kind="focused_visit")
    with pytest.raises(ValueError, match="inspection_type"):
        load.load_reports(wh, [record], "r")
    assert rows_of(wh, "SELECT COUNT(*) AS n FROM reports") == [{"n": 0}]


def test_the_council_page_and_the_councils_list_say_short_or_standard(typed, warehouse_url):
    client = TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: warehouse_url))
    page = BeautifulSoup(client.get(f"/councils/{BARNET}").text, "html.parser")
    cells = [
        tr.find_all("td")[2].get_text(" ", strip=True)
        for tr in page.find(id="pubs").find_next("table").tbody.find_all("tr")
    ]
    assert cells == ["ILACS 2023, standard inspection", "ILACS 2023, short inspection"]
    assert "at the latest inspection (ILACS 2023, standard inspection, ended 2026-03-13" in page.get_text(" ")
    listing = BeautifulSoup(client.get("/councils").text, "html.parser")
    inspected_cells = {
        tr.td.get_text(strip=True): tr.find_all("td")[2].get_text(" ", strip=True)
        for tr in listing.select("table.data tbody tr")
    }
    assert inspected_cells[f"Council {BARNET}"] == "2026-03-13 ILACS 2023, standard"
    assert inspected_cells[f"Council {BROMLEY}"] == "2016-06-24 SIF"


def test_the_workbook_csv_and_parquet_carry_the_type(typed, warehouse_url, tmp_path):
    settings = Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url, "OFSTED_DATA_DIR": str(tmp_path)})
    export(settings, str(tmp_path / "out"))
    csv = pd.read_csv(tmp_path / "out" / "latest_inspections.csv", dtype=str).set_index("urn")
    parquet = pd.read_parquet(tmp_path / "out" / "latest_inspections.parquet").set_index("urn")
    for frame in (csv, parquet):
        assert frame.loc[BARNET, "inspection_type"] == "standard" and pd.isna(frame.loc[BROMLEY, "inspection_type"])
    sheet = openpyxl.load_workbook(tmp_path / "out" / "ofsted-ratings.xlsx")["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and "URN" in r)  # headers in words
    names = [str(h).lower().replace(" ", "_") for h in header]
    by_urn = {str(r[names.index("urn")]): r[names.index("inspection_type")] for r in rows[rows.index(header) + 1 :]}
    assert by_urn[BARNET] == "Standard" and by_urn[BROMLEY] in (None, "")
