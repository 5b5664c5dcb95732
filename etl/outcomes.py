"""Ofsted's official statistics' council tables, from the warehouse ("Local authority inspection
outcomes"): every council as at any date, one row each, and every inspection and letter of a
period (the in-year activity). Conventions in docs/warehouse.md, "Councils as at a date".

As at D, a council's row is its spans in `grade_timeline` covering D (etl.england): the latest
inspection ended by D, whenever published, a successor's beginning with its predecessors'. With
`published_by`, only the reports published by then count, the way Ofsted's own tables count.
"""

from __future__ import annotations

from datetime import date

from etl import england
from etl.graded import HISTORY_START, TRACKED_AREAS, graded_reports
from etl.grades import label
from etl.warehouse import Warehouse

GRADE_COLUMNS: tuple[str, ...] = england.AREAS  # every judgement of the councils' inspections
SUMMARY_COLUMNS = (
    "urn",
    "local_authority",
    "ons_code",
    "region",
    "framework",
    "inspection_type",
    "inspection_start",
    "inspection_end",
    "published",
    *GRADE_COLUMNS,
    "inspected_as",
    "report_url",
)
ACTIVITY_COLUMNS = (
    "year",
    "urn",
    "local_authority",
    "region",
    "kind",
    "framework",
    "inspection_type",
    "inspection_start",
    "inspection_end",
    "published",
    *GRADE_COLUMNS,
    "area_send_outcome",
    "visit_areas",
    "jtai_theme",
    "priority_actions",
    "url",
)
# How Ofsted prints a grade in its reports' judgement tables and its statistics.
PRINTED = {"requires_improvement": "Requires improvement to be good", "not_read": "Not read (held for review)"}

# One report's details, for both tables (`inspection_type`: an ILACS inspection's, short or standard).
REPORT_SQL = (
    "SELECT r.report_id, COALESCE(r.urn, p.urn), COALESCE(c.name, r.local_authority, p.local_authority),"
    " r.kind, r.framework, r.inspection_type, r.inspection_start, r.inspection_end,"
    " COALESCE(r.published, p.published), r.url, v.areas, v.theme, v.priority_actions"
    " FROM reports r LEFT JOIN publications p ON p.url = r.url"
    " LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)"
    " LEFT JOIN visit_findings v ON v.report_id = r.report_id"
    " WHERE r.is_report AND r.superseded_by IS NULL"
)


def printed(grade: str | None) -> str | None:
    """'requires_improvement' -> 'Requires improvement to be good'; None stays None."""
    return None if grade is None else PRINTED.get(grade) or label(grade)


def check_period(first: tuple[str, date | None], then: tuple[str, date | None], why: str = "") -> None:
    """Two dates given by a person, as a ValueError that says which is wrong: one before 2012
    (the history's start), or the second before the first."""
    for name, day in (first, then):
        if day is not None and day < HISTORY_START:
            raise ValueError(
                f"the {name} {day.isoformat()} is before 2012: the warehouse's history starts with the 2012 frameworks"
            )
    if first[1] and then[1] and then[1] < first[1]:
        raise ValueError(
            f"the {then[0]} {then[1].isoformat()} is before the {first[0]} {first[1].isoformat()}"
            + (f": {why}" if why else "")
        )


def check_as_at(day: date, published_by: date | None) -> None:
    """An as-at date and a publication cut-off, as check_period says."""
    check_period(
        ("as-at date", day),
        ("published-by date", published_by),
        "an inspection counts once ended, and its report is published after",
    )


# -- every council as at a date ----------------------------------------------------------------
def council_rows(
    wh: Warehouse, day: date, published_by: date | None = None, region: str | None = None
) -> tuple[list[str], list[tuple]]:
    """councils_at as rows of SUMMARY_COLUMNS, every grade as Ofsted prints it."""
    return list(SUMMARY_COLUMNS), [
        tuple(printed(c[k]) if k in GRADE_COLUMNS else c[k] for k in SUMMARY_COLUMNS)
        for c in councils_at(wh, day, published_by, region)
    ]


def councils_at(wh: Warehouse, day: date, published_by: date | None = None, region: str | None = None) -> list[dict]:
    """One dict (SUMMARY_COLUMNS, grades as keys) per council existing on `day` that the site
    lists or that holds an inspection by then, optionally of one region (name or ONS code, any
    case), by name: its codes, its latest inspection ended by `day` (published by `published_by`
    where given) and the grade that inspection leaves in each area; blank where none yet."""
    check_as_at(day, published_by)
    councils, _ = england.read_councils(wh)
    spans: dict[str, list[tuple]] = {}
    for row in england.timeline(wh, published_by, covering=day):
        spans.setdefault(row[0], []).append(row)
    listed = {u for (u,) in wh.fetchall("SELECT urn FROM councils")} | set(spans)
    codes = {u: (ons, rc) for u, ons, rc in wh.fetchall("SELECT urn, ons_code, region_code FROM ref_councils")}
    # the latest inspection: the latest ended, the one judging most areas on that day (an LSCB
    # review published apart from its inspection shares its date)
    judged: dict[str, int] = {}
    for rs in spans.values():
        for r in rs:
            judged[r[9]] = judged.get(r[9], 0) + 1
    latest = {u: max(rs, key=lambda r: (r[7], judged[r[9]], r[9])) for u, rs in spans.items()}
    details = _reports(wh, {r[9] for r in latest.values()})
    out = []
    for urn in listed:
        council = councils.get(urn) or england.Council(urn, None, None, None, None)
        ons, region_code = codes.get(urn, (None, None))
        if not council.exists_on(day) or not _in_region(region, council.region, region_code):
            continue
        top = latest.get(urn)
        rep = details.get(top[9], {}) if top else {}
        source = top[11] if top and top[11] != urn else None  # a predecessor's inspection, inherited
        out.append(
            {
                **{k: rep.get(k) for k in SUMMARY_COLUMNS},
                **{r[3]: r[4] for r in spans.get(urn, ())},
                "urn": urn,
                "local_authority": council.name or rep.get("local_authority"),
                "ons_code": ons,
                "region": council.region,
                "report_url": rep.get("url"),
                "inspected_as": source and (getattr(councils.get(source), "name", None) or source),
            }
        )
    out.sort(key=lambda c: ((c["local_authority"] or "").lower(), c["urn"]))
    return out


def _in_region(wanted: str | None, name: str | None, code: str | None) -> bool:
    return not wanted or wanted.lower() in ((name or "").lower(), (code or "").lower())


_REPORT_FIELDS = (
    "report_id",
    "urn",
    "local_authority",
    "kind",
    "framework",
    "inspection_type",
    "inspection_start",
    "inspection_end",
    "published",
    "url",
    "visit_areas",
    "jtai_theme",
    "priority_actions",
)


def _reports(wh: Warehouse, ids: set[str]) -> dict[str, dict]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = wh.fetchall(REPORT_SQL + f" AND r.report_id IN ({marks})", sorted(ids))
    return {r[0]: dict(zip(_REPORT_FIELDS, r)) for r in rows}


# -- the in-year activity ---------------------------------------------------------------------
def reporting_year(day: date) -> tuple[date, date]:
    """The year Ofsted counts in (1 April to 31 March) that holds `day`."""
    first = date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    return first, date(first.year + 1, 3, 31)


def year_label(day: date) -> str:
    """2025-06-30 -> '2025-26', as Ofsted names its years."""
    first, _ = reporting_year(day)
    return f"{first.year}-{(first.year + 1) % 100:02d}"


def activity(wh: Warehouse, start: date, end: date, region: str | None = None) -> tuple[list[str], list[tuple]]:
    """Every current inspection and letter (ACTIVITY_COLUMNS) that ended from `start` to `end`
    (inclusive; a document whose dates were not read, by its publication date), in date order:
    the grades of a graded one as it counts for the history (once reviewed, where held), a
    letter's areas and areas for priority action, a JTAI's theme, an area SEND outcome."""
    check_period(("from date", start), ("to date", end))
    regions = {
        u: (name, code) for u, name, code in wh.fetchall("SELECT urn, region_name, region_code FROM ref_councils")
    }
    rows = wh.fetchall(
        REPORT_SQL + " AND COALESCE(r.inspection_end, r.published, p.published) BETWEEN ? AND ?", [start, end]
    )
    graded = {g.report_id: g for g in graded_reports(wh)}
    out = []
    for row in rows:
        rep = dict(zip(_REPORT_FIELDS, row))
        region_name, region_code = regions.get(rep["urn"], (None, None))
        if not _in_region(region, region_name, region_code):
            continue
        grades = _tracked(graded.get(rep["report_id"]))
        when = rep["inspection_end"] or rep["published"]
        out.append(
            (
                year_label(when),
                rep["urn"],
                rep["local_authority"],
                region_name,
                rep["kind"],
                rep["framework"],
                rep["inspection_type"],
                rep["inspection_start"],
                rep["inspection_end"],
                rep["published"],
                *(printed(grades.get(a)) for a in GRADE_COLUMNS),
                printed(grades.get("area_send_outcome")),
                rep["visit_areas"] or None,
                rep["jtai_theme"],
                rep["priority_actions"],
                rep["url"],
            )
        )
    out.sort(key=lambda r: (r[8] or r[9], r[7] or r[8] or r[9], (r[2] or "").lower(), r[-1] or ""))
    return list(ACTIVITY_COLUMNS), out


def _tracked(report) -> dict[str, str]:
    """A graded report's grades by tracked area (ILACS 2018's joint judgement is both in_care and
    care_leavers); {} for a letter, or a report held for review."""
    if report is None:
        return {}
    grades = {**report.judgements, **dict.fromkeys(report.not_read, "not_read")}
    return {area: grade for key, grade in grades.items() for area in TRACKED_AREAS[report.framework].get(key, ())}


def two_years(today: date) -> tuple[date, date]:
    """The previous and the current reporting year, as one period: the workbook's Activity sheet."""
    first, last = reporting_year(today)
    return date(first.year - 1, 4, 1), last
