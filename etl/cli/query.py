"""`ofsted query QUERY [COUNCIL] [options] [--format table|csv|json]`: quick answers from the
warehouse without SQL, one subcommand per query.

Each query is one entry of QUERIES: its help, whether it takes a COUNCIL, the options it takes
(named from OPTIONS, each declared once) and its answer: a function (warehouse, args) ->
(column names, rows) that applies every option the query takes. A query is given only its own
options: any other is a usage error (exit 2) naming the ones it takes (etl.cli.args.Parser).

To add a query: write its answer function below, add a Query to QUERIES (a new option goes
into OPTIONS first), and a line for it in tests/test_query_options.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from etl import records
from etl.cli.args import COUNCIL, DATE, say

# every option of every query: dest -> (flag, argparse keywords)
OPTIONS: dict[str, tuple[str, dict]] = {
    "since": ("--since", dict(metavar="DATE", type=DATE, help="published on or after DATE (YYYY-MM-DD)")),
    "region": ("--region", dict(help="only this region: its name or ONS code, e.g. London, E12000007")),
    "kind": (
        "--kind",
        dict(
            choices=records.LETTER_KINDS,
            help="only letters of this kind (jtai: joint targeted area inspections, with their themes)",
        ),
    ),
    "as_at": ("--as-at", dict(metavar="DATE", type=DATE, help="as at this date (default today)")),
    "area": ("--area", dict(help="the tracked area (default overall_effectiveness)")),
    "by": ("--by", dict(choices=("region",), help="one row per region instead of England")),
    "councils": ("--councils", dict(action="store_true", help="who is in each movement")),
    # Ofsted's own tables count only the reports published by a cut-off (etl.outcomes)
    "published_by": (
        "--published-by",
        dict(metavar="DATE", type=DATE, help="count only reports published by DATE (not before --as-at)"),
    ),
    "from_": ("--from", dict(metavar="DATE", type=DATE, help="ended on or after DATE (default: this 1 April)")),
    "to": ("--to", dict(metavar="DATE", type=DATE, help="ended on or before DATE (default today)")),
}


class Refused(ValueError):
    """An option's value the warehouse does not know (a region, an area): exit 2, said."""


@dataclass(frozen=True)
class Query:
    name: str
    help: str
    answer: Callable  # (warehouse, args) -> (names, rows)
    options: tuple[str, ...] = ()
    council: str | None = "optional"  # "required", "optional" or None (takes no council)
    needs: str = "rating_history"  # the table it reads: without it, say `ofsted migrate`
    heading: Callable | None = None  # (warehouse) -> a line said first (stdout for a table)
    more: Callable | None = None  # (warehouse, args) -> (title, names, rows) after a table


# -- the answers --------------------------------------------------------------------------
def _region(wh, args) -> str | None:
    """--region as given, once the reference knows it (a name or code, any case)."""
    given = getattr(args, "region", None)
    if not given:
        return None
    from etl.query import regions

    known = regions(wh)
    if not known or any(given.strip().lower() in (name.lower(), code.lower()) for name, code in known):
        return given.strip()
    raise Refused(f"--region: no region {given!r}; regions: " + ", ".join(f"{name} ({code})" for name, code in known))


def _current(wh, args):
    from etl.query import current

    return current(wh, args.urn, _region(wh, args))


def _history(wh, args):
    from etl.query import history

    return history(wh, args.urn)


def _history_letters(wh, args):  # a person reading a council's story sees its letters too
    from etl.query import visits

    return ("Visits", *visits(wh, args.urn))


def _changes(wh, args):
    from etl.query import changes

    return changes(wh, args.since, args.urn, _region(wh, args))


def _summary(wh, args):
    """latest_inspections; with --as-at or --published-by, every council's row as at the date
    (Ofsted's "inspections as at 31 March", etl.outcomes)."""
    if not (args.as_at or args.published_by):
        from etl.query import summary

        return summary(wh, _region(wh, args), args.urn)
    from etl.outcomes import council_rows

    names, rows = council_rows(wh, _as_at(args), args.published_by, _region(wh, args))
    return _of_council(args, names, rows)


def _of_council(args, names: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """The rows of the COUNCIL given (every row without one), for answers computed for England."""
    if not args.urn:
        return names, rows
    at = names.index("urn")
    return names, [r for r in rows if r[at] == args.urn]


def _as_at(args) -> date:
    """--as-at (default today), checked with --published-by as etl.outcomes accepts them."""
    from etl.outcomes import check_as_at

    day = args.as_at or date.today()
    try:
        check_as_at(day, getattr(args, "published_by", None))
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return day


def _activity(wh, args):
    """Every inspection and letter ended in a period (Ofsted's "in-year activity"; default this
    reporting year, from 1 April, to today)."""
    from etl.outcomes import activity, check_period, reporting_year

    today = date.today()
    start, end = args.from_ or reporting_year(today)[0], args.to or today
    try:
        check_period(("from date", start), ("to date", end))
    except ValueError as exc:
        raise Refused(str(exc)) from None
    names, rows = activity(wh, start, end, _region(wh, args))
    return _of_council(args, names, rows)


def _freshness(wh) -> str:  # how fresh the summary is
    from etl.freshness import freshness

    return freshness(wh).line()


def _visits(wh, args):
    from etl.query import visits

    return visits(wh, args.urn, args.kind, args.since, _region(wh, args))


def _improvements(wh, args):
    from etl.query import improvements

    return improvements(wh, args.urn, _region(wh, args))


def _area(args) -> str:
    from etl.england import AREAS

    if args.area and args.area not in AREAS:
        raise Refused(f"--area must be one of {', '.join(AREAS)}")
    return args.area or "overall_effectiveness"


def _england(wh, args):
    from etl.england import as_at

    return as_at(wh, _as_at(args), _area(args), args.by == "region", args.published_by)


def _movement(wh, args):
    from etl.england import movement, movement_councils

    return (movement_councils if args.councils else movement)(wh, _as_at(args), args.published_by)


def _due(wh, args):
    """Each council's window for its next inspection; with --as-at, the one the warehouse would
    have given then, from what was published by then (etl.due)."""
    from etl.due import answer, check_as_at

    try:
        day = check_as_at(args.as_at) if args.as_at else None
    except ValueError as exc:
        raise Refused(str(exc)) from None
    names, rows = answer(wh, day)
    return _of_council(args, names, rows)


QUERIES: tuple[Query, ...] = (
    Query("current", "every council's current rating in every tracked area", _current, ("region",)),
    Query(
        "history",
        "one council's rating history: each grade, the report that set it and the latest that"
        " judged it (as a table, its letters follow)",
        _history,
        council="required",
        more=_history_letters,
    ),
    Query("changes", "changes of grade", _changes, ("since", "region")),
    Query(
        "summary",
        "one row per council, its latest inspection (the latest_inspections view); with --as-at or"
        " --published-by, every council existing then, as Ofsted's tables count",
        _summary,
        ("region", "as_at", "published_by"),
        needs="latest_inspections",
        heading=_freshness,
    ),
    Query(
        "visits",
        "the letters (focused and monitoring visits, JTAIs): what each looked at and its areas for priority action",
        _visits,
        ("kind", "since", "region"),
    ),
    Query(
        "improvements",
        "what each council's latest graded inspection says must improve",
        _improvements,
        ("region",),
        needs="current_improvements",
    ),
    Query(
        "england",
        "grades' spread in England (or by region) as at a date",
        _england,
        ("as_at", "published_by", "area", "by"),
        council=None,
        needs="grade_timeline",
    ),
    Query(
        "movement",
        "first against latest ILACS grade, as at a date",
        _movement,
        ("as_at", "published_by", "councils"),
        council=None,
        needs="grade_timeline",
    ),
    Query(
        "activity",
        "every inspection and letter that ended in a period, in date order (Ofsted's in-year activity)",
        _activity,
        ("from_", "to", "region"),
        needs="grade_timeline",
    ),
    Query(
        "due",
        "when Ofsted is due back: each council's window for its next inspection, and why",
        _due,
        ("as_at",),
        needs="due_windows",
    ),
)


# -- the command --------------------------------------------------------------------------
def add(sub) -> None:
    p = sub.add_parser(
        "query",
        help="quick answers from the warehouse without SQL",
        description="One subcommand per query; `ofsted query QUERY --help` gives its options.",
    )
    queries = p.add_subparsers(dest="what", required=True, metavar="QUERY")
    for q in QUERIES:
        qp = queries.add_parser(q.name, help=q.help, description=q.help)
        if q.council:
            qp.add_argument(
                "urn",
                nargs="?",
                metavar="COUNCIL",
                type=COUNCIL,  # missing: said in `command`
                help="a council: URN, name, a unique beginning of its name, or a name it was known by"
                + ("" if q.council == "required" else " (default: every council)"),
            )
        for dest in q.options:
            flag, keywords = OPTIONS[dest]
            qp.add_argument(flag, dest=dest, **keywords)
        qp.add_argument("--format", choices=("table", "csv", "json"), default="table")
        qp.set_defaults(handler=command, query=q)


def command(args, settings) -> int:
    from etl.warehouse import connect

    q: Query = args.query
    if q.council == "required" and not args.urn:
        say(f"query {q.name}", f"give a council, e.g. `ofsted query {q.name} Barnet` (or its URN, 80487)")
        return 2
    with connect(settings.warehouse_url) as wh:
        if not wh.has_table(q.needs):
            say("query", "the warehouse has no schema yet; run `ofsted migrate` or `ofsted run`")
            return 1
        try:
            names, rows = q.answer(wh, args)
        except Refused as exc:
            say(f"query {q.name}", str(exc))
            return 2
        if q.heading:  # on stderr for csv and json: data only on stdout
            print(q.heading(wh), file=sys.stdout if args.format == "table" else sys.stderr)
        more = q.more(wh, args) if q.more and args.format == "table" else None
        if getattr(args, "urn", None) and not rows:  # a council the reference knows, nothing on it held
            from etl.query import council_label

            say(
                f"query {q.name}",
                f"nothing on {council_label(wh, args.urn)} in the warehouse"
                " (not crawled yet, or nothing published in this)",
            )
    sys.stdout.write(render(names, rows, args.format))
    if more:
        title, names, rows = more
        sys.stdout.write(f"\n{title}\n" + render(names, rows, "table"))
    return 0


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(names: list[str], rows: list[tuple], fmt: str) -> str:
    """Rows as a table for a terminal, CSV or JSON."""
    if fmt == "json":
        import json

        out = [{n: (_text(v) if isinstance(v, (date, datetime)) else v) for n, v in zip(names, row)} for row in rows]
        return json.dumps(out, indent=2) + "\n"
    if fmt == "csv":  # as the exports write it: a spreadsheet runs no formula from the site
        from etl.export import csv_text

        return csv_text(names, [[_text(v) if isinstance(v, bool) else v for v in row] for row in rows])
    from etl.links import for_terminal  # a table for a terminal: text from the site can carry escape sequences

    cells = [names] + [[for_terminal(_text(v)) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(names))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"
