"""The text layer: pypdfium2, page by page, on demand.

Why pypdfium2 rather than pdfplumber (the design's PDF library) for the text: pdfplumber's
page-1 `extract_words()` alone costs ~0.074 s, over the whole 0.075 s/report budget, while pdfium
gives every page's text in reading order in ~0.002 s, and in the real reports table rows come
out label then grade. pdfplumber keeps one job: reading the page-1 table from its ruled layout
where that text order leaves an area unmatched (`frameworks.read_table_layout`), a rare path."""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from etl.links import clean_text
from etl.parse.guard import Deadline, Refused, check_pages

# typographic characters mapped to the plain ones the rules are written with (a chain of
# str.replace is several times faster than str.translate on whole pages)
_REPLACE = (
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u2500", "-"),
    ("\u2012", "-"),
    ("\u2212", "-"),
    ("\u00a0", " "),
    ("\ufffe", "-"),
    ("\u00ad", ""),
    ("\r", "\n"),
    ("\u25fc", " "),
    ("\uf0b7", " "),
)
# list markers: the bullet glyphs, and symbol-font glyphs (Private Use Area) that the documents
# use as bullets, all become one BULLET where a reader counts a list's items (letters); graded
# reports' readers need no lists, and skip the cost (~2 ms for a 46-page report)
BULLET = "\u2022"
_BULLETS = re.compile("[\u25aa\u25a0\u25cf\u25e6\u25fc\u2023\u2043\u2219\ue000-\uf8ff]")


def clean(text: str, bullets: bool = False) -> str:
    """Typographic characters made plain (bullets too when asked); control characters and bidi
    overrides removed (they could reach a terminal, a feed or an alert through a name or a flag
    read from the file)."""
    if bullets:
        text = _BULLETS.sub(BULLET, text)
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    return clean_text(text)


def flat(text: str) -> str:
    """Whitespace-collapsed text: wrapped labels and sentences read as one line."""
    return " ".join(text.split())


class PdfText:
    """An open PDF whose pages' text is read lazily and cached."""

    def __init__(self, data: bytes, max_pages: int, deadline: Deadline):
        self.deadline = deadline
        self.data = data
        try:
            self.doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            msg = str(exc)
            if "password" in msg.lower():
                raise Refused("password-protected PDF") from exc
            raise Refused(f"corrupt or unreadable PDF ({msg})") from exc
        self.pages = len(self.doc)
        if self.pages == 0:
            raise Refused("PDF has no pages")
        check_pages(self.pages, max_pages)
        self._raw: dict[int, str] = {}
        self._text: dict[tuple[int, bool], str] = {}

    def page(self, n: int, bullets: bool = False) -> str:
        """The cleaned text of page n (0-based; negative counts from the end); with `bullets`,
        every list marker as BULLET."""
        n = n % self.pages
        if (n, bullets) not in self._text:
            if n not in self._raw:
                self.deadline.check()
                try:
                    self._raw[n] = self.doc[n].get_textpage().get_text_range()
                except pdfium.PdfiumError as exc:
                    raise Refused(f"corrupt page {n + 1} ({exc})") from exc
            self._text[n, bullets] = clean(self._raw[n], bullets)
        return self._text[n, bullets]

    def line_bottoms(self, n: int) -> list[float | None]:
        """Where each line of `page(n)` sits: the bottom of its first character's box (the
        font's, not the glyph's, so every line of a size sits alike), None for an empty line.
        For the rare reader that needs a page's layout (a paragraph's end), not its text alone."""
        n = n % self.pages
        self.page(n)
        raw = self._raw[n].replace("\r", "\n")
        textpage = self.doc[n].get_textpage()
        chars = textpage.count_chars()
        out: list[float | None] = []
        offset = 0
        for line in raw.split("\n"):
            first = offset + len(line) - len(line.lstrip())
            out.append(textpage.get_charbox(first, loose=True)[1] if line.strip() and first < chars else None)
            offset += len(line) + 1
        return out

    def all_text(self) -> str:
        return "\n".join(self.page(i) for i in range(self.pages))

    def close(self) -> None:
        self.doc.close()


_PDF_HEAD = re.compile(rb"%PDF-\d")


def sniff(data: bytes) -> None:
    """Refuse what is plainly not a PDF before handing it to pdfium, with a useful reason."""
    if not data:
        raise Refused("empty file")
    head = data[:1024]
    if not _PDF_HEAD.search(head):
        low = data[:4096].lower()
        if b"<html" in low or b"<!doctype html" in low:
            title = re.search(rb"<title>(.*?)</title>", data[:4096], re.S | re.I)
            what = title.group(1).decode("utf-8", "replace").strip() if title else "HTML page"
            raise Refused(f"HTML page, not a PDF: {what}")
        raise Refused("not a PDF (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        # pdfium repairs some truncated files; say so rather than read half a report
        raise Refused("truncated PDF (no %%EOF marker at the end)")
