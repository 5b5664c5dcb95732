"""When Ofsted is due back (etl.due): windows worked out by hand from the rules in
docs/warehouse.md, then stored in latest_inspections and printed by `ofsted query due`, on both
engines."""

from __future__ import annotations

import json
from datetime import date as d

import pytest

from etl import due
from etl.cli import main
from tests.support.warehouse_fixtures import load_records, make_report, rows_of

I = due.Inspection
# G good (ended 2022-01-14, published 2022-03-01: 46 days), R requires improvement, M inadequate,
# N never inspected; G inspected again (outstanding) on 2023-06-02, published 2023-08-01
HISTORY = [
    I("G", "ilacs_2023", d(2022, 1, 14), d(2022, 3, 1), "good"),
    I("R", "ilacs_2023", d(2022, 6, 15), d(2022, 8, 1), "requires_improvement"),
    I("M", "ilacs_2023", d(2022, 3, 10), d(2022, 5, 1), "inadequate"),
    I("G", "ilacs_2023", d(2023, 6, 2), d(2023, 8, 1), "outstanding"),
]
COUNCILS = ["G", "R", "M", "N"]


def test_good_gets_a_short_inspection_window_around_its_third_anniversary():
    # as at 2023-01-31: three reports out in the last year, lags 46, 47 and 52 days: the 80% lag is
    # 47, so the queue stands at 2022-12-15; three inspections ended in the year before: 3 a year.
    # G is first in line: its slot is the later of 2022-12-15 + 4 months and its third anniversary
    # (2022-01-14 + 1096 days = 2025-01-14); the window runs 4 months (122 days) before that to
    # 8 months (244 days) after, never before 30 months (2024-07-16) from the last inspection.
    g = due.windows(HISTORY, COUNCILS, d(2023, 1, 31))["G"]
    assert (g.status, g.earliest, g.latest) == (due.WINDOW, d(2024, 9, 14), d(2025, 9, 15))
    assert g.rule.startswith("judged good at its inspection ending 2022-01-14: a short inspection")
    assert "2025-01-14" in g.rule and "in line" not in g.rule  # the anniversary, not the queue, set it


def test_requires_improvement_gets_a_standard_inspection_window():
    # R: anniversary 2022-06-15 + 1096 days = 2025-06-15, after G's slot: 2025-02-13 to 2026-02-14
    r = due.windows(HISTORY, COUNCILS, d(2023, 1, 31))["R"]
    assert (r.status, r.earliest, r.latest) == (due.WINDOW, d(2025, 2, 13), d(2026, 2, 14))
    assert "a standard inspection" in r.rule


def test_inadequate_is_monitoring_and_no_inspection_is_a_reason_not_a_date():
    found = due.windows(HISTORY, COUNCILS, d(2023, 1, 31))
    m, n = found["M"], found["N"]
    assert (m.status, m.earliest, m.latest) == (due.MONITORING, None, None)
    assert "re-inspection when Ofsted judges it ready" in m.rule
    assert (n.status, n.earliest, n.latest) == (due.NONE, None, None)
    assert n.rule == "no inspection of its children's services published yet"


def test_as_at_uses_only_what_was_published_by_then():
    # G's second inspection ended 2023-06-02 but was published on 2023-08-01: on 2023-07-31 the
    # window still comes from the first; on 2023-08-31 from the second (2023-06-02 + 36 months)
    before = due.windows(HISTORY, COUNCILS, d(2023, 7, 31))["G"]
    after = due.windows(HISTORY, COUNCILS, d(2023, 8, 31))["G"]
    assert before.rule.startswith("judged good at its inspection ending 2022-01-14")
    assert after.rule.startswith("judged outstanding at its inspection ending 2023-06-02")
    assert after.earliest > before.latest


def test_a_pause_not_yet_over_has_no_latest_date():
    # as at 2020-06-30, Ofsted's suspension of 17 March 2020 has no inspection after it published
    history = [
        I("X", "ilacs_2018", d(2019, 1, 31), d(2019, 3, 1), "good"),
        I("Y", "ilacs_2018", d(2019, 11, 29), d(2020, 1, 20), "good"),
    ]  # the pace: 1 a year
    x = due.windows(history, ["X", "Y"], d(2020, 6, 30))["X"]
    assert x.status == due.WINDOW and x.latest is None and x.earliest >= d(2020, 6, 30)
    assert "paused since 2020-03-17" in x.rule


def test_after_a_restart_the_latest_date_reaches_further_until_the_pace_settles():
    # Z, ended 2021-10-01 and published 2021-11-15, is the first inspection after the pause: for 18
    # months from it (to 2023-04-02) a window closes 17 months after the council's turn, then 8
    history = [
        I("X", "ilacs_2018", d(2019, 1, 31), d(2019, 3, 1), "good"),
        I("Y", "ilacs_2018", d(2019, 11, 29), d(2020, 1, 20), "good"),
        I("Z", "ilacs_2018", d(2021, 10, 1), d(2021, 11, 15), "good"),
    ]
    unseen = due.windows(history, ["X", "Y", "Z"], d(2021, 10, 31))["X"]
    assert unseen.latest is None  # the restart is not yet published
    x = due.windows(history, ["X", "Y", "Z"], d(2021, 12, 31))["X"]
    assert (x.earliest, x.latest) == (d(2022, 1, 16), d(2023, 10, 17))  # turn 2022-05-17: -4, +17 months
    assert "resumed on 2021-10-01" in x.rule and "closes 17 months after its turn" in x.rule
    settled = due.windows(history, ["X", "Y", "Z"], d(2023, 4, 30))["X"]
    assert (settled.earliest, settled.latest) == (d(2023, 10, 30), d(2024, 10, 30))  # -4, +8 months
    assert "resumed" not in settled.rule


def test_a_2026_report_without_overall_grade_says_the_rule_is_not_published():
    history = [I("X", "ilacs_2026", d(2026, 5, 29), d(2026, 7, 1), None)]
    x = due.windows(history, ["X"], d(2026, 9, 30))["X"]
    assert x.status == due.WINDOW and "not in the published framework" in x.rule


def test_a_date_before_2012_is_an_error():
    with pytest.raises(ValueError, match="on or after 2012-01-01"):
        due.windows(HISTORY, COUNCILS, d(2011, 12, 31))


def ilacs(urn, n, end, overall, published=None):
    keys = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")
    return make_report(urn, n, "ilacs_2023", end, {k: overall for k in keys}, published=published)


@pytest.fixture
def loaded(wh):
    load_records(
        wh,
        [
            ilacs("G", 1, d(2022, 1, 14), "good", d(2022, 3, 1)),
            ilacs("R", 1, d(2022, 6, 15), "requires_improvement", d(2022, 8, 1)),
            ilacs("M", 1, d(2022, 3, 10), "inadequate", d(2022, 5, 1)),
            ilacs("G", 2, d(2023, 6, 2), "outstanding", d(2023, 8, 1)),
        ],
    )
    wh.insert_rows(
        "ref_councils",
        ("urn", "name", "la_code", "ons_code", "region_code", "region_name"),
        [(u, f"Council {u}", str(900 + i), f"E0{i}", "N", "North") for i, u in enumerate("GRM")],
    )
    from etl import changes

    changes.refresh(wh, "run-ref")  # the derived tables, due_windows among them, with the reference now in
    return wh


def test_stored_in_latest_inspections(loaded):
    rows = {
        r["urn"]: r
        for r in rows_of(loaded, "SELECT urn, due_status, due_earliest, due_latest, due_rule FROM latest_inspections")
    }
    assert rows["M"]["due_status"] == "monitoring" and rows["M"]["due_earliest"] is None
    assert rows["G"]["due_status"] == "window"
    assert rows["G"]["due_rule"].startswith("judged outstanding at its inspection ending 2023-06-02")
    assert rows["G"]["due_earliest"] < rows["G"]["due_latest"]


def test_query_due_through_the_cli(loaded, warehouse_url, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    loaded.close()
    assert main(["query", "due", "--as-at", "2023-01-31", "--format", "json"]) == 0
    rows = {r["urn"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["G"]["due_earliest"], rows["G"]["due_latest"]) == ("2024-09-14", "2025-09-15")
    assert (rows["R"]["due_earliest"], rows["R"]["due_latest"]) == ("2025-02-13", "2026-02-14")
    assert rows["M"]["due_status"] == "monitoring" and rows["G"]["last_grade"] == "good"
    assert main(["query", "due"]) == 0  # the stored windows, as at the last refresh
    assert "judged outstanding at its inspection ending 2023-06-02" in capsys.readouterr().out
    assert main(["query", "due", "Council R", "--format", "json"]) == 0  # one council
    assert [r["urn"] for r in json.loads(capsys.readouterr().out)] == ["R"]
    assert main(["query", "due", "--as-at", "2011-06-30"]) == 2
    assert "on or after 2012-01-01" in capsys.readouterr().err


def test_council_page_and_map_show_when_ofsted_is_due(wh, warehouse_url):
    from bs4 import BeautifulSoup

    from etl import reference
    from tests.support.warehouse_fixtures import load_sample
    from tests.test_view import client_for

    reference.sync(wh)  # first: the refresh that load_sample runs reads the reference
    load_sample(wh)
    client = client_for(warehouse_url)
    stored = wh.fetchone("SELECT due_status, due_earliest, due_latest FROM due_windows WHERE urn = '80487'")
    page = BeautifulSoup(client.get("/councils/80487").text, "html.parser")
    said = page.select_one("p.due").get_text(" ", strip=True)
    assert stored[0] == "window" and said == due.sentence(
        *stored, wh.fetchone("SELECT due_rule FROM due_windows WHERE urn = '80487'")[0]
    )
    assert said.startswith(
        f"Next inspection: expected between {stored[1]:%B %Y} and {stored[2]:%B %Y},"
        " because judged outstanding at its inspection ending 2024-03-08"
    )
    mapped = BeautifulSoup(client.get("/", params={"area": "inspection_due"}).text, "html.parser")
    barnet = next(h for h in mapped.select("#hexmap a.hex") if h["href"].endswith("/councils/80487"))
    assert barnet.polygon["class"] == [f"fill-{due.soon(*stored, d.today())}"]
    assert {p["class"][0] for p in mapped.select("#hexmap a.hex polygon")} <= {
        "fill-due_soon",
        "fill-due_later",
        "fill-monitoring",
        "fill-none",
    }
    assert "when the next inspection is due" in mapped.get_text()


def test_an_abolished_council_gets_no_window():
    # P's inspection still counts in Ofsted's pace, but P is not among the councils existing then
    history = [*HISTORY, I("P", "ilacs_2023", d(2022, 2, 1), d(2022, 3, 20), "good")]
    found = due.windows(history, COUNCILS, d(2023, 1, 31))
    assert set(found) == set(COUNCILS)
