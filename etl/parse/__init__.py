"""The parse stage: the bytes of a downloaded file -> one `ReportRecord` (the extraction
contract in ../shared/ofsted-reports.md plus provenance and review flags).

    record = parse_bytes(data, source, meta, settings)   # never raises
    record = parse_file(path, meta, settings)            # never raises

The framework is recognised from the report's title and table; each judgement is read from
the page-1 table and again from the body. Letters (focused and monitoring visits, JTAIs) and
area SEND reports are read by `letters` (a letter's `visit`: what it looked at, its areas for
priority action; a SEND report's outcome); they are never held for their kind. Only a real conflict (the two disagree; framework,
council or dates unknown) is a review flag that holds the report; an area read once is a
note, an area the report does not judge is absent, a required area not read is "unread".
Files that are not reports (HTML error pages, empty, truncated, corrupt, password-protected,
not Ofsted) give `is_report=False` with a reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from etl import reference
from etl.config import Settings
from etl.links import one_line
from etl.parse.frameworks import READERS, Reading, identify
from etl.parse.guard import Deadline, Refused, TimeLimit, check_size
from etl.parse.improvements import Improvements, read_improvements
from etl.parse.letters import read_area_send, read_letter
from etl.parse.text import PdfText, sniff
from etl.records import LETTER_KINDS, REQUIRED_AREAS, ListingMeta, ReportRecord

__all__ = ["PARSER_VERSION", "parse_bytes", "parse_with_text", "parse_file"]

# 1.4: every page's text kept for search; JTAIs read; 1.5: improvement points; 1.6: ILACS inspection_type
PARSER_VERSION = "1.6.0"
log = logging.getLogger(__name__)


# areas each layout states once (the page-1 table, or the SIF headline): no second source
STATED_ONCE = frozenset({"overall_effectiveness", "lscb", "area_send_outcome"})


@dataclass
class Reconciled:
    judgements: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)  # real conflicts: the report is held
    notes: list[str] = field(default_factory=list)  # the report counts; worth a glance
    unread: list[str] = field(default_factory=list)  # required areas not read
    readings: dict[str, dict[str, str | None]] = field(default_factory=dict)


def reconcile(reading: Reading) -> Reconciled:
    """Judgements from the table, checked against the body. Only a disagreement holds the
    report (flag naming both; the table's grade is kept for a reviewer to accept). An area
    read from one source counts, with a note; an area the report does not judge is absent;
    a required area not read is listed in `unread`."""
    out = Reconciled(flags=list(reading.flags))
    for area in reading.expected:
        table, body = reading.table.get(area), reading.body.get(area)
        if not (table or body):
            continue
        out.readings[area] = {"table": table, "body": body}
        out.judgements[area] = table or body
        if table and body and table != body:
            out.flags.append(f"{area}: page-1 table says {table}, body says {body}")
        elif not (table and body) and area not in STATED_ONCE:
            out.notes.append(f"{area}: read from the {'page-1 table' if table else 'body'} only ({table or body})")
    required = REQUIRED_AREAS.get(reading.framework, ())
    out.unread = [a for a in required if a in reading.expected and a not in out.judgements]
    return out


def _read(data: bytes, settings: Settings, pages: list[str] | None = None) -> tuple[Reading, Improvements]:
    """The file's reading and its improvement points; with `pages`, every page's text is
    appended to it (for search)."""
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
        elif what == "area_send":
            reading = read_area_send(pdf)
        elif what in LETTER_KINDS:
            reading = read_letter(pdf, what)
        else:  # an Ofsted document of a kind not told by its title: read, listed, never held for it
            reading = read_letter(pdf, what)
            reading.notes.append("kind: an Ofsted document of a kind not recognised from its title")
        improvements = read_improvements(pdf, reading.kind, reading.framework)
        if pages is not None:
            pages += [pdf.page(i) for i in range(pdf.pages)]  # pages already read are cached
        deadline.check()
        return reading, improvements
    finally:
        pdf.close()


def listed_council(meta: ListingMeta) -> str | None:
    """The council the listing files a document under: its name there, else the reference's."""
    council = reference.by_urn().get(meta.urn) if meta.urn else None
    return meta.local_authority or (council.name if council else None)


def check_council(reading: Reading, meta: ListingMeta, found: Reconciled) -> None:
    """A document that names a council other than its listing's: a graded one is held (its
    grades would move another council's history, or be a misfiled report), a letter noted."""
    if not reading.local_authority or not reference.names_another_council(
        reading.local_authority, meta.urn, meta.local_authority
    ):
        return
    listed = listed_council(meta) or "?"
    where = f"{listed} ({meta.urn})" if meta.urn else listed
    text = f"council: names {one_line(reading.local_authority)[:80]}; listed under {one_line(where)}"
    (found.flags if reading.expected else found.notes).append(text)


def parse_bytes(
    data: bytes, source: str, meta: ListingMeta | None = None, settings: Settings | None = None
) -> ReportRecord:
    """Parse one file's bytes. Never raises: any failure is a not-a-report record."""
    return _parse(data, source, meta, settings)


def parse_with_text(
    data: bytes, source: str, meta: ListingMeta | None = None, settings: Settings | None = None
) -> tuple[ReportRecord, list[str]]:
    """parse_bytes, and every page's cleaned text (none for a file that is not a report)."""
    pages: list[str] = []
    record = _parse(data, source, meta, settings, pages)
    return record, pages if record.is_report else []


def _parse(
    data: bytes, source: str, meta: ListingMeta | None, settings: Settings | None, pages: list[str] | None = None
) -> ReportRecord:
    meta = meta or ListingMeta()
    provenance = dict(
        source=source,
        parser_version=PARSER_VERSION,
        urn=meta.urn,
        url=meta.url,
        sha256=meta.sha256,
        published=meta.published,
        local_authority=meta.local_authority,
    )
    try:
        settings = settings or Settings.from_env()
        reading, improvements = _read(data, settings, pages)
    except Refused as exc:
        return ReportRecord(is_report=False, reason=str(exc), failed=isinstance(exc, TimeLimit), **provenance)
    except Exception as exc:  # a parser bug must not stop a batch; say what happened (and retry)
        log.exception("parser failed on %s", meta.url or source)
        return ReportRecord(
            is_report=False, reason=f"parser error: {type(exc).__name__}: {exc}", failed=True, **provenance
        )
    found = reconcile(reading)
    found.notes += reading.notes
    if improvements.note:
        found.notes.append(improvements.note)
    # the council and dates place a report in a council's history; without them it needs a person
    # (a document of no known kind has no place there to hold it from)
    for name in ("inspection_start", "inspection_end"):
        if getattr(reading, name) is None and reading.kind != "other" and not reading.dates_flagged:
            found.flags.append(f"{name}: not found")
    check_council(reading, meta, found)
    # the listing files a document under its council: the document's own words never move it
    provenance["local_authority"] = listed_council(meta) or reading.local_authority
    if not (provenance["local_authority"] or meta.urn):
        found.flags.append("council: not found")
    provenance["published"] = reading.published or meta.published
    return ReportRecord(
        is_report=True,
        kind=reading.kind,
        framework=reading.framework,
        inspection_start=reading.inspection_start,
        inspection_end=reading.inspection_end,
        lead_inspector=reading.lead_inspector,
        judgements=found.judgements,
        review_flags=tuple(found.flags),
        review_notes=tuple(found.notes),
        unread_areas=tuple(found.unread),
        readings=found.readings,
        visit=reading.visit,
        improvements=improvements.items,
        inspection_type=reading.inspection_type,
        **provenance,
    )


def parse_file(path: str | Path, meta: ListingMeta | None = None, settings: Settings | None = None) -> ReportRecord:
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
        return ReportRecord(
            source=source,
            is_report=False,
            reason=reason,
            parser_version=PARSER_VERSION,
            urn=meta.urn,
            url=meta.url,
            sha256=meta.sha256,
        )
    return parse_bytes(data, source, meta, settings)
