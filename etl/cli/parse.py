"""`ofsted parse [--jsonl] PATH...`: one JSON object per path, in order, on stdout. Each file
is parsed in a child process (etl.parse.isolate): a hostile file fails alone."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("etl.parse")


def add(sub) -> None:
    p = sub.add_parser("parse", help="parse report files and print the extraction contract")
    p.add_argument("--jsonl", action="store_true", help="JSON Lines, one object per file (default)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(handler=command)


def command(args, settings) -> int:
    import json

    from etl.parse.isolate import ParsePool
    from etl.progress import track

    paths = list(args.paths)
    out = sys.stdout
    with ParsePool(settings) as pool:
        for path in track(paths, len(paths), "files", show_bar=sys.stderr.isatty() and len(paths) > 5, logger=log):
            out.write(json.dumps(pool.parse_file(path).to_contract(), ensure_ascii=False) + "\n")
            out.flush()
    return 0
