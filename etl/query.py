"""Quick answers from the warehouse without writing SQL: each function returns (column names,
rows) for `ofsted query` (etl.cli.query) to print. A council arrives as a URN (etl.councils
resolved the name); a region as its name or ONS code, any case."""

from __future__ import annotations

from datetime import date

from etl.warehouse import Warehouse

CURRENT_SQL = (
    "SELECT urn, local_authority, area, grade, framework, inspection_end, published, report_url FROM current_ratings"
)
# rating_history's framework and report are the latest that judged the grade (as current_ratings
# shows them); the report that set it follows
HISTORY_SQL = (
    "SELECT h.urn, COALESCE(c.name, h.local_authority) AS local_authority, h.area, h.grade,"
    " h.valid_from, h.valid_to, h.is_current, h.framework, h.inspection_end, h.published,"
    " h.report_url, s.framework AS set_by_framework, s.url AS set_by_report_url"
    " FROM rating_history h JOIN reports s ON s.report_id = h.report_id"
    " LEFT JOIN councils c ON c.urn = h.urn WHERE h.urn = ?"
    " ORDER BY h.area, h.valid_from"
)
VISITS_SQL = (
    "SELECT urn, local_authority, kind, inspection_start, inspection_end, published, areas, theme,"
    " priority_actions, lead_inspector, url FROM visits"
)
IMPROVEMENTS_SQL = (
    "SELECT urn, local_authority, framework, inspection_end, published, position, text, report_url"
    " FROM current_improvements"
)
CHANGES_SQL = (
    "SELECT urn, local_authority, area, previous_grade, grade, previous_published, published,"
    " direction, report_url FROM rating_changes"
)
IN_REGION = "urn IN (SELECT urn FROM ref_councils WHERE LOWER(region_name) = LOWER(?) OR LOWER(region_code) = LOWER(?))"


def _where(
    urn: str | None = None, region: str | None = None, since: date | None = None, kind: str | None = None
) -> tuple[str, list]:
    """The WHERE clause of the filters given (a view with urn, and published or kind)."""
    clauses = [
        (sql, params)
        for sql, params, given in (
            ("urn = ?", [urn], urn),
            (IN_REGION, [region, region], region),
            ("published >= ?", [since], since),
            ("kind = ?", [kind], kind),
        )
        if given
    ]
    if not clauses:
        return "", []
    return " WHERE " + " AND ".join(c for c, _ in clauses), [p for _, ps in clauses for p in ps]


def regions(wh: Warehouse) -> list[tuple[str, str]]:
    """(name, ONS code) of every region the reference knows, by name."""
    return wh.fetchall("SELECT DISTINCT region_name, region_code FROM ref_councils ORDER BY region_name")


def current(wh: Warehouse, urn: str | None = None, region: str | None = None) -> tuple[list[str], list[tuple]]:
    """Every council's current rating in every tracked area (or one council's, or one region's)."""
    where, params = _where(urn, region)
    return wh.query(CURRENT_SQL + where + " ORDER BY local_authority, urn, area", params)


def history(wh: Warehouse, urn: str) -> tuple[list[str], list[tuple]]:
    """One council's full rating history, area by area, oldest first: each grade with the latest
    report that judged it and the report that set it."""
    return wh.query(HISTORY_SQL, [urn])


def visits(
    wh: Warehouse, urn: str | None = None, kind: str | None = None, since: date | None = None, region: str | None = None
) -> tuple[list[str], list[tuple]]:
    """Every current letter (or one council's, one region's, of one kind, published on or after
    `since`): what it looked at (a JTAI's theme too), its areas for priority action."""
    where, params = _where(urn, region, since, kind)
    return wh.query(VISITS_SQL + where + " ORDER BY local_authority, urn, inspection_end, url", params)


def improvements(wh: Warehouse, urn: str | None = None, region: str | None = None) -> tuple[list[str], list[tuple]]:
    """What every council's latest graded inspection says must improve (or one council's, or one
    region's), point by point in the report's order."""
    where, params = _where(urn, region)
    return wh.query(IMPROVEMENTS_SQL + where + " ORDER BY local_authority, urn, position", params)


def points_by_report(wh: Warehouse, urn: str | None = None) -> dict[str, tuple[str, ...]]:
    """Report id -> its improvement points in order, for every current document (or one council's)."""
    where, params = (" WHERE urn = ?", [urn]) if urn else ("", [])
    out: dict[str, list[str]] = {}
    for rid, text in wh.fetchall(
        "SELECT report_id, text FROM improvements" + where + " ORDER BY report_id, position", params
    ):
        out.setdefault(rid, []).append(text)
    return {rid: tuple(texts) for rid, texts in out.items()}


def changes(
    wh: Warehouse, since: date | None = None, urn: str | None = None, region: str | None = None
) -> tuple[list[str], list[tuple]]:
    """Changes of grade, optionally published on or after `since`, for one council or region."""
    where, params = _where(urn, region, since)
    return wh.query(CHANGES_SQL + where + " ORDER BY published, local_authority, area", params)


def summary(wh: Warehouse, region: str | None = None, urn: str | None = None) -> tuple[list[str], list[tuple]]:
    """`latest_inspections`: one row per council, optionally of one region or one council."""
    where, params = _where(urn, region)
    return wh.query("SELECT * FROM latest_inspections" + where + " ORDER BY local_authority, urn", params)


def council_label(wh: Warehouse, urn: str) -> str:
    """ "Name (URN)" of a council, from the warehouse or the reference."""
    from etl.reference import by_urn

    row = wh.fetchone("SELECT name FROM councils WHERE urn = ?", [urn])
    name = row[0] if row else getattr(by_urn().get(urn), "name", None)
    return f"{name} ({urn})" if name else urn
