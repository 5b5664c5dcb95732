"""The derived tables (etl/derived.py): rewritten together, in order, once per refresh and only
by it; the grade scale in SQL is etl.graded's. Every test runs on DuckDB and on PostgreSQL."""

from __future__ import annotations

from etl import changes, derived, reference
from etl.graded import GRADE_RANK, OUTCOME_RANK, SCALE_RANKS
from tests.support.warehouse_fixtures import load_sample


def counts(wh) -> dict[str, int]:
    return {t: wh.fetchone(f"SELECT COUNT(*) FROM {t}")[0] for t in derived.TABLES}


def test_the_sql_grade_scale_is_the_python_one(wh):
    assert SCALE_RANKS == {**GRADE_RANK, **OUTCOME_RANK}
    assert GRADE_RANK["adequate"] == 3 and OUTCOME_RANK["positive"] == 3  # two scales, compared apart
    wh.execute("UPDATE grade_scale SET rank = 9 WHERE grade = 'good'")  # a warehouse that drifted
    wh.execute("INSERT INTO grade_scale (grade, rank) VALUES ('excellent', 6)")
    load_sample(wh)
    assert dict(wh.fetchall("SELECT grade, rank FROM grade_scale")) == SCALE_RANKS
    # the directions computed in SQL follow it: Barnet's overall grade went up (good -> outstanding)
    assert wh.fetchone("SELECT overall_effectiveness_direction FROM latest_grades WHERE urn = '80487'") == ("improved",)


def test_a_refresh_rewrites_every_derived_table_and_loading_the_reference_none(wh):
    reference.sync(wh)
    load_sample(wh)
    filled = counts(wh)
    assert all(filled.values()), filled
    for table in derived.TABLES:
        wh.execute(f"DELETE FROM {table}")
    reference.sync(wh)  # every run's start: the ref_* tables only
    assert set(counts(wh).values()) == {0}
    changes.refresh(wh, "again")
    assert counts(wh) == filled
    assert wh.fetchone("SELECT la_code, region FROM rating_history WHERE urn = '80487' LIMIT 1") == ("302", "London")
