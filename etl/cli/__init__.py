"""The `ofsted` command: one module per command group (etl/cli/<group>.py), each with `add`
(its parser, and the function that runs it) and that function. A command imports what it
needs inside its function, so `ofsted --help` and `ofsted parse` never pay for database or
HTTP imports. Stages return records; the commands here print them."""

from __future__ import annotations

import argparse
import logging
import sys

from etl import redact
from etl.cli import alerts, crawl, export, freshness, migrate, parse, query, reference, review, run, search, serve
from etl.cli.args import CouncilArg, Parser, say
from etl.config import Settings

# in the order `ofsted --help` lists them
GROUPS = (crawl, parse, query, search, migrate, freshness, export, reference, review, run, alerts, serve)


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="ofsted", description="Ofsted children's services ratings pipeline.")
    ap.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = ap.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add(sub)  # sets `handler`: the function taking (args, settings), returning an exit code
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    redact.install()  # no password or token in any log line or traceback
    settings = Settings.from_env()
    if not resolve_councils(args, settings):
        return 2
    return args.handler(args, settings) or 0


def resolve_councils(args: argparse.Namespace, settings: Settings) -> bool:
    """Every council argument, resolved in place to its URN through one directory (the
    reference and the warehouse's councils); False, with the closest councils said on
    stderr, when one names no council or several."""
    given = {
        dest: value
        for dest, value in vars(args).items()
        if isinstance(value, CouncilArg) or (isinstance(value, list) and value and isinstance(value[0], CouncilArg))
    }
    if not given:
        return True
    from functools import cache

    from etl.councils import CouncilNotFound, directory_for, run_councils

    directory = cache(lambda: directory_for(settings.warehouse_url))  # read once, when a name needs it
    for dest, value in given.items():
        urns = []
        for text in value if isinstance(value, list) else [value]:
            try:
                if text.site_decides:  # the rule for a run's councils (etl.councils.run_councils)
                    urns += run_councils([text], directory)
                    continue
                found = directory().resolve(text)
            except CouncilNotFound as exc:
                say(args.command, str(exc))  # names the site gave
                return False
            if not found.exact:  # say which council a beginning or another name chose
                say(args.command, f"{text!r} is {found.council.label()}: {found.how}")
            urns.append(found.council.urn)
        setattr(args, dest, urns if isinstance(value, list) else urns[0])
    return True
