"""A synthetic England the size of the real one, on the real council reference: every council
(and its predecessors before a reorganisation) inspected under each framework since 2012, grades
drifting from one inspection to the next, with focused visits between (what each looked at; about
one in seventeen sets out areas for priority action), some joint targeted area inspections and,
since 2023, area SEND outcomes; every document lists improvement points. ~600 graded reports and
~150 councils: what the view's browser test looks at and its bench measures."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from etl.records import AREA_SEND_OUTCOMES, FRAMEWORK_AREAS, VISIT_AREAS, Council, Visit

# framework, first and last inspection end date under it
FRAMEWORKS = [
    ("lac", date(2012, 3, 1), date(2013, 10, 31)),
    ("sif", date(2013, 12, 1), date(2017, 12, 31)),
    ("ilacs_2018", date(2018, 3, 1), date(2022, 12, 31)),
    ("ilacs_2023", date(2023, 3, 1), date(2026, 3, 20)),
    ("ilacs_2026", date(2026, 4, 10), date(2026, 10, 31)),
]
SCALE = ("inadequate", "requires_improvement", "good", "outstanding")
SHARE = (12, 30, 44, 14)  # roughly how England's councils are graded


def england_records(seed: int = 13):
    """(councils, publications, reports) for every council in the reference."""
    from etl import reference
    from tests.support.warehouse_fixtures import make_publication, make_report

    rnd = random.Random(seed)
    letters = random.Random(seed + 1)  # the letters' details: the grades above stay as they were
    councils, publications, reports = [], [], []
    successions = {s.successor_urn: s.effective for s in reference.successions()}
    for ref in reference.councils():
        councils.append(Council(ref.urn, ref.name, f"https://reports.ofsted.gov.uk/provider/44/{ref.urn}"))
        level = None
        n = 0
        for framework, first, last in FRAMEWORKS:
            if framework == "ilacs_2026" and rnd.random() < 0.85:
                continue  # few councils inspected under the newest framework yet
            end = first + timedelta(days=rnd.randrange((last - first).days))
            if (ref.abolished and end >= ref.abolished) or end < successions.get(ref.urn, date.min):
                continue
            if level is None or rnd.random() < 0.5:  # half keep their grade; the others move
                level = rnd.choices(range(4), weights=SHARE)[0]
            grades = {
                a: SCALE[max(0, min(3, level + rnd.choice((-1, 0, 0, 0, 0, 1))))] for a in FRAMEWORK_AREAS[framework]
            }
            if framework == "lac":
                grades = {
                    a: {"requires_improvement": "adequate", "outstanding": "good"}.get(g, g) for a, g in grades.items()
                }
            n += 1
            reports.append(make_report(ref.urn, n, framework, end, grades, la=ref.name))
            publications.append(make_publication(ref.urn, n, reports[-1].published, la=ref.name))
            if rnd.random() < 0.6:  # a focused visit some months later: ungraded, part of the story
                n += 1
                visit = end + timedelta(days=rnd.randrange(200, 600))
                if visit < date(2026, 11, 1) and not (ref.abolished and visit >= ref.abolished):
                    reports.append(
                        with_visit(make_report(ref.urn, n, None, visit, kind="focused_visit", la=ref.name), letters)
                    )
                    publications.append(
                        make_publication(ref.urn, n, reports[-1].published, kind="focused_visit", la=ref.name)
                    )
        if ref.abolished:
            continue
        for kind, chance, first in (("jtai", 0.2, date(2018, 6, 1)), ("area_send", 0.45, date(2023, 3, 1))):
            if letters.random() < chance:
                n += 1
                end = first + timedelta(days=letters.randrange((date(2026, 10, 31) - first).days))
                if kind == "jtai":
                    report = with_visit(make_report(ref.urn, n, None, end, kind="jtai", la=ref.name), letters)
                else:
                    outcome = letters.choices(AREA_SEND_OUTCOMES, weights=(45, 40, 15))[0]
                    report = make_report(
                        ref.urn, n, "area_send_2023", end, {"area_send_outcome": outcome}, kind="area_send", la=ref.name
                    )
                reports.append(report)
                publications.append(make_publication(ref.urn, n, report.published, kind=kind, la=ref.name))
    points = random.Random(seed + 2)  # the improvement points: everything above stays as it was
    return councils, publications, [with_improvements(r, points) for r in reports]


# improvement points in the words such a list uses (made up here, not taken from any report)
POINT_TOPICS = (
    "the timeliness of assessments for children in need",
    "management oversight of casework",
    "return home interviews for children who go missing",
    "the quality of private fostering arrangements",
    "planning for permanence for children in care",
    "support for care leavers aged 21 to 25",
    "the response to children at risk of exploitation",
    "the stability of the social work workforce",
    "the recording of children's views in their plans",
    "the sufficiency of local placements",
)


def with_improvements(report, rnd: random.Random):
    """A record with two to five improvement points (a letter or area SEND report: one to three)."""
    n = rnd.randint(2, 5) if report.kind == "inspection" else rnd.randint(1, 3)
    return replace(report, improvements=tuple(f"{t[0].upper()}{t[1:]}." for t in rnd.sample(POINT_TOPICS, n)))


def with_visit(report, rnd: random.Random):
    """A letter's record with what it looked at and, one in seventeen, areas for priority action."""
    areas = tuple(sorted(rnd.sample(VISIT_AREAS[:3], rnd.choice((1, 1, 2)))))
    actions = rnd.choice((1, 1, 2, 3)) if rnd.random() < 1 / 17 else 0
    texts = tuple(f"Leaders have not ensured that {a.replace('_', ' ')} is good enough." for a in areas[:actions])
    return replace(report, visit=Visit(areas=areas, priority_actions=actions, priority_action_texts=texts))


def load_england(wh, seed: int = 13) -> int:
    """Load the synthetic England into a migrated warehouse as one run; returns graded reports."""
    from etl import changes, load, reference
    from tests.support.warehouse_fixtures import stored_file_for

    councils, publications, reports = england_records(seed)
    reference.sync(wh)  # as a run's begin does: the refresh derives from it
    load.start_run(wh, "england")
    load.load_councils(wh, councils)
    load.load_publications(wh, publications, "england")
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    load.load_reports(wh, reports, "england")
    changes.refresh(wh, "england")
    load.finish_run(wh, "england")
    return sum(1 for r in reports if r.framework)


def bench_on_engines(bench, description: str, goal: str) -> int:
    """A bench script's command line: `bench(url, engine label, repeat) -> goal met` on a fresh
    DuckDB file, then on a fresh PostgreSQL database with --postgres; prints whether `goal` held."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--postgres", action="store_true", help="also on a fresh PostgreSQL database")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ok = bench(f"duckdb:///{tmp}/england.duckdb", "DuckDB", args.repeat)
    if args.postgres:
        from tests.support.warehouse_fixtures import fresh_postgres_url

        with fresh_postgres_url() as url:
            ok &= bench(url, "PostgreSQL", args.repeat)
    print(f"\ngoal: {goal}: {'met' if ok else 'NOT met'}")
    return 0
