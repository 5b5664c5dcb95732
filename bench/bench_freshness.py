"""A simulated week of hourly runs (`ofsted run`'s steps, run_once) against the fake site, with
publications appearing at chosen hours: what a quiet day costs in requests against one full
crawl of the daily run, what each publication costs, and the hours from its appearance to its
alert (issue 26's goals: a date that moved is alerted by the next run; any publication within
OFSTED_SWEEP_HOURS; a quiet day at most 1.35x one full crawl).

    .venv/bin/python bench/bench_freshness.py [--councils 155] [--days 7]

Time travels: the site's clock (FakeOfstedSite.now) and the runs' (run_once(now=...)) move an
hour at a time; the requests are real ones, counted by the site.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import pipeline  # noqa: E402
from etl.config import Settings  # noqa: E402
from etl.crawl import crawl  # noqa: E402
from etl.download import download_new  # noqa: E402
from tests.support.fakesite import FakeOfstedSite  # noqa: E402
from tests.support.synth_reports import letter_pdf, listing_pdf, report_pdf  # noqa: E402
from tests.support.webhook import WebhookReceiver  # noqa: E402

GRADES5 = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers")


def inspection(site, urn: str, published: date, grade: str) -> bytes:
    return report_pdf(
        "ilacs_2023",
        site.councils[urn],
        dict(zip(GRADES5, [grade] * 5)),
        inspection_start=published - timedelta(days=60),
        inspection_end=published - timedelta(days=49),
    )


def schedule(site, start: datetime, days: int) -> list[dict]:
    """Publications at chosen hours of the week. The site's "Latest report" date moves for
    graded inspections only (`letters_move_latest = False`, the case the real site leaves
    unconfirmed): the letter is found by the sweep alone. Days 4 and 6 (from 0) stay quiet."""
    site.letters_move_latest = False
    urns = list(site.councils)
    plan = [
        (0, 9.25, urns[10], "inspection", "inadequate"),
        (1, 14.6, urns[40], "focused_visit", None),
        (2, 11.1, urns[70], "inspection", "outstanding"),
        (3, 16.1, urns[100 % len(urns)], "inspection", "requires_improvement"),
        (5, 0.5, urns[130 % len(urns)], "inspection", "good"),
    ]
    out = []
    for day, hour, urn, kind, grade in plan:
        if day >= days:
            continue
        appears = start + timedelta(days=day, hours=hour)
        published, moves = appears.date(), kind == "inspection"
        pdf = (
            inspection(site, urn, published, grade)
            if kind == "inspection"
            else letter_pdf(
                kind,
                site.councils[urn],
                visit_start=published - timedelta(days=30),
                visit_end=published - timedelta(days=29),
            )
        )
        site.add_publication(urn, kind, published, pdf, appears=appears)
        out.append(
            {
                "urn": urn,
                "name": site.councils[urn],
                "kind": kind,
                "appears": appears,
                "moves": moves,
                "alerted": None,
                "requests": 0,
            }
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--councils", type=int, default=155)
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args()
    logging.getLogger("etl.pipeline").setLevel(logging.ERROR)  # the fake's councils lack reference rows
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeOfstedSite(args.councils, pdf_factory=listing_pdf) as site,
        WebhookReceiver() as hook,
    ):
        settings = Settings.from_env(
            site.env(
                OFSTED_DATA_DIR=tmp,
                OFSTED_LANDING=f"{tmp}/landing",
                OFSTED_WAREHOUSE_URL=f"duckdb:///{tmp}/w.duckdb",
                OFSTED_ALERT_URLS=hook.apprise_url,
            )
        )
        start = datetime.now().replace(minute=0, second=0, microsecond=0)
        site.now = start
        pipeline.run_once(settings, now=start)  # the baseline
        site.reset_counters()
        listing = crawl(settings)  # one full crawl, as the daily run
        full = listing.requests + download_new(listing.publications, settings).requests
        print(f"one full crawl (listing, every council page, revalidations): {full} requests")

        pubs = schedule(site, start, args.days)
        per_day = [0] * args.days
        for hour in range(1, args.days * 24 + 1):
            now = site.advance(hours=1)
            site.reset_counters()
            before = len(hook.messages)
            summary = pipeline.run_once(settings, now=now)
            requests = sum(site.requests.values())
            per_day[(hour - 1) // 24] += requests
            for message in hook.messages[before:]:
                for p in pubs:
                    if p["alerted"] is None and p["name"] in message.get("title", "") and p["appears"] <= now:
                        p["alerted"], p["requests"] = now, requests
            if summary.crawl_notes:
                print(f"  {now:%a %H:%M} " + "; ".join(summary.crawl_notes))
        quiet = [
            n
            for day, n in enumerate(per_day)
            if not any(p["appears"].date() == (start + timedelta(days=day, hours=1)).date() for p in pubs)
        ]
        print(f"requests per day: {per_day}")
        if quiet:
            q = sum(quiet) / len(quiet)
            print(
                f"a quiet day: {q:.0f} requests = {q / full:.2f}x one full crawl (goal <= 1.35x; "
                f"the same crawl hourly: {24 * full} = 24x)"
            )
        hourly = sum(quiet) / len(quiet) / 24 if quiet else 0
        print(
            f"each publication: hours from its appearance to its alert, and the requests of the run that"
            f" alerted it (a quiet hour: {hourly:.1f}; the difference is what the publication cost)"
        )
        for p in pubs:
            lag = (p["alerted"] - p["appears"]).total_seconds() / 3600 if p["alerted"] else None
            how = "date moves" if p["moves"] else "date does not move (the sweep)"
            print(
                f"  {p['appears']:%a %H:%M} {p['kind']:<14} {p['name']:<28} {how:<32} "
                + (
                    f"alerted after {lag:.2f} h, {p['requests']} requests (+{p['requests'] - hourly:.0f})"
                    if lag is not None
                    else "NOT alerted"
                )
            )
        print(f"({args.days * 24} hourly runs in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
