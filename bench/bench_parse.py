#!/usr/bin/env python
"""Parser speed over the real corpus: median s/report and reports/s, in this process and as
the pipeline parses (each file sent to the parser's child process, etl.parse.isolate); and how
many reports the parser holds for review or notes.

usage: bench/bench_parse.py [CORPUS_DIR]   (default ../shared/corpus; target <= 0.075 s/report)
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdfium2 as pdfium  # noqa: E402

from etl.config import Settings  # noqa: E402
from etl.parse import parse_bytes  # noqa: E402
from etl.parse.isolate import ParsePool  # noqa: E402

TARGET = 0.075


def main() -> int:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus")
    files = sorted(corpus.glob("*/*.pdf"))
    if not files:
        print(f"no PDFs under {corpus}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    parse_bytes(files[0].read_bytes(), "warm-up", settings=settings)  # imports, pdfium init
    records = []

    def in_process(data: bytes, source: str) -> None:
        records.append(parse_bytes(data, source, settings=settings))

    with ParsePool(settings) as pool:
        pool.parse_bytes(files[0].read_bytes(), "warm-up")             # the child's start-up
        # file by file, in-process then isolated: a busy machine slows both alike
        times, isolated = _timed(files, in_process, pool.parse_bytes)
    held = sum(bool(r.review_flags or r.unread_areas) for r in records)  # out of (or "not read" in) the history
    noted = sum(bool(r.review_notes) for r in records)
    median = statistics.median(times)
    # the bare pdfium text of every page, as a yardstick for how loaded the machine is
    bare = []
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        try:
            doc = pdfium.PdfDocument(data)
            for page in doc:
                page.get_textpage().get_text_range()
        except pdfium.PdfiumError:
            pass
        bare.append(time.perf_counter() - start)
    print(f"yardstick: pdfium text of all pages, median {statistics.median(bare):.4f} s/report")
    print(f"files: {len(files)}  total: {sum(times):.2f} s  max: {max(times):.3f} s/report")
    print(f"median: {median:.4f} s/report  ({1 / median:.1f} reports/s)  target <= {TARGET} s/report: "
          f"{'met' if median <= TARGET else 'NOT met'}")
    print(f"overall throughput: {len(files) / sum(times):.1f} reports/s")
    iso = statistics.median(isolated)
    print(f"isolated (child process, as the pipeline parses): median {iso:.4f} s/report, overall "
          f"{len(files) / sum(isolated):.1f} reports/s ({iso / median - 1:+.0%} median vs in-process)")
    print(f"review: {held} held (flagged or an area not read), {noted} noted (an area read from one source)")
    return 0


def _timed(files: list[Path], *parsers) -> list[list[float]]:
    """Seconds per file for each parser, taking turns on each file."""
    times: list[list[float]] = [[] for _ in parsers]
    for path in files:
        data = path.read_bytes()  # disk reads are not the parser's cost
        for parse, out in zip(parsers, times):
            start = time.perf_counter()
            parse(data, str(path))
            out.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    sys.exit(main())
