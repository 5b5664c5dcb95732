"""What the pages show, read from the warehouse through `etl` (never written, except by the
review actions in `etl.review`). Each function returns plain rows for one page."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from etl.warehouse import Warehouse

# the tracked areas every current framework judges, in the order the pages show them
MAIN_AREAS = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")
AREA_LABELS = {
    "overall_effectiveness": "Overall effectiveness",
    "impact_of_leaders": "Impact of leaders",
    "help_and_protection": "Help and protection",
    "in_care": "Children in care",
    "care_leavers": "Care leavers",
    "adoption_performance": "Adoption performance",
    "lscb": "LSCB",
    "lac_outcomes": "LAC outcomes",
    "lac_capacity_to_improve": "LAC capacity to improve",
    "lac_quality_of_provision": "LAC quality of provision",
    "lac_leadership_management": "LAC leadership and management",
}
DIRECTIONS = ("improved", "declined")
GRADE_LABELS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires improvement",
                "adequate": "Adequate", "inadequate": "Inadequate", "not_judged": "Not judged", None: "No data"}


def grade_label(grade: str | None) -> str:
    return GRADE_LABELS.get(grade, str(grade))


def area_label(area: str) -> str:
    return AREA_LABELS.get(area, area.replace("_", " ").capitalize())


def rows_as_dicts(names: list[str], rows: list[tuple]) -> list[dict]:
    return [dict(zip(names, row)) for row in rows]


def select(wh: Warehouse, sql: str, params=()) -> list[dict]:
    return rows_as_dicts(*wh.query(sql, params))


@dataclass
class ChangeFilter:
    since: date | None = None
    until: date | None = None
    region: str | None = None
    area: str | None = None
    direction: str | None = None
    urn: str | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = [], []
        for column, op, value in (("published", ">=", self.since), ("published", "<=", self.until),
                                  ("region", "=", self.region), ("area", "=", self.area),
                                  ("direction", "=", self.direction), ("urn", "=", self.urn)):
            if value:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def changes(wh: Warehouse, flt: ChangeFilter, limit: int | None = None) -> list[dict]:
    """Changes of grade, newest first."""
    where, params = flt.where()
    sql = ("SELECT urn, local_authority, region, area, previous_grade, grade, direction, previous_published,"
           " published, inspection_end, report_url, change_id FROM rating_changes" + where +
           " ORDER BY published DESC, local_authority, area")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return select(wh, sql, params)


def council(wh: Warehouse, urn: str) -> dict | None:
    """A council's story: its current grades, rating history (with its predecessors'), every
    publication graded or not, and its statistical neighbours' current grades."""
    row = wh.fetchone("SELECT urn, name, url FROM councils WHERE urn = ?", [urn])
    if row is None:
        return None
    return {
        "urn": row[0], "name": row[1], "url": row[2],
        "current": {r["area"]: r for r in select(
            wh, "SELECT area, grade, framework, inspection_end, published, report_url"
                " FROM current_ratings WHERE urn = ?", [urn])},
        "history": history(wh, urn),
        "inspections": select(
            wh, "SELECT urn, framework, inspection_end, url FROM reports"
                " WHERE urn = ? AND is_report AND framework IS NOT NULL ORDER BY inspection_end", [urn]),
        "publications": select(
            wh, "SELECT p.published, p.kind, p.title, p.url, r.framework, r.inspection_end, r.needs_review,"
                " r.is_report FROM publications p LEFT JOIN reports r ON r.url = p.url"
                " WHERE p.urn = ? ORDER BY p.published DESC, p.url", [urn]),
    }


def history(wh: Warehouse, urn: str) -> list[dict]:
    return select(
        wh, "SELECT h.urn, h.area, h.grade, h.valid_from, h.valid_to, h.end_reason, r.framework"
            " FROM rating_history h JOIN reports r ON r.report_id = h.report_id"
            " WHERE h.urn = ? ORDER BY h.area, h.valid_from", [urn])


def council_name(wh: Warehouse, urn: str) -> str | None:
    row = wh.fetchone("SELECT name FROM councils WHERE urn = ?", [urn])
    return row[0] if row else None


def regions(wh: Warehouse) -> list[str]:
    """Region names for the filters (none until the council reference is loaded)."""
    return []


def to_csv(rows: list[dict]) -> str:
    """Rows as CSV; a cell that a spreadsheet would run as a formula is neutralised."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _safe_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def _safe_cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
