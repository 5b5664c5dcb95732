"""What the site says, made safe where it comes in and again wherever it is shown.

One rule for links: a URL taken from the site is a link only when it is http(s) to the site's
own host or an allowed host (OFSTED_ALLOWED_HOSTS) - the rule the downloader applies before it
sends anything (etl.http.host_allowed). The crawler stores any other URL as text with the
reason (`refusal`), and everything that renders a URL (the view's templates, alert messages,
workbook hyperlinks) asks `safe_link` again, so a row stored before the rule existed is safe too.

    safe_link("javascript:alert(1)", hosts)              -> None
    safe_link("https://files.ofsted.gov.uk/v1/file/1", hosts) -> the URL

`clean_text` takes control characters (C0 but tab and newline, DEL, C1), what XML 1.0 does not
allow, bidi overrides and invisible characters out of names, titles and PDF text where they are
taken in: they can break XML (the Atom feeds), drive a terminal, make text read other than it
is, or hide in it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from etl.http import connection_target, host_port_allowed

# what XML 1.0 does not allow (C0 but tab and newline, lone surrogates, U+FFFE/U+FFFF), DEL and
# C1; bidi embeddings, overrides and isolates (LRE..RLO, LRI..PDI); and invisible characters:
# zero-width (ZWSP, ZWNJ, ZWJ, word joiner, BOM), the LRM/RLM/ALM marks, tag characters
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069"
    "\u061c\ufeff\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f]"
)
_TERMINAL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# an http(s) URL every parser reads alike: a plain host (no userinfo), then printable ASCII
# without backslash or space; others take the full check (etl.http.connection_target), ~1 ms
_SCHEME = re.compile(r"\s*([a-z][a-z0-9+.-]*):", re.I)
_PLAIN_URL = re.compile(r"(https?)://([a-z0-9.-]+)(?::(\d{1,5}))?(?:[/?#][\x21-\x5b\x5d-\x7e]*)?\Z", re.I)


def refusal(url: str | None, allowed_hosts) -> str | None:
    """Why `url` may not be a link (None when it may)."""
    if not url:
        return "no link"
    return _refusal(url, tuple(allowed_hosts))


@lru_cache(maxsize=8192)  # a page shows the same few hundred links again and again
def _refusal(url: str, allowed_hosts: tuple[str, ...]) -> str | None:
    plain = _PLAIN_URL.match(url)
    target = None
    if plain:
        scheme, host = plain[1].lower(), plain[2].lower()
        target = (scheme, host, int(plain[3]) if plain[3] else 443 if scheme == "https" else 80)
    else:
        target = connection_target(url)
    if target is not None and host_port_allowed(target[1], target[2], allowed_hosts):
        return None
    if target is None:
        scheme = (_SCHEME.match(url) or [None, ""])[1].lower()
        return (
            f"not an http(s) link ({clean_text(scheme)[:20]}:)"
            if scheme not in ("http", "https")
            else "an ambiguous http(s) link (parsers disagree on its host)"
        )
    return f"host {target[1]!r} is not allowed (OFSTED_ALLOWED_HOSTS)"


def safe_link(url: str | None, allowed_hosts) -> str | None:
    """`url` when it may be a link, else None (show it as text, never as a link)."""
    return url if url and refusal(url, allowed_hosts) is None else None


def clean_text(text: str) -> str:
    """`text` without control characters (tab and newline kept), characters XML 1.0 does not
    allow, bidi overrides or invisible characters."""
    return _CONTROL.sub("", text)


def one_line(value: object) -> str:
    """Untrusted text on one line: `clean_text`, and no line breaks or runs of spaces."""
    return " ".join(clean_text(str(value)).split())


def for_terminal(value: object) -> str:
    """Warehouse text for a terminal line: every control character shown as an escape, so
    text from the site can never move the cursor, recolour or retitle the terminal."""
    return _TERMINAL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
