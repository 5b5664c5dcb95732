"""The load stage: typed records -> warehouse. Every call is one transaction (all or nothing)
and idempotent: upserts keyed on natural keys (ON CONFLICT), so loading the same records twice,
or concurrently from several workers on Postgres, leaves the same rows."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from etl.links import one_line
from etl.records import (
    AREA_SEND_OUTCOMES,
    FRAMEWORK_AREAS,
    FRAMEWORKS,
    GRADES,
    INSPECTION_TYPES,
    JTAI_THEMES,
    KINDS,
    VISIT_AREAS,
    Council,
    Publication,
    Quarantined,
    ReportRecord,
    StoredFile,
    from_dict,
    to_dict,
)
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


# -- runs ------------------------------------------------------------------------------
def start_run(wh: Warehouse, run_id: str) -> None:
    """Record a pipeline run as started (again: a retried start keeps the first start time)."""
    with wh.transaction():
        wh.insert_rows(
            "pipeline_runs",
            ("run_id", "started_at", "status"),
            [(run_id, datetime.now(), "running")],
            conflict=("run_id",),
        )


RUN_STATUSES = ("success", "failed", "stopped")  # 'stopped': by a person or a signal


def finish_run(wh: Warehouse, run_id: str, status: str = "success") -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {', '.join(RUN_STATUSES)}, not {status!r}")
    now = datetime.now()
    with wh.transaction():
        wh.insert_rows(
            "pipeline_runs",
            ("run_id", "started_at", "finished_at", "status"),
            [(run_id, now, now, status)],
            conflict=("run_id",),
            update=("finished_at", "status"),
        )


def stop_run(wh: Warehouse, run_id: str) -> bool:
    """Mark a run stopped if it is still marked running (a run that got as far as finishing
    keeps its status). Returns whether it was marked."""
    with wh.transaction():
        running = wh.fetchall("SELECT 1 FROM pipeline_runs WHERE run_id = ? AND status = 'running'", [run_id])
        if running:
            wh.execute(
                "UPDATE pipeline_runs SET status = 'stopped', finished_at = ? WHERE run_id = ?",
                [datetime.now(), run_id],
            )
    return bool(running)


def overlapping_run(wh: Warehouse, run_id: str, due: datetime) -> str | None:
    """Another run that was in flight when this one became due (started before, and still
    running or finished after): this one then waited in a queue and is skipped, not run late.
    A run left 'running' by a killed process stops counting after OVERLAP_HOURS."""
    row = wh.fetchone(
        "SELECT run_id FROM pipeline_runs WHERE run_id <> ? AND started_at <= ?"
        " AND (finished_at > ? OR (status = 'running' AND started_at > ?))"
        " ORDER BY started_at DESC LIMIT 1",
        [run_id, due, due, due - timedelta(hours=OVERLAP_HOURS)],
    )
    return row[0] if row else None


OVERLAP_HOURS = 6  # longer than any run takes (tasks time out at 30 minutes, a few at a time)


# -- listing ---------------------------------------------------------------------------
def load_councils(wh: Warehouse, councils: list[Council], run_id: str | None = None, unread: Iterable[str] = ()) -> int:
    """Upsert councils. The first run to read a council's page (not in `unread`) is recorded
    once as its first_listed_run: the publications listed then are its alert baseline."""
    now, unread = datetime.now(), set(unread)
    rows = {c.urn: (c.urn, c.name, c.url, now, now, None if c.urn in unread else run_id) for c in councils}
    with wh.transaction():
        return wh.insert_rows(
            "councils",
            ("urn", "name", "url", "first_seen", "last_seen", "first_listed_run"),
            rows.values(),
            conflict=("urn",),
            update=(
                "name",
                "url",
                "last_seen",
                "first_listed_run = COALESCE(councils.first_listed_run, EXCLUDED.first_listed_run)",
            ),
        )


def crawl_state(wh: Warehouse):
    """What the crawl needs to choose the pages it reads (etl.crawl.CrawlState)."""
    from etl.crawl import CrawlState, PageState

    pages = {
        urn: PageState(latest, read_at, failed_at is not None)
        for urn, latest, read_at, failed_at in wh.fetchall(
            "SELECT urn, listed_latest, read_at, failed_at FROM council_pages"
        )
    }
    known = wh.fetchone("SELECT count(*) FROM councils")[0]
    sweep = wh.fetchone("SELECT swept_at, carry FROM crawl_sweep WHERE id = 1")
    return CrawlState(pages, known, *(sweep or (None, 0.0)))


def unstored_publications(wh: Warehouse, except_councils: Iterable[str] = ()) -> list[Publication]:
    """Publications listed by earlier runs whose file the warehouse has never stored (a
    quarantined download, a run stopped first), of councils whose page this run did not read:
    their download is tried as if listed again (when due, as ever)."""
    skip = set(except_councils)
    rows = wh.fetchall(
        "SELECT p.urn, COALESCE(c.name, p.local_authority), p.kind, p.title, p.published, p.url"
        " FROM publications p LEFT JOIN councils c ON c.urn = p.urn"
        " WHERE p.link_refused IS NULL AND NOT EXISTS (SELECT 1 FROM stored_files s WHERE s.url = p.url)"
        " ORDER BY p.urn, p.url"
    )
    return [Publication(*row) for row in rows if row[0] not in skip]


def save_crawl_state(wh: Warehouse, result, now: datetime) -> None:
    """After a crawl: the pages read (with the "Latest report" text they were read at), the
    pages that failed (read again next run), and the sweep's position."""
    latest = {c.urn: c.latest for c in result.councils}
    read = [(urn, latest.get(urn), now, None) for urn in result.plan.reasons if urn not in result.failed]
    with wh.transaction():
        wh.insert_rows(
            "council_pages",
            ("urn", "listed_latest", "read_at", "failed_at"),
            read,
            conflict=("urn",),
            update=(
                "listed_latest = COALESCE(EXCLUDED.listed_latest, council_pages.listed_latest)",
                "read_at",
                "failed_at",
            ),
        )
        wh.insert_rows(
            "council_pages",
            ("urn", "failed_at"),
            [(urn, now) for urn in result.failed],
            conflict=("urn",),
            update=("failed_at",),
        )
        if result.plan.swept_at is not None:
            wh.insert_rows(
                "crawl_sweep",
                ("id", "swept_at", "carry"),
                [(1, result.plan.swept_at, result.plan.carry)],
                conflict=("id",),
                update=("swept_at", "carry"),
            )


def _publication_rows(publications, run_id: str | None, now: datetime) -> list[tuple]:
    rows = {}
    for p in publications:
        if p.kind not in KINDS:
            raise ValueError(f"publication {p.url}: unknown kind {p.kind!r} (expected one of {KINDS})")
        rows[p.url] = (p.url, p.urn, p.local_authority, p.kind, p.title, p.published, now, run_id, now, p.link_refused)
    return list(rows.values())


_PUB_COLS = (
    "url",
    "urn",
    "local_authority",
    "kind",
    "title",
    "published",
    "first_seen",
    "first_seen_run",
    "last_seen",
    "link_refused",
)


def load_publications(wh: Warehouse, publications: list[Publication], run_id: str) -> int:
    """Upsert publications; first_seen / first_seen_run are set once, by the first run to list one."""
    rows = _publication_rows(publications, run_id, datetime.now())
    with wh.transaction():
        n = wh.insert_rows(
            "publications",
            _PUB_COLS,
            rows,
            conflict=("url",),
            update=(
                "urn",
                "local_authority",
                "kind",
                "title",
                "published",
                "last_seen",
                "link_refused",
                # recorded earlier by load_downloads without a run: this run found it
                "first_seen_run = COALESCE(publications.first_seen_run, EXCLUDED.first_seen_run)",
            ),
        )
    log.info("load: %d publications", n)
    return n


def refused_links(wh: Warehouse) -> list[dict]:
    """Publications whose link the link rule refused (etl.links): the URL as text, and why."""
    names, rows = wh.query(
        "SELECT p.url, p.urn, COALESCE(c.name, p.local_authority) AS council, p.title,"
        " p.published, p.link_refused FROM publications p LEFT JOIN councils c ON c.urn = p.urn"
        " WHERE p.link_refused IS NOT NULL ORDER BY council, p.published, p.url"
    )
    return [dict(zip(names, row)) for row in rows]


# -- downloads -------------------------------------------------------------------------
def load_downloads(wh: Warehouse, stored: list[StoredFile], quarantined: list[Quarantined]) -> int:
    """Record stored files and quarantined downloads (with their reason). A stored file marks an
    earlier quarantine of its URL resolved; nothing is deleted."""
    now = datetime.now()
    pubs = [f.publication for f in stored] + [q.publication for q in quarantined]
    files = {
        (f.sha256, f.publication.url): (
            f.sha256,
            f.publication.url,
            f.uri,
            f.size,
            f.fetched_at,
            f.etag,
            f.last_modified,
        )
        for f in stored
    }
    stored_urls = {f.publication.url for f in stored}
    quarantine = {
        q.publication.url: (q.publication.url, q.reason, q.uri, q.fetched_at, q.attempts)
        for q in quarantined
        if q.publication.url not in stored_urls
    }
    with wh.transaction():
        # the listing may not be loaded yet: make sure every file's publication is represented
        wh.insert_rows("publications", _PUB_COLS, _publication_rows(pubs, None, now), conflict=("url",))
        wh.insert_rows(
            "stored_files",
            ("sha256", "url", "uri", "size", "fetched_at", "etag", "last_modified"),
            files.values(),
            conflict=("sha256", "url"),
        )
        wh.insert_rows(
            "quarantined_downloads",
            ("url", "reason", "uri", "fetched_at", "attempts"),
            quarantine.values(),
            conflict=("url",),
            update=("reason", "uri", "fetched_at", "attempts"),
        )
        if stored_urls:
            wh.execute(
                "UPDATE quarantined_downloads SET resolved_at = ? WHERE resolved_at IS NULL"
                " AND url IN (SELECT unnest(CAST(? AS TEXT[])))",
                [now, sorted(stored_urls)],
            )
            _supersede_older_versions(wh, sorted(stored_urls), now)
    log.info("load: %d stored files, %d quarantined downloads", len(files), len(quarantine))
    return len(files) + len(quarantine)


def _supersede_older_versions(wh: Warehouse, urls: list[str], now: datetime) -> None:
    """Per URL, the file fetched last is current and every other version is superseded by it
    (a re-issued report; back to an earlier body, that one is current again). A report is
    superseded when no current file holds its bytes."""
    rows = wh.fetchall(
        "SELECT url, sha256, superseded_by FROM stored_files"
        " WHERE url IN (SELECT unnest(CAST(? AS TEXT[]))) ORDER BY url, fetched_at DESC, sha256",
        [urls],
    )
    current: dict[str, str] = {}
    for url, sha, superseded_by in rows:
        newest = current.setdefault(url, sha)
        wanted = None if sha == newest else newest
        if superseded_by != wanted:
            wh.execute(
                "UPDATE stored_files SET superseded_by = ?, superseded_at = ? WHERE url = ? AND sha256 = ?",
                [wanted, now if wanted else None, url, sha],
            )
    mark_superseded_reports(wh)


def mark_superseded_reports(wh: Warehouse) -> None:
    """reports.superseded_by from the files: set where every file with the report's bytes is
    superseded, cleared otherwise."""
    wh.execute(
        "UPDATE reports SET superseded_by = s.superseded_by FROM"
        " (SELECT sha256, max(superseded_by) AS superseded_by FROM stored_files GROUP BY sha256"
        "  HAVING bool_and(superseded_by IS NOT NULL)) s"
        " WHERE s.sha256 = reports.report_id AND reports.superseded_by IS DISTINCT FROM s.superseded_by"
    )
    wh.execute(
        "UPDATE reports SET superseded_by = NULL WHERE superseded_by IS NOT NULL AND report_id IN"
        " (SELECT sha256 FROM stored_files WHERE superseded_by IS NULL)"
    )


def current_files(wh: Warehouse, days: int) -> dict[str, str]:
    """URL -> sha256 of the current file of publications published in the last `days` days
    (the ones revalidated, which may have a newer version in the landing store)."""
    since = date.today() - timedelta(days=days)
    return dict(
        wh.fetchall(
            "SELECT f.url, f.sha256 FROM stored_files f JOIN publications p ON p.url = f.url"
            " WHERE f.superseded_by IS NULL AND p.published >= ?",
            [since],
        )
    )


def unrecorded_urls(wh: Warehouse) -> list[str]:
    """Listed publications with no stored file in the warehouse: never fetched, quarantined, or
    fetched by a download attempt that died before it could report (the landing store has it)."""
    return [
        url
        for (url,) in wh.fetchall(
            "SELECT p.url FROM publications p WHERE NOT EXISTS"
            " (SELECT 1 FROM stored_files f WHERE f.url = p.url) ORDER BY p.url"
        )
    ]


# -- reports ---------------------------------------------------------------------------
def report_id_for(record: ReportRecord) -> str:
    """One report per file: the file's sha256; without one, a hash of its URL or source."""
    if record.sha256:
        return record.sha256
    basis = f"url:{record.url}" if record.url else f"source:{record.source}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _validate(record: ReportRecord) -> None:
    where = record.url or record.source
    if record.framework is not None and record.framework not in FRAMEWORKS:
        raise ValueError(f"report {where}: unknown framework {record.framework!r}")
    if record.kind is not None and record.kind not in KINDS:
        raise ValueError(f"report {where}: unknown kind {record.kind!r}")
    if record.judgements and record.framework is None:
        raise ValueError(f"report {where}: judgements without a framework")
    for area, grade in record.judgements.items():
        if area not in FRAMEWORK_AREAS[record.framework]:
            raise ValueError(f"report {where}: area {area!r} is not judged under {record.framework}")
        if grade not in scale_of(area):
            raise ValueError(f"report {where}: unknown grade {grade!r} for {area}")
    if record.visit is not None and not set(record.visit.areas) <= set(VISIT_AREAS):
        raise ValueError(f"report {where}: unknown visit areas {sorted(set(record.visit.areas) - set(VISIT_AREAS))}")
    if (
        record.visit is not None
        and record.visit.theme is not None
        and (record.kind != "jtai" or record.visit.theme not in JTAI_THEMES)
    ):
        raise ValueError(
            f"report {where}: a visit theme must be a JTAI's, one of {sorted(JTAI_THEMES)}, not {record.visit.theme!r}"
        )
    for area in record.unread_areas:
        if area not in FRAMEWORK_AREAS.get(record.framework, ()):
            raise ValueError(f"report {where}: unread area {area!r} is not judged under {record.framework}")
    if record.inspection_type is not None and (
        record.inspection_type not in INSPECTION_TYPES or not (record.framework or "").startswith("ilacs")
    ):
        raise ValueError(
            f"report {where}: inspection_type {record.inspection_type!r} is one of "
            f"{', '.join(INSPECTION_TYPES)}, for an ILACS inspection only"
        )
    if not record.parser_version:
        raise ValueError(f"report {where}: no parser_version")


def scale_of(area: str) -> tuple[str, ...]:
    """The values an area is graded on: the area SEND outcome has its own scale."""
    return AREA_SEND_OUTCOMES if area == "area_send_outcome" else GRADES


def version_key(version: str) -> tuple:
    """Natural order of parser versions: '1.10' > '1.9'."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+_]", version))


def _record_hash(record: ReportRecord) -> str:
    """Fingerprint of the parsed content; `source` left out (the same file parsed from
    another path is the same report)."""
    content = [getattr(record, f) for f in record.__dataclass_fields__ if f != "source"]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


_REPORT_COLS = (
    "report_id",
    "urn",
    "local_authority",
    "is_report",
    "reason",
    "kind",
    "framework",
    "inspection_start",
    "inspection_end",
    "published",
    "lead_inspector",
    "url",
    "sha256",
    "source",
    "parser_version",
    "parsed_at",
    "review_flags",
    "needs_review",
    "record_hash",
    "first_seen",
    "first_seen_run",
    "review_notes",
    "unread_areas",
    "readings",
    "inspection_type",
)
# everything but identity and first sighting is replaced by a different parse of the same file
_REPORT_UPDATE = tuple(c for c in _REPORT_COLS if c not in ("report_id", "first_seen", "first_seen_run"))


def _newest_per_report(records: list[ReportRecord]) -> dict[str, ReportRecord]:
    chosen: dict[str, ReportRecord] = {}
    for r in records:
        rid = report_id_for(r)
        if rid not in chosen or version_key(r.parser_version) >= version_key(chosen[rid].parser_version):
            chosen[rid] = r
    return chosen


MAX_PARSE_ATTEMPTS = 3  # failed parses of one file at one parser version before it is called unreadable


@dataclass
class LoadResult:
    loaded: int = 0
    retrying: list[str] = field(default_factory=list)  # failed parses, tried again next run
    unreadable: list[str] = field(default_factory=list)  # failed MAX_PARSE_ATTEMPTS times: tell operators
    held: list[str] = field(default_factory=list)  # re-parses held for review (would lose data)

    def __iadd__(self, other: LoadResult) -> LoadResult:
        self.loaded += other.loaded
        self.retrying += other.retrying
        self.unreadable += other.unreadable
        self.held += other.held
        return self


@dataclass(frozen=True)
class _Stored:
    parser_version: str
    is_report: bool
    areas: frozenset[str]


def load_reports(
    wh: Warehouse, records: list[ReportRecord], run_id: str, texts: Callable[[str], Sequence[str] | None] | None = None
) -> LoadResult:
    """Upsert parsed reports and their judgements. A record replaces the stored parse of the same
    file unless that one came from a newer parser version (so load order does not matter);
    reloading identical content changes nothing, not even parsed_at.

    Nothing that is not a verdict on the file replaces what is stored: a failed parse is
    recorded in parse_holds and retried (unreadable after MAX_PARSE_ATTEMPTS), and a re-parse
    that would lose the stored report or one of its areas is held there for review."""
    for r in records:
        _validate(r)
    chosen = _newest_per_report(records)
    now = datetime.now()
    result = LoadResult()
    with wh.transaction():
        stored, holds = _stored_reports(wh, list(chosen)), _holds(wh, list(chosen))
        apply: dict[str, ReportRecord] = {}
        newer = 0
        # key order: concurrent upserts of overlapping batches then lock rows in the same order
        for rid, r in sorted(chosen.items()):
            old = stored.get(rid)
            if old and version_key(r.parser_version) < version_key(old.parser_version):
                newer += 1  # a newer parse is stored
                continue
            if r.failed:
                r = _failed_parse(wh, rid, r, old, holds.get(rid), run_id, now, result)
            elif old and old.is_report and (lost := _lost(old, r)):
                _hold(wh, rid, r, "review", lost, 1, run_id, now)
                result.held.append(f"{r.url or r.source}: re-parse held for review: {lost}")
                log.warning("re-parse of %s held for review: %s", r.url or r.source, lost)
                r = None
            if r is not None:
                apply[rid] = r
        _write_reports(wh, apply, run_id, now, texts, reparsed=set(stored))
        if apply:
            wh.execute("DELETE FROM parse_holds WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))", [list(apply)])
    result.loaded = len(apply)
    log.info(
        "load: %d reports (%d skipped: a newer parse is stored; %d failed, %d held for review)",
        len(apply),
        newer,
        len(result.retrying) + len(result.unreadable),
        len(result.held),
    )
    return result


def _lost(old: _Stored, new: ReportRecord) -> str | None:
    """What the new parse would lose of the stored one (a report, areas), said for a person."""
    if not new.is_report:
        return (
            f"parser {new.parser_version} says not a report ({new.reason}); "
            f"the stored parse ({old.parser_version}) is a report"
        )
    gone = sorted(old.areas - set(new.judgements))
    if gone:
        return (
            f"parser {new.parser_version} finds no {', '.join(gone)}, which the stored parse ({old.parser_version}) has"
        )
    return None


def _failed_parse(
    wh: Warehouse,
    rid: str,
    r: ReportRecord,
    old: _Stored | None,
    hold: tuple | None,
    run_id: str,
    now: datetime,
    result: LoadResult,
) -> ReportRecord | None:
    """Count a failed attempt; after the last one, the record to store (unreadable) or None."""
    kind, version, attempts = hold or (None, None, 0)
    attempts = attempts + 1 if kind == "retry" and version == r.parser_version else 1
    where = r.url or r.source
    if attempts < MAX_PARSE_ATTEMPTS:
        _hold(wh, rid, r, "retry", r.reason, attempts, run_id, now)
        result.retrying.append(
            f"{where}: {r.reason} (attempt {attempts} of {MAX_PARSE_ATTEMPTS}, tried again next run)"
        )
        return None
    reason = f"unreadable after {attempts} attempts: {r.reason}"
    if old and old.is_report:  # keep the report; stop re-trying at this version
        _hold(wh, rid, r, "retry", r.reason, attempts, run_id, now)
        result.unreadable.append(f"{where}: {reason} (the stored parse from parser {old.parser_version} is kept)")
        return None
    result.unreadable.append(f"{where}: {reason}")
    return replace(r, failed=False, reason=reason)


def _hold(
    wh: Warehouse, rid: str, r: ReportRecord, kind: str, reason: str, attempts: int, run_id: str, now: datetime
) -> None:
    wh.insert_rows(
        "parse_holds",
        (
            "report_id",
            "kind",
            "parser_version",
            "reason",
            "attempts",
            "record",
            "url",
            "first_held_at",
            "last_held_at",
            "last_run",
        ),
        [(rid, kind, r.parser_version, reason, attempts, json.dumps(to_dict(r)), r.url, now, now, run_id)],
        conflict=("report_id",),
        update=("kind", "parser_version", "reason", "attempts", "record", "url", "last_held_at", "last_run"),
    )


def accept_held_parse(wh: Warehouse, report_id: str, *, run_id: str | None = None) -> None:
    """A person accepts a re-parse held for review: it replaces the stored parse. Run
    `etl.changes.refresh` afterwards to move the ratings."""
    row = wh.fetchone("SELECT record FROM parse_holds WHERE report_id = ? AND kind = 'review'", [report_id])
    if row is None:
        raise ValueError(f"no re-parse of {report_id!r} is held for review")
    with wh.transaction():
        _write_reports(
            wh, {report_id: from_dict(ReportRecord, json.loads(row[0]))}, run_id, datetime.now(), reparsed={report_id}
        )
        wh.execute("DELETE FROM parse_holds WHERE report_id = ?", [report_id])


def _write_reports(
    wh: Warehouse,
    chosen: dict[str, ReportRecord],
    run_id: str | None,
    now: datetime,
    texts: Callable[[str], Sequence[str] | None] | None = None,
    *,
    reparsed: set[str],
) -> None:
    """`reparsed`: the reports among `chosen` stored before (whose earlier parse may hold rows)."""
    rows = [
        (
            rid,
            r.urn,
            r.local_authority,
            r.is_report,
            r.reason,
            r.kind,
            r.framework,
            r.inspection_start,
            r.inspection_end,
            r.published,
            r.lead_inspector,
            r.url,
            r.sha256,
            r.source,
            r.parser_version,
            now,
            json.dumps(list(r.review_flags)),
            bool(r.review_flags),
            _record_hash(r),
            now,
            run_id,
            json.dumps(list(r.review_notes)),
            json.dumps(list(r.unread_areas)),
            json.dumps(r.readings, sort_keys=True),
            r.inspection_type,
        )
        for rid, r in chosen.items()
    ]
    wh.insert_rows(
        "reports",
        _REPORT_COLS,
        rows,
        conflict=("report_id",),
        update=_REPORT_UPDATE,
        update_where="reports.record_hash <> EXCLUDED.record_hash",
    )
    _replace_judgements(wh, chosen)
    _replace_visit_findings(wh, chosen)
    _replace_improvements(wh, chosen, reparsed)
    if texts is not None:
        _replace_text(wh, chosen, texts)
    mark_superseded_reports(wh)


def _replace_text(wh: Warehouse, chosen: dict[str, ReportRecord], texts: Callable[[str], Sequence[str] | None]) -> None:
    """Each report's page text (`texts`: the file's sha256 -> its pages, None if its parse kept
    none), replacing a previous parse's; a parse that is no longer a report has none."""
    from etl.search import replace_text

    pages = {}
    for rid, r in chosen.items():
        kept = texts(r.sha256 or rid) if r.is_report else ()
        if kept is None:
            log.warning("no page text kept for %s: it is not searchable until its next parse", r.url or r.source)
        else:
            pages[rid] = list(kept)
    replace_text(wh, pages)


def _replace_visit_findings(wh: Warehouse, chosen: dict[str, ReportRecord]) -> None:
    """What each letter says it looked at and found, replaced by its new parse. (A row left by a
    parse that is no longer a letter is harmless: the `visits` view takes current letters only.)"""
    rows = [
        (
            rid,
            ",".join(sorted(v.areas)),
            v.priority_actions,
            json.dumps(list(v.priority_action_texts)),
            v.focus,
            v.theme,
        )
        for rid, r in chosen.items()
        if (v := r.visit) is not None
    ]
    columns = ("areas", "priority_actions", "priority_action_texts", "focus", "theme")
    wh.insert_rows("visit_findings", ("report_id", *columns), rows, conflict=("report_id",), update=columns)


def _replace_improvements(wh: Warehouse, chosen: dict[str, ReportRecord], reparsed: set[str]) -> None:
    """Each document's improvement points, replaced by its new parse: upserted by position, then
    the positions a re-parse no longer has dropped (an upsert, not delete-then-insert, so two
    workers loading the same file on Postgres do not collide on the key). Text from a PDF is
    taken on one line without control characters (PostgreSQL refuses a NUL), blank points left out."""
    rows = [
        (rid, n, text)
        for rid, r in chosen.items()
        for n, text in enumerate(filter(None, map(one_line, r.improvements)), 1)
    ]
    wh.insert_rows(
        "improvement_points",
        ("report_id", "position", "text"),
        rows,
        conflict=("report_id", "position"),
        update=("text",),
        update_where="improvement_points.text <> EXCLUDED.text",
    )
    if stale := sorted(reparsed & set(chosen)):  # a first parse has nothing to drop
        wh.execute(
            "DELETE FROM improvement_points WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))"
            " AND report_id || '|' || CAST(position AS TEXT) NOT IN (SELECT unnest(CAST(? AS TEXT[])))",
            [stale, [f"{rid}|{n}" for rid, n, _ in rows]],
        )


def _replace_judgements(wh: Warehouse, chosen: dict[str, ReportRecord]) -> None:
    """Upsert each report's judgements, then drop areas the new parse no longer has."""
    rows = [(rid, area, grade) for rid, r in chosen.items() for area, grade in sorted(r.judgements.items())]
    wh.insert_rows(
        "judgements",
        ("report_id", "area", "grade"),
        rows,
        conflict=("report_id", "area"),
        update=("grade",),
        update_where="judgements.grade <> EXCLUDED.grade",
    )
    if chosen:  # one statement, not one per report
        wh.execute(
            "DELETE FROM judgements WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))"
            " AND report_id || '|' || area NOT IN (SELECT unnest(CAST(? AS TEXT[])))",
            [list(chosen), [f"{rid}|{area}" for rid, area, _ in rows]],
        )


def by_chunks(wh: Warehouse, sql: str, ids: list[str]) -> list[tuple]:
    """Rows of `sql` (with one `{marks}` for an IN list) for every id, 500 at a time."""
    rows: list[tuple] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows += wh.fetchall(sql.format(marks=", ".join("?" * len(chunk))), chunk)
    return rows


def _stored_reports(wh: Warehouse, report_ids: list[str]) -> dict[str, _Stored]:
    areas: dict[str, set[str]] = {}
    for rid, area in by_chunks(wh, "SELECT report_id, area FROM judgements WHERE report_id IN ({marks})", report_ids):
        areas.setdefault(rid, set()).add(area)
    return {
        rid: _Stored(version, bool(is_report), frozenset(areas.get(rid, ())))
        for rid, version, is_report in by_chunks(
            wh, "SELECT report_id, parser_version, is_report FROM reports WHERE report_id IN ({marks})", report_ids
        )
    }


def _holds(wh: Warehouse, report_ids: list[str]) -> dict[str, tuple]:
    return {
        rid: (kind, version, attempts)
        for rid, kind, version, attempts in by_chunks(
            wh,
            "SELECT report_id, kind, parser_version, attempts FROM parse_holds WHERE report_id IN ({marks})",
            report_ids,
        )
    }


def resolve_review(
    wh: Warehouse,
    report_id: str,
    judgements: dict[str, str] | None = None,
    *,
    resolved_by: str | None = None,
    note: str | None = None,
) -> None:
    """Resolve a report listed for review: with `judgements`, those grades replace the parsed
    ones area by area for the rating history (filling in an area not read); without, the
    parsed judgements are accepted. Run `etl.changes.refresh` afterwards to move the ratings
    (`etl.review` is the reviewer's interface to this)."""
    row = wh.fetchone("SELECT framework FROM reports WHERE report_id = ?", [report_id])
    if row is None:
        raise ValueError(f"no report {report_id!r} in the warehouse")
    for area, grade in (judgements or {}).items():
        if row[0] is None or area not in FRAMEWORK_AREAS[row[0]] or grade not in scale_of(area):
            raise ValueError(f"report {report_id}: cannot resolve {area!r} = {grade!r} under {row[0]}")
    with wh.transaction():
        wh.insert_rows(
            "review_resolutions",
            ("report_id", "resolved_at", "resolved_by", "note"),
            [(report_id, datetime.now(), resolved_by, note)],
            conflict=("report_id",),
            update=("resolved_at", "resolved_by", "note"),
        )
        wh.execute("DELETE FROM review_judgements WHERE report_id = ?", [report_id])
        wh.insert_rows(
            "review_judgements",
            ("report_id", "area", "grade"),
            [(report_id, a, g) for a, g in (judgements or {}).items()],
        )


# -- re-parse --------------------------------------------------------------------------
def files_to_parse(
    wh: Warehouse, parser_version: str, *, reparse_all: bool = False, councils: list[str] | None = None
) -> list[StoredFile]:
    """Stored files with no report at this parser version (or every stored file, with
    reparse_all), optionally only the given councils' (URNs). One entry per distinct file.
    A file held at this version (for review, or after MAX_PARSE_ATTEMPTS failures) waits for a
    person or the next parser version."""
    sql = (
        "SELECT f.sha256, f.uri, f.size, f.fetched_at, f.etag, f.last_modified, f.url,"
        " p.urn, p.local_authority, p.kind, p.title, p.published"
        " FROM stored_files f JOIN publications p ON p.url = f.url"
        " LEFT JOIN reports r ON r.report_id = f.sha256"
        # held at this version: for review, or failed too often (retried by the next version)
        " LEFT JOIN parse_holds h ON h.report_id = f.sha256 AND h.parser_version = ?"
        "  AND (h.kind = 'review' OR h.attempts >= ?)"
        " WHERE (? OR ((r.report_id IS NULL OR r.parser_version <> ?) AND h.report_id IS NULL))"
    )
    params: list = [parser_version, MAX_PARSE_ATTEMPTS, reparse_all, parser_version]
    if councils:
        sql += f" AND p.urn IN ({', '.join('?' * len(councils))})"
        params += list(councils)
    out: dict[str, StoredFile] = {}
    for sha, uri, size, fetched, etag, lm, url, urn, la, kind, title, published in wh.fetchall(
        sql + " ORDER BY f.sha256, f.url", params
    ):
        if sha not in out:
            pub = Publication(urn=urn, local_authority=la, kind=kind, title=title, published=published, url=url)
            out[sha] = StoredFile(
                sha256=sha, uri=uri, size=size, publication=pub, fetched_at=fetched, etag=etag, last_modified=lm
            )
    return list(out.values())
