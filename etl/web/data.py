"""What the pages show, read from the warehouse through `etl` (never written, except by the
review actions in `etl.review`). Each function returns plain rows for one page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from etl import due, grades
from etl.grades import GRADE_ORDER, HEADLINE_AREAS
from etl.query import points_by_report
from etl.records import AREA_SEND_OUTCOMES, GRADES
from etl.warehouse import Warehouse

MAIN_AREAS = HEADLINE_AREAS  # the areas the pages show, in this order
AREA_LABELS = {
    **grades.AREA_LABELS,
    "priority_actions": "Areas for priority action in the last 12 months",
    "inspection_due": "Inspection due in the next 6 months",
}
KIND_LABELS = {kind: label.capitalize() for kind, label in grades.LETTER_LABELS.items()}
# every kind of publication (etl.records.KINDS), as the search page's filter and hits name it
PUBLICATION_KINDS = grades.KIND_LABELS
# the England map's choices beyond the headline areas: the area SEND outcome (its own scale) and
# the areas for priority action set out in letters published in the last PRIORITY_ACTION_DAYS
SEND_AREA, PRIORITY_AREA = "area_send_outcome", "priority_actions"
DUE_AREA = "inspection_due"  # issue 29: whose next inspection window opens in the next 6 months (etl.due)
MAP_AREAS = (*HEADLINE_AREAS, SEND_AREA, PRIORITY_AREA, DUE_AREA)
PRIORITY_ACTION_DAYS = 365
# a council's count of areas for priority action, as map values (none, one, two or more)
PRIORITY_STYLES = {
    "pa_0": grades.GradeStyle("None", "#DEE0E2", "#0B0C0C"),
    "pa_1": grades.GradeStyle("1 area", "#F8B133", "#0B0C0C"),
    "pa_2": grades.GradeStyle("2 or more areas", "#D4351C", "#FFFFFF"),
}
DUE_STYLES = {
    "due_soon": grades.GradeStyle("Due in the next 6 months", "#1D70B8", "#FFFFFF"),
    "due_later": grades.GradeStyle("Due later", "#DEE0E2", "#0B0C0C"),
    "monitoring": grades.GradeStyle("Monitoring (inadequate)", "#D4351C", "#FFFFFF"),
}
STYLES = {**grades.STYLES, **PRIORITY_STYLES, **DUE_STYLES}  # every value a badge or hexagon shows
DIRECTIONS = ("improved", "declined")
REVIEW_GRADES = GRADES  # what a reviewer may set: the contract's scale
# what the grade filter offers (no data = a council not inspected, or the area never judged)
GRADE_FILTERS = (*GRADE_ORDER, "none")
# the letters inside a hexagon, so the map does not rely on colour alone ("not read": an area
# the latest report should judge but the parser could not read; see docs/warehouse.md)
GRADE_SHORT = {
    "outstanding": "O",
    "good": "G",
    "requires_improvement": "RI",
    "adequate": "A",
    "inadequate": "I",
    "not_judged": "NJ",
    "not_read": "NR",
    "none": "–",
    "positive": "P",
    "inconsistent": "IC",
    "systemic_failings": "SF",
    "pa_0": "0",
    "pa_1": "1",
    "pa_2": "2+",
    "due_soon": "6m",
    "due_later": "L",
    "monitoring": "M",
}
# the values the map counts for each choice
MAP_VALUES = {
    **{a: GRADE_FILTERS for a in HEADLINE_AREAS},
    SEND_AREA: (*AREA_SEND_OUTCOMES, "none"),
    PRIORITY_AREA: tuple(PRIORITY_STYLES),
    DUE_AREA: (*DUE_STYLES, "none"),
}


def grade_rank(grade: str | None) -> int:
    """Sort key, best first; no data last."""
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def grade_label(grade: str | None) -> str:
    """Printed label; `none` (no data) and unknown values (`not_read`) read as words too."""
    if not grade or grade == "none":
        return "No data"
    return STYLES[grade].label if grade in STYLES else grade.replace("_", " ").capitalize()


def area_label(area: str) -> str:
    return AREA_LABELS.get(area, area.replace("_", " ").capitalize())


def select(wh: Warehouse, sql: str, params=()) -> list[dict]:
    names, rows = wh.query(sql, params)
    return [dict(zip(names, row)) for row in rows]


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
        for clause, value in (
            ("published >= ?", self.since),
            ("published <= ?", self.until),
            ("urn IN (SELECT urn FROM ref_councils WHERE region_name = ?)", self.region),
            ("area = ?", self.area),
            ("direction = ?", self.direction),
            ("urn = ?", self.urn),
        ):
            if value:
                clauses.append(clause)
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def changes(wh: Warehouse, flt: ChangeFilter, limit: int | None = None) -> list[dict]:
    """Changes of grade, newest first."""
    where, params = flt.where()
    sql = (
        "SELECT urn, local_authority, area, previous_grade, grade, direction, previous_published,"
        " published, inspection_end, report_url, change_id FROM rating_changes"
        + where
        + " ORDER BY published DESC, local_authority, area"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return select(wh, sql, params)


def council(wh: Warehouse, urn: str) -> dict | None:
    """A council's story: its current grades, rating history (with its predecessors'), every
    publication graded or not, and its statistical neighbours' current grades."""
    row = wh.fetchone(
        "SELECT c.urn, c.name, c.url, rc.region_name FROM councils c"
        " LEFT JOIN ref_councils rc ON rc.urn = c.urn WHERE c.urn = ?",
        [urn],
    )
    if row is None:
        return None
    points = points_by_report(wh, urn)
    latest = select(
        wh,
        "SELECT lg.report_id, lg.framework, lg.inspection_start, lg.inspection_end, lg.published,"
        " lg.lead_inspector, lg.report_url, r.inspection_type"
        " FROM latest_grades lg LEFT JOIN reports r ON r.report_id = lg.report_id WHERE lg.urn = ?",
        [urn],
    )
    visits = [
        {**v, "points": points.get(v["report_id"], ()), "texts": json.loads(v["priority_action_texts"] or "[]")}
        for v in select(
            wh,
            "SELECT report_id, kind, inspection_start, inspection_end, published, areas, theme, priority_actions,"
            " priority_action_texts, url FROM visits WHERE urn = ?"
            " ORDER BY COALESCE(inspection_end, published) DESC, url",
            [urn],
        )
    ]
    return {
        "urn": row[0],
        "name": row[1],
        "url": row[2],
        "region": row[3],
        # what the latest graded inspection says must improve (none before one is read)
        "latest": {**latest[0], "points": points.get(latest[0]["report_id"], ())} if latest else None,
        "neighbours": neighbours(wh, urn),
        "current": {
            r["area"]: r
            for r in select(
                wh,
                "SELECT area, grade, framework, inspection_end, published, report_url"
                " FROM current_ratings WHERE urn = ?",
                [urn],
            )
        },
        "history": history(wh, urn),
        # issue 29: when Ofsted is due back, in words (etl.due)
        "due": due.sentence(
            *(
                wh.fetchone(
                    "SELECT due_status, due_earliest, due_latest, due_rule FROM due_windows WHERE urn = ?", [urn]
                )
                or (None,) * 4
            )
        ),
        "visits": visits,
        # current versions only: a re-issued file supersedes the report parsed from the old one
        "inspections": select(
            wh,
            "SELECT r.urn, r.framework, r.inspection_end, r.url FROM reports r"
            " LEFT JOIN ref_successions s ON s.predecessor_urn = r.urn AND s.successor_urn = ?"
            " WHERE (r.urn = ? OR r.inspection_end < s.effective) AND r.is_report AND r.framework IS NOT NULL"
            " AND r.superseded_by IS NULL ORDER BY r.inspection_end",
            [urn, urn],
        ),
        "publications": select(
            wh,
            "SELECT p.published, p.kind, p.title, p.url, r.framework, r.inspection_end, r.needs_review,"
            " r.is_report, r.inspection_type FROM publications p LEFT JOIN reports r ON r.url = p.url AND r.superseded_by IS NULL"
            " WHERE p.urn = ? ORDER BY p.published DESC, p.url",
            [urn],
        ),
    }


def neighbours(wh: Warehouse, urn: str) -> list[dict]:
    """The council's statistical neighbours, closest first (DfE's rank), with their grade now in
    every headline area, their area SEND outcome and when they were last inspected. (Not the
    neighbour_ratings view: it builds latest_inspections twice; latest_grades is its stored base,
    where an ILACS 2026 council reads `not_judged`.)"""
    return select(
        wh,
        "SELECT n.rank, n.neighbour_urn AS urn, COALESCE(c.name, rc.name) AS name, "
        + ", ".join(f"lg.{a}" for a in MAIN_AREAS)
        + ", lg.framework, lg.inspection_end,"
        " send.grade AS area_send_outcome"
        " FROM ref_statistical_neighbours n JOIN ref_councils rc ON rc.urn = n.neighbour_urn"
        " LEFT JOIN councils c ON c.urn = n.neighbour_urn"
        " LEFT JOIN latest_grades lg ON lg.urn = n.neighbour_urn"
        " LEFT JOIN rating_history send ON send.urn = n.neighbour_urn AND send.area = 'area_send_outcome'"
        " AND send.is_current"
        " WHERE n.urn = ? ORDER BY n.rank",
        [urn],
    )


def _area_keys(areas: str | None) -> list[str]:
    return [a for a in (areas or "").split(",") if a]


def looked_at(letter: dict) -> str:
    """What a letter looked at, in words: a JTAI's theme ("the response to domestic abuse"),
    another letter's areas."""
    return grades.looked_at(letter.get("kind"), _area_keys(letter.get("areas")), letter.get("theme")) or ""


def letter_subject(letter: dict) -> str:
    """'joint inspection of the response to domestic abuse', 'focused visit: care leavers'."""
    return grades.letter_subject(letter.get("kind"), _area_keys(letter.get("areas")), letter.get("theme"))


def priority_actions(wh: Warehouse, flt: ChangeFilter, limit: int | None = None) -> list[dict]:
    """Letters that set out areas for priority action, newest first, with the changes' filters
    (none match an area or an `improved` filter: they are no grade)."""
    if flt.area or flt.direction == "improved":
        return []
    where, params = ChangeFilter(flt.since, flt.until, flt.region, urn=flt.urn).where()
    sql = (
        "SELECT report_id, urn, local_authority, kind, inspection_start, inspection_end, published, areas, theme,"
        " priority_actions, priority_action_texts, url FROM visits"
        + where
        + (" AND" if where else " WHERE")
        + " priority_actions > 0 ORDER BY published DESC, local_authority"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [{**r, "texts": json.loads(r["priority_action_texts"] or "[]")} for r in select(wh, sql, params)]


def history(wh: Warehouse, urn: str) -> list[dict]:
    """The council's rating history with its predecessors' before it (council_lineage:
    Northamptonshire's before North Northamptonshire's), theirs marked with their name."""
    return select(
        wh,
        "SELECT area, grade, valid_from, valid_to, framework, is_current, succeeded_on,"
        " CASE WHEN inherited THEN source_local_authority END AS predecessor"
        " FROM council_lineage WHERE urn = ? ORDER BY area, valid_from",
        [urn],
    )


def council_name(wh: Warehouse, urn: str) -> str | None:
    row = wh.fetchone("SELECT name FROM councils WHERE urn = ?", [urn])
    return row[0] if row else None


def reference_regions() -> list[str]:
    from etl import reference

    return [r.name for r in reference.regions()]


def to_csv(rows: list[dict]) -> bytes:
    """Rows as the export writes CSV (formula-like cells neutralised)."""
    from etl.export import Dataset, to_csv

    return to_csv(Dataset("latest_inspections", list(rows[0]) if rows else [], [tuple(r.values()) for r in rows]))


def latest_inspections(wh: Warehouse) -> list[dict]:
    """One row per council the site lists (the warehouse view: region, codes, latest graded
    inspection, and in each main area the grade now, the grade before and the direction)."""
    return select(wh, "SELECT * FROM latest_inspections ORDER BY local_authority, urn")


def filter_councils(
    rows: list[dict], *, region=None, grade=None, framework=None, since=None, area="overall_effectiveness"
) -> list[dict]:
    """The councils table's filters: region, grade in the chosen area, framework, inspected since."""
    return [
        r
        for r in rows
        if (not region or r["region"] == region)
        and (not grade or (r[area] or "none") == grade)
        and (not framework or r["framework"] == framework)
        and (not since or (r["inspection_end"] and r["inspection_end"] >= since))
    ]


def priority_action_counts(wh: Warehouse, today: date | None = None) -> dict[str, str]:
    """URN -> its areas for priority action in letters published in the last
    PRIORITY_ACTION_DAYS, as a map value (pa_0, pa_1, pa_2: two or more)."""
    since = (today or date.today()) - timedelta(days=PRIORITY_ACTION_DAYS)
    return {
        urn: f"pa_{min(int(n), 2)}"
        for urn, n in wh.fetchall(
            "SELECT urn, SUM(priority_actions) FROM visits WHERE published >= ? AND priority_actions > 0 GROUP BY urn",
            [since],
        )
    }


def england_cells(wh: Warehouse, latest: list[dict], area: str, region: str | None, href) -> tuple[list[dict], dict]:
    """One hex-map cell per current council (from the reference), coloured by its grade in
    `area` (or its area SEND outcome, or its recent areas for priority action); a council
    without data is drawn as such. Counts per value within the region."""
    by_urn = {r["urn"]: r for r in latest}
    actions = priority_action_counts(wh) if area == PRIORITY_AREA else {}
    cells, counts = [], {g: 0 for g in MAP_VALUES[area]}
    for ref in select(
        wh,
        "SELECT urn, name, region_name, hex_q, hex_r FROM ref_councils WHERE abolished IS NULL AND hex_q IS NOT NULL",
    ):
        row = by_urn.get(ref["urn"], {})
        grade = actions.get(ref["urn"], "pa_0") if area == PRIORITY_AREA else row.get(area) or "none"
        if area == DUE_AREA:
            grade = due.soon(row.get("due_status"), row.get("due_earliest"), row.get("due_latest"), date.today())
        inside = not region or ref["region_name"] == region
        if inside:
            counts[grade] = counts.get(grade, 0) + 1
        cells.append(
            {
                "urn": ref["urn"],
                "name": row.get("local_authority") or ref["name"],
                "q": ref["hex_q"],
                "r": ref["hex_r"],
                "grade": grade,
                "label": GRADE_SHORT.get(grade, "?"),
                "href": href(ref["urn"]),
                "region": ref["region_name"],
                "inside": inside,
            }
        )
    return cells, counts
