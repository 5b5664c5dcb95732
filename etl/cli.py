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
    "search": "etl.search:search_command",
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


class CouncilArg(str):
    """A council as typed (URN, name, its beginning, a name it was known by): `main` resolves
    every one to its URN through etl.councils before the command runs."""
    site_decides = False   # True: a URN nobody knows yet is passed on (the site is asked)


class SiteCouncilArg(CouncilArg):
    """--council of crawl and run: a name must resolve, but a URN the reference and the
    warehouse lack is still crawled (the site may list a council the reference does not yet;
    the crawl says when the site has no such council)."""
    site_decides = True


def _council_type(kind: type[CouncilArg]):
    def council(value: str) -> CouncilArg:
        text = " ".join(str(value).split())
        if not text:
            raise argparse.ArgumentTypeError("give a council: its URN (e.g. 80487) or name (e.g. Barnet)")
        return kind(text)
    return council


COUNCIL, SITE_COUNCIL = _council_type(CouncilArg), _council_type(SiteCouncilArg)


def _crawl_options(p: argparse.ArgumentParser) -> None:
    """What to crawl: the options `crawl` and `run` share."""
    p.add_argument("--limit", type=int, help="at most N councils")
    p.add_argument("--council", action="append", metavar="COUNCIL", type=SITE_COUNCIL,
                   help="only this council: URN or name (repeatable)")
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
    p.add_argument("what", choices=("current", "history", "changes", "summary", "visits", "improvements", "england",
                                    "movement", "due"),
                   help="summary: one row per council, its latest inspection (the latest_inspections view);"
                        " visits: the letters (focused and monitoring visits, JTAIs), what each looked at and"
                        " its areas for priority action (history shows a council's too, as a second table);"
                        " improvements: what each council's latest graded inspection says must improve;"
                        " england: grades' spread as at a date; movement: first against latest ILACS grade;"
                        " due: when each council's next inspection is expected (a window, or monitoring)")
    p.add_argument("urn", nargs="?", metavar="COUNCIL", type=COUNCIL,
                   help="a council: URN, name, a unique beginning of its name, or a name it was known by"
                        " (for history; optional filter otherwise)")
    p.add_argument("--since", help="changes published on or after this date (YYYY-MM-DD)")
    p.add_argument("--region", help="summary: only this region (name or ONS code, e.g. London, E12000007)")
    p.add_argument("--as-at", metavar="DATE", type=DATE,
                   help="england, movement, due: as at this date (default today; due: from what was published by then)")
    p.add_argument("--area", help="england: the tracked area (default overall_effectiveness)")
    p.add_argument("--by", choices=("region",), help="england: one row per region instead of England")
    p.add_argument("--councils", action="store_true", help="movement: who is in each movement")
    p.add_argument("--kind", choices=records.LETTER_KINDS, help="visits: only letters of this kind (jtai: joint targeted"
                                                        " area inspections, with their themes)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = sub.add_parser("search", help="search what Ofsted wrote: every page of every current publication",
                       description='Words (all must appear), "quoted phrases", OR between two of them, '
                                   '-word or -"phrase" to exclude. Newest first, with counts by year, kind '
                                   'and region.')
    p.add_argument("query", nargs="*", help='e.g. \'"return home interviews" -missing\' (words after -- may start with -)')
    p.add_argument("--kind", choices=records.KINDS, help="only publications of this kind")
    p.add_argument("--council", metavar="COUNCIL", type=COUNCIL,
                   help="only this council's publications: URN, name, its beginning or a name it was known by")
    p.add_argument("--region", help="only this region (name or ONS code, e.g. London, E12000007)")
    p.add_argument("--since", metavar="DATE", type=DATE, help="published on or after DATE")
    p.add_argument("--until", metavar="DATE", type=DATE, help="published on or before DATE")
    p.add_argument("--limit", type=int, default=20, help="pages shown (default 20; the counts cover all)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--rebuild-index", action="store_true",
                   help="rebuild the DuckDB text index from the warehouse's stored text (drift, a restored file)")

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
    a.add_argument("--council", metavar="COUNCIL", type=COUNCIL, help="only this council's reports: URN or name")
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
    settings = Settings.from_env()
    if not resolve_councils(args, settings):
        return 2
    module, func = HANDLERS[args.command].split(":")
    return getattr(importlib.import_module(module), func)(args, settings) or 0


def resolve_councils(args: argparse.Namespace, settings: Settings) -> bool:
    """Every council argument, resolved in place to its URN through one directory (the
    reference and the warehouse's councils); False, with the closest councils said on
    stderr, when one names no council or several."""
    given = {dest: value for dest, value in vars(args).items()
             if isinstance(value, CouncilArg) or (isinstance(value, list) and value and isinstance(value[0], CouncilArg))}
    if not given:
        return True
    from etl.councils import CouncilNotFound, directory_for, run_councils
    from etl.links import for_terminal

    from functools import cache

    directory = cache(lambda: directory_for(settings.warehouse_url))   # read once, when a name needs it
    for dest, value in given.items():
        urns = []
        for text in value if isinstance(value, list) else [value]:
            try:
                if text.site_decides:   # the rule for a run's councils (etl.councils.run_councils)
                    urns += run_councils([text], directory)
                    continue
                found = directory().resolve(text)
            except CouncilNotFound as exc:
                print(for_terminal(f"ofsted {args.command}: {exc}"), file=sys.stderr)   # names the site gave
                return False
            if not found.exact:   # say which council a beginning or another name chose
                print(for_terminal(f"ofsted {args.command}: {text!r} is {found.council.label()}: {found.how}"),
                      file=sys.stderr)
            urns.append(found.council.urn)
        setattr(args, dest, urns if isinstance(value, list) else urns[0])
    return True


if __name__ == "__main__":
    sys.exit(main())
