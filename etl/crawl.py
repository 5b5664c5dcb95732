"""Discover: every council from the site's search pages, every publication on each council's page.

The structure relied on (see ../shared/ofsted-reports.md) is deliberately small, so cosmetic
markup changes do not matter:
- search results link to provider pages `/provider/<type>/<URN>`, the link text being the name;
  pages are walked with the `start` offset until one comes back empty;
- a provider page lists `a.publication-link` anchors whose `span.nonvisual` text reads
  "<kind>, pdf - <dd Month yyyy>"; hrefs may be absolute (to the files host) or relative.
Pages the site gives validators for (ETag, Last-Modified) are cached in the landing store and
revalidated with a conditional GET: a 304 answer is read from the cache.
If the first search page has no results at all, the site's structure has changed: that is an
error (SiteStructureError), never "every council has gone". The listing is also the site's
word on which councils it has: a council asked for by URN that it does not list is "not on the
site" (said at once; the others are still read), never a page tried and failed.

Which council pages a run reads (`pages_to_read`): each search result's "Latest report" date is
a hint that the council's page changed, never the only way to find a publication. A run reads
the pages of councils that are new, whose page failed last time, whose date moved since their
page was last read or cannot be trusted (not a date, in the future, earlier than before), plus
a rolling sweep of the others, oldest read first, so that every page is read at least once per
OFSTED_SWEEP_HOURS. A listing without the line at all means every page is read.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup

from etl.config import allowed_hosts as default_hosts
from etl.http import FetchError, PoliteSession, SiteUnreachable, validators
from etl.landing import LandingStore
from etl.links import clean_text, refusal
from etl.progress import note, track
from etl.records import Council, Publication
from etl.records import urn as valid_urn

log = logging.getLogger(__name__)

# category 3 = children's social care, sub-category 12 = local authority children's services
SEARCH_PARAMS = {
    "q": "",
    "location": "",
    "lat": "",
    "lon": "",
    "radius": "",
    "level_1_types": "3",
    "level_2_types[]": "12",
}
ROWS_PER_PAGE = 100
MIN_PAGES_FOR_STRUCTURE_CHECK = 3  # new councils may have nothing published yet; three in a row is not chance
MAX_SEARCH_PAGES = 100  # a guard against a site that ignores `start`
PROVIDER_HREF = re.compile(r"/provider/(\d+)/(\d+)/?$")
DATE_RE = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")


class SiteStructureError(RuntimeError):
    """The site answered, but not with the structure we read (markup changed): stop loudly."""


@dataclass(frozen=True)
class CrawlResult:
    councils: list[Council]
    publications: list[Publication]
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # council pages that could not be read this run
    unread: list[str] = field(default_factory=list)  # URNs of listed councils whose page was not read
    failed: list[str] = field(default_factory=list)  # URNs whose page could not be read (read next run)
    plan: ReadPlan | None = None  # why each page was read, and what to note
    missing: list[str] = field(default_factory=list)  # URNs asked for that the search listing lacks


def search_url(settings, start: int, rows: int = ROWS_PER_PAGE) -> str:
    query = urlencode({**SEARCH_PARAMS, "start": start, "rows": rows})
    return f"{settings.site_url}/search?{query}"


def _soup(fetched) -> BeautifulSoup:
    return BeautifulSoup(fetched.body, "lxml")


def _get_page(session: PoliteSession, url: str, pages: LandingStore | None = None):
    cached = pages.page(url) if pages else None
    fetched = session.get(url, headers=validators(cached["etag"], cached["last_modified"]) if cached else None)
    if fetched.status == 304 and cached:
        return replace(fetched, status=200, body=cached["body"].encode("utf-8"))
    if fetched.status != 200:
        raise FetchError(f"{url}: HTTP {fetched.status}")
    if pages and (fetched.header("etag") or fetched.header("last-modified")):
        pages.save_page(url, fetched.body, etag=fetched.header("etag"), last_modified=fetched.header("last-modified"))
    return fetched


def _clean(text: str) -> str:
    return " ".join(clean_text(text).replace("\u2019", "'").split())


def _hosts(page_url: str, allowed_hosts) -> tuple[str, ...]:
    """The hosts a link may point to: as configured, or the page's own host and the files host."""
    return tuple(allowed_hosts) if allowed_hosts is not None else default_hosts(page_url, "")


def parse_search_page(html: bytes | str, page_url: str, allowed_hosts=None) -> list[Council]:
    """Councils listed on one search results page (in page order, without duplicates). A
    council's link the link rule refuses (etl.links) is replaced by its page on the site
    itself, built from the URN: the URN is all the link is read for."""
    soup = BeautifulSoup(html, "lxml")
    councils: dict[str, Council] = {}
    for a in soup.find_all("a", href=True):
        href = a["href"].strip()
        m = PROVIDER_HREF.search(urlsplit(href).path)
        name = _clean(a.get_text(" "))
        if m and name and m.group(2) not in councils:
            url = urljoin(page_url, href)
            reason = refusal(url, _hosts(page_url, allowed_hosts))
            if reason:
                log.warning("council %s: link refused (%s), its page on the site is used instead", m.group(2), reason)
                url = urljoin(page_url, f"/provider/{m.group(1)}/{m.group(2)}")
            councils[m.group(2)] = Council(urn=m.group(2), name=name, url=url, latest=latest_report(_result_of(a)))
    return list(councils.values())


LATEST_LABEL = re.compile(r"latest\s+report", re.I)
MAX_LATEST_CHARS = 60  # what is kept of the line's text: it is shown (summary) and stored


def _council_urn(a) -> str | None:
    m = PROVIDER_HREF.search(urlsplit(a["href"].strip()).path)
    return m.group(2) if m else None


def _result_of(link):
    """The search result holding a council's link: its largest ancestor that links to no
    other council (the markup around a result may change; one result per council may not)."""
    result, own = link, _council_urn(link)
    for parent in link.parents:
        if parent.name in ("body", "html", "[document]"):
            break
        if any(_council_urn(a) not in (None, own) for a in parent.find_all("a", href=True)):
            break
        result = parent
    return result


def latest_report(result) -> str | None:
    """The text of a search result's "Latest report: <time>23 July 2024</time>" line (its
    <time>'s text when there is one), or None when the result has no such line."""
    label = result.find(string=LATEST_LABEL)
    if label is None:
        return None
    line = label.parent
    stamp = line.find("time") or (line.parent.find("time") if line.parent else None)
    text = stamp.get_text(" ") if stamp else LATEST_LABEL.split(line.get_text(" "), 1)[-1].lstrip(" :")
    return _clean(text)[:MAX_LATEST_CHARS]


def parse_latest(text: str | None) -> date | None:
    """A "Latest report" date: "23 July 2024" (or "23 Jul 2024", or ISO 2024-07-23)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return parse_date(text) if DATE_RE.fullmatch(text.strip()) else None


def discover_councils(session: PoliteSession, settings, pages: LandingStore | None = None) -> list[Council]:
    """Every council in the search results, walking pages by offset until an empty one, or one
    shorter than the first (the last page: the site may serve fewer rows than asked for, but
    serves every page but the last in full)."""
    found: dict[str, Council] = {}
    start, full = 0, None
    for page in range(MAX_SEARCH_PAGES):
        url = search_url(settings, start)
        councils = parse_search_page(_get_page(session, url, pages).body, url, settings.allowed_hosts)
        if not councils:
            if page == 0:
                raise SiteStructureError(
                    f"no council links (/provider/<type>/<URN>) on the first search page {url}: the "
                    "site's markup has probably changed; refusing to conclude that every council vanished"
                )
            break
        new = [c for c in councils if c.urn not in found]
        if not new:  # the site ignored `start` and served a page we have
            log.warning("search page at start=%d repeated earlier results; stopping", start)
            break
        found.update((c.urn, c) for c in new)
        start += len(councils)  # the site may serve fewer rows than asked for
        log.info("search page %d: %d councils (%d so far)", page + 1, len(councils), len(found))
        full = full or len(councils)
        if len(councils) < full:
            break
    return list(found.values())


# listing wordings (../shared/ofsted-reports.md), tried in order: SEND first, since "Joint area
# SEND revisit" is an area SEND document and "Joint area child protection inspection" a JTAI
LISTING_KINDS = (
    ("area_send", re.compile(r"\bsend\b|special educational needs")),
    ("jtai", re.compile(r"joint targeted area|\bjtai\b|joint area child protection")),
    ("focused_visit", re.compile(r"focused visit")),
    ("monitoring_visit", re.compile(r"monitoring visit")),
    (
        "inspection",
        re.compile(
            r"children's services inspection|local authority children's services"
            r"|children in need of help and protection|looked after children"
            r"|safeguarding.*inspection|inspection.*safeguarding"
        ),
    ),
)


def classify(title: str) -> str:
    """The publication kind from its listing text; a wording not known here is `other` (it is
    still downloaded and read, and listed once for review with its title)."""
    t = _clean(title).lower()
    return next((kind for kind, pattern in LISTING_KINDS if pattern.search(t)), "other")


def parse_date(title: str) -> date | None:
    """The date after the last ' - ' of "Kind, pdf - 01 July 2019" (or anywhere in the text)."""
    tail = title.rsplit(" - ", 1)[-1]
    for text in (tail, title):
        m = DATE_RE.search(text)
        if not m:
            continue
        for fmt in ("%d %B %Y", "%d %b %Y"):
            try:
                return datetime.strptime(" ".join(m.groups()), fmt).date()
            except ValueError:
                pass
    return None


def parse_provider_page(
    html: bytes | str, council: Council, page_url: str | None = None, allowed_hosts=None
) -> list[Publication]:
    """The council's publications. A link the link rule refuses (etl.links) is kept as text
    with the reason (`link_refused`): it is never fetched, and shown to people only as text."""
    soup = BeautifulSoup(html, "lxml")
    hosts = _hosts(page_url or council.url, allowed_hosts)
    pubs: list[Publication] = []
    seen: set[tuple[str, str]] = set()
    for a in soup.select("a.publication-link[href]"):
        span = a.select_one("span.nonvisual")
        title = _clean((span or a).get_text(" "))
        url = clean_text(urljoin(page_url or council.url, a["href"].strip()))
        if (url, title) in seen:
            continue
        seen.add((url, title))
        pubs.append(
            Publication(
                urn=council.urn,
                local_authority=council.name,
                kind=classify(title),
                title=title,
                published=parse_date(title),
                url=url,
                link_refused=refusal(url, hosts),
            )
        )
    return pubs


def discover_publications(
    session: PoliteSession, council: Council, settings, pages: LandingStore | None = None
) -> list[Publication]:
    fetched = _get_page(session, council.url, pages)
    pubs = parse_provider_page(fetched.body, council, fetched.url, settings.allowed_hosts)
    if not pubs:
        log.info("no publications listed for %s (%s)", council.name, council.urn)
    return pubs


# -- which pages to read ------------------------------------------------------------------
@dataclass(frozen=True)
class PageState:
    """What the warehouse knows of a council's page (table council_pages)."""

    listed_latest: str | None = None  # the "Latest report" text when the page was last read
    read_at: datetime | None = None  # the last successful read
    failed: bool = False  # a read failed since: read it again


@dataclass(frozen=True)
class CrawlState:
    """The warehouse's memory for the crawl: each page's state, how many councils it knows,
    and the sweep's position (etl.load.crawl_state reads it, save_crawl_state writes it)."""

    pages: dict[str, PageState] = field(default_factory=dict)
    known_councils: int = 0
    swept_at: datetime | None = None
    carry: float = 0.0  # the fraction of a page the sweep owes


@dataclass(frozen=True)
class ReadPlan:
    reasons: dict[str, str]  # URN -> why its page is read (new, retry, moved, untrusted ..., sweep)
    notes: list[str]  # for the run summary
    swept_at: datetime | None = None
    carry: float = 0.0


FUTURE_SLACK = timedelta(days=1)  # the site's day may start before ours (time zones)


def untrusted(latest: str | None, before: str | None, today: date) -> str | None:
    """Why a listed "Latest report" date cannot be trusted, if it cannot."""
    if latest is None:
        return None
    when = parse_latest(latest)
    if when is None:
        return "not a date"
    if when > today + FUTURE_SLACK:
        return "in the future"
    earlier = parse_latest(before)
    if earlier and when < earlier:
        return f"earlier than the {earlier:%d %B %Y} listed before"
    return None


def pages_to_read(listed: list[Council], state: CrawlState | None, now: datetime, sweep_hours: float) -> ReadPlan:
    """The councils whose page this run reads, and why (see the module's docstring)."""
    if state is None:  # nothing known (no warehouse): every page, as a first run
        return ReadPlan({c.urn: "new" for c in listed}, [], now, 0.0)
    notes: list[str] = []
    if listed and all(c.latest is None for c in listed):
        notes.append(f'the search listing shows no "Latest report" dates: all {len(listed)} council pages read')
        return ReadPlan({c.urn: "no date listed" for c in listed}, notes, now, 0.0)
    if state.known_councils > len(listed):
        notes.append(
            f"the search listing shows {len(listed)} councils, the warehouse knows "
            f"{state.known_councils}: those not listed are kept, not taken as gone"
        )
    reasons: dict[str, str] = {}
    for c in listed:
        page = state.pages.get(c.urn)
        doubt = untrusted(c.latest, page.listed_latest if page else None, now.date())
        if page is None or page.read_at is None:
            reasons[c.urn] = "new"
        elif page.failed:
            reasons[c.urn] = "retry"
        elif doubt:
            reasons[c.urn] = f"untrusted date ({doubt})"
            notes.append(f'{c.urn} {c.name}: "Latest report" {c.latest!r} is {doubt}: its page was read')
        elif c.latest is not None and c.latest != page.listed_latest:
            reasons[c.urn] = "moved"
    undated = sum(c.latest is None for c in listed)
    if undated:
        notes.append(f'{undated} search result(s) without a "Latest report" date: their pages are left to the sweep')
    # the sweep: the share of every listed page due since it last ran, oldest read first
    hours = (now - state.swept_at).total_seconds() / 3600 if state.swept_at else sweep_hours
    owed = state.carry + len(listed) * min(max(hours, 0.0), sweep_hours) / sweep_hours + 1e-9  # float sums
    others = sorted((c for c in listed if c.urn not in reasons), key=lambda c: (state.pages[c.urn].read_at, c.urn))
    share = min(int(owed), len(others))
    reasons.update((c.urn, "sweep") for c in others[:share])
    carry = owed - int(owed) if int(owed) <= len(others) else 0.0  # all read: nothing is owed
    return ReadPlan(reasons, notes, now, carry)


def crawl(
    settings,
    *,
    councils: list[str] | None = None,
    limit: int | None = None,
    session: PoliteSession | None = None,
    progress: bool | None = None,
    pages: LandingStore | None = None,
    state: CrawlState | None = None,
    now: datetime | None = None,
) -> CrawlResult:
    """Discover councils and the publications of those whose page this run reads
    (`pages_to_read`, from the warehouse's `state`; every page without one), or of the given
    URNs those the listing has (`missing`: the others); with `pages`, listing pages are cached
    there and revalidated."""
    councils = [valid_urn(c) for c in councils] if councils else councils  # they go into URL paths
    own = session is None
    session = session or PoliteSession.from_settings(settings)
    before = session.requests_made
    try:
        if councils:  # named councils: the search listing says which of them the site has
            return _crawl_named(session, settings, list(dict.fromkeys(councils))[:limit], pages, progress, before)
        listed = discover_councils(session, settings, pages)
        if limit is not None:
            listed = listed[:limit]
        if limit is not None and state is not None:
            state = replace(state, known_councils=0)  # a chosen few are not a short listing
        plan = pages_to_read(listed, state, now or datetime.now(), settings.sweep_hours)
        to_read = [c for c in listed if c.urn in plan.reasons]
        publications, errors, failed = _read_pages(session, to_read, settings, pages, progress)
        _check_structure(len(to_read) - len(failed), publications)
        return CrawlResult(
            councils=listed,
            publications=publications,
            requests=session.requests_made - before,
            errors=errors,
            unread=[c.urn for c in listed if c.urn not in plan.reasons or c.urn in failed],
            failed=failed,
            plan=plan,
        )
    finally:
        if own:
            session.close()


def not_on_site(urn: str) -> str:
    """The line that names a council asked for that the site does not list."""
    return f"no council {urn} on the site"


def _crawl_named(session, settings, urns: list[str], pages, progress, before: int) -> CrawlResult:
    """The councils asked for, found in the search listing (the site's own list of councils):
    one it does not list is said at once and left out, the others' pages are read."""
    listed = {c.urn: c for c in discover_councils(session, settings, pages)}
    missing = [urn for urn in urns if urn not in listed]
    for urn in missing:
        log.warning(not_on_site(urn))
        note(not_on_site(urn))
    chosen = [listed[urn] for urn in urns if urn in listed]
    publications, errors, failed = _read_pages(session, chosen, settings, pages, progress)
    return CrawlResult(
        councils=chosen,
        publications=publications,
        requests=session.requests_made - before,
        errors=errors,
        unread=failed,
        failed=failed,
        plan=ReadPlan({c.urn: "named" for c in chosen}, []),
        missing=missing,
    )


def _read_pages(session, councils: list[Council], settings, pages, progress):
    """The publications on each council's page, a few pages at a time; pages that fail are
    reported (errors, failed URNs) and do not stop the others."""
    publications: list[Publication] = []
    errors: list[str] = []
    failed: list[str] = []
    pool = ThreadPoolExecutor(max_workers=max(settings.concurrency, 1))
    try:
        results = pool.map(lambda c: _publications_or_error(session, c, settings, pages), councils)
        for council, (pubs, error) in zip(
            councils, track(results, len(councils), "councils", show_bar=progress, logger=log)
        ):
            publications.extend(pubs)
            if error:
                errors.append(f"{council.urn} {council.name}: {error}")
                failed.append(council.urn)
    finally:  # stopped or failed: pages not started yet are not fetched
        pool.shutdown(wait=True, cancel_futures=True)
    return publications, errors, failed


def _publications_or_error(session, council, settings, pages=None) -> tuple[list[Publication], str | None]:
    """One unreadable council page must not stop the others: it is reported and read next run."""
    try:
        return discover_publications(session, council, settings, pages), None
    except SiteUnreachable:
        raise
    except FetchError as exc:
        log.error("could not read %s (%s): %s", council.name, council.urn, exc)
        return [], str(exc)


def _check_structure(read: int, publications: list[Publication]) -> None:
    """Several council pages read and not one publication link: the page markup has changed."""
    if read >= MIN_PAGES_FOR_STRUCTURE_CHECK and not publications:
        raise SiteStructureError(
            f"none of {read} council pages lists an a.publication-link: the provider page markup has "
            "probably changed; refusing to conclude that every publication vanished"
        )
