"""What a report or letter says must improve: its improvement points, in order
(../shared/ofsted-reports.md, "What needs to improve").

    found = read_improvements(pdf, kind, framework)   # found.items, found.note

Each kind of document prints its points in a section of its own, under a heading its template
fixes (an ILACS report's "What needs to improve?", a SIF report's "Recommendations", a focused
visit's "What needs to improve in this area of social work practice", ...) and ending at the next
heading of that template. The section is read from the document's lines without their page
furniture (running headers and footers, page numbers, letterheads: the lines repeated at the top
or bottom of the pages) and footnotes. Its items are its list items (bullets; a SIF report's
numbers, whose sub-bullets belong to them), or, where it has no list, its paragraphs (or table
rows). Every rule is linear in the text's length."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from etl.parse.letters import LETTERHEAD_END, PAGE_NUMBER  # a letter's page furniture: one rule for both
from etl.parse.text import BULLET, PdfText, flat

I = re.I
MAX_ITEM = 5000  # characters: longer is no improvement point but a section misread
_TOP, _BOTTOM = 10, 5  # lines at a page's top and bottom where its furniture is looked for


@dataclass(frozen=True)
class Improvements:
    items: tuple[str, ...] = ()
    note: str | None = None  # a review note: the section could not be read as it should


@dataclass(frozen=True)
class Section:
    """Where a kind of document prints its points: the heading (a line of its own), the headings
    that end the section, the list marker its items start with (the other marks sub-items), and
    the sub-headings whose items are not improvement points (read on at `resume`)."""

    start: re.Pattern
    end: re.Pattern
    marker: str | None = BULLET  # None: items are paragraphs (table rows), lists in them sub-items
    skip: re.Pattern | None = None
    resume: re.Pattern | None = None
    drop: re.Pattern | None = None  # lines that group items and are no part of them
    prose: bool = True  # may state its points in paragraphs (else a list only)
    box: re.Pattern | None = None  # boxed text's headings: a box can stand inside an item
    late: bool = False  # the section is near the document's end: looked for from there

    @cached_property
    def start_anywhere(self) -> re.Pattern:
        """The heading as a line of a page's text (footnote markers still there)."""
        return re.compile(rf"^[ \t]*(?:{self.start.pattern})\d{{0,2}}[ \t]*$", re.I | re.M)


def _heading(pattern: str) -> re.Pattern:
    # a whole line: the heading, then at most its punctuation (footnote markers are gone by then)
    return re.compile(rf"(?:{pattern})\s*[?:.]?", I)


_LETTER_END = r"yours sincerely|yours faithfully|ofsted will take the findings|next steps\b"
_PRIORITY = r"areas? for priority action"
NUMBER = "number"

SECTIONS: dict[str, Section] = {
    "ilacs": Section(
        _heading(r"what needs to improve(?: in this local authority)?"),
        re.compile(
            r"the experiences and progress of|the impact of leaders|overall effectiveness\b|"
            r"summary for children|information about this inspection",
            I,
        ),
        prose=False,
    ),
    "sif": Section(
        _heading(r"recommendations|areas for improvement|what does the local authority need to improve"),
        re.compile(
            r"summary for children|the local authority'?s strengths|the local authority has the following "
            r"strengths|information about this inspection|summary of findings|section \d|the effectiveness of "
            r"the local safeguarding|key strengths and weaknesses|inspection judgements? about",
            I,
        ),
        marker=NUMBER,
        skip=re.compile(r"priority and immediate action|" + _PRIORITY, I),
        resume=_heading(r"areas for improvement|recommendations"),
    ),
    "lac": Section(
        _heading(r"areas for improvement"),
        re.compile(
            r"record of main findings|information about this inspection|summary of findings|"
            r"outcomes for|quality of provision|leadership and management",
            I,
        ),
        drop=re.compile(r"(?:immediately|within (?:\w+ ){1,3}(?:months?|weeks?|days?))\s*:?\s*", I),
    ),
    "visit": Section(
        _heading(r"what needs to improve(?: in this area of social work practice)?|areas? for improvement"),
        re.compile(r"(?:main )?findings\b|" + _LETTER_END + "|" + _PRIORITY, I),
    ),
    "jtai": Section(
        _heading(r"what needs to improve|areas for improvement"),
        re.compile(r"strengths\b|case study|practice study|main findings|" + _LETTER_END + "|" + _PRIORITY, I),
        box=re.compile(r"case study|practice study", I),
    ),
    "area_send": Section(
        _heading(r"areas for improvement"),
        re.compile(r"local area partnership details|information about this inspection|" + _PRIORITY, I),
        marker=None,
        late=True,
    ),
}


def section_of(kind: str | None, framework: str | None) -> Section | None:
    if kind == "inspection":
        if framework and framework.startswith("ilacs"):
            return SECTIONS["ilacs"]
        return SECTIONS.get(framework or "")
    if kind in ("focused_visit", "monitoring_visit"):
        return SECTIONS["visit"]
    return SECTIONS.get(kind or "")


# --- the document's lines ------------------------------------------------------------------------
_DIGITS = re.compile(r"\d+")
# a footnote marker: digits glued to the word or punctuation before them, then a space or the end
_MARKER = re.compile(r"(?<=[A-Za-z)\]'\".,;:?!])(\d{1,2})(?=\s|$)")
_FOOTNOTE = re.compile(r"(\d{1,2})\s+\S")
_ADDRESS_LINE = 40
_AROUND = 10  # pages from the heading's where furniture is looked for (a running header is on each)
_TRIES = 3  # headings tried: a contents line, then the section (linear time whatever the file)
_LEADING_SLACK = 0.3  # points: more than the rounding of one line's place to the next


class Line(NamedTuple):
    """A line of text and where it is: its page, and its row in that page's text."""

    text: str
    page: int
    row: int


def _key(line: str) -> str:
    """A line as its page furniture repeats: whatever its numbers (a page's, a date's)."""
    return _DIGITS.sub("#", line.lower())


def page_furniture(pdf: PdfText, pages: range | None = None) -> set[tuple[str, int, str]]:
    """The running headers and footers: what stands at the same place from the top or the bottom
    of a quarter of the pages at least, three of more than four (a heading can open two pages,
    or open one and stand in page 1's table), whatever its numbers. Looked for on `pages` (those
    around a section: no page is read for it alone)."""
    pages = pages if pages is not None else range(pdf.pages)
    seen = Counter()
    for n in pages:
        seen.update(_places(_edge_lines(pdf.page(n))))
    least = 2 if len(pages) <= 4 else max(3, len(pages) // 4)
    return {k for k, n in seen.items() if n >= least}


def _edge_lines(text: str) -> list[str]:
    """A page's first and last lines (no more: the text between them is not split)."""
    top = [x.strip() for x in text.split("\n", 3 * _TOP)[: 3 * _TOP] if x.strip()][:_TOP]
    bottom = [x.strip() for x in text.rsplit("\n", 3 * _BOTTOM)[-3 * _BOTTOM :] if x.strip()][-_BOTTOM:]
    return top + [""] + bottom  # "" marks where the bottom's lines start


def document_lines(pdf: PdfText, furniture: set, first: int = 0, last: int | None = None) -> list[Line]:
    """Every non-empty line of pages first..last in reading order, without page furniture and
    footnotes."""
    out: list[Line] = []
    for n in range(first, pdf.pages if last is None else last):
        lines = [
            Line(line.strip(), n, row) for row, line in enumerate(pdf.page(n, bullets=True).split("\n")) if line.strip()
        ]
        start, end = 0, len(lines)
        while start < end and start < _TOP and _is_furniture(lines[start].text, ("top", start), furniture):
            start += 1
        while (
            end > start
            and len(lines) - end < _BOTTOM
            and _is_furniture(lines[end - 1].text, ("bottom", len(lines) - end), furniture)
        ):
            end -= 1
        out += _without_footnotes(_without_letterhead(lines[start:end]))
    return out


def _without_letterhead(lines: list[Line]) -> list[Line]:
    """A letter's page without Ofsted's letterhead (its address, up to the web address), which
    its text gives wherever the page prints it, even between a list's items."""
    out: list[Line] = []
    for line in lines:
        if LETTERHEAD_END.search(line.text) and len(line.text) <= _ADDRESS_LINE:
            kept = len(out)
            while kept and len(out) - kept < 12 and _address_line(out[kept - 1].text):
                kept -= 1
            del out[kept:]
            continue
        out.append(line)
    return out


def _address_line(line: str) -> bool:
    return len(line) <= _ADDRESS_LINE and not line.endswith((".", ";", ":", ","))


def _places(edges: list[str]) -> set[tuple[str, int, str]]:
    """Each line near a page's edges by where it is (from the top or the bottom) and what it says."""
    cut = edges.index("")
    top = {("top", i, _key(x)) for i, x in enumerate(edges[:cut])}
    return top | {("bottom", i, _key(x)) for i, x in enumerate(reversed(edges[cut + 1 :]))}


def _is_furniture(line: str, place: tuple[str, int], furniture: set[tuple[str, int, str]]) -> bool:
    return (*place, _key(line)) in furniture or PAGE_NUMBER.match(line) is not None


def _without_footnotes(lines: list[Line]) -> list[Line]:
    """A page's lines without the footnotes at its foot ("5 Operation Encompass is ...") and the
    markers in its text that point to them ("Operation Encompass5")."""
    markers: set[str] = set()
    cut = len(lines)
    for i, line in enumerate(lines):
        note = _FOOTNOTE.match(line.text)
        if note and note.group(1) in markers and i > 0:
            cut = i
            break
        markers.update(m.group(1) for m in _MARKER.finditer(line.text))
    if cut == len(lines):
        return lines
    numbers = {m.group(1) for m in map(_FOOTNOTE.match, (x.text for x in lines[cut:])) if m}
    unmark = lambda m: "" if m.group(1) in numbers else m.group(0)  # noqa: E731
    kept = [x._replace(text=_MARKER.sub(unmark, x.text)) for x in lines[:cut]]
    return [x for x in kept if x.text and x.text not in numbers]


# --- the section ---------------------------------------------------------------------------------
def read_improvements(pdf: PdfText, kind: str | None, framework: str | None) -> Improvements:
    section = section_of(kind, framework)
    if section is None:
        return Improvements()
    first = _heading_page(pdf, section)
    if first is None:
        return Improvements()
    furniture = page_furniture(pdf, range(max(0, first - 2), min(pdf.pages, first + _AROUND)))
    # the section's pages: a few from its heading's, more only while it has not ended
    lines, read = [], first
    for last in (first + 3, first + 9, pdf.pages):
        last = min(last, pdf.pages)
        lines += document_lines(pdf, furniture, read, last)  # page by page: only the new pages
        read = last
        body, ended = section_lines(lines, section)
        if (body and ended) or last >= pdf.pages:
            break
    if body is None:
        return Improvements()
    items, note = split_items(body, section, pdf)
    if not (items or note):
        note = "improvements: the section's points could not be told apart from what follows it"
    return Improvements(tuple(items), note)


def _heading_page(pdf: PdfText, section: Section) -> int | None:
    """The first page that prints the section's heading, looked for from the end where the
    section is late in the document (fewer pages read)."""
    has = lambda n: section.start_anywhere.search(pdf.page(n)) is not None  # noqa: E731
    if not section.late:
        return next((n for n in range(pdf.pages) if has(n)), None)
    last = next((n for n in reversed(range(pdf.pages)) if has(n)), None)
    while last and has(last - 1):
        last -= 1
    return last


def _starts(line: str, pattern: re.Pattern) -> bool:
    return pattern.match(line) is not None


def section_lines(lines: list[Line], section: Section) -> tuple[list[Line] | None, bool]:
    """The lines under the first heading of the section that heads any (not a contents line),
    to the heading that ends it (None without the heading), and whether that heading was met."""
    found, ended = None, False
    starts = (i for i, line in enumerate(lines) if section.start.fullmatch(line.text))
    for start in itertools.islice(starts, _TRIES):
        found, ended = _section_from(lines, start, section)
        if found:
            break
    return found, ended


def _section_from(lines: list[Line], start: int, section: Section) -> tuple[list[Line], bool]:
    body: list[Line] = []
    skipping = False
    boxed = None  # the page of a box (a case study) printed inside an unfinished item
    for where in lines[start + 1 :]:
        line = where.text
        if where.page == boxed:
            continue
        if section.skip and section.skip.match(line) and _heading_like(line):
            skipping = True
            continue
        if skipping:
            if section.resume and section.resume.fullmatch(line):
                skipping = False
            continue
        if (section.start.fullmatch(line) and not body) or line.isdigit():
            continue  # the heading repeated (a table's header row); a stray footnote marker
        if _starts(line, section.end) and (_heading_like(line) or len(line) <= 60):
            if section.box and section.box.match(line) and body and not body[-1].text.endswith(_ENDS):
                boxed = where.page  # the item goes on over the page: so does the section
                continue
            return body, True
        body.append(where)
    return body, False


def _heading_like(line: str) -> bool:
    """A heading: a short line that is no sentence's end."""
    return len(line) <= 120 and not line.endswith((".", ";", ","))


# --- items ---------------------------------------------------------------------------------------
# a paragraph that says the points of an earlier inspection or visit still stand
_STANDS = re.compile(
    r"\b(?:previous|previously|last|earlier|prior)\b[^.]{0,160}?\b(?:remain|still|continue|stand|"
    r"outstanding|unresolved)|\b(?:remain|still)\b[^.]{0,160}?\b(?:previous|previously|last|earlier|"
    r"prior) (?:inspection|visit|report|letter)",
    I,
)
_ASKS = re.compile(r"\b(?:should|must|needs? to)\b", I)  # a point of its own
_NUMBERED = re.compile(r"\d{1,3}[.)]\s+(?=\S)")
_ENDS = (".", "?", "!", ".)", ".'", '."', ";", ":")


def _marker_of(line: str) -> tuple[str | None, str]:
    if line.startswith(BULLET):
        return BULLET, line[1:].lstrip()
    m = _NUMBERED.match(line)
    if m:
        return NUMBER, line[m.end() :]
    return None, line


def split_items(lines: list[Line], section: Section, pdf: PdfText | None = None) -> tuple[list[str], str | None]:
    body = [x.text for x in lines]
    marks = [_marker_of(x)[0] for x in body]
    present = [m for m in (section.marker, BULLET, NUMBER) if m in marks]
    if section.marker is None or not present:
        if not section.prose:
            return [], "improvements: the section lists no points (its paragraphs are not read as points)"
        items, note = _paragraphs(lines, section, pdf)
        if len(items) <= 2 and all(_STANDS.search(x) and not _ASKS.search(x) for x in items):
            return [], None  # only says that earlier points still stand
        return items, note
    marker = present[0]
    width = max(len(x) for x in body)
    items: list[list[str]] = []
    for i, line in enumerate(body):
        if section.drop and section.drop.fullmatch(line):
            continue
        mark, text = _marker_of(line)
        if mark == marker:
            items.append([text])
        elif items:
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if mark is None and items[-1][-1].endswith(_ENDS) and line[:1].isupper() and _heading_like(line):
                if _marker_of(nxt)[0] == marker and len(line) <= 80:
                    continue  # a sub-heading: its items follow
                if _short_heading(line, width) and nxt[:1].isupper():
                    break  # a heading the template does not name ends the list
            items[-1].append(text)
    return _finish([join_lines(x) for x in items])


def _paragraphs(lines: list[Line], section: Section, pdf: PdfText | None) -> tuple[list[str], str | None]:
    """Items of a section with no list: its paragraphs (a table's rows), a list in one part of
    it. A paragraph ends at a sentence's end where the next line starts lower on the page than
    the lines of a paragraph follow each other (across a page break: where the next line starts
    a sentence)."""
    gaps = _line_gaps(lines, pdf)
    usual = sorted(g for g in gaps if g is not None)
    pitch = usual[len(usual) // 2] if usual else None
    width = max((len(x.text) for x in lines), default=0)
    items: list[list[str]] = []
    for i, line in enumerate(lines):
        if section.drop and section.drop.fullmatch(line.text):
            continue
        nxt = lines[i + 1].text if i + 1 < len(lines) else ""
        if (not items or items[-1][-1].endswith(_ENDS)) and _prose_heading(line.text, nxt, width):
            continue
        mark, text = _marker_of(line.text)
        if items and (mark or not _ends_paragraph(items[-1][-1], text, gaps[i], pitch)):
            items[-1].append(text)
        else:
            items.append([text])
    return _finish([join_lines(x) for x in items])


def _short_heading(line: str, width: int) -> bool:
    """A heading among the lines of a section: well short of the text's width, capitalised,
    ending no sentence (a paragraph's lines fill the width but its last, which ends one)."""
    return _heading_like(line) and not line.endswith(_ENDS) and len(line) < width * 0.8 and line[:1].isupper()


def _prose_heading(line: str, nxt: str, width: int) -> bool:
    """A sub-heading between paragraphs ("Response to children living with neglect"), before a
    line that starts a sentence."""
    return _short_heading(line, width) and nxt[:1].isupper()


def _line_gaps(lines: list[Line], pdf: PdfText | None) -> list[float | None]:
    """How far each line starts below the one before it (None: the first, or on another page)."""
    bottoms = {}
    if pdf is not None:
        for page in {x.page for x in lines}:
            bottoms[page] = pdf.line_bottoms(page)
    out: list[float | None] = [None]
    for before, line in zip(lines, lines[1:]):
        place = bottoms.get(line.page) if before.page == line.page else None
        above, below = (place[before.row], place[line.row]) if place else (None, None)
        out.append(above - below if above is not None and below is not None else None)
    return out


def _ends_paragraph(previous: str, line: str, gap: float | None, pitch: float | None) -> bool:
    if not (previous.rstrip().endswith(_ENDS[:6]) and line[:1].isupper()):
        return False
    # a table's rows can follow each other as closely as a paragraph's lines, but never exactly
    return gap is None or pitch is None or gap > pitch + _LEADING_SLACK


def _finish(items: list[str]) -> tuple[list[str], str | None]:
    out, note = [], None
    for text in items:
        if not text:
            continue
        if len(text) > MAX_ITEM:
            text = text[:MAX_ITEM].rsplit(" ", 1)[0] + " ..."
            note = f"improvements: an item over {MAX_ITEM} characters was cut"
        out.append(text)
    return out, note


_LINE_HYPHEN = re.compile(r"(?<=[A-Za-z])-$")


def join_lines(lines: list[str]) -> str:
    """An item's lines as one: a word hyphenated at a line's end keeps its hyphen and joins the
    next line's first word ("multi-" "agency": "multi-agency")."""
    parts: list[str] = []
    for line in lines:
        line = line.strip()
        if parts and not (_LINE_HYPHEN.search(parts[-1]) and line[:1].islower()):
            parts.append(" ")
        parts.append(line)
    return flat("".join(parts))
