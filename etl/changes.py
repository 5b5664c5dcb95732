"""The changes stage: recompute the rating history (a type-2 slowly changing dimension per
council x tracked area) from the stored judgements, and derive change events from it.

The history is recomputed in full on every refresh, so it depends only on what is stored, never
on load order. Change events are kept for ever: one that a correction removes is marked
retracted (not deleted); one that appears is new. Area modelling: docs/warehouse.md.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from etl import reference
from etl.records import AREA_SEND_OUTCOMES, FRAMEWORK_AREAS, ChangeEvent
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

# framework key -> tracked area keys it feeds (the modelling decision; docs/warehouse.md)
TRACKED_AREAS: dict[str, dict[str, tuple[str, ...]]] = {
    "lac": {
        "lac_overall_effectiveness": ("in_care",),
        "lac_capacity_to_improve": ("lac_capacity_to_improve",),
        "lac_outcomes": ("lac_outcomes",),
        "lac_quality_of_provision": ("lac_quality_of_provision",),
        "lac_leadership_management": ("lac_leadership_management",),
    },
    "sif": {
        "overall_effectiveness": ("overall_effectiveness",),
        "help_and_protection": ("help_and_protection",),
        "looked_after_and_permanence": ("in_care",),
        "adoption_performance": ("adoption_performance",),
        "care_leavers": ("care_leavers",),
        "leadership_management_governance": ("impact_of_leaders",),
        "lscb": ("lscb",),
    },
    "ilacs_2018": {
        "overall_effectiveness": ("overall_effectiveness",),
        "impact_of_leaders": ("impact_of_leaders",),
        "help_and_protection": ("help_and_protection",),
        "in_care_and_care_leavers": ("in_care", "care_leavers"),
    },
    "ilacs_2023": {
        "overall_effectiveness": ("overall_effectiveness",),
        "impact_of_leaders": ("impact_of_leaders",),
        "help_and_protection": ("help_and_protection",),
        "in_care": ("in_care",),
        "care_leavers": ("care_leavers",),
    },
    "ilacs_2026": {
        "impact_of_leaders": ("impact_of_leaders",),
        "help_and_protection": ("help_and_protection",),
        "in_care": ("in_care",),
        "care_leavers": ("care_leavers",),
    },
    "area_send_2016": {},
    "area_send_2023": {"area_send_outcome": ("area_send_outcome",)},
}
assert all(set(TRACKED_AREAS[f]) == set(FRAMEWORK_AREAS[f]) for f in FRAMEWORK_AREAS)

# tracked areas a framework judges; a council's open rating in any other area of the same
# inspection (see `family`) is retired (closed without a change event) by its first inspection
# under that framework
FRAMEWORK_TRACKED = {f: frozenset(t for ts in keys.values() for t in ts) for f, keys in TRACKED_AREAS.items()}

# Two inspections of different things, each with its own line of frameworks: the council's
# children's services, and (jointly with the CQC) the local area's SEND arrangements. A report
# of one never retires, nor is compared with, the other's areas.
AREA_SEND_FRAMEWORKS = frozenset({"area_send_2016", "area_send_2023"})


def family(framework: str) -> str:
    return "area_send" if framework in AREA_SEND_FRAMEWORKS else "childrens_services"


AREA_FAMILY = {a: family(f) for f, areas in FRAMEWORK_TRACKED.items() for a in areas}

# the grade of a tracked area whose required judgement this report's text did not yield:
# it ends the previous grade (no one reads an outdated grade as current) without an event
NOT_READ = "not_read"

# direction of a change: higher is better; adequate (2012-13) sits between good and RI. The area
# SEND outcome is ranked on its own scale (best to worst): an area's grades are on one scale, so
# ranks are compared within it only
GRADE_RANK = {"outstanding": 5, "good": 4, "adequate": 3, "requires_improvement": 2, "inadequate": 1}
OUTCOME_RANK = {outcome: len(AREA_SEND_OUTCOMES) - i for i, outcome in enumerate(AREA_SEND_OUTCOMES)}


def rank(area: str, grade: str) -> int:
    return (OUTCOME_RANK if AREA_FAMILY.get(area) == "area_send" else GRADE_RANK)[grade]


@dataclass
class RefreshResult:
    new: list[ChangeEvent] = field(default_factory=list)
    retracted: list[ChangeEvent] = field(default_factory=list)


@dataclass(frozen=True)
class GradedReport:
    report_id: str
    urn: str
    local_authority: str | None
    framework: str
    inspection_end: date | None
    published: date | None
    url: str | None
    judgements: dict
    not_read: tuple[str, ...] = ()  # framework keys required but not read (nor set by a reviewer)

    @property
    def effective_date(self) -> date:
        return self.inspection_end or self.published

    @property
    def sort_key(self) -> tuple:
        return (self.effective_date, self.published or date.min, self.report_id)


def change_id_for(urn: str, area: str, report_id: str) -> str:
    return hashlib.sha256(f"{urn}|{area}|{report_id}".encode()).hexdigest()[:24]


# -- reading ---------------------------------------------------------------------------
def graded_reports(wh: Warehouse) -> list[GradedReport]:
    """Graded inspections that count for the history: reports with a framework and judgements
    whose council and date are known, from a current file (not one a re-issue superseded); a report
    flagged for review counts only once resolved (the reviewer's grades, where given, replace the
    parsed ones area by area)."""
    rows = wh.fetchall(
        "SELECT r.report_id, COALESCE(r.urn, p.urn), COALESCE(c.name, r.local_authority, p.local_authority),"
        " r.framework, r.inspection_end, COALESCE(r.published, p.published), r.url,"
        " r.needs_review, res.report_id IS NOT NULL, r.unread_areas"
        " FROM reports r LEFT JOIN publications p ON p.url = r.url"
        " LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)"
        " LEFT JOIN review_resolutions res ON res.report_id = r.report_id"
        " WHERE r.is_report AND r.framework IS NOT NULL AND r.superseded_by IS NULL")
    parsed = _judgements_by_report(wh, "judgements")
    reviewed = _judgements_by_report(wh, "review_judgements")
    out = []
    for rid, urn, la, fw, end, pub, url, needs_review, resolved, unread in rows:
        if needs_review and not resolved:
            continue
        grades = {**parsed.get(rid, {}), **reviewed.get(rid, {})}
        not_read = tuple(a for a in json.loads(unread or "[]") if a not in grades)
        if not (grades or not_read) or urn is None or (end or pub) is None:
            continue
        out.append(GradedReport(rid, urn, la, fw, end, pub, url, grades, not_read))
    return out


def _judgements_by_report(wh: Warehouse, table: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for rid, area, grade in wh.fetchall(f"SELECT report_id, area, grade FROM {table}"):
        out.setdefault(rid, {})[area] = grade
    return out


# -- the history -----------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    report_id: str           # the report that changed the grade
    previous_report_id: str  # the latest report that had judged the previous grade
    event: ChangeEvent


@dataclass
class HistoryRow:
    urn: str
    area: str
    grade: str
    valid_from: date
    report: GradedReport
    source_area: str
    latest: GradedReport
    valid_to: date | None = None
    end_reason: str | None = None


def build_history(reports: list[GradedReport]) -> tuple[list[HistoryRow], list[Change]]:
    """Walk each council's graded inspections in order (inspection end, then publication date)
    and emit SCD2 rows and change events. Pure: same input, same output, any input order.
    An area a report required but did not yield gets a "not read" row (no event); the next
    grade is compared with the last grade read."""
    by_council: dict[str, list[GradedReport]] = {}
    for r in reports:
        by_council.setdefault(r.urn, []).append(r)
    rows: list[HistoryRow] = []
    events: list[Change] = []
    for urn in sorted(by_council):
        ordered = one_per_date(sorted(by_council[urn], key=lambda r: r.sort_key))
        open_rows: dict[str, HistoryRow] = {}
        last_read: dict[str, HistoryRow] = {}  # per area, the latest row with a real grade
        for rep in ordered:
            for area in retired_by(rep.framework, open_rows):
                _close(open_rows.pop(area), rep.effective_date, "retired")
                last_read.pop(area, None)
            grades = {**rep.judgements, **dict.fromkeys(rep.not_read, NOT_READ)}
            for key, grade in sorted(grades.items()):
                for area in TRACKED_AREAS[rep.framework][key]:
                    current = open_rows.get(area)
                    if current and current.grade == grade:
                        current.latest = rep
                        continue
                    if current:
                        _close(current, rep.effective_date, "not_read" if grade == NOT_READ else "changed")
                    previous = last_read.get(area)
                    if grade != NOT_READ and previous and previous.grade != grade:
                        events.append(_event(previous, rep, area, grade))
                    open_rows[area] = HistoryRow(urn, area, grade, rep.effective_date, rep, key, rep)
                    rows.append(open_rows[area])
                    if grade != NOT_READ:
                        last_read[area] = open_rows[area]
    return rows, events


def retired_by(framework: str, areas) -> list[str]:
    """Of a council's open areas, those a report under `framework` retires: the areas of the
    same inspection (family) that the framework no longer judges."""
    return [a for a in areas if AREA_FAMILY.get(a) == family(framework) and a not in FRAMEWORK_TRACKED[framework]]


def one_per_date(ordered: list[GradedReport]) -> list[GradedReport]:
    """Two files for one council and date judging the same areas (a re-issued report): the
    later-sorted one stands. Files judging different areas (an LSCB review published apart
    from its inspection) both stand."""
    kept: list[GradedReport] = []
    for r in ordered:
        kept = [k for k in kept if k.effective_date != r.effective_date or not (_areas(k) & _areas(r))]
        kept.append(r)
    return kept


def _areas(r: GradedReport) -> set[str]:
    return {a for key in (*r.judgements, *r.not_read) for a in TRACKED_AREAS[r.framework][key]}


def _close(row: HistoryRow, on: date, reason: str) -> None:
    row.valid_to, row.end_reason = on, reason


def _event(previous: HistoryRow, rep: GradedReport, area: str, grade: str) -> Change:
    better = rank(area, grade) > rank(area, previous.grade)
    return Change(rep.report_id, previous.latest.report_id, ChangeEvent(
        change_id=change_id_for(rep.urn, area, rep.report_id), urn=rep.urn,
        local_authority=rep.local_authority, area=area, previous_grade=previous.grade, grade=grade,
        direction="improved" if better else "declined", inspection_end=rep.inspection_end,
        previous_published=previous.latest.published, published=rep.published, report_url=rep.url))


# -- writing ---------------------------------------------------------------------------
_EVENT_COLS = ("change_id", "urn", "local_authority", "area", "previous_grade", "grade", "direction",
               "report_id", "previous_report_id", "inspection_end", "previous_published", "published",
               "report_url", "detected_at", "detected_run")


_HISTORY_COLS = ("urn", "area", "grade", "valid_from", "valid_to", "is_current", "report_id", "source_area",
                 "latest_report_id", "end_reason", "local_authority", "framework", "inspection_end", "published",
                 "report_url")


def _history_row(h: HistoryRow) -> tuple:
    latest = h.latest  # current_ratings describes the latest inspection that judged the area
    return (h.urn, h.area, h.grade, h.valid_from, h.valid_to, h.valid_to is None, h.report.report_id,
            h.source_area, latest.report_id, h.end_reason, latest.local_authority, latest.framework,
            latest.inspection_end, latest.published, latest.url)


def refresh(wh: Warehouse, run_id: str) -> RefreshResult:
    """Recompute rating_history and reconcile change_events in one transaction, one refresh at
    a time across processes (two at once would both insert the same history rows)."""
    with wh.exclusive("changes"), wh.transaction():
        rows, events = build_history(graded_reports(wh))
        wh.execute("DELETE FROM rating_history")
        wh.insert_rows("rating_history", _HISTORY_COLS, [_history_row(h) for h in rows])
        reference.refresh_derived(wh)
        result = _reconcile_events(wh, events, run_id)
    log.info("changes: %d history rows, %d events (%d new, %d retracted)", len(rows), len(events),
             len(result.new), len(result.retracted))
    return result


def _reconcile_events(wh: Warehouse, changes: list[Change], run_id: str) -> RefreshResult:
    now = datetime.now()
    stored = {row[0]: row[1] is not None for row in
              wh.fetchall("SELECT change_id, retracted_at FROM change_events")}
    wanted = {c.event.change_id: c.event for c in changes}
    rows = [(e.change_id, e.urn, e.local_authority, e.area, e.previous_grade, e.grade, e.direction,
             c.report_id, c.previous_report_id, e.inspection_end, e.previous_published, e.published,
             e.report_url, now, run_id) for c in changes for e in [c.event]]
    # content may be corrected in place (same council, area and report); detection stays first
    wh.insert_rows("change_events", _EVENT_COLS, rows, conflict=("change_id",),
                   update=("local_authority", "previous_grade", "grade", "direction", "previous_report_id",
                           "inspection_end", "previous_published", "published", "report_url",
                           "retracted_at = NULL", "retracted_run = NULL"))
    new = [e for cid, e in wanted.items() if cid not in stored or stored[cid]]
    gone = [cid for cid, retracted in stored.items() if cid not in wanted and not retracted]
    for cid in gone:
        wh.execute("UPDATE change_events SET retracted_at = ?, retracted_run = ? WHERE change_id = ?",
                   [now, run_id, cid])
    return RefreshResult(new=new, retracted=[_load_event(wh, cid) for cid in gone])


# a ChangeEvent's fields, in order, from change_events e joined to councils c
_EVENT_COLUMNS = ("e.change_id, e.urn, COALESCE(c.name, e.local_authority), e.area, e.previous_grade,"
                  " e.grade, e.direction, e.inspection_end, e.previous_published, e.published, e.report_url")
_EVENT_SELECT = f"SELECT {_EVENT_COLUMNS} FROM change_events e LEFT JOIN councils c ON c.urn = e.urn"


def _to_event(row: tuple) -> ChangeEvent:
    return ChangeEvent(*row)


def _load_event(wh: Warehouse, change_id: str) -> ChangeEvent:
    return _to_event(wh.fetchone(_EVENT_SELECT + " WHERE e.change_id = ?", [change_id]))
