"""Alert events: what a recipient may be told, one event per report or publication.

Derived from what the warehouse holds, never stored as such (the deliveries are):
- a graded inspection: `grade_change` (every area it changed, and the grades that held), else
  `new_council` (the council's first graded inspection on record), else `inspection` (nothing
  changed); an area SEND outcome is compared with the council's previous area SEND outcome only,
  and each names the previous inspection of its kind (None: the first on record);
- an ungraded publication: `focused_visit`, `monitoring_visit`, `jtai` (from its listing), with
  what its letter says it looked at once read; `priority_action` instead where the letter sets out
  areas for priority action (a rule choosing the letter's kind receives it too);
- `retraction`: a correction removed changes that an earlier report had been said to make.

Baseline, per council: what was already published when the pipeline first read a council's
page is history, not news (`baseline=True`), so a first run limited to one council does not
make the next full run announce every other council's past.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from etl.graded import TRACKED_AREAS, GradedReport, family, graded_reports, retired_by, timelines
from etl.query import points_by_report
from etl.warehouse import Warehouse

EVENT_KINDS = (
    "grade_change",
    "inspection",
    "new_council",
    "focused_visit",
    "monitoring_visit",
    "jtai",
    "priority_action",
    "retraction",
)
VISIT_KINDS = ("focused_visit", "monitoring_visit", "jtai")  # publication kinds that are events


@dataclass(frozen=True)
class AreaChange:
    area: str
    previous_grade: str
    grade: str
    direction: str  # improved | declined
    change_id: str


@dataclass(frozen=True)
class AlertEvent:
    event_id: str  # the message key: report:<id>, <kind>:<url>, retraction:<report id>:<run>
    kind: str  # one of EVENT_KINDS
    urn: str
    council: str
    published: date | None
    url: str | None
    noticed_at: datetime | None  # when the pipeline first saw it (orders digests and previews)
    framework: str | None = None
    inspection_start: date | None = None
    inspection_end: date | None = None
    title: str | None = None  # the listing text of an ungraded publication
    changes: tuple[AreaChange, ...] = ()
    held: tuple[tuple[str, str], ...] = ()  # (area, grade) the report judged unchanged
    retired: tuple[tuple[str, str], ...] = ()  # (area, last grade) this framework no longer judges
    previous_framework: str | None = None
    baseline: bool = False
    # a letter (once read): its listing kind, the areas it looked at (None: not read yet), the
    # areas for priority action it sets out and the first sentence of each it could read
    letter_kind: str | None = None
    visit_areas: tuple[str, ...] | None = None
    priority_actions: int = 0
    priority_action_texts: tuple[str, ...] = ()
    improvements: tuple[str, ...] = ()  # what the report or letter says must improve, in order
    visit_theme: str | None = None  # a JTAI's theme (etl.records.JTAI_THEMES)
    region: str | None = None  # the council's ONS region
    # the council's previous inspection of the same kind (children's services, area SEND): when
    # it ended and was published; both None where the warehouse holds none (first on record)
    previous_inspection_end: date | None = None
    previous_published: date | None = None
    inspection_type: str | None = None  # an ILACS inspection's: short | standard

    @property
    def directions(self) -> set[str]:
        return {c.direction for c in self.changes}


def collect_events(wh: Warehouse, *, since: date | None = None) -> list[AlertEvent]:
    """Every event the warehouse supports (published on or after `since`), oldest first."""
    first_runs, points = _council_first_runs(wh), points_by_report(wh)
    events = (
        _report_events(wh, first_runs, points)
        + _visit_events(wh, first_runs, points)
        + _retraction_events(wh, first_runs)
    )
    regions = dict(wh.fetchall("SELECT urn, region_name FROM ref_councils"))
    events = [
        replace(e, region=regions.get(e.urn)) for e in events if since is None or (e.published or date.min) >= since
    ]
    return sorted(events, key=lambda e: (e.published or date.min, e.council, e.event_id))


def _council_first_runs(wh: Warehouse) -> dict[str, str]:
    """URN -> the run that first read the council's page; for a council never listed (reports
    loaded another way), the run that first recorded any of its publications or reports."""
    out = dict(wh.fetchall("SELECT urn, first_listed_run FROM councils WHERE first_listed_run IS NOT NULL"))
    seen = wh.fetchall(
        "SELECT urn, first_seen_run, first_seen FROM publications WHERE first_seen_run IS NOT NULL"
        " UNION ALL SELECT urn, first_seen_run, first_seen FROM reports"
        " WHERE urn IS NOT NULL AND first_seen_run IS NOT NULL"
    )
    for urn, run, _ in sorted(seen, key=lambda r: (r[2], r[1])):
        out.setdefault(urn, run)
    return out


def _report_events(wh: Warehouse, first_runs: dict[str, str], points: dict[str, tuple[str, ...]]) -> list[AlertEvent]:
    facts = {
        rid: rest
        for rid, *rest in wh.fetchall(
            "SELECT r.report_id, r.inspection_start, r.first_seen, COALESCE(p.first_seen_run, r.first_seen_run),"
            " r.inspection_type FROM reports r LEFT JOIN publications p ON p.url = r.url WHERE r.framework IS NOT NULL"
        )
    }
    changes = _changes_by_report(wh)
    events = []
    for urn, reports in timelines(graded_reports(wh)).items():  # a re-issued file is not news
        previous: dict[str, GradedReport] = {}  # per inspection (children's services, area SEND)
        for rep in reports:
            start, noticed, run, inspection_type = facts.get(rep.report_id, (None, None, None, None))
            event = _report_event(
                rep,
                previous.get(family(rep.framework)),
                changes.get(rep.report_id, ()),
                start,
                noticed,
                baseline=run == first_runs.get(urn),
                first=not previous,
                improvements=points.get(rep.report_id, ()),
            )
            events.append(replace(event, inspection_type=inspection_type))
            previous[family(rep.framework)] = rep
    return events


def _report_event(
    rep: GradedReport,
    previous: GradedReport | None,
    changed: tuple[AreaChange, ...],
    start: date | None,
    noticed: datetime | None,
    *,
    baseline: bool,
    first: bool,
    improvements: tuple[str, ...] = (),
) -> AlertEvent:
    """`previous`: the council's previous report of the same inspection; `first`: no graded
    report of the council before this one (a first area SEND outcome of a council inspected
    before is an `inspection`)."""
    grades = _tracked_grades(rep)
    changed_areas = {c.area for c in changed}
    before = _tracked_grades(previous) if previous else {}
    kind = "grade_change" if changed else "new_council" if first else "inspection"
    return AlertEvent(
        event_id=f"report:{rep.report_id}",
        kind=kind,
        urn=rep.urn,
        council=rep.local_authority or rep.urn,
        published=rep.published,
        url=rep.url,
        noticed_at=noticed,
        framework=rep.framework,
        inspection_start=start,
        inspection_end=rep.inspection_end,
        changes=changed,
        held=tuple((a, g) for a, g in grades.items() if a not in changed_areas),
        retired=tuple((a, before[a]) for a in retired_by(rep.framework, before)),
        previous_framework=previous.framework if previous else None,
        baseline=baseline,
        improvements=improvements,
        previous_inspection_end=previous.inspection_end if previous else None,
        previous_published=previous.published if previous else None,
    )


def _tracked_grades(rep: GradedReport) -> dict[str, str]:
    """Tracked area -> grade as this report judged it, in the framework's own order."""
    keys = TRACKED_AREAS[rep.framework]
    return {area: rep.judgements[key] for key in keys if key in rep.judgements for area in keys[key]}


_CHANGE_SQL = (
    "SELECT report_id, area, previous_grade, grade, direction, change_id FROM change_events"
    " WHERE retracted_at IS NULL ORDER BY report_id, area"
)


def _changes_by_report(wh: Warehouse) -> dict[str, tuple[AreaChange, ...]]:
    out: dict[str, list[AreaChange]] = {}
    for rid, *fields in wh.fetchall(_CHANGE_SQL):
        out.setdefault(rid, []).append(AreaChange(*fields))
    return {rid: tuple(cs) for rid, cs in out.items()}


def _visit_events(wh: Warehouse, first_runs: dict[str, str], points: dict[str, tuple[str, ...]]) -> list[AlertEvent]:
    """One event per listed letter, with what its current parse says it looked at and found."""
    rows = wh.fetchall(
        "SELECT p.url, p.kind, p.urn, COALESCE(c.name, p.local_authority, p.urn), p.published, p.title,"
        " p.first_seen, p.first_seen_run, v.inspection_start, v.inspection_end, v.areas, v.priority_actions,"
        " v.priority_action_texts, v.report_id, v.theme FROM publications p LEFT JOIN councils c ON c.urn = p.urn"
        " LEFT JOIN visits v ON v.url = p.url"
        f" WHERE p.kind IN ({', '.join('?' for _ in VISIT_KINDS)})",
        list(VISIT_KINDS),
    )
    events = []
    for url, kind, urn, name, published, title, noticed, run, start, end, areas, actions, texts, rid, theme in rows:
        event_kind = "priority_action" if actions else kind
        events.append(
            AlertEvent(
                event_id=f"{event_kind}:{url}",
                kind=event_kind,
                urn=urn,
                council=name,
                published=published,
                url=url,
                noticed_at=noticed,
                title=title,
                baseline=run == first_runs.get(urn),
                inspection_start=start,
                inspection_end=end,
                letter_kind=kind,
                visit_areas=None if areas is None else tuple(a for a in areas.split(",") if a),
                priority_actions=actions or 0,
                priority_action_texts=tuple(json.loads(texts or "[]")),
                improvements=points.get(rid, ()),
                visit_theme=theme,
            )
        )
    return events


def _retraction_events(wh: Warehouse, first_runs: dict[str, str]) -> list[AlertEvent]:
    """One event per report and correcting run, for changes that were news (not baseline)."""
    rows = wh.fetchall(
        "SELECT e.report_id, e.retracted_run, e.urn, COALESCE(c.name, e.local_authority, e.urn), e.published,"
        " e.report_url, e.retracted_at, e.area, e.previous_grade, e.grade, e.direction, e.change_id,"
        " COALESCE(p.first_seen_run, r.first_seen_run)"
        " FROM change_events e LEFT JOIN councils c ON c.urn = e.urn"
        " LEFT JOIN reports r ON r.report_id = e.report_id LEFT JOIN publications p ON p.url = r.url"
        " WHERE e.retracted_at IS NOT NULL ORDER BY e.report_id, e.area"
    )
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(row[:2], []).append(row)
    events = []
    for (rid, run), group in groups.items():
        _, _, urn, name, published, url, retracted_at, *_ = group[0]
        events.append(
            AlertEvent(
                event_id=f"retraction:{rid}:{run}",
                kind="retraction",
                urn=urn,
                council=name,
                published=published,
                url=url,
                noticed_at=retracted_at,
                changes=tuple(AreaChange(*r[7:12]) for r in group),
                baseline=group[0][12] == first_runs.get(urn),
            )
        )
    return events
