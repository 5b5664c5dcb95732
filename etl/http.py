"""A polite HTTP client for the Ofsted site: one shared session per run.

- identifies itself (User-Agent) and times out on connect and read;
- keeps to a request rate shared by every thread and every session of the process (so tasks
  run one after another in one process, as under dag.test, keep the pace between them too),
  and to a bounded number of requests at once;
- gives each GET a total deadline (OFSTED_DOWNLOAD_DEADLINE), retries included: the read
  timeout alone applies per socket read, so a server trickling bytes could hold a slot for ever;
- retries 5xx, 429 (honouring Retry-After, capped), resets, timeouts and cut-off bodies with
  exponential backoff and full jitter;
- only ever talks to allowed hosts: each URL and each redirect hop is checked, since redirects
  are followed here rather than by requests;
- tells "cannot reach" from "flaky": a name that does not resolve, a refused connection, a TLS
  failure, a proxy refusal or no connection at all before a session has had any answer is not
  retried: it raises SiteUnreachable at once (one line: the URL, the cause in plain words, what
  to check), and every later request of that session fails the same way without being sent.
  Once the site has answered, the same errors are passing faults and are retried.

Allowed hosts are matched on host name, case-insensitively ("files.ofsted.gov.uk"); an entry
with a port ("127.0.0.1:8080") matches that port only. The host checked is the one requests
will connect to (its own URL parsing, not urllib.parse's), and a URL that parsers read
differently (backslashes, whitespace, control characters) is refused outright.

Tuning (Settings): OFSTED_BACKOFF_BASE (seconds, default 1) is the first retry delay, doubled
each attempt up to OFSTED_BACKOFF_MAX (default 60); OFSTED_RETRY_AFTER_MAX (default 120) caps
how long a Retry-After header can make us wait. Tests set these tiny.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import parse_url

from etl.redact import redact

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A request that could not be completed (after retries, where retrying made sense). Its
    message quotes URLs, so any password or token in them is masked."""

    def __init__(self, message: str):
        super().__init__(redact(message))


class HostNotAllowed(FetchError):
    """A URL (or a redirect) pointing to a host outside the allowed list: never requested."""


# the exit code of `ofsted crawl|run` and scripts/run_dag.py when the site cannot be reached
# (sysexits' EX_UNAVAILABLE): scripts can tell "no network" from a failed run
EXIT_UNREACHABLE = 69
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


class SiteUnreachable(FetchError):
    """The site could not be reached at all (name, connection, TLS or proxy): retrying the
    same request seconds later cannot help, so nothing is retried. Its message is the one line
    shown to the person or operator."""

    def __init__(self, url: str, cause: str):
        self.url, self.cause = redact(url), cause
        super().__init__(
            f"cannot reach {url}: {cause}. Check the network connection, the proxy "
            f"variables ({_proxy_setting()}) and OFSTED_SITE_URL."
        )


def _proxy_setting() -> str:
    """Which proxy variables are set (names only: their values may hold a password)."""
    names = [n for n in PROXY_VARIABLES if os.environ.get(n) or os.environ.get(n.lower())]
    return ", ".join(f"{n} is set" for n in names) if names else "HTTPS_PROXY, HTTP_PROXY, NO_PROXY: none set"


def _causes(exc: BaseException):
    """The exception and what it wraps (requests -> urllib3 -> socket), outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        wrapped = getattr(exc, "reason", None)
        if not isinstance(wrapped, BaseException):
            wrapped = next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)
        exc = wrapped or exc.__cause__ or exc.__context__


def _tls_detail(chain: list[BaseException]) -> str:
    """Why the handshake failed, as the ssl module says it ("certificate verify failed:
    self-signed certificate"), or nothing."""
    for cause in reversed(chain):  # innermost first: the ssl module's own error
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return f": certificate verify failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f": {cause.reason}"
    return ""


def unreachable_cause(exc: BaseException, url: str, connect_timeout: float) -> str | None:
    """The plain-words reason this exception means the host cannot be reached at all, or None
    when it is a fault of one request (a reset, a read timeout) that a retry may get past."""
    target = connection_target(url)
    host = target[1] if target else url
    where = f"{host}:{target[2]}" if target else url
    chain = list(_causes(exc))
    if any(isinstance(c, requests.exceptions.ProxyError) for c in chain):
        return "the proxy refused the connection or could not be reached"
    if any(isinstance(c, (requests.exceptions.SSLError, ssl.SSLError)) for c in chain):
        return f"the secure (TLS) connection to {where} failed{_tls_detail(chain)}"
    for cause in chain:
        if isinstance(cause, socket.gaierror) or type(cause).__name__ == "NameResolutionError":
            return f"the name {host} does not resolve (no DNS answer for it)"
        if isinstance(cause, ConnectionRefusedError):
            return f"the connection to {where} was refused (nothing is listening there)"
        if isinstance(cause, OSError) and cause.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH
            return f"there is no network route to {where}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection to {where} within {connect_timeout:g} s (OFSTED_CONNECT_TIMEOUT)"
    return None


@dataclass
class Fetched:
    """One completed GET: final URL, status, headers and the body as received."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    complete: bool = True  # False when the server closed before Content-Length bytes
    expected_length: int | None = None
    too_large: bool = False  # we stopped reading at max_body_bytes (body holds the start)
    timed_out: bool = False  # the GET's deadline passed before the body was complete

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


# characters that WHATWG, urllib.parse and urllib3 treat differently (a backslash ends the
# authority for some, not others; tabs and newlines are silently dropped by some): never fetched
AMBIGUOUS_URL_CHARS = re.compile(r"[\\\s\x00-\x1f\x7f]")


def connection_target(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) that requests will connect to for this URL, or None when the URL
    is not a plain http(s) URL that every parser reads the same way."""
    if AMBIGUOUS_URL_CHARS.search(url):
        return None
    try:
        prepared = requests.Request("GET", url).prepare().url  # exactly what the session sends
        target = parse_url(prepared)
        ours = urlsplit(url)
        ours_port = ours.port
    except (requests.RequestException, ValueError, Urllib3Error):
        return None
    if target.scheme not in ("http", "https") or not target.host:
        return None
    port = target.port or _default_port(target.scheme)
    # the two parsers must agree, or the check and the connection could be to different hosts
    if (ours.hostname or "").lower() != target.host.lower().strip("[]") or (ours_port or port) != port:
        return None
    return target.scheme, target.host.lower(), port


def host_allowed(url: str, allowed: tuple[str, ...] | list[str]) -> bool:
    target = connection_target(url)
    if target is None:
        return False
    _, host, port = target
    return host_port_allowed(host, port, allowed)


def host_port_allowed(host: str, port: int, allowed) -> bool:
    """`host` (lower case) and `port` against the allowed entries (`host` or `host:port`)."""
    for entry in allowed:
        entry = entry.strip().lower()
        if ":" in entry and not entry.startswith("["):
            name, _, entry_port = entry.rpartition(":")
            if host == name and str(port) == entry_port:
                return True
        elif host == entry:
            return True
    return False


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def validators(etag: str | None, last_modified: str | None) -> dict[str, str] | None:
    """Conditional-GET headers from a stored answer's validators (None when it had none)."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers or None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RateLimiter:
    """At most `rate` request starts per second across all threads (evenly spaced)."""

    _shared: dict[float, RateLimiter] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, rate: float) -> RateLimiter:
        """The process's limiter for this rate: sessions opened one after another (one per task)
        continue its spacing instead of each starting with a request at once."""
        with cls._shared_lock:
            return cls._shared.setdefault(rate, cls(rate))

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


@dataclass
class PoliteSession:
    """requests.Session wrapped with the site's manners. Thread-safe; share one per run."""

    allowed_hosts: tuple[str, ...]
    user_agent: str = "ofsted-ratings"
    requests_per_second: float = 2.0
    concurrency: int = 2
    max_retries: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 120.0
    max_body_bytes: int | None = None  # stop reading a body past this: a runaway answer
    deadline: float | None = None  # seconds one GET may take in all (retries included)

    def __post_init__(self):
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        # a pool as large as our concurrency, so threads do not queue on connections
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(self.concurrency, 1), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._limiter = RateLimiter.shared(self.requests_per_second)
        self._slots = threading.BoundedSemaphore(max(self.concurrency, 1))
        self._count_lock = threading.Lock()
        self.requests_made = 0
        self.refused: list[str] = []
        self.answered = False  # some request of this session got an answer
        self.unreachable: SiteUnreachable | None = None  # once set, nothing more is sent

    @classmethod
    def from_settings(cls, settings, **overrides) -> PoliteSession:
        kwargs = dict(
            allowed_hosts=tuple(settings.allowed_hosts),
            user_agent=settings.user_agent,
            requests_per_second=settings.requests_per_second,
            concurrency=settings.concurrency,
            max_retries=settings.max_retries,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            backoff_base=settings.backoff_base,
            backoff_max=settings.backoff_max,
            retry_after_max=settings.retry_after_max,
            max_body_bytes=settings.parse_max_bytes,  # a larger file could never be parsed
            deadline=settings.download_deadline,
        )
        return cls(**{**kwargs, **overrides})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check_host(self, url: str) -> None:
        if host_allowed(url, self.allowed_hosts):
            return
        self.refused.append(url)
        target = connection_target(url)
        if target is None:
            raise HostNotAllowed(
                f"refused {url!r}: not a plain http(s) URL (a backslash, space or control "
                "character lets URL parsers disagree on its host)"
            )
        raise HostNotAllowed(
            f"refused {url}: host {target[1]!r} is not in the allowed "
            f"hosts {', '.join(self.allowed_hosts)} (OFSTED_ALLOWED_HOSTS)"
        )

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> Fetched:
        """GET with retries; follows redirects only to allowed hosts. Returns the last answer
        (which may still be a 5xx or a cut-off body once retries are spent, or a body cut off
        by the deadline); raises FetchError when no answer came at all and HostNotAllowed
        without sending anything off-list."""
        deadline = time.monotonic() + self.deadline if self.deadline else None
        for _ in range(MAX_REDIRECTS + 1):
            self.check_host(url)
            if self.unreachable is not None:
                raise SiteUnreachable(self.unreachable.url, self.unreachable.cause)
            fetched = self._get_with_retries(url, headers, deadline)
            if fetched.status not in REDIRECT_STATUSES:
                return fetched
            location = fetched.header("location")
            if not location:
                return fetched
            url = urljoin(url, location)
            log.debug("redirect %d -> %s", fetched.status, url)
        raise FetchError(f"too many redirects from {url}")

    def _get_with_retries(self, url: str, headers: dict[str, str] | None, deadline: float | None) -> Fetched:
        attempt = 0
        while True:
            attempt += 1
            last_try = attempt > self.max_retries
            try:
                fetched = self._get_once(url, headers, deadline)
            except (requests.ConnectionError, requests.Timeout, Urllib3Error) as exc:
                self._stop_if_unreachable(url, exc)
                if last_try or _past(deadline, self._backoff(attempt)):
                    raise FetchError(f"{url}: {type(exc).__name__}: {exc} (after {attempt} attempts)") from exc
                log.info("retrying %s after %s (attempt %d)", url, type(exc).__name__, attempt)
                self._sleep(self._backoff(attempt))
                continue
            retryable = fetched.status in RETRY_STATUSES or not (fetched.complete or fetched.too_large)
            if not retryable or last_try or fetched.timed_out:
                return fetched
            delay = self._backoff(attempt)
            if fetched.status in (429, 503):
                wait = retry_after_seconds(fetched.header("retry-after"))
                if wait is not None:
                    delay = min(max(wait, delay), self.retry_after_max)
            if _past(deadline, delay):
                return fetched
            log.info(
                "retrying %s after %s in %.2fs (attempt %d)",
                url,
                fetched.status if fetched.complete else "cut-off body",
                delay,
                attempt,
            )
            self._sleep(delay)

    def _stop_if_unreachable(self, url: str, exc: BaseException) -> None:
        """Before the site has answered once, an error that says it cannot be reached at all
        ends the session's work at once (and every later request fails the same way)."""
        if self.answered:
            return
        cause = unreachable_cause(exc, url, self.connect_timeout)
        if cause is None:
            return
        with self._count_lock:
            self.unreachable = self.unreachable or SiteUnreachable(url, cause)
        raise SiteUnreachable(url, cause) from exc

    def _backoff(self, attempt: int) -> float:
        # exponential with full jitter: spreads retries of parallel workers apart
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def _get_once(self, url: str, headers: dict[str, str] | None, deadline: float | None = None) -> Fetched:
        with self._slots:
            self._limiter.wait()
            with self._count_lock:
                self.requests_made += 1
            read_timeout = (
                self.read_timeout
                if deadline is None
                else max(0.001, min(self.read_timeout, deadline - time.monotonic()))
            )
            resp = self.session.get(
                url, headers=headers, allow_redirects=False, stream=True, timeout=(self.connect_timeout, read_timeout)
            )
            self.answered = True
            try:
                return self._read(url, resp, self.max_body_bytes, deadline, self.read_timeout)
            finally:
                resp.close()

    @staticmethod
    def _read(
        url: str,
        resp: requests.Response,
        max_bytes: int | None = None,
        deadline: float | None = None,
        read_timeout: float | None = None,
    ) -> Fetched:
        expected = resp.headers.get("Content-Length")
        expected_length = int(expected) if expected and expected.isdigit() else None
        chunks: list[bytes] = []
        size, complete, too_large, timed_out = 0, True, False, False
        # we compare the length ourselves so that a body cut short is kept (for inspection),
        # not discarded in an exception
        resp.raw.enforce_content_length = False
        try:
            while True:
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        timed_out, complete = True, False
                        break
                    _limit_socket_wait(resp, min(remaining, read_timeout or remaining))
                # read1: one socket read at a time, so the deadline is checked between reads
                chunk = resp.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    too_large = True
                    break
        except (Urllib3Error, requests.RequestException, OSError) as exc:
            log.debug("body of %s cut off: %s", url, exc)
            complete = False
            timed_out = deadline is not None and time.monotonic() >= deadline
        body = b"".join(chunks)
        if expected_length is not None and len(body) < expected_length and "content-encoding" not in resp.headers:
            complete = False
        return Fetched(
            url=url,
            status=resp.status_code,
            headers={k.lower(): v for k, v in resp.headers.items()},
            body=body,
            complete=complete,
            expected_length=expected_length,
            too_large=too_large,
            timed_out=timed_out,
        )


def check_reachable(settings) -> None:
    """One request to the site's front page, not retried: raises SiteUnreachable when the site
    cannot be reached at all. Any answer, even an error page, means it can."""
    with PoliteSession.from_settings(settings, max_retries=0, deadline=None) as session:
        try:
            session.get(settings.site_url.rstrip("/") + "/")
        except SiteUnreachable:
            raise
        except FetchError as exc:  # it answered, or failed in a way a retry may get past
            log.info("reachability check of %s: %s", settings.site_url, exc)


def _past(deadline: float | None, wait: float = 0.0) -> bool:
    """Whether the deadline will have passed after waiting `wait` seconds."""
    return deadline is not None and time.monotonic() + wait >= deadline


def _limit_socket_wait(resp: requests.Response, seconds: float) -> None:
    """Bound the next socket read by the time left (the read timeout is set per connection)."""
    sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
