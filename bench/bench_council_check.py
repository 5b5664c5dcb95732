#!/usr/bin/env python
"""The council check over the real documents: every file of each corpus parsed under its own
listing (the folder's URN, with and without the listing's name) must be neither held nor noted
for its council; then each listed under another council (Bury, or Durham for Bury's) shows how
many misfiled documents the check catches (the rest print names the parser could not read).

usage: bench/bench_council_check.py [CORPUS_DIR ...]   (default ../shared/corpus*)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.parse import parse_file  # noqa: E402
from etl.records import ListingMeta  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


def council_texts(record) -> list[str]:
    return [t for t in record.review_flags + record.review_notes if t.startswith("council:")]


def main() -> int:
    corpora = [Path(p) for p in sys.argv[1:]] or sorted(SHARED.glob("corpus*"))
    own = wrong = caught = misfiled = 0
    for corpus in corpora:
        for row in csv.DictReader(open(corpus / "index.csv", encoding="utf-8")):
            path, urn = corpus / row["file"], row["file"].split("_", 1)[0]
            for meta in (ListingMeta(urn=urn, local_authority=row["local_authority"]), ListingMeta(urn=urn)):
                record = parse_file(path, meta)
                own += 1
                if council_texts(record):
                    wrong += 1
                    print(f"FLAGGED under its own council: {corpus.name}/{row['file']}: {council_texts(record)}")
            record = parse_file(path, ListingMeta(urn="80465" if urn == "80443" else "80443"))
            if record.is_report:
                misfiled += 1
                caught += bool(council_texts(record))
                if not council_texts(record):
                    print(f"missed when misfiled: {corpus.name}/{row['file']}: the heading's name not read whole")
    print(f"under their own council: {own} parses, {wrong} held or noted for their council (must be 0)")
    print(f"misfiled: {caught}/{misfiled} caught")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
