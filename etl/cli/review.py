"""`ofsted review list|show ID|accept ID|set ID AREA=GRADE...`: reports held or noted by the
parser (etl.review), and a reviewer's decisions."""

from __future__ import annotations

from etl.cli.args import COUNCIL, say


def add(sub) -> None:
    p = sub.add_parser("review", help="reports held or noted by the parser, and a reviewer's decisions")
    p.set_defaults(handler=command)
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser(
        "list", help="held reports and re-parses, not-read and noted reports, with what table and body said"
    )
    a.add_argument("--all", action="store_true", help="resolved ones too")
    a.add_argument("--council", metavar="COUNCIL", type=COUNCIL, help="only this council's reports: URN or name")
    a = actions.add_parser("show", help="one report's review")
    a.add_argument("id", help="report id (or its first characters, as `list` prints them)")
    for name, what in (
        ("accept", "the parse stands as it is (a held re-parse is applied)"),
        ("set", "set grades for some areas (a held re-parse is applied first)"),
    ):
        a = actions.add_parser(name, help=what)
        a.add_argument("id", help="report id (or its first characters)")
        if name == "set":
            a.add_argument("grades", nargs="+", metavar="AREA=GRADE", help="e.g. overall_effectiveness=good")
        a.add_argument("--by", help="who decides (default: your user name)")
        a.add_argument("--why", required=True, help="why: recorded with the decision")


def _grade_list(grades: dict[str, str]) -> str:
    return ", ".join(f"{area} {grade}" for area, grade in sorted(grades.items())) or "no grades"


def _details(item) -> list[str]:
    out = [f"  listed as: {item.listed_as} (a kind of publication the crawler does not know)"] if item.listed_as else []
    if item.held:
        out += [
            f"  held re-parse: {item.held.reason}",
            f"  stored parse: {_grade_list(item.judgements)} (in force until a decision)",
            "  re-parse reads: " + (_grade_list(item.held.judgements) if item.held.is_report else "not a report"),
            "  accept applies the re-parse; set applies it, then the grades given",
        ]
    out += [
        f"  {area}: table {seen.get('table') or '-'}, body {seen.get('body') or '-'}"
        for area, seen in item.readings.items()
    ]
    out += [f"  not read: {area}" for area in item.unread_areas]
    out += [f"  flag: {f}" for f in item.flags] + [f"  note: {n}" for n in item.notes]
    out += [f"  set by reviewer: {area} = {grade}" for area, grade in item.reviewed.items()]
    if item.resolved_at:
        out.append(f"  resolved {item.resolved_at:%Y-%m-%d %H:%M} by {item.resolved_by}: {item.resolution_note}")
    return out


def command(args, settings) -> int:
    from etl.warehouse import connect

    try:
        with connect(settings.warehouse_url) as wh:
            return _run(wh, args)
    except ValueError as exc:
        say("review", str(exc))
        return 2


def _run(wh, args) -> int:
    from etl.records import report_label
    from etl.review import SHORT_ID, accept, find_report_id, get_review, list_reviews, set_grades

    if args.action == "list":
        items = list_reviews(wh, include_resolved=args.all)
        if getattr(args, "council", None):  # a URN: etl.cli resolved the name
            items = [i for i in items if i.urn == args.council]
        for item in items:
            _print(
                f"{item.status:<9} {item.report_id[:SHORT_ID]}  {item.framework or item.kind or '-':<10} {report_label(item.council, item.urn, item.published, item.url)}"
            )
            _print(*_details(item))
        print(f"{len(items)} report(s) to review" if not args.all else f"{len(items)} report(s)")
        _print_refused_links(wh)
        return 0
    rid = find_report_id(wh, args.id)
    if args.action == "accept":
        accept(wh, rid, who=args.by or _user(), why=args.why)
    elif args.action == "set":
        set_grades(wh, rid, _assignments(args.grades), who=args.by or _user(), why=args.why)
    item = get_review(wh, rid)
    if item is None:  # an accepted re-parse said the file is not a report
        print(f"accepted: {rid} is no longer counted as a report")
    else:
        _print(
            f"{item.status:<9} {item.report_id}  {item.framework or item.kind or '-'}  {report_label(item.council, item.urn, item.published, item.url)}"
        )
        _print(*_details(item))
    if args.action != "show":
        print("recorded: the rating history moves at the next changes refresh (`ofsted run`, or the DAG)")
    return 0


def _print_refused_links(wh) -> None:
    """Publications listed with a link the link rule refused (etl.links): never fetched."""
    from etl.load import refused_links

    refused = refused_links(wh)
    if refused:
        print(f"{len(refused)} publication link(s) refused (not fetched; shown as text):")
        _print(
            *(f"  {r['council'] or r['urn']}: {r['title']}: {r['url'][:200]} ({r['link_refused']})" for r in refused)
        )


def _print(*lines: str) -> None:
    """Lines from the warehouse (names, flags, who and why) to the terminal, escape sequences shown."""
    from etl.links import for_terminal

    print("\n".join(for_terminal(line) for line in lines))


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment: `_required` asks for --by
        return ""


def _assignments(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        area, sep, grade = pair.partition("=")
        if not sep or not area.strip() or not grade.strip():
            raise ValueError(f"{pair!r}: write AREA=GRADE, e.g. overall_effectiveness=good")
        out[area.strip()] = grade
    return out
