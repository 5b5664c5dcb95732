"""Download: fetch publications not yet in the landing store, verify each body is a complete PDF,
store it by content hash, quarantine anything else (with its reason and bytes) to retry next run.

Safe to run from several workers at once over disjoint (or even overlapping) batches: the store
writes one entry per URL, atomically, and content-addressed objects are never rewritten.
"""
from __future__ import annotations

import logging
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from etl.http import FetchError, Fetched, PoliteSession
from etl.landing import LandingStore
from etl.progress import track
from etl.records import Publication, Quarantined, StoredFile

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
EOF_MARKER = b"%%EOF"
NOT_PDF = "not a PDF"


@dataclass
class DownloadResult:
    stored: list[StoredFile] = field(default_factory=list)       # newly stored this run
    skipped: int = 0                                              # already stored before this run
    quarantined: list[Quarantined] = field(default_factory=list)
    requests: int = 0


def verify_pdf(fetched: Fetched) -> str | None:
    """Why this body is not a complete PDF, or None when it is one."""
    body = fetched.body
    if fetched.too_large:
        return f"too large: stopped reading after {len(body):,} bytes (limit: OFSTED_PARSE_MAX_BYTES)"
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


def download_new(publications: list[Publication], settings, *, store: LandingStore | None = None,
                 session: PoliteSession | None = None, progress: bool | None = None) -> DownloadResult:
    """Download every publication whose URL the store does not hold yet."""
    store = store or LandingStore.from_settings(settings)
    own = session is None
    session = session or PoliteSession.from_settings(settings)
    before = session.requests_made
    result = DownloadResult()
    try:
        todo: list[Publication] = []
        seen: set[str] = set()
        for pub in publications:           # the same file may be listed twice: fetch it once
            if pub.url in seen:
                continue
            seen.add(pub.url)
            if store.known(pub.url):
                result.skipped += 1
            else:
                todo.append(pub)
        log.info("%d publications: %d already stored, %d to download", len(seen), result.skipped, len(todo))
        with ThreadPoolExecutor(max_workers=max(settings.concurrency, 1)) as pool:
            outcomes = pool.map(lambda p: download_one(p, store, session), todo)
            for outcome in track(outcomes, len(todo), "files", show_bar=progress, logger=log):
                if isinstance(outcome, StoredFile):
                    result.stored.append(outcome)
                else:
                    result.quarantined.append(outcome)
    finally:
        result.requests = session.requests_made - before
        if own:
            session.close()
    return result


def download_one(pub: Publication, store: LandingStore, session: PoliteSession) -> StoredFile | Quarantined:
    rejected = store.quarantine_entry(pub.url)
    headers = _conditional_headers(rejected)
    try:
        fetched = session.get(pub.url, headers=headers)
    except FetchError as exc:        # no answer at all, or a host not on the list (nothing sent)
        return _quarantine(store, None, pub, str(exc))
    if fetched.status == 304:        # the page we rejected last time has not changed
        return _quarantine(store, None, pub, (rejected or {}).get("reason", "unchanged"), fetched)
    if fetched.status != 200:
        return _quarantine(store, fetched.body, pub, f"HTTP {fetched.status}", fetched)
    reason = verify_pdf(fetched)
    if reason:
        return _quarantine(store, fetched.body, pub, reason, fetched)
    stored = store.store(fetched.body, pub, etag=fetched.header("etag"),
                         last_modified=fetched.header("last-modified"))
    log.debug("stored %s -> %s", pub.url, stored.sha256)
    return stored


def _conditional_headers(entry: dict | None) -> dict[str, str] | None:
    """Revalidate only a rejected *content* (an HTML page served as the report): a cut-off or
    failed transfer must be fetched in full again, whatever the validators say."""
    if not entry or not str(entry.get("reason", "")).startswith(NOT_PDF):
        return None
    headers = {}
    if entry.get("etag"):
        headers["If-None-Match"] = entry["etag"]
    if entry.get("last_modified"):
        headers["If-Modified-Since"] = entry["last_modified"]
    return headers or None


def _quarantine(store, data, pub, reason, fetched: Fetched | None = None) -> Quarantined:
    log.warning("quarantined %s (%s %s): %s", pub.url, pub.urn, pub.local_authority, reason)
    return store.quarantine(data, pub, reason,
                            etag=fetched.header("etag") if fetched else None,
                            last_modified=fetched.header("last-modified") if fetched else None)


def crawl_command(args, settings) -> int:
    """`ofsted crawl [--limit N] [--council URN]`: discover and download, then say what is new."""
    from etl.crawl import SiteStructureError, crawl
    session = PoliteSession.from_settings(settings)
    try:
        try:
            listing = crawl(settings, councils=getattr(args, "council", None),
                            limit=getattr(args, "limit", None), session=session)
        except (SiteStructureError, FetchError) as exc:
            print(f"ofsted crawl: {exc}", file=sys.stderr)
            return 2
        result = download_new(listing.publications, settings, session=session)
    finally:
        session.close()
    print(format_report(listing, result, session.requests_made))
    return 1 if listing.errors else 0


def format_report(listing, result: DownloadResult, requests: int) -> str:
    lines = [f"{len(listing.councils)} councils, {len(listing.publications)} publications listed; "
             f"{len(result.stored)} new files stored, {result.skipped} already stored, "
             f"{len(result.quarantined)} quarantined; {requests} requests"]
    for s in sorted(result.stored, key=lambda s: (s.publication.local_authority, str(s.publication.published))):
        p = s.publication
        lines.append(f"  new  {p.urn:>8} {p.local_authority}: {p.title} [{p.kind}] {p.url}")
    for q in result.quarantined:
        p = q.publication
        lines.append(f"  QUARANTINED {p.urn:>8} {p.local_authority}: {p.title} {p.url}\n"
                     f"       reason: {q.reason} (attempt {q.attempts})")
    for error in listing.errors:
        lines.append(f"  ERROR reading council page {error}")
    return "\n".join(lines)
