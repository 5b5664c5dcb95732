"""Rating history (SCD2), the area model, change events, retraction and review (alerts: test_alert_delivery.py).
Every test runs on DuckDB and on PostgreSQL (the `wh` fixture)."""

from __future__ import annotations

from datetime import date

import pytest

from etl import changes, load
from etl.graded import FRAMEWORK_TRACKED, GRADE_RANK, TRACKED_AREAS, GradedReport
from etl.records import FRAMEWORK_AREAS
from tests.support.warehouse_fixtures import load_sample, make_report


def history(wh, urn, area):
    return wh.fetchall(
        "SELECT grade, valid_from, valid_to, is_current, end_reason FROM rating_history"
        " WHERE urn = ? AND area = ? ORDER BY valid_from",
        [urn, area],
    )


def current(wh, urn):
    return dict(wh.fetchall("SELECT area, grade FROM current_ratings WHERE urn = ?", [urn]))


def changes_of(wh, urn):
    return sorted(wh.fetchall("SELECT area, previous_grade, grade, direction FROM rating_changes WHERE urn = ?", [urn]))


def test_overall_effectiveness_is_tracked_across_frameworks(wh):
    load_sample(wh)
    assert history(wh, "80487", "overall_effectiveness") == [
        ("inadequate", date(2013, 12, 6), date(2019, 5, 24), False, "changed"),
        ("good", date(2019, 5, 24), date(2024, 3, 8), False, "changed"),
        ("outstanding", date(2024, 3, 8), None, True, None),
    ]


def test_current_ratings_has_one_row_per_council_and_area_from_the_latest_inspection(wh):
    load_sample(wh)
    names, rows = wh.query("SELECT * FROM current_ratings WHERE urn = ? ORDER BY area", ["80487"])
    assert names == [
        "urn",
        "local_authority",
        "area",
        "grade",
        "framework",
        "inspection_end",
        "published",
        "report_url",
        "la_code",
        "ons_code",
        "region",
    ]
    assert [r[2] for r in rows] == [
        "care_leavers",
        "help_and_protection",
        "impact_of_leaders",
        "in_care",
        "overall_effectiveness",
    ]
    assert {r[4] for r in rows} == {"ilacs_2023"} and {r[5] for r in rows} == {date(2024, 3, 8)}
    assert all(r[1] == "Barnet" and r[7].startswith("https://files.ofsted.gov.uk/") for r in rows)
    counts = wh.fetchall("SELECT urn, area, COUNT(*) FROM current_ratings GROUP BY urn, area HAVING COUNT(*) > 1")
    assert counts == []


def test_same_grade_under_a_new_framework_keeps_one_row_but_reports_the_latest_inspection(wh):
    load.load_reports(
        wh,
        [
            make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"}),
            make_report("1", 2, "ilacs_2023", date(2024, 1, 1), {"help_and_protection": "good"}),
        ],
        "r",
    )
    changes.refresh(wh, "r")
    assert history(wh, "1", "help_and_protection") == [("good", date(2019, 1, 1), None, True, None)]
    assert wh.fetchall("SELECT framework, inspection_end FROM current_ratings") == [("ilacs_2023", date(2024, 1, 1))]
    assert changes_of(wh, "1") == []


def test_leadership_and_children_in_care_line_up_across_frameworks(wh):
    load_sample(wh)
    assert [h[0] for h in history(wh, "80487", "impact_of_leaders")] == ["inadequate", "good", "outstanding"]
    # LAC overall effectiveness -> SIF looked after -> ILACS 2018 combined -> ILACS 2023 in care
    assert [h[0] for h in history(wh, "80487", "in_care")] == [
        "adequate",
        "requires_improvement",
        "good",
        "outstanding",
    ]
    # the 2018 combined judgement also continues the care leavers line
    assert [h[0] for h in history(wh, "80487", "care_leavers")] == ["inadequate", "good"]


def test_areas_without_a_successor_are_retired_not_carried_forward(wh):
    load_sample(wh)
    assert history(wh, "80487", "lscb") == [
        ("requires_improvement", date(2013, 12, 6), date(2019, 5, 24), False, "retired")
    ]
    assert history(wh, "80487", "lac_outcomes")[-1][4] == "retired"
    assert "adoption_performance" not in current(wh, "80487")
    # retiring an area is not a change of grade
    assert not [c for c in changes_of(wh, "80487") if c[0] in ("lscb", "adoption_performance")]


def test_ilacs_2026_retires_overall_effectiveness(wh):
    load.load_reports(
        wh,
        [
            make_report("1", 1, "ilacs_2023", date(2024, 1, 1), {"overall_effectiveness": "good", "in_care": "good"}),
            make_report("1", 2, "ilacs_2026", date(2026, 6, 1), {"in_care": "inadequate"}),
        ],
        "r",
    )
    changes.refresh(wh, "r")
    assert current(wh, "1") == {"in_care": "inadequate"}
    assert changes_of(wh, "1") == [("in_care", "good", "inadequate", "declined")]


def test_adequate_sits_between_good_and_requires_improvement(wh):
    load.load_reports(
        wh,
        [
            make_report("1", 1, "lac", date(2012, 1, 1), {"lac_overall_effectiveness": "adequate"}),
            make_report("1", 2, "sif", date(2014, 1, 1), {"looked_after_and_permanence": "requires_improvement"}),
            make_report("2", 1, "lac", date(2012, 1, 1), {"lac_overall_effectiveness": "adequate"}),
            make_report("2", 2, "sif", date(2014, 1, 1), {"looked_after_and_permanence": "good"}),
        ],
        "r",
    )
    changes.refresh(wh, "r")
    assert changes_of(wh, "1") == [("in_care", "adequate", "requires_improvement", "declined")]
    assert changes_of(wh, "2") == [("in_care", "adequate", "good", "improved")]


def test_history_is_ordered_by_inspection_end_then_publication_date(wh):
    # the later inspection was published first: inspection end decides the order
    load.load_reports(
        wh,
        [
            make_report(
                "1", 1, "ilacs_2018", date(2020, 1, 10), {"help_and_protection": "good"}, published=date(2020, 6, 1)
            ),
            make_report(
                "1",
                2,
                "ilacs_2018",
                date(2020, 2, 1),
                {"help_and_protection": "inadequate"},
                published=date(2020, 4, 1),
            ),
        ],
        "r",
    )
    changes.refresh(wh, "r")
    assert current(wh, "1") == {"help_and_protection": "inadequate"}
    names, rows = wh.query("SELECT previous_published, published, direction FROM rating_changes")
    assert rows == [(date(2020, 6, 1), date(2020, 4, 1), "declined")]


def test_rating_changes_columns_and_directions(wh):
    load_sample(wh)
    names, _ = wh.query("SELECT * FROM rating_changes")
    assert names[:9] == [
        "urn",
        "local_authority",
        "area",
        "previous_grade",
        "grade",
        "previous_published",
        "published",
        "direction",
        "report_url",
    ]
    assert changes_of(wh, "80442") == [
        ("care_leavers", "good", "requires_improvement", "declined"),
        ("help_and_protection", "good", "requires_improvement", "declined"),
        ("in_care", "good", "requires_improvement", "declined"),
        ("overall_effectiveness", "good", "requires_improvement", "declined"),
    ]
    assert changes_of(wh, "80999") == []  # a first inspection is not a change
    directions = wh.fetchall("SELECT previous_grade, grade, direction FROM rating_changes")
    for prev, grade, direction in directions:
        assert direction == ("improved" if GRADE_RANK[grade] > GRADE_RANK[prev] else "declined")


def test_refresh_twice_reports_nothing_new(wh):
    first = load_sample(wh)
    assert len(first.new) == len(wh.fetchall("SELECT * FROM rating_changes")) > 0
    again = changes.refresh(wh, "run-2")
    assert (again.new, again.retracted) == ([], [])


def test_ungraded_letters_are_stored_but_not_rated(wh):
    load_sample(wh)
    assert wh.fetchall("SELECT kind, framework FROM reports WHERE urn = ? AND framework IS NULL", ["80487"]) == [
        ("focused_visit", None)
    ]
    assert wh.fetchall(
        "SELECT COUNT(*) FROM rating_history h JOIN reports r ON r.report_id = h.report_id WHERE r.framework IS NULL"
    ) == [(0,)]


def test_a_correction_retracts_the_event_it_removes_and_adds_the_one_it_creates(wh):
    v1 = [
        make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"}),
        make_report("1", 2, "ilacs_2023", date(2024, 1, 1), {"help_and_protection": "inadequate", "in_care": "good"}),
    ]
    load.load_reports(wh, v1, "r1")
    first = changes.refresh(wh, "r1")
    assert [(e.area, e.grade) for e in first.new] == [("help_and_protection", "inadequate")]

    # parser 2.0 reads the second report properly: help and protection was good, in care declined
    v2 = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "good", "in_care": "requires_improvement"},
        parser_version="2.0",
    )
    v2_first = make_report(
        "1",
        1,
        "ilacs_2018",
        date(2019, 1, 1),
        {"help_and_protection": "good", "in_care_and_care_leavers": "good"},
        parser_version="2.0",
    )
    load.load_reports(wh, [v2, v2_first], "r2")
    second = changes.refresh(wh, "r2")
    assert [(e.area, e.grade) for e in second.retracted] == [("help_and_protection", "inadequate")]
    assert [(e.area, e.grade) for e in second.new] == [("in_care", "requires_improvement")]
    # kept, marked, hidden from the view
    assert wh.fetchall("SELECT area, retracted_run FROM change_events WHERE retracted_at IS NOT NULL") == [
        ("help_and_protection", "r2")
    ]
    assert changes_of(wh, "1") == [("in_care", "good", "requires_improvement", "declined")]

    # a later correction that brings it back makes it new again, with the same stable id
    v3 = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "inadequate", "in_care": "requires_improvement"},
        parser_version="3.0",
    )
    load.load_reports(wh, [v3], "r3")
    third = changes.refresh(wh, "r3")
    assert [e.change_id for e in third.new] == [e.change_id for e in second.retracted]
    assert third.retracted == []


def test_a_report_flagged_for_review_does_not_move_the_rating_until_resolved(wh):
    good = make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"})
    flagged = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "inadequate"},
        flags=("page 1 says inadequate, body says requires improvement",),
    )
    load.load_reports(wh, [good, flagged], "r")
    assert changes.refresh(wh, "r").new == []
    assert current(wh, "1") == {"help_and_protection": "good"}
    assert wh.fetchall("SELECT needs_review, review_flags FROM reports WHERE urn = ? AND needs_review", ["1"]) == [
        (True, '["page 1 says inadequate, body says requires improvement"]')
    ]

    load.resolve_review(
        wh,
        load.report_id_for(flagged),
        {"help_and_protection": "requires_improvement"},
        resolved_by="analyst",
        note="body is right",
    )
    result = changes.refresh(wh, "r")
    assert [(e.previous_grade, e.grade) for e in result.new] == [("good", "requires_improvement")]
    assert current(wh, "1") == {"help_and_protection": "requires_improvement"}


def test_resolving_without_grades_accepts_the_parsed_judgements(wh):
    flagged = make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"}, flags=("x",))
    load.load_reports(wh, [flagged], "r")
    changes.refresh(wh, "r")
    assert current(wh, "1") == {}
    load.resolve_review(wh, load.report_id_for(flagged))
    changes.refresh(wh, "r")
    assert current(wh, "1") == {"help_and_protection": "good"}


def test_resolving_an_unknown_report_or_a_bad_grade_is_a_clear_error(wh):
    flagged = make_report("1", 1, "ilacs_2018", date(2019, 1, 1), {"help_and_protection": "good"}, flags=("x",))
    load.load_reports(wh, [flagged], "r")
    with pytest.raises(ValueError, match="no report"):
        load.resolve_review(wh, "nope")
    with pytest.raises(ValueError, match="cannot resolve"):
        load.resolve_review(wh, load.report_id_for(flagged), {"help_and_protection": "great"})
    assert wh.fetchall("SELECT * FROM review_resolutions") == []


# -- the model itself (pure) -------------------------------------------------------------
def test_every_framework_key_maps_to_tracked_areas_and_shared_keys_keep_their_name():
    for framework, keys in FRAMEWORK_AREAS.items():
        assert set(TRACKED_AREAS[framework]) == set(keys)
        for shared in ("overall_effectiveness", "help_and_protection", "care_leavers"):
            if shared in keys:
                assert shared in TRACKED_AREAS[framework][shared]
    assert FRAMEWORK_TRACKED["ilacs_2018"] == {
        "overall_effectiveness",
        "impact_of_leaders",
        "help_and_protection",
        "in_care",
        "care_leavers",
    }


def test_history_does_not_depend_on_input_order():
    _, _, reports = __import__("tests.support.warehouse_fixtures", fromlist=["x"]).sample_records()
    graded = [
        GradedReport(
            load.report_id_for(r),
            r.urn,
            r.local_authority,
            r.framework,
            r.inspection_end,
            r.published,
            r.url,
            r.judgements,
        )
        for r in reports
        if r.framework
    ]
    rows_a, events_a = changes.build_history(graded)
    rows_b, events_b = changes.build_history(list(reversed(graded)))
    key = lambda h: (h.urn, h.area, h.valid_from, h.grade, h.valid_to)  # noqa: E731
    assert sorted(map(key, rows_a)) == sorted(map(key, rows_b))
    assert sorted(c.event.change_id for c in events_a) == sorted(c.event.change_id for c in events_b)


def test_an_unread_required_area_ends_the_previous_grade_as_not_read_without_an_event(wh):
    """Nobody may read the 2019 overall grade as current once the 2024 report is in; the
    other areas of that report count; filling the grade in by review makes the change."""
    from etl import review

    old = make_report(
        "1", 1, "ilacs_2018", date(2019, 1, 1), {"overall_effectiveness": "good", "help_and_protection": "good"}
    )
    new = make_report(
        "1",
        2,
        "ilacs_2023",
        date(2024, 1, 1),
        {"help_and_protection": "outstanding"},
        unread=("overall_effectiveness",),
    )
    load.load_reports(wh, [old, new], "r")
    changes.refresh(wh, "r")
    assert current(wh, "1") == {"overall_effectiveness": "not_read", "help_and_protection": "outstanding"}
    assert history(wh, "1", "overall_effectiveness") == [
        ("good", date(2019, 1, 1), date(2024, 1, 1), False, "not_read"),
        ("not_read", date(2024, 1, 1), None, True, None),
    ]
    assert changes_of(wh, "1") == [("help_and_protection", "good", "outstanding", "improved")]

    review.set_grades(wh, load.report_id_for(new), {"overall_effectiveness": "outstanding"}, who="ann", why="p.1")
    result = changes.refresh(wh, "r")
    assert [(e.area, e.previous_grade, e.grade) for e in result.new] == [
        ("overall_effectiveness", "good", "outstanding")
    ]
    assert history(wh, "1", "overall_effectiveness")[-1] == ("outstanding", date(2024, 1, 1), None, True, None)


def test_after_a_not_read_the_next_grade_is_compared_with_the_last_grade_read(wh):
    reports = [
        make_report("1", 1, "sif", date(2015, 1, 1), {"overall_effectiveness": "inadequate"}),
        make_report(
            "1", 2, "sif", date(2017, 1, 1), {"help_and_protection": "good"}, unread=("overall_effectiveness",)
        ),
        make_report("1", 3, "ilacs_2018", date(2019, 1, 1), {"overall_effectiveness": "inadequate"}),
        make_report("1", 4, "ilacs_2023", date(2023, 1, 1), {"overall_effectiveness": "good"}),
    ]
    load.load_reports(wh, reports, "r")
    changes.refresh(wh, "r")
    assert [g for g, *_ in history(wh, "1", "overall_effectiveness")] == [
        "inadequate",
        "not_read",
        "inadequate",
        "good",
    ]
    assert changes_of(wh, "1") == [("overall_effectiveness", "inadequate", "good", "improved")]


def test_a_separately_published_lscb_review_feeds_the_lscb_line(wh):
    """Published apart from its inspection, with the same dates: both reports stand."""
    inspection = make_report("1", 1, "sif", date(2015, 6, 1), {"overall_effectiveness": "good"})
    first_review = make_report("1", 2, "sif", date(2015, 6, 1), {"lscb": "inadequate"}, published=date(2015, 9, 1))
    second_review = make_report("1", 3, "sif", date(2017, 3, 1), {"lscb": "good"})
    load.load_reports(wh, [inspection, first_review, second_review], "r")
    changes.refresh(wh, "r")
    assert current(wh, "1") == {"overall_effectiveness": "good", "lscb": "good"}
    assert changes_of(wh, "1") == [("lscb", "inadequate", "good", "improved")]
