"""`ofsted reference`: load the shipped reference into the warehouse, report coverage."""

from __future__ import annotations


def add(sub) -> None:
    sub.add_parser(
        "reference", help="load the shipped council reference into the warehouse; list councils it lacks"
    ).set_defaults(handler=command)


def command(args, settings) -> int:
    from etl.changes import refresh
    from etl.links import for_terminal
    from etl.reference import councils, successions, sync, unknown_councils
    from etl.warehouse import connect, migrate

    with connect(settings.warehouse_url) as wh:
        migrate(wh)
        n = sync(wh)
        refresh(wh, "reference")  # the history's codes and England's tables derive from it
        unknown = unknown_councils(wh)
    print(
        f"reference: {n} councils ({sum(c.exists for c in councils())} current), "
        f"{len(successions())} succession links loaded into {wh.engine}"
    )
    for urn, name in unknown:  # names the site gave
        print(for_terminal(f"  not in the reference: {name} ({urn}) - loaded; its codes and region stay empty"))
    return 0
