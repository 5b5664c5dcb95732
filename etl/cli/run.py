"""`ofsted run`: the pipeline once without Airflow (etl.pipeline.run_once), then its report
(RunSummary: the operators are paged by the DAG's rule). Ctrl-C and SIGTERM stop it: the run is marked stopped and the next
one picks up from the landing store and the warehouse, which only ever hold whole files and
committed loads."""

from __future__ import annotations

import os
import sys

from etl.cli.args import DATE, crawl_options, say

EXIT_STOPPED = 130  # a shell's code for a command ended by Ctrl-C


def add(sub) -> None:
    p = sub.add_parser("run", help="the whole pipeline once: crawl, download, parse, load, changes, alert")
    crawl_options(p)
    p.add_argument("--since", metavar="DATE", type=DATE, help="only download reports published on/after DATE")
    p.add_argument("--reparse", action="store_true", help="re-parse every stored file")
    p.add_argument(
        "--historic-alerts", action="store_true", help="also alert for changes found by the first (baseline) run"
    )
    p.set_defaults(handler=command)


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt: the run unwinds
    (files not started are not fetched) and is marked stopped."""


def _raise_stopped(signum, frame):
    raise Stopped(f"stopped by signal {signum}")


def command(args, settings) -> int:
    import signal

    from etl.http import EXIT_UNREACHABLE, SiteUnreachable
    from etl.links import for_terminal
    from etl.pipeline import run_once
    from etl.redact import redact

    signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        summary = run_once(
            settings,
            councils=args.council,
            limit=args.limit,
            reparse=args.reparse,
            since=getattr(args, "since", None),
            historic_alerts=args.historic_alerts,
            retry_quarantined=getattr(args, "retry_quarantined", False),
        )
    except SiteUnreachable as exc:
        say("run", str(exc))
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        say("run", "stopped; the run is marked stopped, the next run picks up where it ended")
        _exit_now(EXIT_STOPPED)
    print("\n".join(for_terminal(line) for line in summary.lines()))  # names from the site: no escapes
    print(f"warehouse: {redact(settings.warehouse_url)}")
    return summary.exit_code()  # 1 when a council asked for is not on the site


def _exit_now(code: int) -> None:
    """Exit without waiting for requests still in flight in worker threads (each could take
    up to the read timeout): what they would write is written whole or not at all."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
