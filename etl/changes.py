"""The changes stage: recompute the rating history (a type-2 slowly changing dimension per
council x tracked area) from the stored judgements, and derive change events from it.

The history is recomputed in full on every refresh, so it depends only on what is stored, never
on load order. Change events are kept for ever: one that a correction removes is marked
retracted (not deleted); one that appears is new. Area modelling: docs/warehouse.md.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from etl import derived
from etl.graded import NOT_READ, TRACKED_AREAS, GradedReport, graded_reports, rank, retired_by, timelines
from etl.records import ChangeEvent
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    new: list[ChangeEvent] = field(default_factory=list)
    retracted: list[ChangeEvent] = field(default_factory=list)


def change_id_for(urn: str, area: str, report_id: str) -> str:
    return hashlib.sha256(f"{urn}|{area}|{report_id}".encode()).hexdigest()[:24]


# -- the history -----------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    report_id: str  # the report that changed the grade
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
    rows: list[HistoryRow] = []
    events: list[Change] = []
    for urn, ordered in timelines(reports).items():
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


def _close(row: HistoryRow, on: date, reason: str) -> None:
    row.valid_to, row.end_reason = on, reason


def _event(previous: HistoryRow, rep: GradedReport, area: str, grade: str) -> Change:
    better = rank(area, grade) > rank(area, previous.grade)
    return Change(
        rep.report_id,
        previous.latest.report_id,
        ChangeEvent(
            change_id=change_id_for(rep.urn, area, rep.report_id),
            urn=rep.urn,
            local_authority=rep.local_authority,
            area=area,
            previous_grade=previous.grade,
            grade=grade,
            direction="improved" if better else "declined",
            inspection_end=rep.inspection_end,
            previous_published=previous.latest.published,
            published=rep.published,
            report_url=rep.url,
        ),
    )


# -- writing ---------------------------------------------------------------------------
_EVENT_COLS = (
    "change_id",
    "urn",
    "local_authority",
    "area",
    "previous_grade",
    "grade",
    "direction",
    "report_id",
    "previous_report_id",
    "inspection_end",
    "previous_published",
    "published",
    "report_url",
    "detected_at",
    "detected_run",
)


def _history_row(h: HistoryRow) -> tuple:
    """A row of rating_history (etl.derived.HISTORY_COLUMNS)."""
    latest = h.latest  # current_ratings describes the latest inspection that judged the area
    return (
        h.urn,
        h.area,
        h.grade,
        h.valid_from,
        h.valid_to,
        h.valid_to is None,
        h.report.report_id,
        h.source_area,
        latest.report_id,
        h.end_reason,
        latest.local_authority,
        latest.framework,
        latest.inspection_end,
        latest.published,
        latest.url,
    )


def refresh(wh: Warehouse, run_id: str) -> RefreshResult:
    """Recompute the history, rewrite the derived tables from it (etl.derived) and reconcile
    change_events, in one transaction, one refresh at a time across processes (two at once
    would both insert the same history rows). The graded reports are read once, for all."""
    with wh.exclusive("changes"), wh.transaction():
        reports = graded_reports(wh)
        rows, events = build_history(reports)
        derived.rewrite(wh, reports, [_history_row(h) for h in rows])
        result = _reconcile_events(wh, events, run_id)
    log.info(
        "changes: %d history rows, %d events (%d new, %d retracted)",
        len(rows),
        len(events),
        len(result.new),
        len(result.retracted),
    )
    return result


def _reconcile_events(wh: Warehouse, changes: list[Change], run_id: str) -> RefreshResult:
    now = datetime.now()
    stored = {row[0]: row[1] is not None for row in wh.fetchall("SELECT change_id, retracted_at FROM change_events")}
    wanted = {c.event.change_id: c.event for c in changes}
    rows = [
        (
            e.change_id,
            e.urn,
            e.local_authority,
            e.area,
            e.previous_grade,
            e.grade,
            e.direction,
            c.report_id,
            c.previous_report_id,
            e.inspection_end,
            e.previous_published,
            e.published,
            e.report_url,
            now,
            run_id,
        )
        for c in changes
        for e in [c.event]
    ]
    # content may be corrected in place (same council, area and report); detection stays first
    wh.insert_rows(
        "change_events",
        _EVENT_COLS,
        rows,
        conflict=("change_id",),
        update=(
            "local_authority",
            "previous_grade",
            "grade",
            "direction",
            "previous_report_id",
            "inspection_end",
            "previous_published",
            "published",
            "report_url",
            "retracted_at = NULL",
            "retracted_run = NULL",
        ),
    )
    new = [e for cid, e in wanted.items() if cid not in stored or stored[cid]]
    gone = [cid for cid, retracted in stored.items() if cid not in wanted and not retracted]
    for cid in gone:
        wh.execute(
            "UPDATE change_events SET retracted_at = ?, retracted_run = ? WHERE change_id = ?", [now, run_id, cid]
        )
    return RefreshResult(new=new, retracted=[_load_event(wh, cid) for cid in gone])


# a ChangeEvent's fields, in order, from change_events e joined to councils c
_EVENT_COLUMNS = (
    "e.change_id, e.urn, COALESCE(c.name, e.local_authority), e.area, e.previous_grade,"
    " e.grade, e.direction, e.inspection_end, e.previous_published, e.published, e.report_url"
)
_EVENT_SELECT = f"SELECT {_EVENT_COLUMNS} FROM change_events e LEFT JOIN councils c ON c.urn = e.urn"


def _to_event(row: tuple) -> ChangeEvent:
    return ChangeEvent(*row)


def _load_event(wh: Warehouse, change_id: str) -> ChangeEvent:
    return _to_event(wh.fetchone(_EVENT_SELECT + " WHERE e.change_id = ?", [change_id]))
