"""Alert volume for a month of new reports (issue 14), on synthetic warehouse data.

Every council in the shipped reference gets a baseline ILACS inspection (the first run); then a
month of new inspections changes 56 area grades, four or five per council, as on the stand-in
site. Counts the messages one target receives: before (one per changed area), with no rules
(`OFSTED_ALERT_URLS`: one per report), and with the rule "London councils, declines only";
and times one send over the whole warehouse. Messages go to a loopback webhook receiver.

    .venv/bin/python bench/bench_alerts.py [--postgres] [--changes 56] [--seed 14]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl import changes, load, reference  # noqa: E402
from etl.alert import send_alerts  # noqa: E402
from etl.alert.rules import council_directory, load_rules, parse_rules  # noqa: E402
from etl.records import FRAMEWORK_AREAS, Council, Publication, ReportRecord  # noqa: E402
from etl.warehouse import connect, migrate  # noqa: E402
from tests.support.webhook import WebhookReceiver  # noqa: E402

GRADES = ("outstanding", "good", "requires_improvement", "inadequate")
AREAS = FRAMEWORK_AREAS["ilacs_2023"]
LONDON_DECLINES = "rules:\n  - target: {url}\n    regions: [London]\n    direction: declined\n"


def report(council: Council, n: int, end: date, judgements: dict) -> ReportRecord:
    url = f"https://files.example/{council.urn}/{n}"
    return ReportRecord(
        source=f"{council.urn}/{n}.pdf",
        is_report=True,
        kind="inspection",
        framework="ilacs_2023",
        local_authority=council.name,
        inspection_end=end,
        published=end + timedelta(days=40),
        judgements=judgements,
        parser_version="1.0",
        urn=council.urn,
        url=url,
        sha256=f"{int(council.urn):032d}{n:032d}",
    )


def publish(wh, run_id: str, councils: list[Council], reports: list[ReportRecord]) -> None:
    load.start_run(wh, run_id)
    load.load_councils(wh, councils, run_id)
    load.load_publications(
        wh,
        [
            Publication(r.urn, r.local_authority, "inspection", "Children's services inspection", r.published, r.url)
            for r in reports
        ],
        run_id,
    )
    load.load_reports(wh, reports, run_id)
    changes.refresh(wh, run_id)
    load.finish_run(wh, run_id)


def month(councils: list[Council], baseline: dict[str, dict], total: int, rnd: random.Random) -> list[ReportRecord]:
    """New inspections changing `total` area grades, four or five per council."""
    sizes = next([5] * a + [4] * ((total - 5 * a) // 4) for a in range(total // 5, -1, -1) if (total - 5 * a) % 4 == 0)
    out = []
    for council, k in zip(rnd.sample(councils, len(sizes)), rnd.sample(sizes, len(sizes))):
        before = baseline[council.urn]
        grades = dict(before)
        for area in rnd.sample(AREAS, k):
            grades[area] = rnd.choice([g for g in GRADES if g != before[area]])
        out.append(report(council, 2, date(2026, 10, 1) + timedelta(days=rnd.randrange(30)), grades))
    return out


def bench(url: str, label: str, total: int, seed: int) -> None:
    rnd = random.Random(seed)
    councils = [
        Council(c.urn, c.name, f"https://reports.example/provider/44/{c.urn}") for c in reference.councils() if c.exists
    ]
    baseline = {c.urn: {a: rnd.choice(GRADES) for a in AREAS} for c in councils}
    with connect(url) as wh:
        migrate(wh)
        publish(wh, "baseline", councils, [report(c, 1, date(2023, 6, 1), baseline[c.urn]) for c in councils])
        new = month(councils, baseline, total, rnd)
        publish(wh, "month", councils, new)
        changed = wh.fetchone("SELECT COUNT(*) FROM rating_changes WHERE published >= '2026-10-01'")[0]
        directory = council_directory(wh)
        with WebhookReceiver() as everything, WebhookReceiver() as london:
            rules = load_rules(directory, urls=[everything.apprise_url]) + parse_rules(
                LONDON_DECLINES.format(url=london.apprise_url), directory
            )
            started = time.perf_counter()
            summary = send_alerts(wh, rules, directory)
            took = time.perf_counter() - started
            assert summary.failed == 0, summary.errors
            london_reports = [r for r in new if directory.region_of(r.urn) == "London"]
            print(
                f"{label}: {len(councils)} councils; a month of {len(new)} new reports changing {changed} area grades"
                f" ({len(london_reports)} reports in London)"
            )
            print(f"  messages to one target, before (one per changed area): {changed}")
            print(f"  messages with no rules (OFSTED_ALERT_URLS, one per report): {len(everything.messages)}")
            print(f"  messages with the rule 'London councils, declines only': {len(london.messages)}")
            print(f"  send_alerts over the warehouse: {took:.2f} s for {summary.sent} messages")
            again = time.perf_counter()
            assert send_alerts(wh, rules, directory).sent == 0
            print(f"  a second send (nothing due): {time.perf_counter() - again:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", action="store_true", help="also on a fresh PostgreSQL database")
    ap.add_argument("--changes", type=int, default=56)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"duckdb:///{tmp}/bench.duckdb", "duckdb", args.changes, args.seed)
    if args.postgres:
        from tests.support.warehouse_fixtures import fresh_postgres_url

        with fresh_postgres_url() as url:
            bench(url, "postgresql", args.changes, args.seed)


if __name__ == "__main__":
    main()
