"""The parse stage: the bytes of a downloaded file -> one `ReportRecord` (the extraction
contract in ../shared/ofsted-reports.md plus provenance and review flags).

    record = parse_bytes(data, source, meta, settings)   # never raises
    record = parse_file(path, meta, settings)            # never raises

The framework is recognised from the report's title and table; each judgement is read from
the page-1 table and again from the body, and any disagreement or missing area becomes a
review flag rather than a silent choice. Files that are not reports (HTML error pages, empty,
truncated, corrupt, password-protected, not Ofsted) give `is_report=False` with a reason."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from etl.config import Settings
from etl.parse.frameworks import READERS, Reading, identify, read_letter
from etl.parse.guard import Deadline, Refused, check_size
from etl.parse.text import PdfText, sniff
from etl.records import ListingMeta, ReportRecord

__all__ = ["PARSER_VERSION", "parse_bytes", "parse_file", "parse_command"]

PARSER_VERSION = "1.1.0"
log = logging.getLogger(__name__)


def reconcile(reading: Reading) -> tuple[dict[str, str], list[str]]:
    """Judgements from the table, checked against the body. Where the two disagree the
    table's grade is kept and a flag names both; an area found only in the body is taken
    from there and flagged; an expected area found nowhere is flagged."""
    judgements, flags = {}, list(reading.flags)
    for area in reading.expected:
        table, body = reading.table.get(area), reading.body.get(area)
        if table and body and table != body:
            flags.append(f"{area}: page-1 table says {table}, body says {body}")
        if table:
            judgements[area] = table
        elif body:
            judgements[area] = body
            flags.append(f"{area}: missing from the page-1 table, read from the body ({body})")
        else:
            flags.append(f"{area}: expected judgement not found")
    return judgements, flags


def _log_unconfirmed(reading: Reading, source: str) -> None:
    """A table grade the body does not restate is not a disagreement: noted in the log only,
    since a review flag would hold the whole report out of the rating history."""
    for area in reading.expected:
        if area in reading.table and area not in reading.body and area not in ("overall_effectiveness", "lscb"):
            log.info("%s: %s has no body statement to confirm the table's grade", source, area)


def _read(data: bytes, settings: Settings) -> Reading:
    check_size(data, settings.parse_max_bytes)
    sniff(data)
    deadline = Deadline(settings.parse_timeout)
    pdf = PdfText(data, settings.parse_max_pages, deadline)
    try:
        what = identify(pdf.page(0))
        if what == "not_report":
            raise Refused("PDF is not an Ofsted children's services report")
        if what in READERS:
            reading = READERS[what](pdf)
        elif what.endswith("_visit"):
            reading = read_letter(pdf, what)
        else:
            reading = read_letter(pdf, what)
            reading.flags.append(f"Ofsted document of an unrecognised kind ({what})")
        deadline.check()
        return reading
    finally:
        pdf.close()


def parse_bytes(data: bytes, source: str, meta: ListingMeta | None = None,
                settings: Settings | None = None) -> ReportRecord:
    """Parse one file's bytes. Never raises: any failure is a not-a-report record."""
    meta = meta or ListingMeta()
    provenance = dict(source=source, parser_version=PARSER_VERSION, urn=meta.urn, url=meta.url,
                      sha256=meta.sha256)
    try:
        settings = settings or Settings.from_env()
        reading = _read(data, settings)
    except Refused as exc:
        return ReportRecord(is_report=False, reason=str(exc), **provenance)
    except Exception as exc:  # a parser bug must not stop a batch; say what happened
        log.exception("parser failed on %s", source)
        return ReportRecord(is_report=False, reason=f"parser error: {type(exc).__name__}: {exc}",
                            **provenance)
    judgements, flags = reconcile(reading)
    if reading.framework:
        _log_unconfirmed(reading, source)
    # the dates place a report in a council's history; without them it needs a person
    for name in ("inspection_start", "inspection_end"):
        if getattr(reading, name) is None:
            flags.append(f"{name}: not found")
    return ReportRecord(
        is_report=True, kind=reading.kind, framework=reading.framework,
        local_authority=reading.local_authority or meta.local_authority,
        inspection_start=reading.inspection_start, inspection_end=reading.inspection_end,
        published=reading.published or meta.published, lead_inspector=reading.lead_inspector,
        judgements=judgements, review_flags=tuple(flags), **provenance)


def parse_file(path: str | Path, meta: ListingMeta | None = None,
               settings: Settings | None = None) -> ReportRecord:
    """Parse a file on disk (size checked before reading). Never raises."""
    source = str(path)
    try:
        settings = settings or Settings.from_env()
        size = Path(path).stat().st_size
        if size > settings.parse_max_bytes:
            raise Refused(f"file too large: {size} bytes (limit {settings.parse_max_bytes})")
        data = Path(path).read_bytes()
    except (OSError, Refused) as exc:
        reason = str(exc) if isinstance(exc, Refused) else f"cannot read file: {exc}"
        meta = meta or ListingMeta()
        return ReportRecord(source=source, is_report=False, reason=reason,
                            parser_version=PARSER_VERSION, urn=meta.urn, url=meta.url,
                            sha256=meta.sha256)
    return parse_bytes(data, source, meta, settings)


def parse_command(args, settings: Settings) -> int:
    """`ofsted parse [--jsonl] PATH...`: one JSON object per path, in order, on stdout."""
    from etl.progress import track

    paths = list(args.paths)
    out = sys.stdout
    for path in track(paths, len(paths), "files", show_bar=sys.stderr.isatty() and len(paths) > 5, logger=log):
        out.write(json.dumps(parse_file(path, settings=settings).to_contract(), ensure_ascii=False) + "\n")
    out.flush()
    return 0
