"""Data-quality checks on the warehouse after every load (`ofsted run`, the ofsted_ingest DAG).

Plain SQL through the warehouse adapter rather than the common-sql provider's check operators:
the same checks must run without Airflow, and on the embedded DuckDB default, which has no
Airflow connection to point an operator at. A failed check is reported (run summary, operators);
it never stops the run or its alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.graded import NOT_READ, TRACKED_AREAS, family, graded_reports, timelines
from etl.warehouse import Warehouse

SHOWN = 10  # offending rows quoted per check; the query finds the rest


@dataclass
class CheckResult:
    name: str
    description: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.passed:
            return f"{self.name}: ok"
        shown = "; ".join(self.problems[:SHOWN])
        more = f" (and {len(self.problems) - SHOWN} more)" if len(self.problems) > SHOWN else ""
        return f"{self.name}: {len(self.problems)} problem(s) - {self.description}: {shown}{more}"


def _listed_councils_summarised(wh: Warehouse) -> list[str]:
    rows = wh.fetchall(
        "SELECT c.urn, c.name FROM councils c"
        " LEFT JOIN latest_inspections li ON li.urn = c.urn"
        " LEFT JOIN ref_councils rc ON rc.urn = c.urn"
        " WHERE li.urn IS NULL AND rc.abolished IS NULL ORDER BY c.urn"
    )
    return [f"{name} ({urn})" for urn, name in rows]


def _current_grades_from_latest_report(wh: Warehouse) -> list[str]:
    """Each area the council's latest graded report judges must hold that report's grade now
    (the latest of each inspection: children's services, area SEND)."""
    latest = {}
    for urn, reports in timelines(graded_reports(wh)).items():
        for rep in reports:
            latest[(urn, family(rep.framework))] = rep
    current = {
        (urn, area): rid
        for urn, area, rid in wh.fetchall("SELECT urn, area, latest_report_id FROM rating_history WHERE is_current")
    }
    problems = []
    for (urn, _), rep in sorted(latest.items()):
        areas = sorted({a for key in rep.judgements for a in TRACKED_AREAS[rep.framework].get(key, ())})
        stale = [a for a in areas if current.get((urn, a)) != rep.report_id]
        if stale:
            problems.append(
                f"{rep.local_authority} ({urn}) {', '.join(stale)} not from its {rep.effective_date} report"
            )
    return problems


def _grades_within_scale(wh: Warehouse) -> list[str]:
    rows = wh.fetchall(
        "SELECT 'rating_history', urn, area, grade FROM rating_history"
        f" WHERE grade NOT IN (SELECT grade FROM grade_scale) AND grade <> '{NOT_READ}'"
        " UNION ALL SELECT 'judgements', r.urn, j.area, j.grade FROM judgements j"
        " JOIN reports r ON r.report_id = j.report_id WHERE j.grade NOT IN (SELECT grade FROM grade_scale)"
        " ORDER BY 1, 2, 3"
    )
    return [f"{table} {urn} {area}={grade!r}" for table, urn, area, grade in rows]


def _one_current_row(wh: Warehouse) -> list[str]:
    rows = wh.fetchall(
        "SELECT urn, area, COUNT(*) FROM rating_history WHERE is_current"
        " GROUP BY urn, area HAVING COUNT(*) > 1 ORDER BY urn, area"
    )
    return [f"{urn} {area}: {n} current rows" for urn, area, n in rows]


def _reference_coverage(wh: Warehouse) -> list[str]:
    from etl.reference import unknown_councils

    return [f"{name} ({urn})" for urn, name in unknown_councils(wh)]


def _search_index_in_step(wh: Warehouse) -> list[str]:
    from etl.search import index_drift

    return index_drift(wh)


CHECKS = (
    (
        "listed_councils_summarised",
        "a council the site lists has no row in latest_inspections and no reorganisation explains it",
        _listed_councils_summarised,
    ),
    (
        "current_grades_from_latest_report",
        "a current grade is older than its council's latest graded report",
        _current_grades_from_latest_report,
    ),
    (
        "grades_within_scale",
        "a grade outside outstanding/good/adequate/requires_improvement/inadequate"
        " (or, for the area SEND outcome, positive/inconsistent/systemic_failings)",
        _grades_within_scale,
    ),
    ("one_current_row_per_council_area", "more than one current rating for a council and area", _one_current_row),
    (
        "reference_coverage",
        "a council the site lists is not in the shipped reference (no codes, region, "
        "neighbours): add it to etl/reference/councils.csv",
        _reference_coverage,
    ),
    (
        "search_index_in_step",
        "the DuckDB text index disagrees with publication_text (the next search "
        "repairs it; `ofsted search --rebuild-index` rebuilds it whole)",
        _search_index_in_step,
    ),
)


def run_checks(wh: Warehouse) -> list[CheckResult]:
    """Every check, in one snapshot of the warehouse."""
    with wh.transaction():
        return [CheckResult(name, description, check(wh)) for name, description, check in CHECKS]


def failed_lines(results: list[CheckResult]) -> list[str]:
    return [r.line() for r in results if not r.passed]
