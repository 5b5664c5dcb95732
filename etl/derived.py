"""The derived tables: what the warehouse computes from the stored reports and the council
reference, and nothing else writes. Declared here in the order they are built (each from the
inputs and the tables before it), and rewritten together once per refresh, in the refresh's one
transaction (etl.changes.refresh, which computes the history), from one read of the graded
reports. Loading the reference (etl.reference.sync) does not rewrite them: the run's refresh
does. Columns: docs/warehouse.md.
"""

from __future__ import annotations

from datetime import date

from etl import due, england
from etl.graded import SCALE_RANKS, GradedReport
from etl.warehouse import Warehouse

# in the order `rewrite` writes them
TABLES = ("grade_scale", "rating_history", "latest_grades", "grade_timeline", "grade_distribution", "due_windows")
HISTORY_COLUMNS = (
    "urn",
    "area",
    "grade",
    "valid_from",
    "valid_to",
    "is_current",
    "report_id",
    "source_area",
    "latest_report_id",
    "end_reason",
    "local_authority",
    "framework",
    "inspection_end",
    "published",
    "report_url",
)


def rewrite(wh: Warehouse, reports: list[GradedReport], history: list[tuple], today: date | None = None) -> None:
    """Every derived table, in TABLES order, in one transaction (the caller's, if it has one):
    the grade scale (etl.graded's), the history (`history`: rows of HISTORY_COLUMNS) with each
    council's codes and region from the reference (NULL for a council the reference lacks), the
    latest_grades table behind latest_inspections, England at any date, and when Ofsted is due
    back (etl.due)."""
    with wh.transaction():
        _replace(wh, "grade_scale", ("grade", "rank"), list(SCALE_RANKS.items()))
        _replace(wh, "rating_history", HISTORY_COLUMNS, history)
        wh.execute(
            "UPDATE rating_history SET la_code = rc.la_code, ons_code = rc.ons_code, region = rc.region_name"
            " FROM ref_councils rc WHERE rc.urn = rating_history.urn"
        )
        wh.execute("DELETE FROM latest_grades")
        wh.execute("INSERT INTO latest_grades SELECT * FROM latest_grades_computed")
        rewrite_england(wh, reports, today)
        due.rewrite(wh, reports, today)


def rewrite_england(wh: Warehouse, reports: list[GradedReport], today: date | None = None) -> None:
    """grade_timeline and grade_distribution (etl.england) from the graded reports and the
    reference. The distribution is counted in Python, not in SQL: PostgreSQL plans the
    month-by-span range join poorly (seconds)."""
    councils, successions = england.read_councils(wh)
    timeline = england.timeline_rows(reports, councils, successions)
    _replace(wh, "grade_timeline", england.TIMELINE_COLUMNS, timeline)
    _replace(
        wh,
        "grade_distribution",
        england.TABLE_COLUMNS,
        england.distribution_rows(timeline, england.regions(wh), today or date.today()),
    )


def _replace(wh: Warehouse, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    wh.execute(f"DELETE FROM {table}")
    wh.insert_rows(table, columns, rows)
