"""Every council as at a date, Ofsted's publication cut-off, and the in-year activity
(etl.outcomes; docs/warehouse.md, "Councils as at a date"): a small history worked out by hand,
on both engines, through the functions and the real command line."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date as d

import pytest

from etl import changes, england, load, outcomes
from etl.cli import main
from etl.records import Council, Visit
from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

# A, N (never inspected) and P (abolished 2021-04-01, succeeded by S1 and S2) in North; C in South
REGIONS = {"A": "North", "N": "North", "P": "North", "S1": "North", "S2": "North", "C": "South"}
SUCCESSION = d(2021, 4, 1)
ILACS_2023 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def graded(urn, n, framework, end, grades, published=None):
    return make_report(urn, n, framework, end, grades, published=published, la=f"Council {urn}")


def every(grade, keys=ILACS_2023):
    return dict.fromkeys(keys, grade)


REPORTS = [
    # A: good in 2019 (ILACS 2018: one judgement for children in care and care leavers); inspected
    # to 15 March 2024, published only on 20 May 2024: requires improvement
    graded(
        "A",
        1,
        "ilacs_2018",
        d(2019, 2, 28),
        every(
            "good", ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers")
        ),
    ),
    graded("A", 2, "ilacs_2023", d(2024, 3, 15), every("requires_improvement"), published=d(2024, 5, 20)),
    # P: inadequate in 2019; S1 holds it from 2021-04-01 until its own inspection (good); S2 never inspected
    graded(
        "P",
        1,
        "ilacs_2018",
        d(2019, 11, 29),
        every(
            "inadequate",
            ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"),
        ),
    ),
    graded("S1", 1, "ilacs_2023", d(2023, 10, 27), every("good")),
    # C: good in 2023, then ILACS 2026 (no overall effectiveness), published 1 August 2026
    graded("C", 1, "ilacs_2023", d(2023, 6, 30), every("good")),
    graded(
        "C",
        2,
        "ilacs_2026",
        d(2026, 6, 19),
        {
            "impact_of_leaders": "good",
            "help_and_protection": "outstanding",
            "in_care": "good",
            "care_leavers": "requires_improvement",
        },
        published=d(2026, 8, 1),
    ),
    # letters: N's focused visit (one area for priority action), A's JTAI
    replace(
        make_report("N", 1, None, d(2025, 10, 10), kind="focused_visit", la="Council N"),
        visit=Visit(
            areas=("care_leavers", "in_care"),
            priority_actions=1,
            priority_action_texts=("Leaders have not ensured that care leavers are safe.",),
        ),
    ),
    replace(
        make_report("A", 3, None, d(2025, 11, 20), kind="jtai", la="Council A"), visit=Visit(theme="domestic_abuse")
    ),
]


@pytest.fixture
def history(wh):
    wh.insert_rows(
        "ref_councils",
        ("urn", "name", "la_code", "ons_code", "region_code", "region_name", "abolished"),
        [
            (
                urn,
                f"Council {urn}",
                str(900 + i),
                f"E0600000{i}",
                f"E1200000{1 + (region == 'South')}",
                region,
                SUCCESSION if urn == "P" else None,
            )
            for i, (urn, region) in enumerate(REGIONS.items())
        ],
    )
    wh.insert_rows(
        "ref_successions",
        ("predecessor_ons_code", "successor_urn", "predecessor_urn", "predecessor_name", "effective"),
        [("E06000002", s, "P", "Council P", SUCCESSION) for s in ("S1", "S2")],
    )
    publications = [
        make_publication(r.urn, int(r.source.split("/")[1][:-4]), r.published, kind=r.kind, la=r.local_authority)
        for r in REPORTS
    ]
    load.start_run(wh, "r1")
    load.load_councils(
        wh, [Council(u, f"Council {u}", f"https://reports.ofsted.gov.uk/provider/44/{u}") for u in REGIONS]
    )
    load.load_publications(wh, publications, "r1")
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    load.load_reports(wh, REPORTS, "r1")
    changes.refresh(wh, "r1")
    load.finish_run(wh, "r1")
    return wh


def rows_by_urn(wh, day, published_by=None, region=None) -> dict[str, dict]:
    names, rows = outcomes.council_rows(wh, day, published_by, region)
    assert names == list(outcomes.SUMMARY_COLUMNS)
    return {r[0]: dict(zip(names, r)) for r in rows}


HEADLINE = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def grades(row) -> tuple:
    return tuple(row[a] for a in HEADLINE)


RI = "Requires improvement to be good"


def test_inspected_in_march_published_in_may(history):
    # the product's convention: ended by 31 March 2024, whenever published
    a = rows_by_urn(history, d(2024, 3, 31))["A"]
    assert (a["framework"], a["inspection_start"], a["inspection_end"], a["published"]) == (
        "ilacs_2023",
        d(2024, 3, 4),
        d(2024, 3, 15),
        d(2024, 5, 20),
    )
    assert grades(a) == (RI,) * 5 and a["ons_code"] == "E06000000" and a["region"] == "North"
    assert a["inspection_type"] is None and a["inspected_as"] is None
    # Ofsted's rule, published by 30 June: the same; published by 30 April (the rule up to 2023):
    # the report of May does not count yet, A stands on its 2019 inspection (ILACS 2018's one
    # judgement for children in care and care leavers is both)
    assert grades(rows_by_urn(history, d(2024, 3, 31), d(2024, 6, 30))["A"]) == (RI,) * 5
    before = rows_by_urn(history, d(2024, 3, 31), d(2024, 4, 30))["A"]
    assert (before["framework"], before["inspection_end"], before["published"]) == (
        "ilacs_2018",
        d(2019, 2, 28),
        d(2019, 4, 9),
    )
    assert grades(before) == ("Good",) * 5


def test_a_successor_council(history):
    # the day before the reorganisation: P, not its successors
    assert sorted(rows_by_urn(history, d(2021, 3, 31))) == ["A", "C", "N", "P"]
    rows = rows_by_urn(history, d(2024, 3, 31))
    assert sorted(rows) == ["A", "C", "N", "S1", "S2"]
    # S2 holds P's inspection, and says whose it was; S1 its own since October 2023
    s2, s1 = rows["S2"], rows["S1"]
    assert (s2["inspected_as"], s2["inspection_end"], s2["framework"]) == ("Council P", d(2019, 11, 29), "ilacs_2018")
    assert grades(s2) == ("Inadequate",) * 5
    assert (s1["inspected_as"], s1["inspection_end"], grades(s1)) == (None, d(2023, 10, 27), ("Good",) * 5)
    assert rows_by_urn(history, d(2022, 3, 31))["S1"]["inspected_as"] == "Council P"
    # a council never inspected: its row, codes and no inspection
    n = rows["N"]
    assert n["region"] == "North" and n["framework"] is None and grades(n) == (None,) * 5


def test_a_2026_report_without_overall_effectiveness(history):
    c = rows_by_urn(history, d(2026, 9, 30))["C"]
    assert c["framework"] == "ilacs_2026" and c["published"] == d(2026, 8, 1)
    assert grades(c) == ("Not judged", "Good", "Outstanding", "Good", RI)
    # inspected in June, published in August: by 31 July, C stands on its 2023 inspection
    july = rows_by_urn(history, d(2026, 6, 30), d(2026, 7, 31))["C"]
    assert (july["framework"], grades(july)) == ("ilacs_2023", ("Good",) * 5)
    # the region filter, by name or ONS code
    assert list(rows_by_urn(history, d(2026, 9, 30), region="south")) == ["C"]
    assert sorted(rows_by_urn(history, d(2026, 9, 30), region="E12000001")) == ["A", "N", "S1", "S2"]


def test_england_and_movement_count_what_was_published(history):
    def england_row(**kw):
        return england.as_at(history, d(2024, 3, 31), **kw)[1][0][3:]

    # councils, outstanding, good, RI, inadequate, not judged, % good or outstanding: A RI, C G, S1 G, S2 I
    assert england_row() == (4, 0, 2, 1, 1, 0, 50.0)
    assert england_row(published_by=d(2024, 6, 30)) == (4, 0, 2, 1, 1, 0, 50.0)
    assert england_row(published_by=d(2024, 4, 30)) == (4, 0, 3, 0, 1, 0, 75.0)  # A still good
    # movement: A declined (good -> RI) and S1 improved (P's inadequate -> good); by 30 April, A's
    # second inspection is not published: only S1
    assert england.movement(history, d(2024, 3, 31))[1] == [(2, 1, 0, 1, 0)]
    assert england.movement(history, d(2024, 3, 31), d(2024, 4, 30))[1] == [(1, 1, 0, 0, 0)]
    assert [r[:2] for r in england.movement_councils(history, d(2024, 3, 31), d(2024, 4, 30))[1]] == [
        ("improved", "S1")
    ]
    # the recomputed timeline with nothing left out is the stored one
    assert sorted(england.timeline(history, d(2030, 1, 1))) == sorted(england.timeline(history))


def activity(wh, start, end, **kw) -> list[dict]:
    names, rows = outcomes.activity(wh, start, end, **kw)
    assert names == list(outcomes.ACTIVITY_COLUMNS)
    return [dict(zip(names, r)) for r in rows]


def test_in_year_activity(history):
    # 2023-24: C's and S1's inspections, then A's (ended in March, listed though published in May)
    year = activity(history, d(2023, 4, 1), d(2024, 3, 31))
    assert [(r["year"], r["urn"], r["kind"], r["framework"], r["inspection_end"], r["published"]) for r in year] == [
        ("2023-24", "C", "inspection", "ilacs_2023", d(2023, 6, 30), d(2023, 8, 9)),
        ("2023-24", "S1", "inspection", "ilacs_2023", d(2023, 10, 27), d(2023, 12, 6)),
        ("2023-24", "A", "inspection", "ilacs_2023", d(2024, 3, 15), d(2024, 5, 20)),
    ]
    assert grades(year[2]) == (RI,) * 5 and year[2]["region"] == "North" and year[2]["area_send_outcome"] is None
    # 2025-26: the letters: a focused visit's areas and area for priority action, a JTAI's theme
    letters = activity(history, d(2025, 4, 1), d(2026, 3, 31))
    assert [
        (r["urn"], r["kind"], r["visit_areas"], r["jtai_theme"], r["priority_actions"], grades(r)) for r in letters
    ] == [
        ("N", "focused_visit", "care_leavers,in_care", None, 1, (None,) * 5),
        ("A", "jtai", None, "domestic_abuse", 0, (None,) * 5),
    ]
    # ILACS 2018's one judgement is both children in care and care leavers; the 2026 report none overall
    assert grades(activity(history, d(2019, 2, 28), d(2019, 2, 28))[0]) == ("Good",) * 5
    c = activity(history, d(2026, 4, 1), d(2027, 3, 31), region="South")
    assert [(r["year"], grades(r)) for r in c] == [("2026-27", (None, "Good", "Outstanding", "Good", RI))]


def test_reporting_years():
    assert outcomes.reporting_year(d(2026, 3, 31)) == (d(2025, 4, 1), d(2026, 3, 31))
    assert outcomes.reporting_year(d(2026, 4, 1)) == (d(2026, 4, 1), d(2027, 3, 31))
    assert outcomes.two_years(d(2026, 12, 8)) == (d(2025, 4, 1), d(2027, 3, 31))
    assert outcomes.year_label(d(2000, 1, 5)) == "1999-00"


@pytest.mark.parametrize(
    "args, says",
    [
        (["summary", "--as-at", "2011-12-31"], "the as-at date 2011-12-31 is before 2012"),
        (
            ["summary", "--as-at", "2024-03-31", "--published-by", "2024-03-30"],
            "the published-by date 2024-03-30 is before the as-at date 2024-03-31",
        ),
        (["england", "--as-at", "2024-03-31", "--published-by", "2023-06-30"], "is before the as-at date"),
        (["movement", "--as-at", "2010-03-31"], "before 2012"),
        (["summary", "--published-by", "2020-06-30"], "before the as-at date"),  # as at today
        (["activity", "--from", "2011-04-01", "--to", "2012-03-31"], "the from date 2011-04-01 is before 2012"),
        (["activity", "--from", "2024-04-01", "--to", "2024-03-31"], "the to date 2024-03-31 is before the from date"),
    ],
)
def test_bad_dates_are_clear_errors(history, warehouse_url, monkeypatch, capsys, args, says):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    history.close()
    assert main(["query", *args]) == 2
    out = capsys.readouterr()
    assert says in out.err and out.out == ""
    with pytest.raises(ValueError, match="before 2012"):
        outcomes.check_period(("as-at date", d(2011, 12, 31)), ("published-by date", None))


def test_through_the_command_line(history, warehouse_url, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    history.close()
    assert main(["query", "summary", "--as-at", "2024-03-31", "--published-by", "2024-04-30", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["urn"] for r in rows] == ["A", "C", "N", "S1", "S2"]
    assert rows[0]["inspection_end"] == "2019-02-28" and rows[0]["overall_effectiveness"] == "Good"
    assert main(["query", "summary", "--as-at", "2024-03-31", "--region", "South", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(outcomes.SUMMARY_COLUMNS) and len(lines) == 2 and lines[1].startswith("C,Council C")
    assert main(["query", "summary", "Council S2", "--as-at", "2024-03-31"]) == 0  # one council, a table
    out = capsys.readouterr().out
    assert "Council P" in out and "(1 rows)" in out
    assert main(["query", "england", "--as-at", "2024-03-31", "--published-by", "2024-04-30", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["good_or_outstanding_pct"] == 75.0
    assert main(["query", "movement", "--as-at", "2024-03-31", "--published-by", "2024-04-30", "--councils"]) == 0
    assert "(1 rows)" in capsys.readouterr().out
    assert main(["query", "activity", "--from", "2025-04-01", "--to", "2026-03-31", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(outcomes.ACTIVITY_COLUMNS) and [line.split(",")[1] for line in lines[1:]] == ["N", "A"]


def test_the_england_over_time_page_lists_every_council(history, warehouse_url):
    from bs4 import BeautifulSoup
    from fastapi.testclient import TestClient

    from etl.web import create_app
    from etl.web.auth import token_viewer

    client = TestClient(create_app(viewer=token_viewer(None), warehouse_url=lambda: warehouse_url))

    def table(**params) -> dict[str, list[str]]:
        answer = client.get("/england/over-time", params=params)
        assert answer.status_code == 200, answer.text[:300]
        page = BeautifulSoup(answer.text, "html.parser")
        heads = [th.get_text(strip=True) for th in page.select("#councils-at thead th")]
        return {
            "head": heads,
            **{
                tr.th.a.get_text(strip=True): [tr.th.get_text(" ", strip=True)]
                + [td.get_text(" ", strip=True) for td in tr.find_all("td")]
                for tr in page.select("#councils-at tbody tr")
            },
        }

    rows = table(as_at="2024-03-31")
    assert rows["head"][:8] == ["Council", "ONS code", "Region", "Framework", "Type", "Started", "Ended", "Published"]
    assert list(rows)[1:] == ["Council A", "Council C", "Council N", "Council S1", "Council S2"]
    assert rows["Council A"][1:9] == [
        "E06000000",
        "North",
        "ILACS 2023",
        "",
        "2024-03-04",
        "2024-03-15",
        "2024-05-20",
        "Requires improvement",
    ]
    assert rows["Council S2"][0] == "Council S2 inspected as Council P"
    assert rows["Council N"][3] == "Not inspected yet"
    # Ofsted's cut-off: A's report of May is not counted by 30 April; the counts follow
    cut = table(as_at="2024-03-31", published_by="2024-04-30", region="North")
    assert list(cut)[1:] == ["Council A", "Council N", "Council S1", "Council S2"]
    assert cut["Council A"][6:9] == ["2019-02-28", "2019-04-09", "Good"]
    answer = client.get("/england/over-time", params={"as_at": "2024-03-31", "published_by": "2024-04-30"})
    england_row = BeautifulSoup(answer.text, "html.parser").select_one("#as-at tbody tr")
    assert [td.get_text(strip=True) for td in england_row.find_all("td")] == ["4", "0", "3", "0", "1", "0", "75.0%"]
    # ILACS 2026: not judged overall
    assert table(as_at="2026-09-30")["Council C"][8:13] == [
        "Not judged",
        "Good",
        "Outstanding",
        "Good",
        "Requires improvement",
    ]
    for bad in (
        {"as_at": "2011-03-31"},
        {"as_at": "2024-03-31", "published_by": "2024-01-31"},
        {"published_by": "soon"},
    ):
        answer = client.get("/england/over-time", params=bad)
        assert answer.status_code == 400 and (
            "2012" in answer.text or "before" in answer.text or "YYYY-MM-DD" in answer.text
        ), bad


def test_the_workbooks_activity_sheet(history, warehouse_url, tmp_path):
    import openpyxl

    from etl import export
    from etl.config import Settings

    history.close()
    settings = Settings.from_env()
    settings = replace(settings, warehouse_url=warehouse_url, export_url=str(tmp_path))
    export.export(settings, formats=("xlsx", "csv"))
    ws = openpyxl.load_workbook(tmp_path / export.WORKBOOK)["Activity"]
    header = [c.value for c in ws[1]]  # in words, for people
    assert header == [export.heading(c) for c in outcomes.ACTIVITY_COLUMNS]
    first, last = outcomes.two_years(d.today())
    expected = sorted((r.inspection_end, r.urn) for r in REPORTS if first <= r.inspection_end <= last)
    ended, urn = export.heading("inspection_end"), export.heading("urn")
    got = [(c[header.index(ended)].value.date(), c[header.index(urn)].value) for c in ws.iter_rows(min_row=2)]
    assert got == expected
    assert (tmp_path / "inspection_activity.csv").read_text().splitlines()[0] == ",".join(outcomes.ACTIVITY_COLUMNS)
