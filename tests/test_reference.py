"""The council reference shipped in the package, and its copy in the warehouse (both engines)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from etl import reference
from etl.grades import GRADE_ORDER, GRADE_STYLES, label
from etl.records import GRADES
from tests.support.warehouse_fixtures import load_sample

SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
CUMBRIA, CUMBERLAND, WESTMORLAND = "135513", "2733690", "2733698"
NORTHAMPTONSHIRE, NORTH_NORTHANTS, WEST_NORTHANTS = "121939", "2637539", "2637548"
POOLE, BCP, DORSET = "137316", "2532287", "2532283"


def test_every_council_has_codes_region_and_resolvable_neighbours():
    refs = reference.councils()
    assert len(refs) == 156 and sum(c.exists for c in refs) == 153
    for kind in ("urn", "la_code", "ons_code"):
        assert len({getattr(c, kind) for c in refs}) == len(refs), f"duplicate {kind}"
    regions = dict(reference.regions())
    assert len(regions) == 9 and regions["E12000008"] == "South East"
    for c in refs:
        assert regions[c.region_code] == c.region_name  # one name per code
        assert c.la_code.isdigit() and len(c.la_code) == 3 and c.ons_code.startswith("E")
        if c.exists:
            assert len(c.statistical_neighbours) == 10 and c.urn not in c.statistical_neighbours
            assert all(reference.by_urn()[n].exists for n in c.statistical_neighbours)
            assert c.la_type in ("London Borough", "Metropolitan District", "Unitary Authority", "County")
        else:
            assert c.statistical_neighbours == () and c.successors


def test_known_facts_barnet_and_the_corrected_rows():
    barnet = reference.by_urn()["80487"]
    assert (barnet.la_code, barnet.ons_code, barnet.region_name) == ("302", "E09000003", "London")
    assert reference.neighbours_of("80487")[0] == reference.by_urn()["80517"].urn  # la 320, most similar
    assert reference.neighbours_of("99999999") == []
    bucks = reference.by_urn()["80442"]
    assert (bucks.region_code, bucks.region_name, bucks.former_ons_codes) == ("E12000008", "South East", ("E10000002",))
    assert reference.by_urn()[CUMBERLAND].population_0_25 is None  # the source copied Cumbria's
    assert "Bournemouth, Christchurch & Poole" in reference.by_urn()[BCP].also_known_as


def test_reorganisations_link_predecessors_to_successors():
    links = {(p, s): d for p, s, d in reference.successions()}
    assert links[(CUMBRIA, CUMBERLAND)] == links[(CUMBRIA, WESTMORLAND)] == date(2023, 4, 1)
    assert links[(NORTHAMPTONSHIRE, NORTH_NORTHANTS)] == links[(NORTHAMPTONSHIRE, WEST_NORTHANTS)] == date(2021, 4, 1)
    assert links[(POOLE, BCP)] == date(2019, 4, 1)
    assert (None, DORSET) in links  # Dorset County: no URN in the reference, still recorded
    cumbria = reference.by_urn()[CUMBRIA]
    assert not cumbria.exists and cumbria.abolished == date(2023, 4, 1)
    assert cumbria.successors == (CUMBERLAND, WESTMORLAND)
    assert reference.by_urn()[WESTMORLAND].predecessors == (CUMBRIA,)


def _distance(a, b) -> int:
    def cube(q, r):
        x = q - (r - (r & 1)) // 2
        return x, r, -x - r

    return max(abs(i - j) for i, j in zip(cube(*a), cube(*b)))


def test_hex_layout_places_every_current_council_once():
    layout = reference.hex_layout()
    current = {c.urn for c in reference.councils() if c.exists}
    assert reference.HEX_LAYOUT == "odd-r"
    assert set(layout) == current
    assert len(set(layout.values())) == len(layout)  # one council per cell
    # recoded councils keep their 2020 cells; a successor takes its predecessor's cell, the other
    # goes beside it
    assert layout["80442"] == (8, 6)  # Buckinghamshire, keyed E10000002 in the map
    assert layout[CUMBERLAND] == (6, 14) and _distance(layout[WESTMORLAND], (6, 14)) == 1
    assert layout[NORTH_NORTHANTS] == (7, 6) and _distance(layout[WEST_NORTHANTS], (7, 6)) <= 3


@pytest.mark.skipif(not SHARED_REFERENCE.exists(), reason="../shared/reference not present")
def test_shipped_file_differs_from_the_source_only_by_documented_corrections():
    with open(SHARED_REFERENCE / "councils.csv", newline="") as f:
        source = {r["urn"]: r for r in csv.DictReader(f)}
    with open(reference.DATA_DIR / "councils.csv", newline="") as f:
        shipped = {r["urn"]: r for r in csv.DictReader(f)}
    assert source.keys() == shipped.keys()
    changed = {(shipped[u]["name"], k) for u in source for k in source[u] if source[u][k] != shipped[u][k]}
    notes = (reference.DATA_DIR / "README.md").read_text()
    for name, field in changed:  # every change is listed in the README's corrections table
        assert field in notes, (name, field)
    assert ("Buckinghamshire", "region_code") in changed and ("Cumberland", "population_0_25") in changed


def test_grades_are_styled_once_in_rank_order():
    assert set(GRADES) <= set(GRADE_ORDER)
    assert GRADE_ORDER[0] == "outstanding" and GRADE_ORDER.index("good") < GRADE_ORDER.index("inadequate")
    assert label("requires_improvement") == "Requires improvement" and label(None) == ""
    assert all(s.fill.startswith("#") and len(s.fill) == 7 for s in GRADE_STYLES.values())


def test_sync_loads_the_reference_idempotently(wh):
    assert reference.sync(wh) == 156
    before = wh.fetchall("SELECT * FROM ref_councils ORDER BY urn")
    wh.execute("UPDATE ref_councils SET la_code = 'x' WHERE urn = '80487'")
    wh.execute("INSERT INTO ref_statistical_neighbours (urn, neighbour_urn, rank) VALUES ('1', '2', 1)")
    reference.sync(wh)  # a re-run repairs edits and removes rows the shipped data lacks
    assert wh.fetchall("SELECT * FROM ref_councils ORDER BY urn") == before
    assert wh.fetchone("SELECT COUNT(*) FROM ref_statistical_neighbours")[0] == 1530
    assert wh.fetchone("SELECT hex_q, hex_r FROM ref_councils WHERE urn = ?", [CUMBERLAND]) == (6, 14)
    assert wh.fetchone("SELECT abolished FROM ref_councils WHERE urn = ?", [CUMBRIA])[0] == date(2023, 4, 1)
    assert wh.fetchone("SELECT COUNT(*) FROM ref_successions WHERE predecessor_urn IS NULL")[0] == 3


def test_history_rows_carry_codes_and_unknown_councils_are_reported(wh):
    reference.sync(wh)
    load_sample(wh)  # matched by URN: 80442 is Buckinghamshire whatever the sample calls it; 80999 is unknown
    rows = dict(
        ((urn, area), rest)
        for urn, area, *rest in wh.fetchall("SELECT urn, area, la_code, ons_code, region FROM rating_history")
    )
    assert rows[("80487", "overall_effectiveness")] == ["302", "E09000003", "London"]
    assert rows[("80442", "overall_effectiveness")] == ["825", "E06000060", "South East"]
    assert rows[("80999", "overall_effectiveness")] == [None, None, None]  # loaded, never dropped
    assert reference.unknown_councils(wh) == [("80999", "King's Lynn % Test?")]


def test_reference_command_reports_councils_the_reference_lacks(warehouse_url, capsys):
    from etl.cli.reference import command as reference_command
    from etl.config import Settings
    from etl.warehouse import connect

    with connect(warehouse_url) as wh:
        load_sample(wh)
    assert reference_command(None, Settings.from_env({"OFSTED_WAREHOUSE_URL": warehouse_url})) == 0
    out = capsys.readouterr().out
    assert "156 councils (153 current)" in out
    assert "not in the reference: King's Lynn % Test? (80999)" in out
