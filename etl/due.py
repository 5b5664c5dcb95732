"""When Ofsted is due back: each council's window for its next inspection of children's services,
as at any date, from what was published by then. The rules and their sources are in
docs/warehouse.md ("When Ofsted is due back"); the back-test is bench/bench_due.py.

The framework sets the cycle: a council judged good or outstanding gets a short inspection and
one judged requires improvement a standard one, usually within six months of the third
anniversary of the last; one judged inadequate is monitored, and re-inspected when Ofsted judges
it ready (no window). In practice Ofsted works through the councils in the order of their last
inspection, at the pace the published reports show, and stopped during the COVID-19 pause. So a
council's window is placed where its turn in that queue, at that pace, falls (never before its
third anniversary, nor open before the framework's earliest); while a pause has not visibly
ended no latest date can be given, and for a while after it ends the latest date reaches further.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from etl.graded import HISTORY_START, GradedReport, graded_reports

# the frameworks that inspect a council's children's services on a cycle (focused and monitoring
# visits, JTAIs and area SEND inspections do not set the cycle)
CYCLE_FRAMEWORKS = frozenset({"lac", "sif", "ilacs_2018", "ilacs_2023", "ilacs_2026"})
MONTH = 30.44  # days
CYCLE_MONTHS = 36  # the framework: about every three years ...
EARLIEST_MONTHS = 30  # ... usually from six months before the third anniversary
BEFORE_MONTHS, AFTER_MONTHS = 4, 8  # the window around the queue's estimate (a delay is likelier than haste)
# after a pause, Ofsted's pace is unsettled (after the COVID-19 pause: a fast restart, then slower
# through the 2023 framework change), so for RESTART_MONTHS after the first inspection after it a
# window's latest date reaches RESTART_LATER months later (fitted to the one restart in the history)
RESTART_MONTHS, RESTART_LATER = 18, 9
PACE_MONTHS = 12  # the pace: inspections ended in the last 12 months Ofsted was inspecting
LAG_QUANTILE = 0.8  # what "published by now" covers: most reports are out by this lag
# Ofsted's suspension of routine inspection (cited in docs/warehouse.md); each ends, for the
# warehouse, when a cycle inspection that ended after it is published
PAUSES = ((date(2020, 3, 17), "COVID-19"),)
WINDOW, MONITORING, NONE = "window", "monitoring", "none"
COLUMNS = ("urn", "as_at", "due_status", "due_earliest", "due_latest", "due_rule")


@dataclass(frozen=True)
class Inspection:
    """A graded inspection of a council's children's services under a cycle framework."""

    urn: str
    framework: str
    ended: date
    published: date | None  # None: taken as published when it ended
    overall: str | None  # overall effectiveness (None: not judged, e.g. the 2026 framework)

    @property
    def known_on(self) -> date:
        return self.published or self.ended


@dataclass(frozen=True)
class Due:
    urn: str
    as_at: date
    status: str  # WINDOW, MONITORING or NONE
    earliest: date | None
    latest: date | None  # None with a window: a pause whose end is not yet published
    rule: str

    def row(self) -> tuple:
        return (self.urn, self.as_at, self.status, self.earliest, self.latest, self.rule)


def check_as_at(day: date) -> date:
    if day < HISTORY_START:
        raise ValueError(
            f"--as-at must be on or after {HISTORY_START.isoformat()} (the warehouse's history"
            f" begins in 2012), not {day.isoformat()}"
        )
    return day


def months(day: date, n: float) -> date:
    return day + timedelta(days=round(n * MONTH))


def windows(inspections: Iterable[Inspection], councils: Iterable[str], as_at: date) -> dict[str, Due]:
    """Every council's Due as at `as_at`, from the inspections published by then."""
    check_as_at(as_at)
    known = sorted(
        (i for i in inspections if i.framework in CYCLE_FRAMEWORKS and i.known_on <= as_at),
        key=lambda i: (i.ended, i.known_on),
    )
    last: dict[str, Inspection] = {}
    taken: list[Inspection] = []  # inspections that took a council off the queue (not re-inspections)
    for i in known:
        if i.urn not in last or last[i.urn].overall != "inadequate":
            taken.append(i)
        last[i.urn] = i
    wanted = set(councils)  # the councils existing on as_at (an abolished one's inspections still set the pace)
    out = {
        urn: Due(urn, as_at, NONE, None, None, "no inspection of its children's services published yet")
        for urn in wanted
        if urn not in last
    }
    latest = [i for urn, i in last.items() if urn in wanted]
    queue = sorted((i for i in latest if i.overall != "inadequate"), key=lambda i: (i.ended, i.urn))
    for i in latest:
        if i.overall == "inadequate":
            out[i.urn] = Due(
                i.urn,
                as_at,
                MONITORING,
                None,
                None,
                f"judged inadequate at its inspection ending {i.ended.isoformat()}: monitoring visits,"
                " then re-inspection when Ofsted judges it ready",
            )
    pace = Pace.of(known, taken, as_at, len(latest))
    slot = pace.up_to
    for place, i in enumerate(queue):  # the next slot at this pace, but not before the council is due
        slot = max(months(slot, 1 / pace.per_month), months(i.ended, CYCLE_MONTHS))
        out[i.urn] = _window(i, place, slot, pace, as_at)
    return out


@dataclass(frozen=True)
class Pace:
    """How fast Ofsted is working through the queue, from the published reports: inspections a
    month, where the queue stands (the day up to which reports are mostly out) and any pause."""

    per_month: float
    up_to: date
    paused_since: date | None  # a pause with no cycle inspection after it published yet
    pause_name: str | None
    resumed: date | None = None  # when the first inspection after the last pause ended (once published)

    @classmethod
    def of(cls, known: list[Inspection], taken: list[Inspection], as_at: date, councils: int) -> Pace:
        recent = [i for i in known if i.published and i.published > as_at - timedelta(days=365)]
        lags = sorted((i.published - i.ended).days for i in recent) or [60]
        up_to = as_at - timedelta(days=lags[int(LAG_QUANTILE * (len(lags) - 1))])
        paused_since, name, gaps, last_resumed = None, None, [], None
        for start, what in PAUSES:
            if start > as_at:
                continue
            resumed = min((i.ended for i in known if i.ended > start), default=None)
            if resumed is None:
                paused_since, name = start, what
                up_to = min(up_to, start)
            else:
                gaps.append((start, resumed))
                if any(i.ended < start for i in known):  # a restart the history shows (not its start)
                    last_resumed = resumed
        # the pace over the last PACE_MONTHS Ofsted was inspecting (a pause's months left out)
        span, since = timedelta(days=round(PACE_MONTHS * MONTH)), up_to
        for start, resumed in sorted(gaps, reverse=True):
            if start < since and resumed > since - span:
                span += min(resumed, since) - start
        counted = [i for i in taken if since - span < i.ended <= since]
        # never slower than the framework's own: every council once in CYCLE_MONTHS (a small or
        # new warehouse, or a slow year, must not push windows out without end)
        per_month = max(len(counted) / PACE_MONTHS, councils / CYCLE_MONTHS)
        return cls(per_month, up_to, paused_since, name, last_resumed)


def _window(i: Inspection, place: int, centre: date, pace: Pace, as_at: date) -> Due:
    grade = (i.overall or "").replace("_", " ")
    which = {
        "good": "a short inspection",
        "outstanding": "a short inspection",
        "requires improvement": "a standard inspection",
    }.get(grade, "its next inspection")
    base = (
        f"judged {grade} at its inspection ending {i.ended.isoformat()}"
        if grade
        else f"inspected under {i.framework} ending {i.ended.isoformat()} (no overall grade: which inspection"
        " follows is not in the published framework)"
    )
    floor = months(i.ended, EARLIEST_MONTHS)
    earliest = max(floor, months(centre, -BEFORE_MONTHS))
    anniversary = months(i.ended, CYCLE_MONTHS)
    queue = f"{which}, usually within 6 months of the third anniversary ({anniversary.isoformat()})"
    if centre > anniversary:
        queue += (
            f"; Ofsted works through councils in the order of their last inspection, at about"
            f" {pace.per_month * 12:.0f} a year now: {place + 1} in line, so later"
        )
    if pace.paused_since:
        return Due(
            i.urn,
            as_at,
            WINDOW,
            max(earliest, as_at),
            None,
            f"{base}: {queue}; inspections paused since {pace.paused_since.isoformat()} ({pace.pause_name})"
            " and not yet resumed in what is published, so no latest date",
        )
    after = AFTER_MONTHS
    if pace.resumed and as_at < months(pace.resumed, RESTART_MONTHS):
        after += RESTART_LATER
        queue += (
            f"; inspections resumed on {pace.resumed.isoformat()} after a pause and the pace is not yet"
            f" settled, so the window closes {after} months after its turn, not {AFTER_MONTHS}"
        )
    latest = max(months(centre, after), months(earliest, 1))
    return Due(i.urn, as_at, WINDOW, earliest, latest, f"{base}: {queue}")


# -- the warehouse -----------------------------------------------------------------------------
def read_inspections(wh) -> list[Inspection]:
    """The warehouse's graded inspections of children's services (the history's inputs)."""
    return inspections_of(graded_reports(wh))


def inspections_of(reports: Iterable[GradedReport]) -> list[Inspection]:
    return [
        Inspection(r.urn, r.framework, r.effective_date, r.published, r.judgements.get("overall_effectiveness"))
        for r in reports
        if r.framework in CYCLE_FRAMEWORKS
    ]


def current_councils(wh, day: date) -> list[str]:
    """The councils existing on `day` that the site lists (latest_inspections' councils; a
    successor from its creation, a predecessor until its abolition)."""
    from etl.england import read_councils

    listed = {u for (u,) in wh.fetchall("SELECT c.urn FROM councils c JOIN ref_councils rc ON rc.urn = c.urn")}
    return sorted(u for u, council in read_councils(wh)[0].items() if u in listed and council.exists_on(day))


def rewrite(wh, reports: Iterable[GradedReport], today: date | None = None) -> None:
    """Rewrite due_windows as at today from the graded reports (in the caller's transaction:
    etl.derived.rewrite)."""
    day = today or date.today()
    found = windows(inspections_of(reports), current_councils(wh, day), day)
    wh.execute("DELETE FROM due_windows")
    wh.insert_rows("due_windows", COLUMNS, [d.row() for d in found.values()])


QUERY_COLUMNS = ("urn", "local_authority", "region", "last_inspection_end", "last_grade", *COLUMNS[1:])


def answer(wh, as_at: date | None = None) -> tuple[list[str], list[tuple]]:
    """`ofsted query due`: every council's window as at `as_at` (default: the stored one, as at
    the last refresh), from what was published by then; soonest first, monitoring and none last."""
    day = check_as_at(as_at) if as_at else None
    if day is None:
        rows = wh.fetchall("SELECT urn, as_at, due_status, due_earliest, due_latest, due_rule FROM due_windows")
        found = {r[0]: Due(*r) for r in rows}
        inspections = read_inspections(wh)
    else:
        inspections = read_inspections(wh)
        found = windows(inspections, current_councils(wh, day), day)
    last: dict[str, Inspection] = {}
    for i in sorted((i for i in inspections if day is None or i.known_on <= day), key=lambda i: i.ended):
        last[i.urn] = i
    names = dict(wh.fetchall("SELECT c.urn, c.name FROM councils c"))
    regions = dict(wh.fetchall("SELECT urn, region_name FROM ref_councils"))
    order = {WINDOW: 0, MONITORING: 1, NONE: 2}
    out = []
    for d in sorted(found.values(), key=lambda d: (order[d.status], d.earliest or date.max, names.get(d.urn) or "")):
        i = last.get(d.urn)
        out.append(
            (
                d.urn,
                names.get(d.urn),
                regions.get(d.urn),
                i.ended if i else None,
                i.overall if i else None,
                *d.row()[1:],
            )
        )
    return list(QUERY_COLUMNS), out


# -- in words, for the view ----------------------------------------------------------------------
def _month(day: date) -> str:
    return day.strftime("%B %Y")


def sentence(status: str | None, earliest: date | None, latest: date | None, rule: str | None) -> str:
    """'Next inspection: expected between September 2024 and September 2025, because …'."""
    if status == WINDOW and earliest and latest:
        return f"Next inspection: expected between {_month(earliest)} and {_month(latest)}, because {rule}."
    if status == WINDOW and earliest:
        return f"Next inspection: expected not before {_month(earliest)}, because {rule}."
    if status == MONITORING:
        return f"Next inspection: monitoring, re-inspection when ready, because {rule}."
    return f"Next inspection: no window, because {rule or 'nothing is known yet'}."


def soon(status: str | None, earliest: date | None, latest: date | None, today: date, within: int = 6) -> str:
    """The map's value: due_soon (the window opens within `within` months and has not closed),
    due_later, monitoring or none."""
    if status == MONITORING:
        return "monitoring"
    if status != WINDOW or earliest is None:
        return "none"
    if earliest <= months(today, within) and (latest is None or latest >= today):
        return "due_soon"
    return "due_later"
