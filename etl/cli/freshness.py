"""`ofsted freshness`: print the freshness line and send the staleness notice when due (for a
timer outside Airflow: it works when the scheduler does not). Exit 1 when stale."""

from __future__ import annotations


def add(sub) -> None:
    sub.add_parser(
        "freshness",
        help="when the site was last checked; tell operators when runs have stopped"
        " succeeding (for a timer outside Airflow; exit 1 when stale)",
    ).set_defaults(handler=command)


def command(args, settings) -> int:
    from datetime import datetime, timedelta

    from etl.freshness import check_stale, freshness
    from etl.warehouse import connect, migrate

    with connect(settings.warehouse_url) as wh:
        migrate(wh)
        sent = check_stale(wh, settings.ops_alert_urls, settings.stale_hours)
        fresh = freshness(wh)
    print(fresh.line())
    if sent:
        print(f"sent to operators: {sent}")
    stale = fresh.checked is None or datetime.now() - fresh.checked >= timedelta(hours=settings.stale_hours)
    return 1 if stale else 0
