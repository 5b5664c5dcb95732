"""England at any date (etl.england): a synthetic history whose answers were worked out by hand
(docs/warehouse.md, "England at any date"), on both engines, through the real command line."""

from __future__ import annotations

import json
from datetime import date as d

import pytest

from etl import changes, england, load
from etl.cli import main
from etl.records import Council
from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

# North: A, B, E, F and P, whose successors S1 and S2 (North too) took over on 2021-04-01;
# South: C alone (a region with one council)
REGIONS = {
    "A": "North",
    "B": "North",
    "E": "North",
    "F": "North",
    "P": "North",
    "S1": "North",
    "S2": "North",
    "C": "South",
}
SUCCESSION = d(2021, 4, 1)


def ilacs(urn, n, framework, end, overall, published=None, **others):
    """An ILACS report with `overall` in every area (others override)."""
    keys = {
        "ilacs_2018": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"),
        "ilacs_2023": ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"),
        "ilacs_2026": ("impact_of_leaders", "help_and_protection", "in_care", "care_leavers"),
    }[framework]
    grades = {k: overall for k in keys if overall}
    grades.update(others)
    return make_report(urn, n, framework, end, grades, published=published, la=f"Council {urn}")


REPORTS = [
    # A: LAC 2012 (adequate: counted as requires improvement), SIF 2014 inadequate, ILACS 2018
    # requires improvement, ILACS 2023 good
    make_report("A", 1, "lac", d(2012, 6, 15), {"lac_overall_effectiveness": "adequate", "lac_outcomes": "good"}),
    make_report(
        "A", 2, "sif", d(2014, 6, 30), {"overall_effectiveness": "inadequate", "help_and_protection": "inadequate"}
    ),
    ilacs("A", 3, "ilacs_2018", d(2019, 2, 28), "requires_improvement"),
    ilacs("A", 4, "ilacs_2023", d(2024, 5, 31), "good"),
    # B: good, then outstanding, inspected to 2024-03-20 and published only on 2024-05-15
    ilacs("B", 1, "ilacs_2018", d(2018, 10, 31), "good"),
    ilacs("B", 2, "ilacs_2023", d(2024, 3, 20), "outstanding", published=d(2024, 5, 15)),
    # C: good, requires improvement, then ILACS 2026 (no overall effectiveness)
    ilacs("C", 1, "ilacs_2018", d(2019, 1, 31), "good"),
    ilacs("C", 2, "ilacs_2023", d(2023, 7, 31), "requires_improvement"),
    ilacs(
        "C",
        3,
        "ilacs_2026",
        d(2026, 6, 30),
        None,
        help_and_protection="good",
        impact_of_leaders="good",
        in_care="good",
        care_leavers="good",
    ),
    # E: requires improvement twice; F: good twice
    ilacs("E", 1, "ilacs_2018", d(2019, 6, 30), "requires_improvement"),
    ilacs("E", 2, "ilacs_2023", d(2025, 1, 31), "requires_improvement"),
    ilacs("F", 1, "ilacs_2018", d(2018, 7, 31), "good"),
    ilacs("F", 2, "ilacs_2023", d(2023, 5, 31), "good"),
    # P (abolished 2021-04-01): good; S1 inherits it, then inadequate; S2 inherits it, never inspected
    ilacs("P", 1, "ilacs_2018", d(2019, 3, 20), "good"),
    ilacs("S1", 1, "ilacs_2023", d(2023, 10, 31), "inadequate"),
]


@pytest.fixture
def synthetic(wh):
    wh.insert_rows(
        "ref_councils",
        ("urn", "name", "la_code", "ons_code", "region_code", "region_name", "abolished"),
        [
            (urn, f"Council {urn}", str(900 + i), f"E0{i}", region[0], region, SUCCESSION if urn == "P" else None)
            for i, (urn, region) in enumerate(REGIONS.items())
        ],
    )
    wh.insert_rows(
        "ref_successions",
        ("predecessor_ons_code", "successor_urn", "predecessor_urn", "predecessor_name", "effective"),
        [("E04", "S1", "P", "Council P", SUCCESSION), ("E04", "S2", "P", "Council P", SUCCESSION)],
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


def counts(rows):
    """(group, councils, outstanding, good, RI, inadequate, not_judged, pct) per row."""
    return [(r[0], *r[3:]) for r in rows]


@pytest.mark.parametrize(
    "day, england_row",
    [
        # A RI, B G, C G, F G, P G (E not inspected yet)
        (d(2019, 3, 31), ("England", 5, 0, 4, 1, 0, 0, 80.0)),
        # the day before the reorganisation: P still counts (E now RI)
        (d(2021, 3, 31), ("England", 6, 0, 4, 2, 0, 0, 66.7)),
        # P is gone; S1 and S2 count from their creation with P's grade
        (d(2021, 4, 1), ("England", 7, 0, 5, 2, 0, 0, 71.4)),
        # B's inspection ended 2024-03-20 and counts though published in May; A's ILACS 2023 not yet
        (d(2024, 3, 31), ("England", 7, 1, 2, 3, 1, 0, 42.9)),
        # C's ILACS 2026 judges no overall effectiveness: not_judged, out of the percentage
        (d(2026, 9, 30), ("England", 6, 1, 3, 1, 1, 1, 66.7)),
        # nothing judged overall effectiveness before SIF (A's LAC inspection is not on that line)
        (d(2013, 3, 31), ("England", 0, 0, 0, 0, 0, 0, None)),
    ],
)
def test_england_as_at_worked_by_hand(synthetic, day, england_row):
    names, rows = england.as_at(synthetic, day)
    assert names == [
        "group",
        "as_at",
        "area",
        "councils",
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
        "not_judged",
        "good_or_outstanding_pct",
    ]
    assert counts(rows) == [england_row]
    assert rows[0][1:3] == (day, "overall_effectiveness")


def test_by_region_includes_a_region_with_one_council(synthetic):
    _, rows = england.as_at(synthetic, d(2019, 3, 31), by_region=True)
    assert counts(rows) == [("North", 4, 0, 3, 1, 0, 0, 75.0), ("South", 1, 0, 1, 0, 0, 0, 100.0)]
    _, rows = england.as_at(synthetic, d(2026, 9, 30), by_region=True)
    assert counts(rows) == [("North", 6, 1, 3, 1, 1, 0, 66.7), ("South", 0, 0, 0, 0, 0, 1, None)]


def test_other_areas_and_adequate(synthetic):
    # LAC 2012 starts the in_care line: adequate counts as requires improvement
    _, rows = england.as_at(synthetic, d(2013, 3, 31), "in_care")
    assert counts(rows) == [("England", 1, 0, 0, 1, 0, 0, 0.0)]
    # ILACS 2026 judges help and protection: C is graded there
    _, rows = england.as_at(synthetic, d(2026, 9, 30), "help_and_protection", by_region=True)
    assert counts(rows)[1] == ("South", 1, 0, 1, 0, 0, 0, 100.0)
    # the SIF-only LAC outcomes line: retired by A's SIF inspection
    _, rows = england.as_at(synthetic, d(2015, 3, 31), "lac_outcomes")
    assert counts(rows) == [("England", 0, 0, 0, 0, 0, 1, None)]
    with pytest.raises(ValueError):
        england.as_at(synthetic, d(2015, 3, 31), "area_send_outcome")


def test_movement_worked_by_hand(synthetic):
    # A RI->G improved, B G->O improved, C G->RI declined (ILACS 2026 gives none), E RI->RI,
    # F G->G, S1 P's G->I declined; S2 has only P's inspection
    assert england.movement(synthetic, d(2026, 9, 30)) == (
        ["councils", "improved", "kept_good_or_outstanding", "declined", "unchanged_below_good"],
        [(6, 2, 1, 2, 1)],
    )
    # by 2024-03-31: B improved, C declined, F kept, S1 declined (A's and E's second not yet)
    assert england.movement(synthetic, d(2024, 3, 31))[1] == [(4, 1, 1, 2, 0)]
    _, rows = england.movement_councils(synthetic, d(2026, 9, 30))
    assert [(r[0], r[1]) for r in rows] == [
        ("improved", "A"),
        ("improved", "B"),
        ("kept_good_or_outstanding", "F"),
        ("declined", "C"),
        ("declined", "S1"),
        ("unchanged_below_good", "E"),
    ]
    s1 = rows[4]
    assert s1[4:] == (d(2019, 3, 20), "good", d(2023, 10, 31), "inadequate")


def assert_agree(stored: list, queried: list) -> None:
    """The table's rows are the query's, but for groups never inspected in the area (no rows)."""
    groups = {r[0] for r in stored}
    assert [tuple(r) for r in stored] == [r for r in queried if r[0] in groups]
    assert all(r[3] == r[8] == 0 for r in queried if r[0] not in groups)


def test_distribution_table_agrees_with_the_query(synthetic):
    for day in (d(2019, 3, 31), d(2021, 3, 31), d(2024, 3, 31), d(2026, 9, 30)):
        for area in england.AREAS:
            stored = synthetic.fetchall(
                "SELECT group_name, as_at, area, councils, outstanding, good, requires_improvement, inadequate,"
                " not_judged, good_or_outstanding_pct FROM grade_distribution WHERE as_at = ? AND area = ?"
                " ORDER BY group_name = 'England' DESC, group_name",
                [day, area],
            )
            assert_agree(stored, england.as_at(synthetic, day, area)[1] + england.as_at(synthetic, day, area, True)[1])
    first = synthetic.fetchone("SELECT MIN(as_at) FROM grade_distribution")[0]
    assert first == d(2012, 4, 30)
    assert not synthetic.fetchall("SELECT 1 FROM grade_distribution WHERE area = 'area_send_outcome'")


def test_query_commands_through_the_cli(synthetic, warehouse_url, monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_OFSTED_WAREHOUSE", raising=False)
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", warehouse_url)
    synthetic.close()
    assert main(["query", "england", "--as-at", "2024-03-31", "--by", "region", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r) for r in rows] == [list(england.DISTRIBUTION_COLUMNS)] * 2
    assert rows[1] == {
        "group": "South",
        "as_at": "2024-03-31",
        "area": "overall_effectiveness",
        "councils": 1,
        "outstanding": 0,
        "good": 0,
        "requires_improvement": 1,
        "inadequate": 0,
        "not_judged": 0,
        "good_or_outstanding_pct": 0.0,
    }
    assert main(["query", "movement", "--as-at", "2026-09-30", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"councils": 6, "improved": 2, "kept_good_or_outstanding": 1, "declined": 2, "unchanged_below_good": 1}
    ]
    assert main(["query", "movement", "--as-at", "2026-09-30", "--councils", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(england.MOVEMENT_COUNCIL_COLUMNS) and len(lines) == 7
    assert main(["query", "england", "--area", "in_care", "--as-at", "2013-03-31"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].split() == ["England", "2013-03-31", "in_care", "1", "0", "0", "1", "0", "0", "0.0"]
    assert main(["query", "england", "--area", "nonsense"]) == 2


def test_an_area_send_inspection_neither_sets_nor_retires_a_councils_grades():
    from etl.graded import GradedReport

    ilacs_2023 = GradedReport(
        "r1",
        "A",
        "A",
        "ilacs_2023",
        d(2024, 5, 31),
        d(2024, 7, 1),
        None,
        {"overall_effectiveness": "good", "in_care": "good"},
    )
    send = GradedReport(
        "r2", "A", "A", "area_send_2023", d(2025, 6, 30), d(2025, 8, 1), None, {"area_send_outcome": "positive"}
    )
    rows = england.timeline_rows([ilacs_2023, send], {}, [])
    assert {(r[3], r[4], r[5], r[6]) for r in rows} == {
        ("overall_effectiveness", "good", d(2024, 5, 31), None),
        ("in_care", "good", d(2024, 5, 31), None),
    }


def test_table_and_query_agree_on_a_synthetic_england(wh):
    """The whole of England (tests/support/england.py): the month-end table (SQL) and the query
    (any date) count the same, for every area, England and each region."""
    from tests.support.england import load_england

    load_england(wh)
    for day in (d(2014, 3, 31), d(2019, 3, 31), d(2023, 4, 30), d(2026, 9, 30)):
        for area in england.AREAS:
            stored = wh.fetchall(
                f"SELECT {', '.join(england.TABLE_COLUMNS)} FROM grade_distribution WHERE as_at = ? AND area = ?"
                " ORDER BY group_name = 'England' DESC, group_name",
                [day, area],
            )
            assert_agree(stored, england.as_at(wh, day, area)[1] + england.as_at(wh, day, area, True)[1])
    # councils existing at 2026-09-30: 153, each graded or not_judged overall
    row = england.as_at(wh, d(2026, 9, 30))[1][0]
    assert row[3] + row[8] == 153
