"""Requests and downloads of `crawl` + `download_new` over a fake site of 150 councils: a first
run, then a repeat run with nothing new, then a run after one new publication.

    .venv/bin/python bench/bench_crawl.py [--councils 150] [--rate 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.config import Settings  # noqa: E402
from etl.crawl import crawl  # noqa: E402
from etl.download import download_new  # noqa: E402
from tests.support.fakesite import FakeOfstedSite  # noqa: E402


def run(site: FakeOfstedSite, settings: Settings, label: str) -> None:
    site.reset_counters()
    started = time.monotonic()
    listing = crawl(settings, progress=False)
    result = download_new(listing.publications, settings, progress=False)
    seconds = time.monotonic() - started
    pages = sum(n for path, n in site.requests.items() if not path.startswith("/v1/file/"))
    files = sum(n for path, n in site.requests.items() if path.startswith("/v1/file/"))
    print(
        f"{label:<28} councils={len(listing.councils):>4} publications={len(listing.publications):>4} "
        f"requests={sum(site.requests.values()):>4} (pages {pages}, files {files}) "
        f"downloaded={site.files_served:>4} stored={len(result.stored):>4} skipped={result.skipped:>4} "
        f"time={seconds:.1f}s"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--councils", type=int, default=150)
    ap.add_argument("--rate", default="500", help="requests per second (the real default is 2)")
    args = ap.parse_args()
    with FakeOfstedSite(councils=args.councils) as site, tempfile.TemporaryDirectory() as landing:
        settings = Settings.from_env(site.env(OFSTED_LANDING=landing, OFSTED_REQUESTS_PER_SECOND=args.rate))
        run(site, settings, "first run")
        run(site, settings, "repeat run, nothing new")
        site.add_publication(next(iter(site.councils)), "focused_visit", date(2026, 6, 1))
        run(site, settings, "after one new publication")
    return 0


if __name__ == "__main__":
    sys.exit(main())
