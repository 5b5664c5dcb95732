"""`ofsted export`: the workbook, CSV and Parquet files, opened as analysts open them (pandas,
openpyxl) and compared with the warehouse they came from, on both engines."""

from __future__ import annotations

import json
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
    """The files keep the warehouse's keys (for machines); the workbook has the same rows in
    words (for people): headings, grades as Ofsted prints them, areas, kinds, lists as lines."""
    result = export(settings(loaded, tmp_path))
    out = tmp_path / "exports"
    assert result.location == str(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [WORKBOOK] + [f"{n}.{ext}" for n in (*DATASETS, *COMPUTED) for ext in ("csv", "parquet")]
    )
    sheets = pd.read_excel(out / WORKBOOK, sheet_name=None, dtype=str)
    assert list(sheets) == [
        "Summary",
        "History",
        "Changes",
        "Publications",
        "Visits",
        "Improvements",
        "England over time",
        "Activity",
        "About",
    ]
    for sheet, name in export_stage.SHEETS.items():
        if name in COMPUTED:
            continue  # computed, not read with a SELECT: test_outcomes.py
        with connect(loaded) as wh:
            names, rows = wh.query(f"SELECT * FROM {name} ORDER BY {DATASETS[name]}")
        shown = export_stage.sheet_rows(sheet, export_stage.Dataset(name, names, rows))
        headings = export_stage.SHEET_HEADINGS.get(sheet, {})
        assert list(sheets[sheet].columns) == [headings.get(c) or export_stage.heading(c) for c in shown.columns]
        assert not [h for h in sheets[sheet].columns if "_" in h], sheet  # no key for a heading
        words = [[plain(export_stage.in_words(c, v)) for c, v in zip(shown.columns, r)] for r in shown.rows]
        assert frame_rows(sheets[sheet]) == words, sheet
    for name in DATASETS:
        names, rows = warehouse_rows(loaded, name)
        frame = pd.read_parquet(out / f"{name}.parquet")
        assert list(frame.columns) == names and frame_rows(frame) == rows, name
        csv_frame = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(csv_frame.columns) == names and frame_rows(csv_frame) == rows, name
    summary = sheets["Summary"].set_index("URN")
    assert summary.loc["80487", "Overall effectiveness"] == "Outstanding"
    assert summary.loc["80487", "Overall effectiveness: direction"] == "Improved"
    assert summary.loc["80487", "Overall effectiveness: previous grade"] == "Good"
    assert summary.loc["2733690", "Overall effectiveness"] == "Not judged"  # Cumberland, ILACS 2026
    assert summary.loc["80442", "Overall effectiveness"] == "Requires improvement to be good"  # as Ofsted prints it
    assert summary.loc["80442", "Framework"] == "ILACS 2018"
    csv_summary = pd.read_csv(out / "latest_inspections.csv", dtype=str).set_index("urn")
    assert csv_summary.loc["80442", "overall_effectiveness"] == "requires_improvement"  # the key, for machines
    # England over time, worked by hand: Barnet outstanding (2024-03-08), Buckinghamshire requires
    # improvement, King's Lynn (in no region) inadequate; Cumbria's requires improvement held by
    # Cumberland and Westmorland and Furness since 2023-04-01
    england = sheets["England over time"]
    assert list(england.iloc[0][["England or region", "Area"]]) == ["England", "Overall effectiveness"]
    assert england.iloc[0]["Councils graded"] != "0"  # it opens on councils counted, not rows of zeros
    assert not ((england["Councils graded"] == "0") & (england["Not judged"] == "0")).any()
    oe = england[(england["England or region"] == "England") & (england.Area == "Overall effectiveness")]
    oe = oe.set_index(oe["As at"].map(plain))
    assert frame_rows(oe.loc[["2024-03-31", "2023-03-31"], "Councils graded":"Good or outstanding (%)"]) == [
        ["5", "1", "0", "3", "1", "0", "20"],
        ["3", "0", "1", "2", "0", "0", "33.3"],
    ]
    assert "2024-04-30" not in oe.index and "2024-06-30" in oe.index
    assert list(england.columns[4:8]) == ["Outstanding", "Good", "Requires improvement to be good", "Inadequate"]


def test_the_workbook_reads_as_analysts_expect(loaded, tmp_path):
    export(settings(loaded, tmp_path), formats=("xlsx",))
    book = openpyxl.load_workbook(tmp_path / "exports" / WORKBOOK)
    ws = book["Summary"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["URN", "Council", "LA code", "ONS code", "Region"]
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
    barnet = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "80487")
    cells = dict(zip(header, barnet))
    link = cells["Report"].hyperlink
    assert link is not None and link.target == cells["Report"].value
    for area, key in (("Overall effectiveness", "outstanding"), ("Help and protection", "good")):
        assert cells[area].fill.fgColor.rgb == "FF" + GRADE_STYLES[key].fill.lstrip("#").upper()
    assert cells["Inspection ended"].value == datetime(2024, 3, 8)
    assert cells["Inspection ended"].number_format == "yyyy-mm-dd"
    about = " ".join(str(c.value) for row in book["About"].iter_rows() for c in row if c.value)
    from etl.parse import PARSER_VERSION

    assert f"Parser version {PARSER_VERSION}" in about and "Open Government Licence" in about
    assert "MIT licence" in about and "Extracted" in about and "latest_inspections.csv" in about
    assert "The CSV and Parquet files are for machines: they keep the warehouse's keys" in about
    notes = {r[0].value: (r[1].value, r[2].value) for r in book["About"].iter_rows() if len(r) > 2 and r[2].value}
    assert notes["Council"][1] == "local_authority" and notes["Grade"][1] == "grade"  # words and their keys
    assert book["History"].freeze_panes and book["Changes"].auto_filter.ref


def test_a_letters_areas_for_priority_action_are_lines_in_one_cell_each_neutralised(loaded, tmp_path):
    """A list is one line per item (not a JSON string); a line that would run as a formula when
    pasted on its own gets its apostrophe; a cell too long for Excel is cut at a whole line."""
    texts = ['=HYPERLINK("http://evil.example","x")', "Leaders do not know; -2+3 children.", "+cmd"]
    with connect(loaded) as wh:
        rid = wh.fetchone("SELECT report_id FROM visits ORDER BY report_id LIMIT 1")[0]
        wh.execute(
            "UPDATE visit_findings SET priority_action_texts = ?, priority_actions = 3 WHERE report_id = ?",
            [json.dumps(texts), rid],
        )
    export(settings(loaded, tmp_path))
    ws = openpyxl.load_workbook(tmp_path / "exports" / WORKBOOK)["Visits"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == rid)
    cell = row[header.index("The areas for priority action")]
    assert cell.value.split("\n") == ["'" + texts[0], texts[1], "'+cmd"] and cell.data_type == "s"
    assert cell.alignment.wrap_text
    csv_frame = pd.read_csv(tmp_path / "exports" / "visits.csv", dtype=str).set_index("report_id")
    assert csv_frame.loc[rid, "priority_action_texts"].startswith('["=HYPERLINK(')  # the key's JSON, for machines
    parquet = pd.read_parquet(tmp_path / "exports" / "visits.parquet").set_index("report_id")
    assert json.loads(parquet.loc[rid, "priority_action_texts"]) == texts
    long = "\n".join(f"Point {n}: " + "x" * 100 for n in range(400))
    cut = export_stage.fit_cell(long)
    assert len(cut) <= export_stage.XLSX_MAX_CELL and cut.endswith("\n" + export_stage.CUT_NOTE)
    assert all(re.fullmatch(r"Point \d+: x{100}", line) for line in cut.split("\n")[:-1])  # whole lines only


def test_cells_that_would_run_as_formulas_are_neutralised(warehouse_url, tmp_path):
    hostile = {
        "90001": '=HYPERLINK("http://evil.example","x")',
        "90002": "+cmd|' /C calc'!A0",
        "90003": "@SUM(1+1)",
        "90004": "-2+3",
    }
    with connect(warehouse_url) as wh:
        load_reference_sample(wh)
        load_councils(
            wh,
            [Council(urn, name, f"https://reports.ofsted.gov.uk/provider/44/{urn}") for urn, name in hostile.items()],
        )
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
