"""The graded-report model: which inspections count for a council's grades, which tracked areas
each framework's judgements feed, the grade scale, and the one walk over a council's reports
(`timeline`) that the history (etl.changes), England at any date (etl.england), the alerts
(etl.alert.events) and the checks (etl.checks) all take. Area modelling: docs/warehouse.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from etl.records import AREA_SEND_OUTCOMES, FRAMEWORK_AREAS, GRADES
from etl.warehouse import Warehouse

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
# the history begins with the 2012 frameworks: no question about a date before it
HISTORY_START = date(2012, 1, 1)


def family(framework: str) -> str:
    return "area_send" if framework in AREA_SEND_FRAMEWORKS else "childrens_services"


AREA_FAMILY = {a: family(f) for f, areas in FRAMEWORK_TRACKED.items() for a in areas}

# the grade of a tracked area whose required judgement this report's text did not yield:
# it ends the previous grade (no one reads an outdated grade as current) without an event
NOT_READ = "not_read"

# -- the grade scale (defined here only; etl.derived writes it to the SQL table grade_scale) ----
# best first: higher rank is better; adequate (2012-13) sits between good and requires improvement
GRADE_SCALE = ("outstanding", "good", "adequate", "requires_improvement", "inadequate")
assert set(GRADE_SCALE) == set(GRADES)
GRADE_RANK = {grade: len(GRADE_SCALE) - i for i, grade in enumerate(GRADE_SCALE)}
# the area SEND outcome is ranked on its own scale (best to worst): an area's grades are on one
# scale, so ranks are compared within it only
OUTCOME_RANK = {outcome: len(AREA_SEND_OUTCOMES) - i for i, outcome in enumerate(AREA_SEND_OUTCOMES)}
SCALE_RANKS = {**GRADE_RANK, **OUTCOME_RANK}  # the rows of grade_scale
# the four-point scale of the 2013 frameworks on, which "requires improvement" gave its third
# grade: adequate (2012-13) counts there (as Ofsted's official statistics count it)
FOUR_POINT = ("outstanding", "good", "requires_improvement", "inadequate")
ON_FOUR_POINT = {**{g: g for g in FOUR_POINT}, "adequate": "requires_improvement"}


def rank(area: str, grade: str) -> int:
    return (OUTCOME_RANK if AREA_FAMILY.get(area) == "area_send" else GRADE_RANK)[grade]


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
        " WHERE r.is_report AND r.framework IS NOT NULL AND r.superseded_by IS NULL"
    )
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


# -- the walk over a council's reports -----------------------------------------------------
def timeline(reports: list[GradedReport]) -> list[GradedReport]:
    """One council's reports in the order they happened (inspection end, then publication date),
    a re-issued report standing once (`one_per_date`). Same input, same output, any input order."""
    return one_per_date(sorted(reports, key=lambda r: r.sort_key))


def timelines(reports: list[GradedReport]) -> dict[str, list[GradedReport]]:
    """Each council's `timeline`, by URN in URN order."""
    by_council: dict[str, list[GradedReport]] = {}
    for r in reports:
        by_council.setdefault(r.urn, []).append(r)
    return {urn: timeline(by_council[urn]) for urn in sorted(by_council)}


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


def retired_by(framework: str, areas) -> list[str]:
    """Of a council's open areas, those a report under `framework` retires: the areas of the
    same inspection (family) that the framework no longer judges."""
    return [a for a in areas if AREA_FAMILY.get(a) == family(framework) and a not in FRAMEWORK_TRACKED[framework]]
