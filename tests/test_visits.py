"""Letters read for what they say and area SEND outcomes in the warehouse (issue 17): the
`visits` view, the area SEND outcome as a tracked area on its own scale, and latest_inspections'
new columns, on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from etl import checks, load
from etl.load import report_id_for
from etl.records import Visit
from tests.support.warehouse_fixtures import load_records as load_all
from tests.support.warehouse_fixtures import make_report
from tests.support.warehouse_fixtures import rows_of as rows

ILACS = {
    "overall_effectiveness": "good",
    "impact_of_leaders": "good",
    "help_and_protection": "good",
    "in_care_and_care_leavers": "requires_improvement",
}


def letter(urn, n, end, *, areas=("in_care",), actions=(), kind="focused_visit", published=None, theme=None):
    """A parsed letter: a visit ending `end` that looked at `areas` and set out `actions` (a
    JTAI: on `theme`)."""
    record = make_report(urn, n, None, end, kind=kind, published=published)
    return replace(
        record,
        visit=Visit(
            areas=tuple(sorted(areas)),
            priority_actions=len(actions),
            priority_action_texts=tuple(actions),
            focus="Inspectors looked at ...",
            theme=theme,
        ),
    )


def area_send(urn, n, end, outcome):
    return make_report(urn, n, "area_send_2023", end, {"area_send_outcome": outcome}, kind="area_send")


def test_visits_has_one_row_per_current_letter_with_its_sorted_areas_and_priority_actions(wh):
    care = letter("1", 1, date(2021, 6, 24), areas=("in_care",), published=date(2021, 8, 2))
    leavers = letter(
        "1",
        2,
        date(2025, 11, 20),
        areas=("care_leavers", "help_and_protection"),
        actions=("Care leavers' pathway plans are not kept up to date.",),
    )
    jtai = letter("2", 1, date(2024, 1, 12), areas=(), kind="jtai")
    load_all(wh, [care, leavers, jtai, make_report("1", 3, "ilacs_2018", date(2019, 5, 24), ILACS)])
    got = rows(
        wh,
        "SELECT report_id, urn, kind, inspection_start, inspection_end, published, lead_inspector,"
        " areas, priority_actions, url, priority_action_texts FROM visits ORDER BY inspection_end",
    )
    assert [(r["urn"], r["kind"], r["inspection_end"], r["areas"], r["priority_actions"]) for r in got] == [
        ("1", "focused_visit", date(2021, 6, 24), "in_care", 0),
        ("2", "jtai", date(2024, 1, 12), "", 0),
        ("1", "focused_visit", date(2025, 11, 20), "care_leavers,help_and_protection", 1),
    ]
    assert got[0]["report_id"] == report_id_for(care) and got[0]["published"] == date(2021, 8, 2)
    assert got[0]["url"] == care.url and got[0]["lead_inspector"] == "A Inspector"
    assert got[2]["priority_action_texts"] == '["Care leavers\' pathway plans are not kept up to date."]'
    # a newer parse of the same letter replaces what it found
    load.load_reports(
        wh, [replace(leavers, parser_version="2.0", visit=replace(leavers.visit, priority_actions=2))], "r2"
    )
    assert wh.fetchone("SELECT priority_actions FROM visits WHERE report_id = ?", [report_id_for(leavers)]) == (2,)


def test_a_visit_record_with_an_unknown_area_is_refused(wh):
    import pytest

    bad = replace(letter("1", 1, date(2021, 6, 24)), visit=Visit(areas=("front_door",)))
    with pytest.raises(ValueError, match="unknown visit areas"):
        load.load_reports(wh, [bad], "r")


def test_an_area_send_outcome_is_tracked_on_its_own_scale_and_never_retires_the_ilacs_grades(wh):
    ilacs = make_report("1", 1, "ilacs_2018", date(2019, 5, 24), ILACS)
    first = area_send("1", 2, date(2024, 11, 22), "positive")
    later_ilacs = make_report(
        "1",
        3,
        "ilacs_2023",
        date(2025, 3, 1),
        {
            "overall_effectiveness": "outstanding",
            "impact_of_leaders": "good",
            "help_and_protection": "good",
            "in_care": "good",
            "care_leavers": "good",
        },
    )
    second = area_send("1", 4, date(2025, 10, 10), "inconsistent")
    load_all(wh, [ilacs, first])
    current = dict(wh.fetchall("SELECT area, grade FROM current_ratings WHERE urn = '1'"))
    assert current == {
        "overall_effectiveness": "good",
        "impact_of_leaders": "good",
        "help_and_protection": "good",
        "in_care": "requires_improvement",
        "care_leavers": "requires_improvement",
        "area_send_outcome": "positive",
    }
    assert wh.fetchone("SELECT COUNT(*) FROM rating_history WHERE end_reason = 'retired'") == (0,)
    summary = rows(
        wh,
        "SELECT framework, inspection_end, overall_effectiveness, area_send_outcome, area_send_date"
        " FROM latest_inspections WHERE urn = '1'",
    )
    assert summary == [
        {
            "framework": "ilacs_2018",
            "inspection_end": date(2019, 5, 24),
            "overall_effectiveness": "good",
            "area_send_outcome": "positive",
            "area_send_date": date(2024, 11, 22),
        }
    ]
    load_all(wh, [later_ilacs, second], "r2")
    assert rows(
        wh,
        "SELECT area, previous_grade, grade, direction FROM rating_changes WHERE urn = '1'"
        " AND area = 'area_send_outcome'",
    ) == [{"area": "area_send_outcome", "previous_grade": "positive", "grade": "inconsistent", "direction": "declined"}]
    assert wh.fetchone(
        "SELECT area_send_outcome, framework, overall_effectiveness, overall_effectiveness_direction"
        " FROM latest_inspections WHERE urn = '1'"
    ) == ("inconsistent", "ilacs_2023", "outstanding", "improved")
    assert wh.fetchone("SELECT COUNT(*) FROM rating_history WHERE end_reason = 'retired'") == (0,)
    failed = checks.failed_lines(checks.run_checks(wh))
    assert not [line for line in failed if line.startswith(("grades_within_scale", "current_grades_from"))], failed


def test_an_outcome_off_its_scale_or_a_grade_for_the_outcome_is_refused(wh):
    import pytest

    for bad in (
        area_send("1", 1, date(2024, 1, 1), "good"),
        make_report("1", 2, "ilacs_2023", date(2024, 1, 1), {"in_care": "positive"}),
    ):
        with pytest.raises(ValueError, match="unknown grade"):
            load.load_reports(wh, [bad], "r")


def test_latest_inspections_names_the_latest_visit_its_date_areas_and_priority_actions(wh):
    load_all(
        wh,
        [
            make_report("1", 1, "ilacs_2018", date(2019, 5, 24), ILACS),
            letter("1", 2, date(2021, 6, 24), published=date(2021, 8, 2)),
            letter(
                "1", 3, date(2026, 1, 8), areas=("care_leavers",), actions=("One.", "Two."), published=date(2026, 1, 12)
            ),
        ],
    )
    assert rows(
        wh,
        "SELECT latest_visit_kind, latest_visit_published, latest_visit_date, latest_visit_areas,"
        " latest_visit_priority_actions, area_send_outcome FROM latest_inspections WHERE urn = '1'",
    ) == [
        {
            "latest_visit_kind": "focused_visit",
            "latest_visit_published": date(2026, 1, 12),
            "latest_visit_date": date(2026, 1, 8),
            "latest_visit_areas": "care_leavers",
            "latest_visit_priority_actions": 2,
            "area_send_outcome": None,
        }
    ]


def test_the_exports_carry_the_visits_and_the_new_summary_columns(wh, warehouse_url, tmp_path):
    import openpyxl
    import pandas as pd

    from etl.config import Settings
    from etl.export import WORKBOOK, export

    load_all(
        wh,
        [
            make_report("1", 1, "ilacs_2018", date(2019, 5, 24), ILACS),
            letter(
                "1",
                2,
                date(2026, 1, 8),
                areas=("care_leavers", "in_care"),
                actions=("=HYPERLINK(x)",),
                published=date(2026, 1, 12),
            ),
            area_send("1", 3, date(2024, 11, 22), "systemic_failings"),
        ],
    )
    settings = Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url, "OFSTED_DATA_DIR": str(tmp_path)})
    export(settings, str(tmp_path / "out"))
    book = openpyxl.load_workbook(tmp_path / "out" / WORKBOOK)
    assert "Visits" in book.sheetnames
    visits = book["Visits"]
    header = [c.value for c in visits[1]]
    assert header[:10] == [
        "Report ID",
        "URN",
        "Kind",
        "Inspection started",
        "Inspection ended",
        "Published",
        "Lead inspector",
        "Looked at",
        "Areas for priority action",
        "Link",
    ]
    row = dict(zip(header, [c.value for c in visits[2]]))
    assert (row["Kind"], row["Looked at"], row["Areas for priority action"]) == (
        "Focused visit",
        "Children in care\nCare leavers",
        1,
    )  # in words, a line each
    texts = header.index("The areas for priority action") + 1
    assert row["The areas for priority action"] == "'=HYPERLINK(x)" and visits.cell(2, texts).data_type == "s"
    summary = book["Summary"]
    cells = dict(zip([c.value for c in summary[1]], [c for c in summary[2]]))
    assert cells["Area SEND outcome"].value == "Widespread and/or systemic failings"
    assert cells["Area SEND outcome"].fill.fgColor.rgb.endswith("D4351C")  # coloured as its scale's worst
    assert (cells["Latest visit looked at"].value, cells["Latest visit: areas for priority action"].value) == (
        "Children in care\nCare leavers",
        1,
    )
    frame = pd.read_parquet(tmp_path / "out" / "visits.parquet")
    assert list(frame["areas"]) == ["care_leavers,in_care"] and list(frame["priority_actions"]) == [1]
    assert "JTAI theme" in header and "theme" in frame.columns  # a JTAI's theme (null here: a focused visit)
    assert "theme" in (tmp_path / "out" / "visits.csv").read_text().splitlines()[0].split(",")
    assert (tmp_path / "out" / "visits.csv").read_text().count("\n") == 2


def test_a_jtais_theme_is_in_visits_and_the_latest_one_in_latest_inspections(wh):
    load_all(
        wh,
        [
            make_report("1", 1, "ilacs_2018", date(2019, 5, 24), ILACS),
            letter("1", 2, date(2019, 3, 8), kind="jtai", areas=("help_and_protection",), theme="neglect"),
            letter(
                "1",
                3,
                date(2024, 1, 12),
                kind="jtai",
                areas=("help_and_protection",),
                theme="initial_need_and_risk",
                actions=("One.", "Two."),
            ),
            letter("1", 4, date(2025, 6, 24)),
        ],
    )
    assert rows(wh, "SELECT kind, inspection_end, theme FROM visits WHERE urn = '1' ORDER BY inspection_end") == [
        {"kind": "jtai", "inspection_end": date(2019, 3, 8), "theme": "neglect"},
        {"kind": "jtai", "inspection_end": date(2024, 1, 12), "theme": "initial_need_and_risk"},
        {"kind": "focused_visit", "inspection_end": date(2025, 6, 24), "theme": None},
    ]
    assert rows(
        wh, "SELECT latest_visit_kind, latest_jtai_date, latest_jtai_theme FROM latest_inspections WHERE urn = '1'"
    ) == [
        {
            "latest_visit_kind": "focused_visit",
            "latest_jtai_date": date(2024, 1, 12),
            "latest_jtai_theme": "initial_need_and_risk",
        }
    ]


def test_a_theme_off_its_keys_or_on_a_letter_that_is_no_jtai_is_refused(wh):
    import pytest

    for record in (
        letter("1", 2, date(2024, 1, 12), kind="jtai", theme="gangs"),
        letter("1", 3, date(2024, 1, 12), theme="neglect"),
    ):
        with pytest.raises(ValueError, match="visit theme must be a JTAI's"):
            load_all(wh, [record])
