"""The pipeline's steps, each a plain function over typed records and references.

The Airflow DAG calls these one per task (mapping the batch steps); `ofsted run` calls them in
order in one process. Steps that write the warehouse are never mapped, so the embedded DuckDB
file (one writer at a time) works under any executor; mapped steps only touch the landing store.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date

from etl.config import Settings
from etl.progress import note, track
from etl.records import ListingMeta, Publication, Quarantined, ReportRecord, StoredFile

log = logging.getLogger(__name__)
SHOWN_CHANGES = 20  # a first run finds hundreds of historic changes; the warehouse has them all
# a download task holds about this many seconds of requests at the configured rate: tasks run
# one at a time, so the gap between two (scheduling, start-up) stays a small share of the run
DOWNLOAD_TASK_SECONDS = 120


EXIT_COUNCILS_MISSING = 1  # the run went on without a council asked for: the site does not list it
OPERATORS_TITLE = "ofsted_ingest: pages or files need attention"


@dataclass
class RunSummary:
    """The run report: `ofsted run` and the DAG build it from the same parts (each step's
    `*_part`, JSON-safe: the DAG's tasks pass them on through XCom), render it with `lines`,
    and page the operators by the one rule, `pages_operators`."""

    run_id: str
    councils: int = 0
    missing_councils: list[str] = field(default_factory=list)  # "no council 80557 on the site": asked for, not listed
    publications: int = 0
    pages_read: int = 0  # council pages read this run (etl.crawl.pages_to_read)
    new_publications: int = 0  # publications first listed this run
    crawl_notes: list[str] = field(default_factory=list)  # untrusted dates, a listing without them, ...
    unread_pages: list[str] = field(default_factory=list)  # council pages that failed: read next run
    downloaded: int = 0
    quarantined: list[str] = field(default_factory=list)  # "url: reason"
    newly_quarantined: int = 0  # quarantined for the first time this run
    refused_links: list[str] = field(default_factory=list)  # links first refused this run: "council: title: reason"
    parsed: int = 0
    not_reports: list[str] = field(default_factory=list)  # "council (urn), published date, url: reason"
    parse_retries: list[str] = field(default_factory=list)  # failed parses, tried again next run
    unreadable: list[str] = field(default_factory=list)  # failed parses given up on
    flagged: list[str] = field(default_factory=list)  # "council (urn), published date, url: flags"
    held: int = 0  # of those, re-parses held for review
    priority_actions: list[str] = field(default_factory=list)  # letters read that set out areas for priority action
    changes: list[str] = field(default_factory=list)  # one line per new change
    retracted: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    failed_checks: list[str] = field(default_factory=list)  # data-quality checks after load

    def add(self, part: dict) -> RunSummary:
        """One step's part of the report (counts add up, lists extend: mapped tasks' parts too)."""
        for name, value in part.items():
            setattr(self, name, getattr(self, name) + value)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunSummary:
        return cls(**data)

    def lines(self) -> list[str]:
        out = [
            f"run {self.run_id}: {self.councils} councils, {self.pages_read} council pages read, "
            f"{self.publications} publications listed on them ({self.new_publications} new), "
            f"{self.downloaded} new files, {self.parsed} parsed, {len(self.changes)} rating changes, "
            f"{self.alerts_sent} alerts sent"
        ]
        out += [f"  {m}" for m in self.missing_councils]
        out += [f"  crawl        {n}" for n in self.crawl_notes]
        out += [f"  unread page  {e}" for e in self.unread_pages]
        out += [f"  quarantined  {q}" for q in self.quarantined]
        out += [f"  link refused {r}" for r in self.refused_links]
        out += [f"  not a report {n}" for n in self.not_reports]
        out += [f"  parse failed {r}" for r in self.parse_retries]
        out += [f"  UNREADABLE   {u}" for u in self.unreadable]
        out += [f"  needs review {f}" for f in self.flagged]
        out += [f"  PRIORITY ACTION {p}" for p in self.priority_actions]
        out += [f"  change       {c}" for c in self.changes[:SHOWN_CHANGES]]
        if len(self.changes) > SHOWN_CHANGES:
            out.append(f"  ... and {len(self.changes) - SHOWN_CHANGES} more changes: `ofsted query changes`")
        if self.retracted:
            out.append(f"  {self.retracted} earlier change(s) retracted after re-parsing")
        if self.alerts_failed:
            out.append(f"  {self.alerts_failed} alert deliveries failed; they are retried next run")
        out += [f"  check failed {c}" for c in self.failed_checks]
        return out

    def pages_operators(self) -> bool:
        """Whether the operators are sent this report. They hear of each problem once: a file
        still quarantined from an earlier run is in the report but does not page them again;
        parse problems only arise on new parses; a failed parse only once it is given up on (it
        is retried before that); a council page that could not be read, or a council asked for
        that the site does not list, is reported for each run it happens."""
        return any(
            (
                self.missing_councils,
                self.unread_pages,
                self.newly_quarantined,
                self.refused_links,
                self.not_reports,
                self.flagged,
                self.unreadable,
                self.alerts_failed,
                self.failed_checks,
            )
        )

    def exit_code(self) -> int:
        """What `ofsted run` and `make run` exit with after the run: not 0 when it went on
        without a council asked for (a name mistyped, a URN the site does not list)."""
        return EXIT_COUNCILS_MISSING if self.missing_councils else 0

    def metrics(self) -> dict[str, int]:
        """The counts etl.metrics sends."""
        return {
            "councils_read": self.pages_read,
            "publications_found": self.new_publications,
            "files_parsed": self.parsed,
            "held": self.held,
            "alerts_sent": self.alerts_sent,
        }


def new_run_id() -> str:
    return f"manual__{uuid.uuid4().hex[:12]}"


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)] if items else []


def download_batches(items: list, settings: Settings) -> list[list]:
    """Batches for the download tasks: at least batch_size, or about DOWNLOAD_TASK_SECONDS of
    requests. A task killed mid-batch loses nothing (its retry skips what the store holds)."""
    size = max(settings.batch_size, int(settings.requests_per_second * DOWNLOAD_TASK_SECONDS))
    return batches(items, size)


def _warehouse(settings: Settings):
    from etl.warehouse import connect

    return connect(settings.warehouse_url)


def council_urns(settings: Settings, councils: list[str] | None) -> list[str] | None:
    """A run's councils, as a person named them (URNs or names), as URNs (etl.councils);
    CouncilNotFound, naming the closest, for a name that names no council or several."""
    if not councils:
        return councils
    from etl.councils import directory_for, run_councils

    return run_councils(councils, lambda: directory_for(settings.warehouse_url))


def begin(settings: Settings, run_id: str) -> None:
    """Create or upgrade the warehouse schema, load the shipped council reference, open the run."""
    from etl import reference
    from etl.load import start_run
    from etl.warehouse import migrate

    with _warehouse(settings) as wh:
        migrate(wh)
        reference.sync(wh)
        start_run(wh, run_id)


@dataclass
class Discovered:
    """What the crawl step found (etl.crawl.crawl, recorded in the warehouse)."""

    councils: int
    publications: list[Publication]  # on the pages read, and earlier ones never stored: to download
    unread: list[str]  # council pages that could not be read: read again next run
    refused: list[str]  # links refused for the first time: operators hear of each once
    pages_read: int = 0
    listed: int = 0  # publications listed on the pages read
    new_publications: int = 0
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "no council 80557 on the site": asked for, not listed

    def summary_fields(self) -> dict:
        """The crawl's part of the run report (RunSummary.add)."""
        return {
            "councils": self.councils,
            "missing_councils": self.missing,
            "publications": self.listed,
            "unread_pages": self.unread,
            "refused_links": self.refused,
            "pages_read": self.pages_read,
            "new_publications": self.new_publications,
            "crawl_notes": self.notes,
        }


def discover(
    settings: Settings, run_id: str, *, councils: list[str] | None = None, limit: int | None = None, now=None
) -> Discovered:
    """Crawl the site, reading the council pages the warehouse's crawl state calls for
    (etl.crawl.pages_to_read), and record councils, publications and that state."""
    from datetime import datetime

    from etl.crawl import crawl, not_on_site
    from etl.landing import LandingStore
    from etl.load import (
        crawl_state,
        load_councils,
        load_publications,
        refused_links,
        save_crawl_state,
        unstored_publications,
    )

    councils = council_urns(settings, councils)  # names resolved, URNs checked: before any request
    now = now or datetime.now()
    with _warehouse(settings) as wh:
        state = crawl_state(wh)
    result = crawl(
        settings,
        councils=councils or None,
        limit=limit,
        pages=LandingStore.from_settings(settings),
        state=state,
        now=now,
    )
    with _warehouse(settings) as wh, wh.transaction():  # a council's first listing and its baseline at once
        known = {row["url"] for row in refused_links(wh)}
        load_councils(wh, result.councils, run_id, unread=result.unread)
        load_publications(wh, result.publications, run_id)
        save_crawl_state(wh, result, now)
        new = wh.fetchone("SELECT count(*) FROM publications WHERE first_seen_run = ?", [run_id])[0]
        pending = unstored_publications(wh, except_councils=result.plan.reasons)
    refused = [
        f"{p.local_authority} ({p.urn}): {p.title}: {p.link_refused}"
        for p in result.publications
        if p.link_refused and p.url not in known
    ]
    read = len(result.plan.reasons) - len(result.failed)
    log.info(
        "discovered %d councils, read %d council pages (%s), %d publications listed on them",
        len(result.councils),
        read,
        _reasons(result.plan.reasons),
        len(result.publications),
    )
    note(
        f"{len(result.councils)} councils, {read} pages read, {len(result.publications)} publications listed"
        + (f", {len(result.errors)} council pages unread" if result.errors else "")
    )
    return Discovered(
        len(result.councils),
        result.publications + pending,
        result.errors,
        refused,
        read,
        len(result.publications),
        new,
        result.plan.notes,
        [not_on_site(u) for u in result.missing],
    )


def known_crawl_state(settings: Settings):
    """The warehouse's crawl state, read only, if there is a warehouse with one (else None:
    every page is read)."""
    from etl.load import crawl_state
    from etl.warehouse import exists

    if not exists(settings.warehouse_url):
        return None
    with _warehouse(settings) as wh:
        return crawl_state(wh) if wh.has_table("council_pages") else None


def _reasons(reasons: dict[str, str]) -> str:
    from collections import Counter

    return ", ".join(f"{n} {why}" for why, n in Counter(reasons.values()).most_common()) or "none"


def to_download(publications: list[Publication], since: date | None = None) -> list[Publication]:
    """Publications worth fetching: every listed file whose link may be fetched (etl.links), or
    those published on/after `since`."""
    return [p for p in publications if not p.link_refused and (since is None or (p.published and p.published >= since))]


def download(
    settings: Settings, publications: list[Publication], *, retry_quarantined: bool = False
) -> tuple[list[StoredFile], list[Quarantined]]:
    """Fetch one batch into the landing store (no warehouse writes: safe to map)."""
    from etl.download import download_new

    result = download_new(publications, settings, progress=False, retry_quarantined=retry_quarantined)
    note(
        f"{len(result.stored)} files stored, {len(result.quarantined)} quarantined, {result.skipped} already "
        f"stored, {result.deferred} quarantined and not yet due"
    )
    return result.stored, result.quarantined


def record_downloads(settings: Settings, stored: list[StoredFile], quarantined: list[Quarantined]) -> int:
    """Record this run's downloads, and adopt any file the landing store holds that the warehouse
    does not: a download task killed after storing a file (or a re-issued file's new version)
    but before returning it would otherwise leave that file unrecorded for good (its retry, and
    every later run, skip it as stored). Returns how many such files were adopted."""
    from etl.landing import LandingStore
    from etl.load import current_files, load_downloads, unrecorded_urls

    store = LandingStore.from_settings(settings)
    with _warehouse(settings) as wh:
        load_downloads(wh, stored, quarantined)
        recorded = current_files(wh, settings.revalidate_days)  # URL -> sha256 of recent files
        candidates = unrecorded_urls(wh) + sorted(recorded)
        adopted = [
            f for f in map(store.known, candidates) if f is not None and recorded.get(f.publication.url) != f.sha256
        ]
        if adopted:
            log.warning("adopting %d stored file(s) an interrupted download never recorded", len(adopted))
            load_downloads(wh, adopted, [])
    return len(adopted)


def plan_parse(settings: Settings, *, reparse: bool = False, councils: list[str] | None = None) -> list[StoredFile]:
    """Stored files that have no report at the current parser version (all of them with reparse)."""
    from etl.load import files_to_parse
    from etl.parse import PARSER_VERSION

    councils = council_urns(settings, councils)
    with _warehouse(settings) as wh:
        return files_to_parse(wh, PARSER_VERSION, reparse_all=reparse, councils=councils or None)


def parse(settings: Settings, files: list[StoredFile]) -> list[ReportRecord]:
    """Parse one batch of stored files (reads the landing store only: safe to map), each in the
    parser's child process: a file that crashes it or runs out of time fails alone."""
    from etl.landing import LandingStore
    from etl.parse.isolate import ParsePool, failed_record

    store = LandingStore.from_settings(settings)
    records = []
    with ParsePool(settings) as pool:
        for f in track(files, len(files), "files", show_bar=False, logger=log):
            p = f.publication
            meta = ListingMeta(
                urn=p.urn,
                local_authority=p.local_authority,
                published=p.published,
                url=p.url,
                kind=p.kind,
                sha256=f.sha256,
            )
            source = store.object_uri(f.sha256)  # where the configured store keeps it now
            try:
                data = store.read_object(f.sha256)
            except OSError as exc:  # missing or damaged: a failure, retried
                records.append(failed_record(source, f"cannot read the stored file: {exc}", meta))
                continue
            record, pages = pool.parse_with_text(data, source, meta)
            if pages:  # the load stores it for search: kept beside the file, not passed along
                store.save_text(f.sha256, record.parser_version, pages)
            records.append(record)
    return records


def load_reports(settings: Settings, records: list[ReportRecord], run_id: str):
    """Load parsed records, one transaction per batch, with the page text their parse kept in
    the landing store (for search). Returns an etl.load.LoadResult."""
    from etl import load
    from etl.landing import LandingStore
    from etl.search import sync_index

    store = LandingStore.from_settings(settings)
    total = load.LoadResult()
    with _warehouse(settings) as wh:
        for batch in batches(records, 200):
            total += load.load_reports(wh, batch, run_id, texts=store.read_text)
        sync_index(wh)
    return total


def detect_changes(settings: Settings, run_id: str):
    from etl.changes import refresh

    with _warehouse(settings) as wh:
        return refresh(wh, run_id)


def check_warehouse(settings: Settings) -> list[str]:
    """The data-quality checks (etl/checks.py); returns one line per failed check."""
    from etl.checks import failed_lines, run_checks

    with _warehouse(settings) as wh:
        failed = failed_lines(run_checks(wh))
    for line in failed:
        log.warning("data-quality check failed: %s", line)
    return failed


def send_alerts(settings: Settings, *, include_baseline: bool = False):
    """Send what the subscriptions select (OFSTED_ALERT_URLS, the rules file, the connection)."""
    from etl.alert import send_alerts as deliver
    from etl.alert.rules import council_directory, rules_from_settings

    with _warehouse(settings) as wh:
        directory = council_directory(wh)
        return deliver(wh, rules_from_settings(settings, directory), directory, include_baseline=include_baseline)


def overlapping_run(settings: Settings, run_id: str, due) -> str | None:
    """Another run in flight when this one became due (etl.load.overlapping_run). A warehouse
    that cannot say (none yet, or down) lets the run go on: its begin step reports the problem."""
    from etl.load import overlapping_run as other

    try:
        with _warehouse(settings) as wh:
            return other(wh, run_id, due)
    except Exception as exc:
        from etl.redact import redact

        log.warning("could not check the warehouse for a run in flight: %s", redact(exc))
        return None


def check_freshness(settings: Settings, now=None) -> str | None:
    """The operators' staleness notice or recovery message, when due (etl.freshness). Never
    raises: a run must not fail because the notice could not be checked."""
    from etl.freshness import check_stale

    try:
        with _warehouse(settings) as wh:
            return check_stale(wh, settings.ops_alert_urls, settings.stale_hours, now)
    except Exception as exc:
        from etl.redact import redact

        log.error("could not check whether runs have stopped succeeding: %s", redact(exc))
        return None


def finish(settings: Settings, run_id: str, status: str = "success") -> None:
    from etl.load import finish_run

    with _warehouse(settings) as wh:
        finish_run(wh, run_id, status)


def describe_change(event) -> str:
    return (
        f"{event.local_authority} ({event.urn}) {event.area}: {event.previous_grade} -> {event.grade} "
        f"({event.direction}, published {event.published})"
    )


# -- the run report: each step's part (RunSummary.add), and how a run that succeeded is closed --
def downloads_part(stored: list[StoredFile], quarantined: list[Quarantined], adopted: int) -> dict:
    return {
        "downloaded": len(stored) + adopted,
        "quarantined": [f"{q.publication.url}: {q.reason}" for q in quarantined],
        "newly_quarantined": sum(q.attempts == 1 for q in quarantined),
    }


def records_part(records: list[ReportRecord], loaded=None) -> dict:
    """What the run's parses found; with `loaded` (an etl.load.LoadResult), what the load held
    back: failed parses (retried, or given up on) and re-parses held for review."""
    part = {
        "parsed": len(records),
        "not_reports": [f"{r.label()}: {r.reason}" for r in records if not r.is_report and not r.failed],
        "flagged": [
            f"{r.label()}: {'; '.join(r.review_flags + tuple(f'{a}: not read' for a in r.unread_areas))}"
            for r in records
            if r.review_flags or r.unread_areas
        ],
        "priority_actions": [
            f"{r.label()}: {r.kind} sets out {r.visit.priority_actions} area(s) for priority action"
            for r in records
            if r.is_report and r.visit and r.visit.priority_actions
        ],
    }
    if loaded is not None:
        part.update(parse_retries=loaded.retrying, unreadable=loaded.unreadable, held=len(loaded.held))
        part["flagged"] += loaded.held
    return part


def summarise_records(summary: RunSummary, records: list[ReportRecord], loaded=None) -> None:
    summary.add(records_part(records, loaded))


def changes_part(refreshed) -> dict:
    return {"changes": [describe_change(e) for e in refreshed.new], "retracted": len(refreshed.retracted)}


def alerts_part(result) -> dict:
    return {"alerts_sent": result.sent, "alerts_failed": result.failed}


def close_run(settings: Settings, summary: RunSummary) -> None:
    """Mark the run succeeded and report it: the operators get the report when it says
    something needs their attention (RunSummary.pages_operators)."""
    finish(settings, summary.run_id, "success")
    check_freshness(settings)  # after a stretch without success: the recovery message
    if summary.pages_operators():
        from etl.alert import notify_operators

        notify_operators(list(settings.ops_alert_urls), OPERATORS_TITLE, "\n".join(summary.lines()))


def run_once(
    settings: Settings,
    *,
    run_id: str | None = None,
    councils: list[str] | None = None,
    limit: int | None = None,
    since: date | None = None,
    reparse: bool = False,
    historic_alerts: bool = False,
    retry_quarantined: bool = False,
    now=None,
) -> RunSummary:
    """The whole pipeline in this process, step by step as the DAG runs it, and its report."""
    summary = RunSummary(run_id or new_run_id())
    begin(settings, summary.run_id)
    check_freshness(settings)
    try:
        found = discover(settings, summary.run_id, councils=councils, limit=limit, now=now)
        summary.add(found.summary_fields())
        stored, quarantined = download(
            settings, to_download(found.publications, since), retry_quarantined=retry_quarantined
        )
        summary.add(downloads_part(stored, quarantined, record_downloads(settings, stored, quarantined)))
        records = parse(settings, plan_parse(settings, reparse=reparse, councils=councils))
        summary.add(records_part(records, load_reports(settings, records, summary.run_id)))
        summary.add(changes_part(detect_changes(settings, summary.run_id)))
        summary.add({"failed_checks": check_warehouse(settings)})
        summary.add(alerts_part(send_alerts(settings, include_baseline=historic_alerts)))
    except BaseException as exc:
        finish(settings, summary.run_id, "stopped" if isinstance(exc, KeyboardInterrupt) else "failed")
        raise
    close_run(settings, summary)
    return summary
