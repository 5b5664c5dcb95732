"""The reference-aware views and `ofsted query summary`, on both engines, against known facts:
a council with a predecessor, one under ILACS 2026, one with neighbours, one never inspected."""

from __future__ import annotations

import json
from datetime import date

import pytest

from etl.cli import main
from etl.warehouse import connect
from tests.support.warehouse_fixtures import CUMBERLAND, CUMBRIA, WALTHAM_FOREST, WESTMORLAND, load_reference_sample

LATEST_COLUMNS = [
    "urn",
    "local_authority",
    "la_code",
    "ons_code",
    "region",
    "framework",
    "inspection_start",
    "inspection_end",
    "published",
    "lead_inspector",
    "report_url",
    "overall_effectiveness",
    "impact_of_leaders",
    "help_and_protection",
    "in_care",
    "care_leavers",
    "previous_overall_effectiveness",
    "previous_impact_of_leaders",
    "previous_help_and_protection",
    "previous_in_care",
    "previous_care_leavers",
    "overall_effectiveness_direction",
    "impact_of_leaders_direction",
    "help_and_protection_direction",
    "in_care_direction",
    "care_leavers_direction",
    "days_since_inspection",
    "latest_visit_kind",
    "latest_visit_published",
    "latest_visit_url",
    "area_send_outcome",
    "area_send_date",
    "latest_visit_date",
    "latest_visit_areas",
    "latest_visit_priority_actions",
    "latest_jtai_date",
    "latest_jtai_theme",
    "inspection_type",
    "due_status",
    "due_earliest",
    "due_latest",
    "due_rule",
]


def rows_of(wh, view: str, where: str = "", params=()) -> list[dict]:
    names, rows = wh.query(f"SELECT * FROM {view} {where}", params)
    return [dict(zip(names, r)) for r in rows]


@pytest.fixture
def sample(wh):
    load_reference_sample(wh)
    return wh


def test_latest_inspections_one_row_per_listed_council_with_the_issue_columns(sample):
    names, _ = sample.query("SELECT * FROM latest_inspections")
    assert names == LATEST_COLUMNS
    rows = {r["urn"]: r for r in rows_of(sample, "latest_inspections")}
    # Cumbria is listed but abolished: its story continues under its successors (council_lineage)
    assert set(rows) == {"80487", "80442", "80999", CUMBERLAND, WESTMORLAND, WALTHAM_FOREST}
    barnet = rows["80487"]
    assert (barnet["la_code"], barnet["ons_code"], barnet["region"]) == ("302", "E09000003", "London")
    assert (barnet["framework"], barnet["inspection_end"], barnet["inspection_start"]) == (
        "ilacs_2023",
        date(2024, 3, 8),
        date(2024, 2, 26),
    )
    assert barnet["lead_inspector"] == "A Inspector"
    assert barnet["report_url"].endswith("/804870004")
    # ILACS 2018 good (the combined in-care judgement fed both lines) -> ILACS 2023
    assert [barnet[a] for a in ("overall_effectiveness", "help_and_protection", "care_leavers")] == [
        "outstanding",
        "good",
        "good",
    ]
    assert [barnet[f"previous_{a}"] for a in ("overall_effectiveness", "help_and_protection")] == ["good", "good"]
    assert barnet["overall_effectiveness_direction"] == "improved"
    assert barnet["help_and_protection_direction"] == "unchanged"
    assert barnet["days_since_inspection"] == (date.today() - date(2024, 3, 8)).days
    assert (barnet["latest_visit_kind"], barnet["latest_visit_url"][-9:]) == ("focused_visit", "804870005")
    assert rows["80999"]["la_code"] is None  # not in the reference: listed all the same


def test_ilacs_2026_has_no_overall_judgement(sample):
    wf = rows_of(sample, "latest_inspections", "WHERE urn = ?", [WALTHAM_FOREST])[0]
    assert wf["framework"] == "ilacs_2026"
    assert (wf["overall_effectiveness"], wf["previous_overall_effectiveness"]) == ("not_judged", "good")
    assert wf["overall_effectiveness_direction"] is None  # nothing to compare with
    assert (wf["previous_help_and_protection"], wf["help_and_protection"], wf["help_and_protection_direction"]) == (
        "good",
        "outstanding",
        "improved",
    )
    assert (wf["previous_care_leavers"], wf["care_leavers_direction"]) == ("requires_improvement", "improved")
    cumberland = rows_of(sample, "latest_inspections", "WHERE urn = ?", [CUMBERLAND])[0]
    assert cumberland["overall_effectiveness"] == "not_judged" and cumberland["previous_in_care"] is None


def test_a_council_never_inspected_has_empty_grades_and_its_visit(sample):
    wm = rows_of(sample, "latest_inspections", "WHERE urn = ?", [WESTMORLAND])[0]
    assert wm["region"] == "North West" and wm["la_code"] == "943"
    assert wm["framework"] is None and wm["overall_effectiveness"] is None and wm["days_since_inspection"] is None
    assert wm["latest_visit_kind"] == "focused_visit" and wm["latest_visit_published"] is not None


def test_neighbour_ratings_set_each_council_beside_its_neighbours(sample):
    barnet = rows_of(sample, "neighbour_ratings", "WHERE urn = ? ORDER BY neighbour_rank", ["80487"])
    assert [r["neighbour_rank"] for r in barnet] == list(range(1, 11))
    first = barnet[0]
    assert (first["neighbour_urn"], first["neighbour_local_authority"], first["neighbour_la_code"]) == (
        WALTHAM_FOREST,
        "Waltham Forest",
        "320",
    )
    assert (
        first["overall_effectiveness"],
        first["neighbour_overall_effectiveness"],
        first["neighbour_help_and_protection"],
    ) == ("outstanding", "not_judged", "outstanding")
    # a neighbour the site does not list (in this sample) keeps its reference name, no grades
    assert barnet[1]["neighbour_local_authority"] == "Reading" and barnet[1]["neighbour_framework"] is None


def test_council_lineage_carries_the_predecessors_history(sample):
    rows = rows_of(sample, "council_lineage", "WHERE urn = ? ORDER BY area, valid_from", [CUMBERLAND])
    inherited = [r for r in rows if r["inherited"]]
    own = [r for r in rows if not r["inherited"]]
    assert {r["source_urn"] for r in inherited} == {CUMBRIA}
    assert {r["source_local_authority"] for r in inherited} == {"Cumbria"}
    overall = [r for r in inherited if r["area"] == "overall_effectiveness"][0]
    assert (overall["grade"], overall["valid_from"], overall["valid_to"], overall["succeeded_on"]) == (
        "requires_improvement",
        date(2022, 6, 10),
        date(2023, 4, 1),
        date(2023, 4, 1),
    )
    assert not any(r["is_current"] for r in inherited)
    assert {r["area"] for r in own} == {"impact_of_leaders", "help_and_protection", "in_care", "care_leavers"}
    assert all(r["is_current"] and r["source_urn"] == CUMBERLAND for r in own)
    # both successors inherit; a council with no predecessor inherits nothing
    assert rows_of(sample, "council_lineage", "WHERE urn = ? AND inherited", [WESTMORLAND])
    assert not rows_of(sample, "council_lineage", "WHERE urn = ? AND inherited", ["80487"])


def test_current_ratings_and_changes_carry_codes(sample):
    current = rows_of(sample, "current_ratings", "WHERE urn = ? AND area = 'overall_effectiveness'", ["80487"])[0]
    assert (current["la_code"], current["ons_code"], current["region"]) == ("302", "E09000003", "London")
    change = rows_of(sample, "rating_changes", "WHERE urn = ?", [WALTHAM_FOREST])[0]
    assert (change["la_code"], change["region"]) == ("320", "London")


def test_query_summary_by_region(sample, warehouse_url, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    sample.close()  # one DuckDB writer at a time
    assert main(["query", "summary", "--region", "london", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["local_authority"] for r in rows] == ["Barnet", "Waltham Forest"]
    assert list(rows[0]) == LATEST_COLUMNS and rows[0]["inspection_end"] == "2024-03-08"
    assert main(["query", "summary", "--region", "E12000002"]) == 0
    table = capsys.readouterr().out
    assert "Cumberland" in table and "Westmorland and Furness" in table and "(2 rows)" in table


def test_upgrade_to_the_summary_views_keeps_answering(empty_warehouse):
    """A warehouse loaded before the summary views (schema version 6: today's loader needs the
    load tables' columns up to 006) answers latest_inspections straight after the upgrade (the
    latest_grades table is filled by the migration), then gains codes with the reference (at the
    refresh after it: the next run's)."""
    from etl import changes, derived, reference
    from etl.warehouse import migrate
    from tests.support.warehouse_fixtures import load_sample_before_008

    with connect(empty_warehouse) as wh:
        migrate(wh, target=6)
        load_sample_before_008(wh)
        rows, _ = changes.build_history(changes.graded_reports(wh))  # as version 3 of `changes` wrote it
        wh.insert_rows("rating_history", derived.HISTORY_COLUMNS[:15], [changes._history_row(h)[:15] for h in rows])
    with connect(empty_warehouse) as wh:
        migrate(wh)
        barnet = rows_of(wh, "latest_inspections", "WHERE urn = ?", ["80487"])[0]
        assert (barnet["overall_effectiveness"], barnet["overall_effectiveness_direction"]) == (
            "outstanding",
            "improved",
        )
        assert barnet["la_code"] is None  # the reference is loaded by the next run's start
        reference.sync(wh)
        changes.refresh(wh, "run-2")
        assert rows_of(wh, "latest_inspections", "WHERE urn = ?", ["80487"])[0]["la_code"] == "302"
        assert rows_of(wh, "current_ratings", "WHERE urn = ?", ["80487"])[0]["region"] == "London"
