"""Download: fetch publications not yet in the landing store, verify each body is a complete PDF,
store it by content hash, quarantine anything else (with its reason and bytes) to retry later.

- A quarantined file is retried on the next run, then 1, 2, 4 ... days after its last attempt,
  at most OFSTED_QUARANTINE_RETRY_DAYS apart (at once with `retry_quarantined`): a passing fault
  costs one run, and a page the site answers "Report not found" for is not fetched on every run.
- Files published in the last OFSTED_REVALIDATE_DAYS are revalidated with a conditional GET
  (If-None-Match / If-Modified-Since): the site sometimes corrects a report under the same URL.
  A changed body is stored as a new version that `supersedes` the old one (kept).

Safe to run from several workers at once over disjoint (or even overlapping) batches: the store
writes one entry per URL, atomically, and content-addressed objects are never rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from etl.http import Fetched, FetchError, PoliteSession, SiteUnreachable, validators
from etl.landing import LandingStore
from etl.progress import track
from etl.records import Publication, Quarantined, StoredFile

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
EOF_MARKER = b"%%EOF"
NOT_PDF = "not a PDF"


@dataclass
class DownloadResult:
    stored: list[StoredFile] = field(default_factory=list)  # newly stored this run
    skipped: int = 0  # already stored before this run
    quarantined: list[Quarantined] = field(default_factory=list)
    deferred: int = 0  # quarantined, not yet due for a retry
    revalidated: int = 0  # recent files checked, unchanged
    reissued: list[StoredFile] = field(default_factory=list)  # new versions (also in `stored`)
    requests: int = 0


def verify_pdf(fetched: Fetched) -> str | None:
    """Why this body is not a complete PDF, or None when it is one."""
    body = fetched.body
    if fetched.too_large:
        return f"too large: stopped reading after {len(body):,} bytes (limit: OFSTED_PARSE_MAX_BYTES)"
    if fetched.timed_out:
        return (
            f"deadline passed: received {len(body):,} of {fetched.expected_length or '?'} bytes "
            "(limit: OFSTED_DOWNLOAD_DEADLINE)"
        )
    if not body:
        return "empty body"
    # the PDF header may follow a little junk (the spec allows it within the first 1024 bytes)
    if PDF_MAGIC not in body[:1024]:
        return f"{NOT_PDF}: {_describe(body, fetched.header('content-type'))}"
    if not fetched.complete or (fetched.expected_length is not None and len(body) < fetched.expected_length):
        return f"truncated: received {len(body)} of {fetched.expected_length or '?'} bytes"
    if EOF_MARKER not in body[-2048:]:
        return "incomplete PDF: no %%EOF marker at the end"
    return None


def _describe(body: bytes, content_type: str | None) -> str:
    head = body[:4096].decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", head, re.I | re.S)
    if title:
        return f"HTML page titled {' '.join(title.group(1).split())!r} (content-type {content_type})"
    if head.lstrip().startswith("<"):
        return f"HTML/XML page (content-type {content_type})"
    return f"starts with {body[:16]!r} (content-type {content_type})"


def download_new(
    publications: list[Publication],
    settings,
    *,
    store: LandingStore | None = None,
    session: PoliteSession | None = None,
    progress: bool | None = None,
    retry_quarantined: bool = False,
    now: datetime | None = None,
) -> DownloadResult:
    """Download every publication whose URL the store does not hold yet (quarantined ones when
    due), and revalidate the recently published ones it holds."""
    store = store or LandingStore.from_settings(settings)
    now = now or datetime.now(UTC)
    own = session is None
    session = session or PoliteSession.from_settings(settings)
    before = session.requests_made
    result = DownloadResult()
    try:
        todo: list[tuple[Publication, StoredFile | None]] = []
        seen: set[str] = set()
        for pub in publications:  # the same file may be listed twice: fetch it once
            if pub.url in seen:
                continue
            seen.add(pub.url)
            stored = store.known(pub.url)
            if stored is not None:
                if recently_published(pub, settings, now.date()):
                    todo.append((pub, stored))
                else:
                    result.skipped += 1
            elif retry_quarantined or retry_due(store.quarantine_entry(pub.url), settings, now):
                todo.append((pub, None))
            else:
                result.deferred += 1
        log.info(
            "%d publications: %d already stored, %d quarantined and not yet due, %d to fetch or revalidate",
            len(seen),
            result.skipped,
            result.deferred,
            len(todo),
        )
        pool = ThreadPoolExecutor(max_workers=max(settings.concurrency, 1))
        try:
            outcomes = pool.map(lambda item: fetch_one(*item, store, session), todo)
            for outcome in track(outcomes, len(todo), "files", show_bar=progress, logger=log):
                _tally(result, outcome)
        finally:  # stopped or failed: files not started yet are not fetched
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        result.requests = session.requests_made - before
        if own:
            session.close()
    return result


def _tally(result: DownloadResult, outcome: StoredFile | Quarantined | None) -> None:
    if outcome is None:
        result.revalidated += 1
    elif isinstance(outcome, Quarantined):
        result.quarantined.append(outcome)
    else:
        result.stored.append(outcome)
        if outcome.supersedes:
            result.reissued.append(outcome)


def retry_spacing(attempts: int, settings) -> timedelta:
    """How long after its last attempt a quarantined file waits: not at all after the first
    (most faults pass within minutes: the next run fetches it), then 1, 2, 4 ... days, at most
    quarantine_retry_days (a page the site keeps answering "Report not found" for is fetched
    once more, then waits)."""
    if attempts <= 1:
        return timedelta(0)
    return timedelta(days=min(2 ** min(attempts - 2, 30), max(settings.quarantine_retry_days, 1)))


def retry_due(entry: dict | None, settings, now: datetime) -> bool:
    """Whether a quarantined file is due for another try on this run. Days are calendar days,
    so a daily run at the same hour is never a few minutes early."""
    if not entry or not entry.get("fetched_at"):
        return True
    spacing = retry_spacing(max(int(entry.get("attempts", 1)), 1), settings)
    if not spacing:
        return True
    last = datetime.fromisoformat(entry["fetched_at"]).date()
    return now.date() >= last + spacing


def recently_published(pub: Publication, settings, today: date) -> bool:
    """Recent files are revalidated each run: corrections are re-issued soon after publication."""
    return (
        settings.revalidate_days > 0
        and pub.published is not None
        and pub.published >= today - timedelta(days=settings.revalidate_days)
    )


def fetch_one(
    pub: Publication, stored: StoredFile | None, store: LandingStore, session: PoliteSession
) -> StoredFile | Quarantined | None:
    return download_one(pub, store, session) if stored is None else revalidate(pub, stored, store, session)


def revalidate(pub: Publication, stored: StoredFile, store: LandingStore, session: PoliteSession) -> StoredFile | None:
    """A conditional GET of a stored file: a new version when the site re-issued it, else None
    (unchanged, or an answer that is not a good PDF: the stored version stays current)."""
    try:
        fetched = session.get(pub.url, headers=validators(stored.etag, stored.last_modified))
    except SiteUnreachable:
        raise
    except FetchError as exc:
        log.warning("could not revalidate %s: %s", pub.url, exc)
        return None
    if fetched.status == 304:
        return None
    reason = f"HTTP {fetched.status}" if fetched.status != 200 else verify_pdf(fetched)
    if reason:
        log.warning("revalidating %s: %s; the stored version stays current", pub.url, reason)
        return None
    if hashlib.sha256(fetched.body).hexdigest() == stored.sha256:
        return None
    new = store.store(
        fetched.body,
        pub,
        etag=fetched.header("etag"),
        last_modified=fetched.header("last-modified"),
        supersedes=stored.sha256,
    )
    log.warning(
        "re-issued: %s (%s %s) has a new version %s (was %s)",
        pub.url,
        pub.urn,
        pub.local_authority,
        new.sha256,
        stored.sha256,
    )
    return new


def download_one(pub: Publication, store: LandingStore, session: PoliteSession) -> StoredFile | Quarantined:
    rejected = store.quarantine_entry(pub.url)
    headers = _conditional_headers(rejected)
    try:
        fetched = session.get(pub.url, headers=headers)
    except SiteUnreachable:  # the site, not this file: nothing to quarantine
        raise
    except FetchError as exc:  # no answer at all, or a host not on the list (nothing sent)
        return _quarantine(store, None, pub, str(exc))
    if fetched.status == 304:  # the page we rejected last time has not changed
        return _quarantine(store, None, pub, (rejected or {}).get("reason", "unchanged"), fetched)
    if fetched.status != 200:
        return _quarantine(store, fetched.body, pub, f"HTTP {fetched.status}", fetched)
    reason = verify_pdf(fetched)
    if reason:
        return _quarantine(store, fetched.body, pub, reason, fetched)
    stored = store.store(fetched.body, pub, etag=fetched.header("etag"), last_modified=fetched.header("last-modified"))
    log.debug("stored %s -> %s", pub.url, stored.sha256)
    return stored


def _conditional_headers(entry: dict | None) -> dict[str, str] | None:
    """Revalidate only a rejected *content* (an HTML page served as the report): a cut-off or
    failed transfer must be fetched in full again, whatever the validators say."""
    if not entry or not str(entry.get("reason", "")).startswith(NOT_PDF):
        return None
    return validators(entry.get("etag"), entry.get("last_modified"))


def _quarantine(store, data, pub, reason, fetched: Fetched | None = None) -> Quarantined:
    log.warning("quarantined %s (%s %s): %s", pub.url, pub.urn, pub.local_authority, reason)
    return store.quarantine(
        data,
        pub,
        reason,
        etag=fetched.header("etag") if fetched else None,
        last_modified=fetched.header("last-modified") if fetched else None,
    )
