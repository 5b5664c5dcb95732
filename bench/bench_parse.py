#!/usr/bin/env python
"""Parser speed over the real corpus, in one process: median s/report and reports/s; and how
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

TARGET = 0.075


def main() -> int:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "corpus")
    files = sorted(corpus.glob("*/*.pdf"))
    if not files:
        print(f"no PDFs under {corpus}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    parse_bytes(files[0].read_bytes(), "warm-up", settings=settings)  # imports, pdfium init
    times, held, noted = [], 0, 0
    for path in files:
        data = path.read_bytes()  # disk reads are not the parser's cost
        start = time.perf_counter()
        record = parse_bytes(data, str(path), settings=settings)
        times.append(time.perf_counter() - start)
        held += bool(record.review_flags or record.unread_areas)  # out of (or "not read" in) the history
        noted += bool(record.review_notes)
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
    print(f"review: {held} held (flagged or an area not read), {noted} noted (an area read from one source)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
