"""England at any date: how councils' grades were spread as at a date, in England and each region,
and how councils moved between their first and latest ILACS inspections. Convention (the way
Ofsted's official statistics count) in docs/warehouse.md, "England at any date".

`grade_timeline` is the basis: per council and tracked area, one span per inspection that judged
the area (or retired it: `not_judged`), from that inspection's end to the next one's, clipped to
the council's existence, a successor's spans beginning with its predecessors' inspections.
"As at D" is then the span covering D. `grade_distribution` is the same count at every month end
since April 2012; both are rewritten with the history (etl.derived, in the refresh's transaction).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate

from etl.graded import (
    FOUR_POINT,
    FRAMEWORK_TRACKED,
    GRADE_RANK,
    ON_FOUR_POINT,
    TRACKED_AREAS,
    GradedReport,
    graded_reports,
)
from etl.graded import timeline as council_timeline
from etl.grades import HEADLINE_AREAS
from etl.warehouse import Warehouse

# the councils' children's services inspections: the frameworks on the headline areas' lines
# (LAC 2012-13 starts the in_care line). Other frameworks (area SEND) inspect a local area,
# not the council's service: they neither set nor retire these grades.
SERVICE_FRAMEWORKS = frozenset(f for f, areas in FRAMEWORK_TRACKED.items() if areas & set(HEADLINE_AREAS))
AREAS: tuple[str, ...] = (
    *HEADLINE_AREAS,
    *sorted({a for f in SERVICE_FRAMEWORKS for a in FRAMEWORK_TRACKED[f]} - set(HEADLINE_AREAS)),
)
# ILACS frameworks (2018 onwards) that judge overall effectiveness: what `movement` compares
ILACS_OVERALL = tuple(
    sorted(f for f in SERVICE_FRAMEWORKS if f.startswith("ilacs") and "overall_effectiveness" in FRAMEWORK_TRACKED[f])
)
NOT_JUDGED = "not_judged"
COUNTED = FOUR_POINT
# adequate (2012-13) is counted as requires improvement (etl.graded.ON_FOUR_POINT); not_read
# (unknown) is counted nowhere
BUCKET = {**ON_FOUR_POINT, NOT_JUDGED: NOT_JUDGED}
ENGLAND = "England"
FIRST_MONTH_END = date(2012, 4, 30)
DISTRIBUTION_COLUMNS = ("group", "as_at", "area", "councils", *COUNTED, NOT_JUDGED, "good_or_outstanding_pct")
TABLE_COLUMNS = ("group_name", *DISTRIBUTION_COLUMNS[1:])  # grade_distribution's ("group" is an SQL keyword)
MOVEMENT_COLUMNS = ("councils", "improved", "kept_good_or_outstanding", "declined", "unchanged_below_good")
MOVEMENT_COUNCIL_COLUMNS = (
    "movement",
    "urn",
    "local_authority",
    "region",
    "first_inspection_end",
    "first_grade",
    "latest_inspection_end",
    "latest_grade",
)
TIMELINE_COLUMNS = (
    "urn",
    "local_authority",
    "region",
    "area",
    "grade",
    "valid_from",
    "valid_to",
    "inspection_end",
    "framework",
    "report_id",
    "report_url",
    "source_urn",
    "exists_from",
    "exists_to",
)


@dataclass
class Span:
    urn: str
    area: str
    grade: str
    valid_from: date
    report: GradedReport
    valid_to: date | None = None


@dataclass(frozen=True)
class Council:
    urn: str
    name: str | None
    region: str | None
    exists_from: date | None  # a successor: the reorganisation that created it
    exists_to: date | None  # abolished (its successors took over)

    def exists_on(self, day: date) -> bool:
        return (self.exists_from is None or self.exists_from <= day) and (
            self.exists_to is None or self.exists_to > day
        )


# -- the timeline --------------------------------------------------------------------------
def council_spans(reports: list[GradedReport]) -> list[Span]:
    """One council's reports (its own and those it inherits) -> its spans, area by area. An area
    a report judges opens a span (even with the same grade: each inspection counts); a framework
    that does not judge an area open before retires it (a `not_judged` span); within a framework,
    an area a report leaves out keeps its span (as the history does)."""
    spans: list[Span] = []
    open_spans: dict[str, Span] = {}
    for rep in council_timeline(reports):
        day = rep.effective_date
        for area, span in list(open_spans.items()):
            if area not in FRAMEWORK_TRACKED[rep.framework] and span.grade != NOT_JUDGED:
                span.valid_to = day
                open_spans[area] = Span(span.urn, area, NOT_JUDGED, day, rep)
                spans.append(open_spans[area])
        grades = {**rep.judgements, **dict.fromkeys(rep.not_read, "not_read")}
        for key, grade in sorted(grades.items()):
            for area in TRACKED_AREAS[rep.framework][key]:
                if area in open_spans:
                    open_spans[area].valid_to = day
                open_spans[area] = Span(rep.urn, area, grade, day, rep)
                spans.append(open_spans[area])
    return spans


def timeline_rows(
    reports: list[GradedReport], councils: dict[str, Council], successions: list[tuple[str, str, date]]
) -> list[tuple]:
    """grade_timeline's rows: every inspected council's spans, a successor's with its
    predecessors' inspections before the reorganisation (as council_lineage inherits), each
    clipped to the council's existence (an empty span keeps an inherited inspection for
    `movement` without counting it as at any date)."""
    own: dict[str, list[GradedReport]] = {}
    for r in reports:
        if r.framework in SERVICE_FRAMEWORKS:
            own.setdefault(r.urn, []).append(r)
    inherited: dict[str, list[GradedReport]] = {}
    for predecessor, successor, effective in successions:
        inherited.setdefault(successor, []).extend(r for r in own.get(predecessor, ()) if r.effective_date < effective)
    rows = []
    for urn in sorted(set(own) | {u for u, rs in inherited.items() if rs}):
        council = councils.get(urn) or Council(urn, None, None, None, None)
        history = own.get(urn, []) + inherited.get(urn, [])  # each report keeps its own urn: source_urn
        for s in council_spans(history):
            start, end = _clip(s.valid_from, s.valid_to, council)
            rep = s.report
            rows.append(
                (
                    urn,
                    council.name or rep.local_authority,
                    council.region,
                    s.area,
                    s.grade,
                    start,
                    end,
                    rep.effective_date,
                    rep.framework,
                    rep.report_id,
                    rep.url,
                    rep.urn,
                    council.exists_from,
                    council.exists_to,
                )
            )
    return rows


def _clip(start: date, end: date | None, council: Council) -> tuple[date, date | None]:
    if council.exists_from and start < council.exists_from:
        start = council.exists_from
    if council.exists_to and (end is None or end > council.exists_to):
        end = council.exists_to
    if end is not None and end < start:
        end = start
    return start, end


def read_councils(wh: Warehouse) -> tuple[dict[str, Council], list[tuple[str, str, date]]]:
    """Councils (name, region, existence) and successions, from the warehouse's reference."""
    successions = [
        (p, s, e)
        for p, s, e in wh.fetchall(
            "SELECT predecessor_urn, successor_urn, effective FROM ref_successions WHERE predecessor_urn IS NOT NULL"
        )
    ]
    created: dict[str, date] = {}
    for _, s, e in wh.fetchall("SELECT predecessor_urn, successor_urn, effective FROM ref_successions"):
        created[s] = max(created.get(s, e), e)
    rows = wh.fetchall(
        "SELECT COALESCE(c.urn, rc.urn), COALESCE(c.name, rc.name), rc.region_name, rc.abolished"
        " FROM councils c FULL OUTER JOIN ref_councils rc ON rc.urn = c.urn"
    )
    councils = {urn: Council(urn, name, region, created.get(urn), abolished) for urn, name, region, abolished in rows}
    return councils, successions


def regions(wh: Warehouse) -> list[str]:
    """Every region of the reference, by name."""
    return [r for (r,) in wh.fetchall("SELECT DISTINCT region_name FROM ref_councils ORDER BY region_name")]


# -- counting --------------------------------------------------------------------------------
def pct(good_or_better: int, councils: int) -> float | None:
    if not councils:
        return None
    return float((Decimal(100 * good_or_better) / Decimal(councils)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def count_row(group: str, as_at: date, area: str, counts: dict[str, int]) -> tuple:
    """A group's counts by bucket -> a row of DISTRIBUTION_COLUMNS."""
    graded = sum(counts.get(g, 0) for g in COUNTED)
    return (
        group,
        as_at,
        area,
        graded,
        *(counts.get(g, 0) for g in COUNTED),
        counts.get(NOT_JUDGED, 0),
        pct(counts.get("outstanding", 0) + counts.get("good", 0), graded),
    )


def month_ends(first: date, last: date) -> list[date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        day = date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1) - timedelta(days=1)
    return out


def distribution_rows(timeline: list[tuple], groups: list[str], today: date) -> list[tuple]:
    """grade_distribution's rows (TABLE_COLUMNS): every month end from April 2012 to today,
    every area, England then each region (but an area and group no council was ever inspected
    in). A span counts at the month ends it covers: +1 where it starts, -1 where it ends."""
    ends = month_ends(FIRST_MONTH_END, today)
    col = {c: i for i, c in enumerate(TIMELINE_COLUMNS)}
    steps: dict[tuple[str, str, str], list[int]] = {}
    for row in timeline:
        bucket = BUCKET.get(row[col["grade"]])
        start, end = row[col["valid_from"]], row[col["valid_to"]]
        first = bisect.bisect_left(ends, start)
        last = bisect.bisect_left(ends, end) if end else len(ends)  # valid_to is exclusive
        if bucket is None or first >= last:
            continue
        for group in (ENGLAND, row[col["region"]]):
            if group is not None:
                step = steps.setdefault((row[col["area"]], group, bucket), [0] * (len(ends) + 1))
                step[first] += 1
                step[last] -= 1
    running = {key: list(accumulate(step)) for key, step in steps.items()}
    present = {(area, group) for area, group, _ in running}
    out = []
    for area in AREAS:
        for group in [g for g in (ENGLAND, *groups) if (area, g) in present]:
            series = {b: running.get((area, group, b)) for b in (*COUNTED, NOT_JUDGED)}
            out.extend(
                count_row(group, day, area, {b: s[i] for b, s in series.items() if s}) for i, day in enumerate(ends)
            )
    return out


# -- the queries -----------------------------------------------------------------------------
def timeline(
    wh: Warehouse, published_by: date | None = None, area: str | None = None, covering: date | None = None
) -> list[tuple]:
    """grade_timeline's rows (TIMELINE_COLUMNS), of one area and covering one day where given.
    With `published_by`, the timeline as it would be had only the reports published by then
    been read (Ofsted's rule for its statistics): recomputed by the same rule, so an inspection
    published later leaves its council on the one before."""
    if published_by is None:
        clauses, params = ["1 = 1"], []
        if area is not None:
            clauses.append("area = ?")
            params.append(area)
        if covering is not None:
            clauses.append("valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)")
            params += [covering, covering]
        return wh.fetchall(
            f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM grade_timeline WHERE {' AND '.join(clauses)}", params
        )
    councils, successions = read_councils(wh)
    reports = [r for r in graded_reports(wh) if r.published is not None and r.published <= published_by]
    return [
        r
        for r in timeline_rows(reports, councils, successions)
        if (area is None or r[3] == area) and (covering is None or covers(r, covering))
    ]


def covers(row: tuple, day: date) -> bool:
    """A timeline row's span holds on `day` (valid_to exclusive)."""
    return row[5] <= day and (row[6] is None or row[6] > day)


def as_at(
    wh: Warehouse,
    day: date,
    area: str = "overall_effectiveness",
    by_region: bool = False,
    published_by: date | None = None,
) -> tuple[list[str], list[tuple]]:
    """One row per group (England, or each region) of DISTRIBUTION_COLUMNS as at `day`."""
    rows = as_at_groups(wh, day, area, published_by)
    return list(DISTRIBUTION_COLUMNS), rows[1:] if by_region else rows[:1]


def as_at_groups(
    wh: Warehouse, day: date, area: str = "overall_effectiveness", published_by: date | None = None
) -> list[tuple]:
    """England's row, then each region's (DISTRIBUTION_COLUMNS), as at `day` (counting only
    reports published by `published_by` where given)."""
    if area not in AREAS:
        raise ValueError(f"area must be one of {', '.join(AREAS)}")
    counts: dict[str | None, dict[str, int]] = {}
    for row in timeline(wh, published_by, area, covering=day):
        bucket = BUCKET.get(row[4])
        if bucket:
            for group in (ENGLAND, row[2]):
                counts.setdefault(group, {}).setdefault(bucket, 0)
                counts[group][bucket] += 1
    return [count_row(g, day, area, counts.get(g, {})) for g in (ENGLAND, *regions(wh))]


@dataclass(frozen=True)
class Move:
    urn: str
    local_authority: str
    region: str | None
    first: tuple[date, str]
    latest: tuple[date, str]

    @property
    def movement(self) -> str:
        before, after = GRADE_RANK[self.first[1]], GRADE_RANK[self.latest[1]]
        if after > before:
            return "improved"
        if after < before:
            return "declined"
        return "kept_good_or_outstanding" if after >= GRADE_RANK["good"] else "unchanged_below_good"


def moves(wh: Warehouse, day: date, published_by: date | None = None) -> list[Move]:
    """Councils existing at `day` with more than one ILACS overall effectiveness grade from
    inspections ended by then (their predecessors' included): first against most recent."""
    by_council: dict[str, list[tuple]] = {}
    for row in sorted(timeline(wh, published_by, "overall_effectiveness"), key=lambda r: (r[0], r[7])):
        urn, name, region, _, grade, _, _, ended, framework, *_, exists_from, exists_to = row
        if (
            framework in ILACS_OVERALL
            and ended <= day
            and grade in GRADE_RANK
            and (exists_from is None or exists_from <= day)
            and (exists_to is None or exists_to > day)
        ):
            by_council.setdefault(urn, []).append((urn, name, region, ended, grade))
    return [
        Move(urn, rs[-1][1], rs[-1][2], (rs[0][3], rs[0][4]), (rs[-1][3], rs[-1][4]))
        for urn, rs in by_council.items()
        if len(rs) > 1
    ]


def movement(wh: Warehouse, day: date, published_by: date | None = None) -> tuple[list[str], list[tuple]]:
    """One row of MOVEMENT_COLUMNS as at `day`."""
    found = moves(wh, day, published_by)
    return list(MOVEMENT_COLUMNS), [(len(found), *(sum(m.movement == k for m in found) for k in MOVEMENT_COLUMNS[1:]))]


def movement_councils(wh: Warehouse, day: date, published_by: date | None = None) -> tuple[list[str], list[tuple]]:
    """Who is in each movement, one row per council (MOVEMENT_COUNCIL_COLUMNS)."""
    order = {k: i for i, k in enumerate(MOVEMENT_COLUMNS)}
    found = sorted(moves(wh, day, published_by), key=lambda m: (order[m.movement], m.local_authority or "", m.urn))
    return list(MOVEMENT_COUNCIL_COLUMNS), [
        (m.movement, m.urn, m.local_authority, m.region, *m.first, *m.latest) for m in found
    ]


def distribution(wh: Warehouse, area: str, group: str = ENGLAND) -> list[dict]:
    """grade_distribution's rows for one area and group, oldest first."""
    rows = wh.fetchall(
        f"SELECT {', '.join(TABLE_COLUMNS)} FROM grade_distribution WHERE area = ? AND group_name = ? ORDER BY as_at",
        [area, group],
    )
    return [dict(zip(DISTRIBUTION_COLUMNS, r)) for r in rows]
