"""The `ofsted` command. Each subcommand's handler lives with its stage and is imported only
when that subcommand runs, so `ofsted parse` never pays for database or HTTP imports."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from etl import records, redact
from etl.config import Settings

# subcommand -> "module:function"; the function takes (args, settings) and returns an exit code
HANDLERS = {
    "crawl": "etl.download:crawl_command",
    "parse": "etl.parse:parse_command",
    "query": "etl.query:query_command",
    "migrate": "etl.warehouse:migrate_command",
    "reference": "etl.reference:reference_command",
    "export": "etl.export:export_command",
    "run": "etl.pipeline:run_command",
    "serve": "etl.web.serve:serve_command",
    "review": "etl.review:review_command",
    "alerts": "etl.alert.commands:alerts_command",
    "freshness": "etl.freshness:freshness_command",
}


def _checked(parse):
    """An argparse type from a validator: its ValueError message becomes the usage error."""
    def check(value: str):
        try:
            return parse(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    check.__name__ = parse.__name__
    return check


URN, DATE = _checked(records.urn), _checked(records.iso_date)


def _crawl_options(p: argparse.ArgumentParser) -> None:
    """What to crawl: the options `crawl` and `run` share."""
    p.add_argument("--limit", type=int, help="at most N councils")
    p.add_argument("--council", action="append", metavar="URN", type=URN, help="only this council (repeatable)")
    p.add_argument("--retry-quarantined", action="store_true",
                   help="retry quarantined files now, not when their spacing (1, 2, 4 ... days) is up")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ofsted", description="Ofsted children's services ratings pipeline.")
    ap.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("crawl", help="discover councils and publications, download new reports")
    _crawl_options(p)

    p = sub.add_parser("parse", help="parse report files and print the extraction contract")
    p.add_argument("--jsonl", action="store_true", help="JSON Lines, one object per file (default)")
    p.add_argument("paths", nargs="+", metavar="PATH")

    p = sub.add_parser("query", help="quick answers from the warehouse without SQL")
    p.add_argument("what", choices=("current", "history", "changes", "summary", "visits", "england", "movement"),
                   help="summary: one row per council, its latest inspection (the latest_inspections view);"
                        " visits: the letters (focused and monitoring visits, JTAIs), what each looked at and"
                        " its areas for priority action (history shows a council's too, as a second table);"
                        " england: grades' spread as at a date; movement: first against latest ILACS grade")
    p.add_argument("urn", nargs="?", help="council URN (for history; optional filter otherwise)")
    p.add_argument("--since", help="changes published on or after this date (YYYY-MM-DD)")
    p.add_argument("--region", help="summary: only this region (name or ONS code, e.g. London, E12000007)")
    p.add_argument("--as-at", metavar="DATE", type=DATE, help="england, movement: as at this date (default today)")
    p.add_argument("--area", help="england: the tracked area (default overall_effectiveness)")
    p.add_argument("--by", choices=("region",), help="england: one row per region instead of England")
    p.add_argument("--councils", action="store_true", help="movement: who is in each movement")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    sub.add_parser("freshness", help="when the site was last checked; tell operators when runs have stopped"
                                     " succeeding (for a timer outside Airflow; exit 1 when stale)")
    p = sub.add_parser("export", help="write the summary, history and changes as xlsx, CSV and Parquet files")
    p.add_argument("--to", metavar="DIR_OR_URL", help="folder or fsspec URL (default: $OFSTED_EXPORT_URL)")
    p.add_argument("--format", metavar="FORMATS", help="comma-separated: xlsx,csv,parquet (default: all)")

    sub.add_parser("reference", help="load the shipped council reference into the warehouse; list councils it lacks")

    p = sub.add_parser("review", help="reports held or noted by the parser, and a reviewer's decisions")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("list", help="held reports and re-parses, not-read and noted reports, with what table and body said")
    a.add_argument("--all", action="store_true", help="resolved ones too")
    a = actions.add_parser("show", help="one report's review")
    a.add_argument("id", help="report id (or its first characters, as `list` prints them)")
    for name, what in (("accept", "the parse stands as it is (a held re-parse is applied)"),
                       ("set", "set grades for some areas (a held re-parse is applied first)")):
        a = actions.add_parser(name, help=what)
        a.add_argument("id", help="report id (or its first characters)")
        if name == "set":
            a.add_argument("grades", nargs="+", metavar="AREA=GRADE", help="e.g. overall_effectiveness=good")
        a.add_argument("--by", help="who decides (default: your user name)")
        a.add_argument("--why", required=True, help="why: recorded with the decision")

    p = sub.add_parser("run", help="the whole pipeline once: crawl, download, parse, load, changes, alert")
    _crawl_options(p)
    p.add_argument("--since", metavar="DATE", type=DATE, help="only download reports published on/after DATE")
    p.add_argument("--reparse", action="store_true", help="re-parse every stored file")
    p.add_argument("--historic-alerts", action="store_true",
                   help="also alert for changes found by the first (baseline) run")

    p = sub.add_parser("alerts", help="check the alert rules, or preview what each target would receive")
    actions = p.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate the rules file (line, rule, key, what is wrong)")
    check.add_argument("file", nargs="?", help="rules file (default: OFSTED_ALERT_RULES)")
    preview = actions.add_parser("preview", help="print the messages each target would have received")
    preview.add_argument("--since", metavar="DATE", type=DATE,
                         help="events published on/after DATE (default: 30 days ago)")
    p = sub.add_parser("serve", help="the ratings view (England map, councils, changes, reviews) in a browser",
                       description="Serve the ratings view. Loopback only unless OFSTED_VIEW_TOKEN is set: "
                                   "then every request must carry it (Authorization: Bearer TOKEN, or open "
                                   "any page once with ?token=TOKEN to set a cookie).")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    redact.install()   # no password or token in any log line or traceback
    module, func = HANDLERS[args.command].split(":")
    return getattr(importlib.import_module(module), func)(args, Settings.from_env()) or 0


if __name__ == "__main__":
    sys.exit(main())
