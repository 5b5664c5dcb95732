"""`ofsted export`: the workbook, CSV and Parquet files, opened as analysts open them (pandas,
openpyxl) and compared with the warehouse they came from, on both engines."""
from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import fsspec
import openpyxl
import pandas as pd
import pytest

from etl import export as export_stage
from etl.cli import main
from etl.config import Settings
from etl.export import COMPUTED, DATASETS, WORKBOOK, export
from etl.grades import GRADE_STYLES
from etl.load import load_councils
from etl.records import Council
from etl.warehouse import connect
from tests.support.warehouse_fixtures import load_reference_sample

DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")


def settings(warehouse_url, tmp_path) -> Settings:
    return Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url, "OFSTED_DATA_DIR": str(tmp_path)})


@pytest.fixture
def loaded(warehouse_url, tmp_path):
    with connect(warehouse_url) as wh:
        load_reference_sample(wh)
    return warehouse_url


def plain(value):
    """A cell as text, whichever reader produced it: dates ISO, times to the second (a workbook
    keeps milliseconds at best), numbers without a spurious .0, missing as None."""
    if value is None or value is pd.NaT or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and DATE_TIME.match(value):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return (value + timedelta(microseconds=500_000)).replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.0", value):  # a whole float as CSV writes it
        return value[:-2]
    return str(value)


def warehouse_rows(url: str, name: str) -> tuple[list[str], list[list]]:
    with connect(url) as wh:
        names, rows = wh.query(f"SELECT * FROM {name} ORDER BY {DATASETS[name]}")
    return names, [[plain(v) for v in row] for row in rows]


def frame_rows(df: pd.DataFrame) -> list[list]:
    return [[plain(v) for v in row] for row in df.astype(object).itertuples(index=False)]


def test_xlsx_and_parquet_match_the_warehouse(loaded, tmp_path):
    result = export(settings(loaded, tmp_path))
    out = tmp_path / "exports"
    assert result.location == str(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [WORKBOOK] + [f"{n}.{ext}" for n in (*DATASETS, *COMPUTED) for ext in ("csv", "parquet")])
    sheets = pd.read_excel(out / WORKBOOK, sheet_name=None, dtype=str)
    assert list(sheets) == ["Summary", "History", "Changes", "Publications", "Visits", "Improvements",
                            "England over time", "Activity", "About"]
    for sheet, name in export_stage.SHEETS.items():
        if name in COMPUTED:
            continue   # computed, not read with a SELECT: test_outcomes.py
        names, rows = warehouse_rows(loaded, name)
        if sheet == "England over time":  # quarter ends only (the files: every month end)
            rows = [r for r in rows if r[names.index("as_at")][5:7] in ("03", "06", "09", "12")]
        headings = export_stage.SHEET_HEADINGS.get(sheet)
        if headings:  # some of the columns, in their order, under headings for people
            rows = [[r[names.index(c)] for c in headings] for r in rows]
            names = list(headings.values())
        assert list(sheets[sheet].columns) == names, sheet
        assert frame_rows(sheets[sheet]) == rows, sheet
    for name in DATASETS:
        names, rows = warehouse_rows(loaded, name)
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert list(frame.columns) == names and frame_rows(frame) == rows, name
        csv_frame = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(csv_frame.columns) == names and frame_rows(csv_frame) == rows, name
    summary = sheets["Summary"].set_index("urn")
    assert summary.loc["80487", "overall_effectiveness"] == "outstanding"
    assert summary.loc["2733690", "overall_effectiveness"] == "not_judged"  # Cumberland, ILACS 2026
    # England over time, worked by hand: Barnet outstanding (2024-03-08), Buckinghamshire requires
    # improvement, King's Lynn (in no region) inadequate; Cumbria's requires improvement held by
    # Cumberland and Westmorland and Furness since 2023-04-01
    england = sheets["England over time"]
    oe = england[(england.group_name == "England") & (england.area == "overall_effectiveness")]
    oe = oe.set_index(oe.as_at.map(plain))
    assert frame_rows(oe.loc[["2024-03-31", "2023-03-31"], "councils":"good_or_outstanding_pct"]) == [
        ["5", "1", "0", "3", "1", "0", "20"], ["3", "0", "1", "2", "0", "0", "33.3"]]
    assert "2024-04-30" not in oe.index and "2024-06-30" in oe.index


def test_the_workbook_reads_as_analysts_expect(loaded, tmp_path):
    export(settings(loaded, tmp_path), formats=("xlsx",))
    book = openpyxl.load_workbook(tmp_path / "exports" / WORKBOOK)
    ws = book["Summary"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["urn", "local_authority", "la_code", "ons_code", "region"]
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
    barnet = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "80487")
    cells = dict(zip(header, barnet))
    link = cells["report_url"].hyperlink
    assert link is not None and link.target == cells["report_url"].value
    for area in ("overall_effectiveness", "help_and_protection"):
        grade = cells[area].value
        assert cells[area].fill.fgColor.rgb == "FF" + GRADE_STYLES[grade].fill.lstrip("#").upper()
    assert cells["inspection_end"].value == datetime(2024, 3, 8) and cells["inspection_end"].number_format == "yyyy-mm-dd"
    about = " ".join(str(c.value) for row in book["About"].iter_rows() for c in row if c.value)
    from etl.parse import PARSER_VERSION
    assert f"Parser version {PARSER_VERSION}" in about and "Open Government Licence" in about
    assert "MIT licence" in about and "Extracted" in about and "latest_inspections.csv" in about
    assert book["History"].freeze_panes and book["Changes"].auto_filter.ref


def test_cells_that_would_run_as_formulas_are_neutralised(warehouse_url, tmp_path):
    hostile = {"90001": "=HYPERLINK(\"http://evil.example\",\"x\")", "90002": "+cmd|' /C calc'!A0",
               "90003": "@SUM(1+1)", "90004": "-2+3"}
    with connect(warehouse_url) as wh:
        load_reference_sample(wh)
        load_councils(wh, [Council(urn, name, f"https://reports.ofsted.gov.uk/provider/44/{urn}")
                           for urn, name in hostile.items()])
    export(settings(warehouse_url, tmp_path))
    out = tmp_path / "exports"
    csv_frame = pd.read_csv(out / "latest_inspections.csv", dtype=str).set_index("urn")
    ws = openpyxl.load_workbook(out / WORKBOOK)["Summary"]
    xlsx = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    for urn, name in hostile.items():
        assert csv_frame.loc[urn, "local_authority"] == "'" + name
        assert xlsx[urn].value == "'" + name and xlsx[urn].data_type == "s"
    parquet = pd.read_parquet(out / "latest_inspections.parquet").set_index("urn")
    assert parquet.loc["90001", "local_authority"] == hostile["90001"]  # typed data: kept as it is


def test_a_link_too_long_for_excel_is_kept_as_text(warehouse_url, tmp_path):
    from etl.load import load_publications
    from tests.support.warehouse_fixtures import make_publication
    long_url = "https://files.ofsted.gov.uk/v1/file/" + "9" * 2100
    with connect(warehouse_url) as wh:
        load_reference_sample(wh)
        load_publications(wh, [replace(make_publication("80487", 99, date(2025, 1, 1)), url=long_url)], "run-x")
    export(settings(warehouse_url, tmp_path), formats=("xlsx",))
    ws = openpyxl.load_workbook(tmp_path / "exports" / WORKBOOK)["Publications"]
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row if c.value == long_url)
    assert cell.hyperlink is None


def test_export_to_an_fsspec_url_and_a_failed_export_leaves_the_last_one(loaded, tmp_path, monkeypatch):
    s = settings(loaded, tmp_path)
    export(s, "memory://ofsted-test/exports", ("csv",))
    fs = fsspec.filesystem("memory")
    assert fs.cat_file("/ofsted-test/exports/latest_inspections.csv").startswith(b"urn,local_authority,la_code")
    export(s)
    before = {p.name: p.read_bytes() for p in (tmp_path / "exports").iterdir()}

    def broken(ds):
        raise RuntimeError("disk full")
    monkeypatch.setattr(export_stage, "to_parquet", broken)
    with connect(loaded) as wh:  # new data the failed export would have written
        wh.execute("UPDATE councils SET name = 'Renamed' WHERE urn = '80487'")
    with pytest.raises(RuntimeError):
        export(s)
    after = {p.name: p.read_bytes() for p in (tmp_path / "exports").iterdir()}
    assert after == before, "files are built in full before any is replaced; no temporary files left"


def test_export_command(loaded, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", loaded)
    monkeypatch.setenv("OFSTED_EXPORT_URL", str(tmp_path / "default"))
    assert main(["export", "--format", "csv"]) == 0
    assert f"exported {len(DATASETS) + len(COMPUTED)} files" in capsys.readouterr().out
    assert sorted(p.suffix for p in (tmp_path / "default").iterdir()) == [".csv"] * (len(DATASETS) + len(COMPUTED))
    assert main(["export", "--to", str(tmp_path / "x"), "--format", "xlsx,pdf"]) == 2
    assert "unknown export format(s) ['pdf']" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
