"""`ofsted search QUERY [--kind K] [--council C] [--region R] [--since D] [--until D]
[--limit N] [--format table|csv|json]`, or `--rebuild-index` (etl.search)."""

from __future__ import annotations

import sys

from etl import records
from etl.cli.args import COUNCIL, DATE, say


def add(sub) -> None:
    p = sub.add_parser(
        "search",
        help="search what Ofsted wrote: every page of every current publication",
        description='Words (all must appear), "quoted phrases", OR between two of them, '
        '-word or -"phrase" to exclude. Newest first, with counts by year, kind '
        "and region.",
    )
    p.add_argument(
        "query", nargs="*", help="e.g. '\"return home interviews\" -missing' (words after -- may start with -)"
    )
    p.add_argument("--kind", choices=records.KINDS, help="only publications of this kind")
    p.add_argument(
        "--council",
        metavar="COUNCIL",
        type=COUNCIL,
        help="only this council's publications: URN, name, its beginning or a name it was known by",
    )
    p.add_argument("--region", help="only this region (name or ONS code, e.g. London, E12000007)")
    p.add_argument("--since", metavar="DATE", type=DATE, help="published on or after DATE")
    p.add_argument("--until", metavar="DATE", type=DATE, help="published on or before DATE")
    p.add_argument("--limit", type=int, default=20, help="pages shown (default 20; the counts cover all)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument(
        "--rebuild-index",
        action="store_true",
        help="rebuild the DuckDB text index from the warehouse's stored text (drift, a restored file)",
    )
    p.set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.search import QueryError, rebuild_index, search
    from etl.warehouse import connect

    with connect(settings.warehouse_url) as wh:
        if not wh.has_table("publication_text"):
            say("search", "the warehouse has no text yet; run `ofsted migrate` or `ofsted run`")
            return 1
        if args.rebuild_index:
            print(
                f"text index rebuilt: {rebuild_index(wh)} pages"
                if wh.engine == "duckdb"
                else "PostgreSQL keeps its text index in the warehouse: nothing to rebuild"
            )
            return 0
        query = " ".join(args.query or ())
        if not query:
            say("search", "give a query, e.g. ofsted search '\"return home interviews\"'")
            return 2
        try:
            result = search(
                wh,
                query,
                kind=args.kind,
                urn=args.council,  # a URN: etl.cli resolved the name
                region=args.region,
                since=args.since,
                until=args.until,
                limit=args.limit,
                allowed_hosts=settings.allowed_hosts,
            )
        except QueryError as exc:
            say("search", str(exc))
            return 2
    if args.format == "json":
        sys.stdout.write(render_json(result))
    elif args.format == "csv":  # the one CSV writer: a spreadsheet runs no formula from a PDF
        from etl.export import csv_text

        sys.stdout.write(csv_text(list(HIT_COLUMNS), [hit_row(h) for h in result.hits]))
    else:
        sys.stdout.write(render_table(result))
    return 0


# -- what `ofsted search` prints (the hits' text is the PDFs': untrusted) -----------------------
HIT_COLUMNS = ("published", "council", "urn", "kind", "page", "snippet", "url", "report_id")


def hit_row(hit) -> tuple:
    from etl.search_text import snippet_text

    return (hit.published, hit.council, hit.urn, hit.kind, hit.page, snippet_text(hit.snippet), hit.url, hit.report_id)


def render_json(result) -> str:
    import json

    from etl.search_text import snippet_text

    hits = [
        dict(
            zip(HIT_COLUMNS, hit_row(h)),
            published=h.published.isoformat() if h.published else None,
            snippet=snippet_text(h.snippet),
            segments=[[s, m] for s, m in h.snippet],
        )
        for h in result.hits
    ]
    return (
        json.dumps(
            {
                "total": result.total,
                "documents": result.documents,
                "shown": len(result.hits),
                "counts": result.counts,
                "hits": hits,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def render_table(result) -> str:
    """Hits for a person at a terminal: a block per page, then the counts (every line through
    for_terminal: the text is the PDF's)."""
    from etl.links import for_terminal
    from etl.search_text import snippet_text

    if not result.total:
        return "no page matches\n"
    lines = [
        f"{result.total} page(s) in {result.documents} publication(s) match; "
        f"{'all' if len(result.hits) == result.total else f'the newest {len(result.hits)}'} shown"
    ]
    for h in result.hits:
        lines += [
            "",
            f"{h.published or 'undated'}  {h.council or '?'} ({h.urn or '?'})  {h.kind}  page {h.page}",
            f"    {snippet_text(h.snippet)}",
            f"    {h.url or '(no link: the address is not allowed)'}",
        ]
    lines.append("")
    for key, label in (("year", "by year"), ("kind", "by kind"), ("region", "by region")):
        lines.append(f"publications {label}: " + ", ".join(f"{k} {n}" for k, n in result.counts[key].items()))
    return "\n".join(for_terminal(line) for line in lines) + "\n"
