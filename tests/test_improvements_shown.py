"""What each report and letter says must improve (issue 24), wherever it is shown: the
`improvements` and `current_improvements` views, `ofsted query improvements`, the council page,
alerts and exports. Warehouse tests run on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from etl import load
from etl.load import report_id_for
from etl.records import Visit
from tests.support.warehouse_fixtures import load_records as load_all
from tests.support.warehouse_fixtures import make_publication, make_report
from tests.support.warehouse_fixtures import rows_of as rows

ILACS = {
    "overall_effectiveness": "requires_improvement",
    "impact_of_leaders": "good",
    "help_and_protection": "requires_improvement",
    "in_care": "good",
    "care_leavers": "good",
}
POINTS = (
    "Return home interviews informing safety plans for children who go missing.",
    "The quality and timeliness of private fostering assessments.",
    "Oversight by the designated officer (LADO) of allegations against adults.",
)


def inspection(urn, n, end, points=POINTS, framework="ilacs_2023", judgements=ILACS, **kw):
    return replace(make_report(urn, n, framework, end, judgements, **kw), improvements=tuple(points))


def letter(urn, n, end, points, kind="focused_visit"):
    return replace(
        make_report(urn, n, None, end, kind=kind),
        improvements=tuple(points),
        visit=Visit(areas=("in_care",), focus="Inspectors looked at children in care."),
    )


def test_improvements_holds_every_current_documents_points_in_order(wh):
    old = inspection(
        "1",
        1,
        date(2019, 5, 24),
        ("Old point.",),
        framework="ilacs_2018",
        judgements={
            "overall_effectiveness": "good",
            "impact_of_leaders": "good",
            "help_and_protection": "good",
            "in_care_and_care_leavers": "good",
        },
    )
    new = inspection("1", 2, date(2024, 3, 8))
    visit = letter("1", 3, date(2025, 2, 7), ("Care plans for children in care.",))
    load_all(wh, [old, new, visit, inspection("2", 1, date(2023, 9, 15), ())])
    got = rows(
        wh,
        "SELECT report_id, urn, kind, framework, published, position, text, local_authority, url"
        " FROM improvements ORDER BY published, position",
    )
    assert [(r["urn"], r["kind"], r["framework"], r["position"], r["text"]) for r in got] == [
        ("1", "inspection", "ilacs_2018", 1, "Old point."),
        *[("1", "inspection", "ilacs_2023", n, t) for n, t in enumerate(POINTS, 1)],
        ("1", "focused_visit", None, 1, "Care plans for children in care."),
    ]
    assert got[1]["report_id"] == report_id_for(new) and got[1]["published"] == new.published
    assert got[1]["local_authority"] == "Council 1" and got[1]["url"] == new.url


def test_a_reparse_replaces_the_points_and_a_superseded_file_drops_out(wh):
    first = inspection("1", 1, date(2024, 3, 8))
    load_all(wh, [first])
    rid = report_id_for(first)
    load.load_reports(wh, [replace(first, parser_version="2.0", improvements=("Fewer, plainer points.",))], "r2")
    assert wh.fetchall("SELECT position, text FROM improvement_points WHERE report_id = ?", [rid]) == [
        (1, "Fewer, plainer points.")
    ]
    load.load_reports(wh, [replace(first, parser_version="3.0", improvements=())], "r3")
    assert wh.fetchall("SELECT * FROM improvement_points") == []
    # the same reading loaded twice leaves the same rows
    again = replace(first, parser_version="4.0", improvements=POINTS[:2])
    load.load_reports(wh, [again], "r4")
    load.load_reports(wh, [again], "r5")
    assert wh.fetchall("SELECT position FROM improvements ORDER BY position") == [(1,), (2,)]
    # a re-issued file: the old version's report is superseded, its points leave the view
    wh.execute("UPDATE reports SET superseded_by = 'other' WHERE report_id = ?", [rid])
    assert wh.fetchall("SELECT * FROM improvements") == []


def test_points_are_kept_on_one_line_without_control_characters(wh):
    load_all(wh, [inspection("1", 1, date(2024, 3, 8), ("Return\x00 home\ninterviews\x1b[31m.", "  ", "\u202eTwo."))])
    assert wh.fetchall("SELECT position, text FROM improvements ORDER BY position") == [
        (1, "Return home interviews[31m."),
        (2, "Two."),
    ]


def test_current_improvements_are_each_councils_latest_graded_inspections(wh):
    load_all(
        wh,
        [
            inspection("1", 1, date(2019, 5, 24), ("Old point.",)),
            inspection("1", 2, date(2024, 3, 8)),
            letter("1", 3, date(2025, 2, 7), ("A letter's point.",)),
            replace(
                make_report(
                    "1", 4, "area_send_2023", date(2025, 6, 1), {"area_send_outcome": "positive"}, kind="area_send"
                ),
                improvements=("The area's point.",),
            ),
            inspection("2", 1, date(2023, 9, 15), ("Council 2's point.",)),
        ],
    )
    got = rows(
        wh,
        "SELECT urn, local_authority, framework, inspection_end, position, text, report_url"
        " FROM current_improvements ORDER BY urn, position",
    )
    assert [(r["urn"], r["inspection_end"], r["position"], r["text"]) for r in got] == [
        *[("1", date(2024, 3, 8), n, t) for n, t in enumerate(POINTS, 1)],
        ("2", date(2023, 9, 15), 1, "Council 2's point."),
    ]
    assert got[0]["report_url"] == make_publication("1", 2, None).url and got[0]["framework"] == "ilacs_2023"


# -- ofsted query improvements ----------------------------------------------------------
@pytest.fixture
def queried(warehouse_url, monkeypatch):
    """The sample England with points on Barnet's 2024 and King's Lynn's 2023 reports (one of
    them hostile for a spreadsheet and a terminal), queried through the real command line."""
    from etl.warehouse import connect
    from tests.support.warehouse_fixtures import load_sample, sample_records

    _, _, reports = sample_records()
    barnet = next(r for r in reports if r.urn == "80487" and r.framework == "ilacs_2023")
    lynn = next(r for r in reports if r.urn == "80999")
    with connect(warehouse_url) as wh:
        load_sample(wh)
        load.load_reports(
            wh,
            [
                replace(barnet, parser_version="2.0", improvements=POINTS),
                replace(lynn, parser_version="2.0", improvements=('=HYPERLINK("x")  \u202egnol',)),
            ],
            "r2",
        )
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    return barnet


def query(capsys, *argv):
    from etl.cli import main

    code = main(["query", "improvements", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_query_improvements_gives_one_councils_latest_points_or_every_councils(queried, capsys):
    import csv
    import io
    import json

    code, out, _ = query(capsys, "80487", "--format", "json")
    got = json.loads(out)
    assert code == 0 and [(r["position"], r["text"]) for r in got] == list(enumerate(POINTS, 1))
    assert got[0] == {
        "urn": "80487",
        "local_authority": "Barnet",
        "framework": "ilacs_2023",
        "inspection_end": "2024-03-08",
        "published": queried.published.isoformat(),
        "position": 1,
        "text": POINTS[0],
        "report_url": queried.url,
    }
    code, out, _ = query(capsys, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["local_authority"], r["position"]) for r in table] == [
        ("Barnet", "1"),
        ("Barnet", "2"),
        ("Barnet", "3"),
        ("King's Lynn % Test?", "1"),
    ]
    assert table[3]["text"] == '\'=HYPERLINK("x") gnol'  # a spreadsheet shows it, never runs it
    code, out, _ = query(capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == [
        "urn",
        "local_authority",
        "framework",
        "inspection_end",
        "published",
        "position",
        "text",
        "report_url",
    ]
    assert POINTS[1] in out and lines[-1] == "(4 rows)"


def test_query_improvements_refuses_a_bad_or_unknown_council(queried, capsys):
    code, _, err = query(capsys, "80487x")
    assert code == 2 and "80487x" in err and "Traceback" not in err
    code, _, err = query(capsys, "99999999")
    assert code == 2 and "no council with URN 99999999" in err
    code, out, _ = query(capsys, "80442")  # a council whose latest report lists none
    assert code == 0 and out.endswith("(0 rows)\n")


# -- the council page -------------------------------------------------------------------
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> {{ 7*7 }} ' + "W" * 300


def test_the_council_page_shows_the_latest_points_and_folds_each_letters_under_it(wh, warehouse_url):
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from etl.web import create_app
    from etl.web.auth import token_viewer

    latest = inspection("1", 2, date(2024, 3, 8), (*POINTS, HOSTILE))
    load_all(
        wh,
        [
            inspection("1", 1, date(2019, 5, 24), ("An older report's point.",)),
            latest,
            letter("1", 3, date(2025, 2, 7), ("Care plans for children in care.", HOSTILE)),
            letter("1", 4, date(2025, 9, 1), ()),
            inspection("2", 1, date(2023, 9, 15), ()),
        ],
    )
    client = TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: warehouse_url))
    answer = client.get("/councils/1")
    assert answer.status_code == 200
    page = BeautifulSoup(answer.text, "html.parser")
    section = page.find(id="improve").parent
    assert [li.get_text() for li in section.select("ol.points li")] == [*POINTS, HOSTILE]
    meta = section.select_one(".meta").get_text(" ", strip=True)
    assert "ILACS 2023" in meta and "ended 2024-03-08" in meta and f"published {latest.published}" in meta
    assert section.select_one(".meta a")["href"] == latest.url
    assert "older report" not in section.get_text()
    # the letters: the one with points has them folded in the row under it; the other has none
    body = page.find(id="visits").parent.select("tbody tr")
    assert [tr.get("class") for tr in body] == [None, ["has-points"], ["letter-points"]]
    folded = body[2].select_one("details")
    assert folded.summary.get_text() == "What needs to improve: 2 points" and not folded.has_attr("open")
    assert [li.get_text() for li in folded.select("li")] == ["Care plans for children in care.", HOSTILE]
    # what the PDF said is text, never markup or a template
    assert not page.select("main script, main img") and answer.text.count("{{ 7*7 }}") == 2
    assert answer.text.count("&lt;script&gt;") == 2
    page = BeautifulSoup(client.get("/councils/2").text, "html.parser")
    assert "No improvement points were read from this report." in page.find(id="improve").parent.get_text()


# -- alerts -----------------------------------------------------------------------------
CHAT_HOSTILE = "Evil @channel <!here> [click](http://evil.example/x) <script>alert(1)</script> *bold* 1. list"


def test_an_inspections_alert_lists_five_points_then_counts_the_rest_escaped_for_each_format():
    from etl.alert.events import AlertEvent
    from etl.alert.messages import render

    event = AlertEvent(
        event_id="report:r",
        kind="inspection",
        urn="1",
        council="Barnet",
        published=date(2024, 5, 1),
        url="https://files.ofsted.gov.uk/v1/file/1",
        noticed_at=None,
        framework="ilacs_2023",
        inspection_end=date(2024, 3, 8),
        held=(("overall_effectiveness", "good"),),
        improvements=(CHAT_HOSTILE, *[f"Point {n}." for n in range(2, 8)]),
    )
    text = render(event, "text").body.splitlines()
    at = text.index("What needs to improve:")
    assert text[at + 1 : at + 7] == [
        "  - Evil @\u200bchannel <\u200b!here> [click]\u200b(http:\u200b//evil.\u200bexample/x) "
        "<\u200bscript>alert(1)<\u200b/script> *bold* 1. list",
        "  - Point 2.",
        "  - Point 3.",
        "  - Point 4.",
        "  - Point 5.",
        "  - and 2 more: see the report",
    ]
    markdown = render(event, "markdown").body
    assert (
        "**What needs to improve:**\n- Evil @\u200bchannel" in markdown and "- and 2 more: see the report" in markdown
    )
    point = next(line for line in markdown.splitlines() if line.startswith("- Evil"))
    assert "](http" not in point and "\\[click\\]" in point and "\\*bold\\*" in point
    assert "\\<\u200bscript\\>" in point and "1\\. list" in point
    html = render(event, "html").body
    assert "<p><strong>What needs to improve:</strong></p><ul><li>Evil @channel &lt;!here&gt;" in html
    assert "<script>" not in html and html.count("<li>Point") == 4
    # five or fewer: every one, nothing counted
    few = render(AlertEvent(**{**event.__dict__, "improvements": ("Only one.",)}), "text").body
    assert "  - Only one." in few and "more: see the report" not in few


def test_alert_events_carry_the_points_of_each_report_and_letter(wh):
    from etl.alert.events import collect_events

    latest = inspection("1", 2, date(2024, 3, 8))
    visit = letter("1", 3, date(2025, 2, 7), ("Care plans for children in care.",))
    load_all(wh, [inspection("1", 1, date(2019, 5, 24), ()), latest, visit])
    events = {e.event_id: e for e in collect_events(wh)}
    assert events[f"report:{report_id_for(latest)}"].improvements == POINTS
    assert events[f"report:{report_id_for(inspection('1', 1, date(2019, 5, 24), ()))}"].improvements == ()
    assert events[f"focused_visit:{visit.url}"].improvements == ("Care plans for children in care.",)


# -- exports ----------------------------------------------------------------------------
def test_the_exports_carry_every_current_point_with_readable_headers_and_formulas_neutralised(
    wh, warehouse_url, tmp_path
):
    import csv
    import io

    import openpyxl
    import pandas as pd

    from etl.config import Settings
    from etl.export import WORKBOOK, export

    latest = inspection("1", 2, date(2024, 3, 8), ('=HYPERLINK("http://evil.example","x")', *POINTS[:2]))
    visit = letter("1", 3, date(2025, 2, 7), ("@SUM(A1) the letter's point.",))
    load_all(wh, [latest, visit])
    settings = Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url, "OFSTED_DATA_DIR": str(tmp_path)})
    export(settings, str(tmp_path / "out"))
    sheet = openpyxl.load_workbook(tmp_path / "out" / WORKBOOK)["Improvements"]
    assert [c.value for c in sheet[1]] == [
        "Council",
        "URN",
        "Kind",
        "Framework",
        "Inspection ended",
        "Published",
        "Point",
        "What needs to improve",
        "Report",
    ]
    body = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(r[1], r[2], r[6], r[7]) for r in body] == [
        ("1", "Inspection report", 1, '\'=HYPERLINK("http://evil.example","x")'),
        ("1", "Inspection report", 2, POINTS[0]),
        ("1", "Inspection report", 3, POINTS[1]),
        ("1", "Focused visit", 1, "'@SUM(A1) the letter's point."),
    ]
    assert all(sheet.cell(r, 8).data_type == "s" for r in range(2, 6))  # text, never a formula
    assert sheet.cell(2, 8).alignment.wrap_text and sheet.column_dimensions["H"].width > 60
    assert sheet.cell(2, 9).hyperlink.target == latest.url and sheet.cell(2, 5).value.date() == date(2024, 3, 8)
    about = [r[0].value for r in openpyxl.load_workbook(tmp_path / "out" / WORKBOOK)["About"].iter_rows()]
    assert "Improvements" in about
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "improvements.csv").read_text())))
    assert [r["text"] for r in table] == [
        '\'=HYPERLINK("http://evil.example","x")',
        *POINTS[:2],
        "'@SUM(A1) the letter's point.",
    ]
    assert table[0]["report_id"] == report_id_for(latest) and table[0]["local_authority"] == "Council 1"
    frame = pd.read_parquet(tmp_path / "out" / "improvements.parquet")
    assert list(frame["text"])[0] == '=HYPERLINK("http://evil.example","x")'  # Parquet keeps values as they are
    assert list(frame["position"]) == [1, 2, 3, 1]
