"""`ofsted query current|history COUNCIL|changes|summary|visits [COUNCIL]|improvements [COUNCIL]
[--since DATE] [--region R] [--format table|csv|json]`: quick answers from the warehouse without
writing SQL. A COUNCIL arrives here as a URN: etl.cli resolved the name (etl.councils)."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime

from etl.links import for_terminal
from etl.warehouse import Warehouse, connect

CURRENT_SQL = ("SELECT urn, local_authority, area, grade, framework, inspection_end, published, report_url"
               " FROM current_ratings")
HISTORY_SQL = ("SELECT h.urn, COALESCE(c.name, r.local_authority) AS local_authority, h.area, h.grade,"
               " h.valid_from, h.valid_to, h.is_current, r.framework, r.url AS report_url"
               " FROM rating_history h JOIN reports r ON r.report_id = h.report_id"
               " LEFT JOIN councils c ON c.urn = h.urn WHERE h.urn = ?"
               " ORDER BY h.area, h.valid_from")
VISITS_SQL = ("SELECT urn, local_authority, kind, inspection_start, inspection_end, published, areas, theme,"
              " priority_actions, lead_inspector, url FROM visits")
IMPROVEMENTS_SQL = ("SELECT urn, local_authority, framework, inspection_end, published, position, text, report_url"
                    " FROM current_improvements")
CHANGES_SQL = ("SELECT urn, local_authority, area, previous_grade, grade, previous_published, published,"
               " direction, report_url FROM rating_changes")


def current(wh: Warehouse, urn: str | None = None) -> tuple[list[str], list[tuple]]:
    """Every council's current rating in every tracked area (or one council's)."""
    where, params = (" WHERE urn = ?", [urn]) if urn else ("", [])
    return wh.query(CURRENT_SQL + where + " ORDER BY local_authority, urn, area", params)


def history(wh: Warehouse, urn: str) -> tuple[list[str], list[tuple]]:
    """One council's full rating history, area by area, oldest first."""
    return wh.query(HISTORY_SQL, [urn])


def visits(wh: Warehouse, urn: str | None = None, kind: str | None = None) -> tuple[list[str], list[tuple]]:
    """Every current letter (or one council's, or of one kind): what it looked at (a JTAI's
    theme too), its areas for priority action."""
    clauses = [(c, v) for c, v in (("urn = ?", urn), ("kind = ?", kind)) if v]
    where = " WHERE " + " AND ".join(c for c, _ in clauses) if clauses else ""
    return wh.query(VISITS_SQL + where + " ORDER BY local_authority, urn, inspection_end, url", [v for _, v in clauses])


def improvements(wh: Warehouse, urn: str | None = None) -> tuple[list[str], list[tuple]]:
    """What every council's latest graded inspection says must improve (or one council's), point
    by point in the report's order."""
    where, params = (" WHERE urn = ?", [urn]) if urn else ("", [])
    return wh.query(IMPROVEMENTS_SQL + where + " ORDER BY local_authority, urn, position", params)


def points_by_report(wh: Warehouse, urn: str | None = None) -> dict[str, tuple[str, ...]]:
    """Report id -> its improvement points in order, for every current document (or one council's)."""
    where, params = (" WHERE urn = ?", [urn]) if urn else ("", [])
    out: dict[str, list[str]] = {}
    for rid, text in wh.fetchall("SELECT report_id, text FROM improvements" + where + " ORDER BY report_id, position",
                                 params):
        out.setdefault(rid, []).append(text)
    return {rid: tuple(texts) for rid, texts in out.items()}


def changes(wh: Warehouse, since: date | None = None, urn: str | None = None) -> tuple[list[str], list[tuple]]:
    """Changes of grade, optionally published on or after `since` and for one council."""
    clauses, params = [], []
    if since:
        clauses.append("published >= ?")
        params.append(since)
    if urn:
        clauses.append("urn = ?")
        params.append(urn)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return wh.query(CHANGES_SQL + where + " ORDER BY published, local_authority, area", params)


def summary(wh: Warehouse, region: str | None = None, urn: str | None = None) -> tuple[list[str], list[tuple]]:
    """`latest_inspections`: one row per council, optionally of one region (its name or ONS
    code, any case) or one council."""
    clauses, params = [], []
    if region:
        clauses.append("(LOWER(region) = LOWER(?)"
                       " OR urn IN (SELECT urn FROM ref_councils WHERE LOWER(region_code) = LOWER(?)))")
        params += [region, region]
    if urn:
        clauses.append("urn = ?")
        params.append(urn)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return wh.query("SELECT * FROM latest_inspections" + where + " ORDER BY local_authority, urn", params)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(names: list[str], rows: list[tuple], fmt: str) -> str:
    if fmt == "json":
        records = [{n: (_text(v) if isinstance(v, (date, datetime)) else v) for n, v in zip(names, row)}
                   for row in rows]
        return json.dumps(records, indent=2) + "\n"
    if fmt == "csv":  # as the exports write it: a spreadsheet runs no formula from the site
        from etl.export import csv_text
        return csv_text(names, [[_text(v) if isinstance(v, bool) else v for v in row] for row in rows])
    # a table for a terminal: text from the site can carry escape sequences
    cells = [names] + [[for_terminal(_text(v)) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(names))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"


def query_command(args, settings) -> int:
    since = None
    if getattr(args, "since", None):
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            print(f"ofsted query: --since must be a date YYYY-MM-DD, not {args.since!r}", file=sys.stderr)
            return 2
    if args.what == "history" and not args.urn:
        print("ofsted query history: give a council, e.g. `ofsted query history Barnet` (or its URN, 80487)",
              file=sys.stderr)
        return 2
    if args.what in ("england", "movement"):
        return _england_command(args, settings)
    if args.what == "due":   # issue 29: when Ofsted is due back (etl.due)
        from etl.due import due_command
        return due_command(args, settings)
    with connect(settings.warehouse_url) as wh:
        needed = {"summary": "latest_inspections", "improvements": "current_improvements"}.get(args.what,
                                                                                              "rating_history")
        if not wh.has_table(needed):
            print("ofsted query: the warehouse has no schema yet; run `ofsted migrate` or `ofsted run`",
                  file=sys.stderr)
            return 1
        if args.what == "current":
            names, rows = current(wh, args.urn)
        elif args.what == "summary":   # how fresh it is first (on stderr for csv and json: data only on stdout)
            from etl.freshness import freshness
            print(freshness(wh).line(), file=sys.stdout if args.format == "table" else sys.stderr)
            names, rows = summary(wh, getattr(args, "region", None), args.urn)
        elif args.what == "history":
            names, rows = history(wh, args.urn)
            if args.format == "table":  # a person reading a council's story sees its letters too
                sys.stdout.write(render(names, rows, "table") + "\nVisits\n")
                names, rows = visits(wh, args.urn)
        elif args.what == "visits":
            names, rows = visits(wh, args.urn, getattr(args, "kind", None))
        elif args.what == "improvements":
            names, rows = improvements(wh, args.urn)
        else:
            names, rows = changes(wh, since, args.urn)
        if args.urn and not rows:   # a council the reference knows that the warehouse has nothing on
            print(f"ofsted query {args.what}: nothing on {for_terminal(council_label(wh, args.urn))} in the warehouse"
                  " (not crawled yet, or nothing published in this)", file=sys.stderr)
    sys.stdout.write(render(names, rows, args.format))
    return 0


def council_label(wh: Warehouse, urn: str) -> str:
    from etl.reference import by_urn

    row = wh.fetchone("SELECT name FROM councils WHERE urn = ?", [urn])
    name = row[0] if row else getattr(by_urn().get(urn), "name", None)
    return f"{name} ({urn})" if name else urn


def _england_command(args, settings) -> int:
    """`ofsted query england|movement` (etl.england): England at any date."""
    from etl import england

    if args.area and args.area not in england.AREAS:
        print(f"ofsted query england: --area must be one of {', '.join(england.AREAS)}", file=sys.stderr)
        return 2
    with connect(settings.warehouse_url) as wh:
        if not wh.has_table("grade_timeline"):
            print("ofsted query: the warehouse has no England timeline yet; run `ofsted migrate` or `ofsted run`",
                  file=sys.stderr)
            return 1
        names, rows = england.answer(args, wh)
    sys.stdout.write(render(names, rows, args.format))
    return 0
