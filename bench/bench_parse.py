#!/usr/bin/env python
"""Parser speed over the real documents: median s/document and documents/s, in this process and
as the pipeline parses (each file sent to the parser's child process, etl.parse.isolate), for
graded reports, focused and monitoring visit letters, JTAI letters and area SEND reports, so
that a letter (a JTAI too) is seen to parse no slower than a report; and how many documents the
parser holds for review or notes.

usage: bench/bench_parse.py [CORPUS_DIR ...]   (default ../shared/corpus, corpus-visits and
                                                corpus-jtai; target <= 0.075 s/report)
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
from etl.records import LETTER_KINDS  # noqa: E402

TARGET = 0.075


def main() -> int:
    shared = Path(__file__).resolve().parents[2] / "shared"
    corpora = [Path(p) for p in sys.argv[1:]] or [shared / "corpus", shared / "corpus-visits", shared / "corpus-jtai"]
    files = sorted(f for corpus in corpora for f in corpus.glob("*/*.pdf"))
    if not files:
        print(f"no PDFs under {', '.join(map(str, corpora))}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    parse_bytes(files[0].read_bytes(), "warm-up", settings=settings)  # imports, pdfium init
    records = []

    def in_process(data: bytes, source: str) -> None:
        records.append(parse_bytes(data, source, settings=settings))

    with ParsePool(settings) as pool:
        pool.parse_bytes(files[0].read_bytes(), "warm-up")  # the child's start-up
        # file by file, in-process then isolated: a busy machine slows both alike
        times, isolated = _timed(files, in_process, pool.parse_bytes)
    held = sum(bool(r.review_flags or r.unread_areas) for r in records)  # out of (or "not read" in) the history
    noted = sum(bool(r.review_notes) for r in records)
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
    print(f"yardstick: pdfium text of all pages, median {statistics.median(bare):.4f} s/file")
    groups = {
        "graded reports": lambda r: r.kind == "inspection" or not r.is_report,
        "visit letters": lambda r: r.kind in LETTER_KINDS and r.kind != "jtai",
        "JTAI letters": lambda r: r.kind == "jtai",
        "area SEND reports": lambda r: r.kind == "area_send",
    }
    medians = {}
    for name, member in groups.items():
        picked = [i for i, r in enumerate(records) if member(r)]
        if not picked:
            continue
        own, iso = [times[i] for i in picked], [isolated[i] for i in picked]
        medians[name] = statistics.median(own)
        print(
            f"{name}: {len(picked)} files  total {sum(own):.2f} s  max {max(own):.3f} s  "
            f"median {medians[name]:.4f} s/file ({1 / medians[name]:.1f}/s)  target <= {TARGET}: "
            f"{'met' if medians[name] <= TARGET else 'NOT met'}  |  isolated median {statistics.median(iso):.4f} s/file"
        )
    for letters in ("visit letters", "JTAI letters"):
        if "graded reports" in medians and letters in medians:
            ratio = medians[letters] / medians["graded reports"]
            print(
                f"{letters[:-1]} parses in {ratio:.2f}x the time of a graded report (median, "
                f"{medians[letters]:.4f} s against {medians['graded reports']:.4f} s): "
                f"{'no slower' if ratio <= 1 else 'SLOWER'}"
            )
    print(
        f"all: {len(files)} files, overall throughput {len(files) / sum(times):.1f} files/s in-process, "
        f"{len(files) / sum(isolated):.1f} files/s isolated"
    )
    print(f"review: {held} held (flagged or an area not read), {noted} noted")
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
