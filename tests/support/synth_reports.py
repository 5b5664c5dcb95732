"""Synthetic Ofsted children's services reports, laid out like the real ones in each framework,
so tests (parser, fake Ofsted site, end to end) need no Crown-copyright file.

The layouts follow the real reports' structure: page-1 title, dates, inspector and judgement
table; body sections that restate each judgement (ILACS "<area>: <grade>" headings, SIF area
pages and "Key judgement" boxes, the LSCB summary, the LAC "Grade n (x)" lines and the closing
"Record of main findings" table). The text is generic filler written for these tests.

Layout options (keyword arguments of `report_pdf`), each mimicking a variant seen in real files:
  date_style: "short" ("6 to 17 May 2021"), "long" ("6 May 2021 to 17 May 2021"),
              "dash" ("6 May 2021 - 17 May 2021"), "numeric" ("6/05/2021 - 17/05/2021")
  inspector_suffix: text after the lead inspector's name on page 1 (ILACS), e.g. ", HMI"
  wrap_grades: print "Requires improvement to be good" over two lines in the table cell
  label_width: width (mm) of the table's label column; narrow widths wrap labels over 2-3 lines
  grade_middle: print the grade vertically centred on a wrapped label (words interleave by y)
  sif_overall_sentence: "council" ("Children's services in X are good") or "judgement"
              ("The overall judgement is that children's services are good")
  key_judgement_boxes: SIF 2014-style "Key judgement / Judgement grade" boxes in the body
  reinspection: SIF title "Re-inspection of services ..."
  contents: SIF contents page listing the sections' page numbers (default True)
  title_2018: ILACS 2018 title wording ("children's social care services" or "local authority")
  body_overrides: {area: grade} printed in the body instead of the table's grade (disagreement)
  omit_body: areas whose body statement is left out
  omit_table: areas whose page-1 table row is left out (read from the body only)
  table_labels: {area: label} printed in the page-1 table instead of the usual wording
  sif_headline: the SIF page-1 overall sentence, with {council} and {grade} ("Requires improvement"
              style text) filled in; "" prints none
  cells_by_column: draw the table's label cells first, then its grade cells (text order is
              then every label, then every grade; only the layout pairs them)

`lscb_review_pdf` makes a separately published LSCB review (SIF years).
"""

from __future__ import annotations

import functools
from datetime import date

from fpdf import FPDF

__all__ = [
    "report_pdf",
    "letter_pdf",
    "focused_visit_pdf",
    "monitoring_visit_pdf",
    "jtai_pdf",
    "area_send_pdf",
    "area_send_2016_pdf",
    "visit_days",
    "lscb_review_pdf",
    "not_found_html",
    "GRADE_TEXT",
]

GRADE_TEXT = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement to be good",
    "adequate": "Adequate",
    "inadequate": "Inadequate",
}
LAC_GRADE_NUMBER = {"outstanding": 1, "good": 2, "adequate": 3, "inadequate": 4}

ILACS_LABELS = {
    "impact_of_leaders": "The impact of leaders on social work practice with children and families",
    "help_and_protection": "The experiences and progress of children who need help and protection",
    "in_care_and_care_leavers": "The experiences and progress of children in care and care leavers",
    "in_care": "The experiences and progress of children in care",
    "care_leavers": "The experiences and progress of care leavers",
}
SIF_TABLE = [
    ("help_and_protection", "1. Children who need help and protection"),
    ("looked_after_and_permanence", "2. Children looked after and achieving permanence"),
    ("adoption_performance", "2.1 Adoption performance"),
    ("care_leavers", "2.2 Experiences and progress of care leavers"),
    ("leadership_management_governance", "3. Leadership, management and governance"),
]
SIF_SECTIONS = {
    "help_and_protection": "The experiences and progress of children who need help and protection",
    "looked_after_and_permanence": "The experiences and progress of children looked after and achieving permanence",
    "leadership_management_governance": "Leadership, management and governance",
}
LAC_ROWS = [
    (
        "lac_overall_effectiveness",
        "Overall effectiveness",
        "Overall effectiveness of services for looked after children and young people",
    ),
    ("lac_capacity_to_improve", "Capacity to improve", "Capacity to improve"),
    (
        "lac_outcomes",
        "Outcomes for looked after children and young people",
        "Outcomes for looked after children and young people",
    ),
    ("lac_quality_of_provision", "Quality of provision", "Quality of provision"),
    ("lac_leadership_management", "Leadership and management", "Leadership and management"),
]

ILACS_IMPROVEMENTS = ("The consistency of practice across teams.", "The timeliness of plans for children.")
FILLER = (
    "Inspectors considered the experiences of children and families, the quality of "
    "practice and the difference that leaders make. This paragraph is generic text "
    "written for tests and stands for the narrative of a real report. "
)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _ascii(text: str) -> str:
    # the core Helvetica font is Latin-1 only; real reports use typographic quotes and dashes,
    # which the parser accepts alike
    return text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")


def _long(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _date_range(start: date, end: date, style: str = "short") -> str:
    if start == end:  # a one-day inspection prints one date
        return _long(start) if style != "numeric" else f"{start.day}/{start.month:02d}/{start.year}"
    if style == "long":
        return f"{_long(start)} to {_long(end)}"
    if style == "dash":
        return f"{_long(start)} - {_long(end)}"
    if style == "numeric":
        return f"{start.day}/{start.month:02d}/{start.year} - {end.day}/{end.month:02d}/{end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} to {_long(end)}"
    if start.year == end.year:
        return f"{start.day} {MONTHS[start.month - 1]} to {_long(end)}"
    return f"{_long(start)} to {_long(end)}"


class _Doc(FPDF):
    def __init__(self, running_title: str = ""):
        super().__init__(format="A4")
        self.running_title = running_title
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, 20)
        self.set_font("Helvetica", size=11)

    def header(self):
        if self.page_no() > 1 and self.running_title:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, _ascii(self.running_title), new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", size=11)
            self.ln(2)

    def footer(self):
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, str(self.page_no()), align="R")

    def para(self, text: str, size: float = 11, bold: bool = False, gap: float = 2):
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, 5.5, _ascii(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=11)
        self.ln(gap)

    def bullets(self, items, glyph: str = "n"):
        """A bulleted list: ZapfDingbats "n" (a black square) or "l" (a dot), as the real
        documents' symbol-font bullets; an item given as (text, [sub-items]) has its sub-items
        bulleted below it, indented."""
        for item in items:
            text, subs = item if isinstance(item, tuple) else (item, ())
            self.set_font("ZapfDingbats", size=8)
            self.cell(6, 5.5, glyph)
            self.set_font("Helvetica", size=11)
            self.multi_cell(0, 5.5, _ascii(text), new_x="LMARGIN", new_y="NEXT")
            for sub in subs:
                self.set_x(self.l_margin + 8)
                self.set_font("ZapfDingbats", size=6)
                self.cell(5, 5.5, "l")
                self.set_font("Helvetica", size=11)
                self.multi_cell(0, 5.5, _ascii(sub), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def filler(self, paragraphs: int = 2, numbered_from: int | None = None):
        for i in range(paragraphs):
            prefix = f"{numbered_from + i}. " if numbered_from is not None else ""
            self.para(prefix + FILLER * 2)

    def grade_table(
        self,
        rows: list[tuple[str, str]],
        *,
        header: tuple[str, str] | None,
        label_width: float = 95,
        grade_width: float = 70,
        wrap_grades: bool = False,
        grade_middle: bool = False,
        bold_last: bool = False,
        cells_by_column: bool = False,
    ):
        """A bordered two-column table. Cells are drawn label first, then grade, like the
        real files; `grade_middle` centres the grade on the label's wrapped lines."""
        line_h = 6
        all_rows = ([header] if header else []) + rows
        deferred = []  # grade cells drawn after all the labels (cells_by_column)
        for n, (label, grade) in enumerate(all_rows):
            is_head = header is not None and n == 0
            style = "B" if is_head or (bold_last and n == len(all_rows) - 1) else ""
            self.set_font("Helvetica", style, 11)
            label_lines = self.multi_cell(label_width - 2, line_h, _ascii(label), dry_run=True, output="LINES")
            grade_text = _ascii(grade)
            if wrap_grades and grade.startswith("Requires improvement") and not is_head:
                grade_text = "Requires improvement\nto be good"
            grade_lines = self.multi_cell(grade_width - 2, line_h, grade_text, dry_run=True, output="LINES")
            height = line_h * max(len(label_lines), len(grade_lines)) + 2
            if self.will_page_break(height):
                self.add_page()
            x, y = self.get_x(), self.get_y()
            self.rect(x, y, label_width, height)
            self.rect(x + label_width, y, grade_width, height)
            self.set_xy(x + 1, y + 1)
            self.multi_cell(label_width - 2, line_h, "\n".join(label_lines))
            grade_y = y + 1
            if grade_middle:
                grade_y = y + (height - line_h * len(grade_lines)) / 2
            deferred.append((self.page, x + label_width + 1, grade_y, "\n".join(grade_lines)))
            if not cells_by_column:
                self._grade_cell(grade_width, line_h, *deferred.pop())
            self.set_xy(x, y + height)
        end = (self.page, self.get_x(), self.get_y())
        for cell in deferred:
            self._grade_cell(grade_width, line_h, *cell)
        self.page, _, _ = end
        self.set_xy(*end[1:])
        self.set_font("Helvetica", size=11)
        self.ln(4)

    def _grade_cell(self, width, line_h, page, x, y, text):
        self.page = page
        self.set_xy(x, y)
        self.multi_cell(width - 2, line_h, text)


def _grade_phrase(grade: str) -> str:
    """How a grade reads inside a sentence ("... is good", "... requires improvement")."""
    return {"requires_improvement": "requires improvement to be good"}.get(grade, grade)


def _is_phrase(grade: str) -> str:
    return _grade_phrase(grade) if grade == "requires_improvement" else f"is {grade}"


def _ilacs(
    framework: str, council: str, j: dict[str, str], start: date, end: date, inspector: str, opts: dict
) -> bytes:
    body_grade = {**j, **opts.get("body_overrides", {})}
    omit = set(opts.get("omit_body", ()))
    if framework == "ilacs_2018" and opts.get("title_2018") == "social care":
        title = f"Inspection of {council} children's social care services"
    else:
        title = f"Inspection of {council} local authority children's services"
    doc = _Doc(title)
    doc.add_page()
    doc.para(title, size=20, bold=True, gap=4)
    doc.para(f"Inspection dates: {_date_range(start, end, opts.get('date_style', 'short'))}", gap=0)
    suffix = opts.get("inspector_suffix", ", His Majesty's Inspector")
    doc.para(f"Lead inspector: {inspector}{suffix}", gap=5)
    areas = [
        a
        for a in ("impact_of_leaders", "help_and_protection", "in_care_and_care_leavers", "in_care", "care_leavers")
        if a in j
    ]
    labels = {**ILACS_LABELS, "overall_effectiveness": "Overall effectiveness", **opts.get("table_labels", {})}
    in_table = [a for a in areas + ["overall_effectiveness"] if a in j and a not in opts.get("omit_table", ())]
    rows = [(labels[a], GRADE_TEXT[j[a]]) for a in in_table]
    doc.grade_table(
        rows,
        header=("Judgement", "Grade"),
        label_width=opts.get("label_width", 95),
        wrap_grades=opts.get("wrap_grades", False),
        cells_by_column=opts.get("cells_by_column", False),
        grade_middle=opts.get("grade_middle", False),
        bold_last="overall_effectiveness" in in_table,
    )
    doc.filler(2)
    doc.add_page()
    # `improvements_after`: paragraphs before the section, so that its list runs over a page break
    doc.filler(opts.get("improvements_after", 0))
    points = opts.get("improvements", ILACS_IMPROVEMENTS)
    if points:  # a list, or one paragraph (a section that states no list)
        doc.para("What needs to improve?", size=13, bold=True)
        doc.bullets(points) if isinstance(points, (list, tuple)) else doc.para(points)
    order = ["help_and_protection", "in_care_and_care_leavers", "in_care", "care_leavers", "impact_of_leaders"]
    n = 1
    for area in order:
        if area not in j or area in omit:
            continue
        doc.para(f"{ILACS_LABELS[area]}: {_grade_phrase(body_grade[area])}", size=13, bold=True)
        doc.filler(3, numbered_from=n)
        n += 3
    doc.para("Ofsted has uploaded this report to its website. (c) Crown copyright, generic test text.", size=9)
    return bytes(doc.output())


def _render_contents(doc: _Doc, outline) -> None:
    doc.set_x(doc.l_margin)
    doc.para("Contents", size=14, bold=True)
    for section in outline:
        doc.set_font("Helvetica", size=11)
        doc.cell(150, 6, section.name)
        doc.cell(0, 6, str(section.page_number), new_x="LMARGIN", new_y="NEXT")


def _sif(
    council: str, j: dict[str, str], start: date, end: date, published: date | None, inspector: str, opts: dict
) -> bytes:
    body_grade = {**j, **opts.get("body_overrides", {})}
    omit = set(opts.get("omit_body", ()))
    kind = "Re-inspection" if opts.get("reinspection") else "Inspection"
    title = f"{kind} of services for children in need of help and protection, children looked after and care leavers"
    doc = _Doc(f"{council} {title}")
    doc.add_page()
    doc.para("1", size=9)
    doc.para(f"{council} Council", size=18, bold=True)
    doc.para(title, size=16, bold=True, gap=1)
    if "lscb" in j:
        doc.para("and", size=16, bold=True, gap=1)
        doc.para("Review of the effectiveness of the Local Safeguarding Children Board", size=16, bold=True)
    doc.para(f"Inspection date: {_date_range(start, end, opts.get('date_style', 'dash'))}", gap=0)
    if published:
        doc.para(f"Report published: {_long(published)}", gap=4)
    overall = j.get("overall_effectiveness")
    if "sif_headline" in opts:
        sentence = opts["sif_headline"].format(council=council, grade=GRADE_TEXT.get(overall, "").lower())
    elif opts.get("sif_overall_sentence", "council") == "judgement":
        verb = "require improvement to be good" if overall == "requires_improvement" else f"are {overall}"
        sentence = f"The overall judgement is that children's services {verb}"
    else:
        verb = "requires improvement to be good" if overall == "requires_improvement" else f"are {overall}"
        sentence = f"Children's services in {council} {verb}"
    if sentence:
        doc.para(sentence, size=14, bold=True)
    doc.para(
        "It is Ofsted's expectation that all children and young people receive the level of "
        "help, care and protection that will ensure their safety."
    )
    labels = {**dict(SIF_TABLE), **opts.get("table_labels", {})}
    rows = [
        (labels[a], GRADE_TEXT[j[a]].replace(" to be good", ""))
        for a, _ in SIF_TABLE
        if a in j and a not in opts.get("omit_table", ())
    ]
    doc.grade_table(
        rows,
        header=None,
        label_width=opts.get("label_width", 110),
        grade_width=55,
        wrap_grades=opts.get("wrap_grades", False),
        grade_middle=opts.get("grade_middle", False),
        cells_by_column=opts.get("cells_by_column", False),
    )
    if "lscb" in j:  # page 1 states the LSCB review's judgement under the table (2014-15 layout)
        g = j["lscb"]
        doc.para(
            f"The effectiveness of the Local Safeguarding Children Board (LSCB) "
            f"{'requires improvement' if g == 'requires_improvement' else 'is ' + g}",
            bold=True,
        )
    doc.add_page()
    doc.para("Executive summary", size=14, bold=True)
    doc.filler(3)
    if opts.get("recommendations"):  # numbered; an item's sub-bullets belong to it
        doc.add_page()
        doc.para("Recommendations", size=14, bold=True)
        for number, item in enumerate(opts["recommendations"], 1):
            text, subs = item if isinstance(item, tuple) else (item, ())
            doc.para(f"{number}. {text}", gap=1)
            if subs:
                doc.bullets(list(subs), glyph="l")
        doc.para("Summary for children and young people", size=14, bold=True)
        doc.filler(1)
    if opts.get("contents", True):  # real SIF reports list their sections on a contents page
        doc.add_page()
        doc.insert_toc_placeholder(_render_contents, pages=1)
    boxes = opts.get("key_judgement_boxes", False)
    n = 1
    for area in ("help_and_protection", "looked_after_and_permanence", "leadership_management_governance"):
        if area not in j:
            continue
        doc.add_page()
        heading = SIF_SECTIONS[area]
        doc.start_section(_ascii(heading))
        grade = GRADE_TEXT[body_grade[area]].replace(" to be good", "")
        if area in omit:
            doc.para(heading, size=14, bold=True)
        elif boxes:
            doc.para("Inspection judgements about the local authority", size=13, bold=True)
            doc.para(heading, size=12, bold=True)
            doc.grade_table(
                [(heading, grade)], header=("Key judgement", "Judgement grade"), label_width=110, grade_width=55
            )
        else:
            doc.grade_table([(heading, grade)], header=None, label_width=110, grade_width=55)
            doc.para("Summary", size=12, bold=True)
        doc.filler(3, numbered_from=n)
        n += 3
        if area == "looked_after_and_permanence":
            for sub, what in (
                ("adoption_performance", "for adoption performance"),
                ("care_leavers", "about the experiences and progress of care leavers"),
            ):
                if sub in j and sub not in omit:
                    doc.para(
                        f"The graded judgement {what} is that it {_is_phrase(body_grade[sub])}", size=12, bold=True
                    )
                    doc.filler(2, numbered_from=n)
                    n += 2
    if "lscb" in j:
        doc.add_page()
        doc.start_section("The Local Safeguarding Children Board (LSCB)")
        doc.para("The Local Safeguarding Children Board (LSCB)", size=14, bold=True)
        if "lscb" not in omit:
            g = body_grade["lscb"]
            verb = "requires improvement" if g == "requires_improvement" else f"is {g}"
            doc.para(f"The Local Safeguarding Children Board {verb}", size=12, bold=True)
        doc.filler(2, numbered_from=n)
    doc.add_page()
    doc.start_section("Information about this inspection")
    doc.para("Information about this inspection", size=13, bold=True)
    doc.para("The inspection team consisted of six of Her Majesty's Inspectors (HMI) from Ofsted.")
    doc.para("The inspection team", size=12, bold=True)
    doc.para(
        f"Lead inspector: {inspector}\nDeputy lead inspector: Alex Example\n"
        f"Team inspectors: Sam Sample, Chris Placeholder",
        gap=4,
    )
    return bytes(doc.output())


def _lac(
    council: str, j: dict[str, str], start: date, end: date, published: date | None, inspector: str, opts: dict
) -> bytes:
    body_grade = {**j, **opts.get("body_overrides", {})}
    omit = set(opts.get("omit_body", ()))
    doc = _Doc(f"{council} Council Inspection of looked after children services")
    doc.add_page()
    doc.para("Inspection of looked after children services", size=20, bold=True)
    doc.para(f"{council} Council", size=14, bold=True)
    doc.para(f"Inspection dates: {_date_range(start, end, opts.get('date_style', 'dash'))}", gap=0)
    doc.para(f"Reporting inspector {inspector} HMI", gap=0)
    doc.para("Age group: All", gap=0)
    if published:
        doc.para(f"Published: {_long(published)}")
    doc.add_page()
    doc.para("About this inspection", size=13, bold=True)
    doc.filler(2, numbered_from=1)
    n = 3
    for key, _short, heading in LAC_ROWS:
        if key not in j:
            continue
        doc.para(heading, size=13, bold=True, gap=0)
        if key not in omit:
            g = body_grade[key]
            doc.para(f"Grade {LAC_GRADE_NUMBER[g]} ({g})", bold=True)
        doc.filler(2, numbered_from=n)
        n += 2
    doc.add_page()
    doc.para("Record of main findings", size=14, bold=True)
    doc.para("Services for looked after children", size=12, bold=True)
    rows = [(short, GRADE_TEXT[j[key]]) for key, short, _h in LAC_ROWS if key in j]
    doc.grade_table(
        rows,
        header=None,
        label_width=opts.get("label_width", 80),
        grade_width=60,
        grade_middle=opts.get("grade_middle", False),
    )
    return bytes(doc.output())


def report_pdf(
    framework: str,
    council: str,
    judgements: dict[str, str],
    *,
    inspection_start: date,
    inspection_end: date,
    published: date | None = None,
    lead_inspector: str = "Jane Smith",
    **layout_options,
) -> bytes:
    """A graded inspection report in `framework`'s layout (see the module doc for options).
    `published` is printed only by the frameworks whose reports print it (SIF, LAC)."""
    args = (council, judgements, inspection_start, inspection_end)
    if framework.startswith("ilacs_"):
        return _ilacs(framework, *args, lead_inspector, layout_options)
    if framework == "sif":
        return _sif(*args, published, lead_inspector, layout_options)
    if framework == "lac":
        return _lac(*args, published, lead_inspector, layout_options)
    raise ValueError(f"unknown framework {framework!r}")


LETTERHEAD = "Ofsted\nPiccadilly Gate\nStore Street\nManchester\nM1 2WD\nT 0300 123 1231\nwww.gov.uk/ofsted"
# what a focus sentence names, by area (the wording of real letters' focus sentences)
FOCUS = {
    "help_and_protection": "the local authority's arrangements for the 'front door'",
    "in_care": "the local authority's arrangements for children in care",
    "care_leavers": "the local authority's arrangements for care leavers",
    "extra_familial": "the local authority's arrangements for children at risk of extra-familial harm",
}
VISIT_DATE_WORDINGS = ("on {days}", "between {days}")
PRIORITY_STYLES = (
    "bullets",
    "lead_in",
    "single",
    "singular_heading",
    "singular_lead_in",
    "none_stated",
    "none_bullet",
    "earlier_remain",
    "earlier_listed",
    "unreadable",
)


class _Letter(_Doc):
    """A letter: the letterhead on every page (as real letters print it), a page number below."""

    def header(self):
        if self.page_no() > 1:
            self.set_font("Helvetica", size=8)
            self.multi_cell(0, 3.5, LETTERHEAD, new_x="LMARGIN", new_y="NEXT")
            self.set_font("Helvetica", size=11)
            self.ln(2)


def visit_days(start: date, end: date, wording: str = "range", year: bool = True) -> str:
    """The visit's days as letters print them. wording: "range" ("23 and 24 June 2021", "29
    September and 1 October 2020"), "to" ("1 to 2 March 2021"), "dash" ("22-23 October 2021"),
    "list" ("15, 16 and 21 July 2021": start, the day after, end), "full" ("8 June 2020 to 12
    June 2020"); `year=False` leaves the year out (the letter's year applies)."""
    y = f" {end.year}" if year else ""
    month = MONTHS[end.month - 1]
    if wording == "full":
        return (
            f"{_long(start)} to {_long(end)}" if year else f"{start.day} {MONTHS[start.month - 1]} to {end.day} {month}"
        )
    if start == end:
        return f"{end.day} {month}{y}"
    first = f"{start.day}" if start.month == end.month else f"{start.day} {MONTHS[start.month - 1]}"
    if wording == "to":
        return f"{first} to {end.day} {month}{y}"
    if wording == "dash":
        return f"{first}-{end.day} {month}{y}"
    if wording == "list":
        middle = date.fromordinal(start.toordinal() + 1)
        return f"{first}, {middle.day} and {end.day} {month}{y}"
    return f"{first} and {end.day} {month}{y}"


def _letter_head(doc: _Letter, published: date, council: str, heading: str, printed: str | None = None) -> None:
    doc.add_page()
    doc.para(LETTERHEAD, size=9)
    doc.para(printed or _long(published), gap=3)
    doc.para(f"Director of Children's Services\n{council} Council\nTown Hall\nEX1 1AA", gap=3)
    doc.para("Dear Director", gap=3)
    doc.para(heading, size=12, bold=True)


def _sign(doc: _Letter, lead_inspector: str) -> None:
    doc.para("Ofsted will take the findings from this visit into account when planning the next inspection or visit.")
    doc.para("Yours sincerely", gap=1)
    doc.para(f"{lead_inspector}\nHis Majesty's Inspector")


def _priority_section(doc: _Letter, actions: list[str], style: str) -> None:
    """An "Area(s) for priority action" section in one of the real letters' shapes:
    bullets: the heading, then one bullet per action;
    lead_in: "The local authority needs to take swift and decisive action ... in:", then bullets;
    single: the plural heading followed by one statement (no list);
    singular_heading: "Area for priority action", a statement "..., including:" and sub-bullets;
    singular_lead_in: "Area for priority action" over a lead-in "... the following areas:" and one
    bullet per action (each counts, as in the JTAIs);
    none_stated: the heading, then a statement that there are none (`actions` unused);
    none_bullet: the heading over one bullet saying there are none (the older JTAIs);
    earlier_remain: a statement that the areas set at the last visit remain, then that there are
    no additional ones (`actions` unused: none is new);
    earlier_listed: "The areas for priority action identified at the previous visit remain:"
    over the actions (earlier ones, listed: none is new);
    unreadable: the heading and a lead-in ending in a colon, with no readable items."""
    singular = style in ("singular_heading", "singular_lead_in")
    doc.para("Area for priority action" if singular else "Areas for priority action", size=12, bold=True)
    if style == "bullets":
        doc.bullets(actions)
    elif style == "lead_in":
        doc.para(
            "The local authority needs to take swift and decisive action to address the following "
            "areas of weakness in:",
            gap=1,
        )
        doc.bullets([a[0].lower() + a[1:] for a in actions], glyph="l")
    elif style == "single":
        doc.para(actions[0])
    elif style == "singular_heading":
        doc.para(
            f"The local authority needs to take swift and decisive action to address {actions[0][0].lower()}"
            f"{actions[0][1:].rstrip('.')}, including:",
            gap=1,
        )
        doc.bullets(["the timeliness of plans for children", "the oversight of managers."])
    elif style == "singular_lead_in":
        doc.para(
            "Urgent action is required, as too many children remain in situations of risk and harm. "
            "Priority action should be taken to address the following areas:",
            gap=1,
        )
        doc.bullets(actions)
    elif style == "none_stated":
        doc.para("There are no priority actions following this focused visit.")
    elif style == "none_bullet":
        doc.bullets(["There are no areas for priority action"])
    elif style == "earlier_remain":
        doc.para(
            "The areas for priority action identified at the focused visit in March 2023 remain. "
            "There are no additional areas for priority action."
        )
    elif style == "earlier_listed":
        doc.para("The areas for priority action identified at the previous visit remain:", gap=1)
        doc.bullets(actions)
    elif style == "unreadable":
        doc.para(
            "The local authority needs to take swift and decisive action to address the following areas of weakness:"
        )
    else:
        raise ValueError(f"unknown priority action style {style!r}")


def focused_visit_pdf(
    council: str,
    *,
    visit_start: date,
    visit_end: date,
    published: date | None = None,
    lead_inspector: str = "Jane Smith",
    focus: str | None = "in_care",
    also_leaders: bool = False,
    priority_actions: list[str] | tuple = (),
    priority_style: str = "bullets",
    date_wording: str = "range",
    date_intro: str = "on",
    year_printed: bool = True,
    kind: str = "focused_visit",
    focus_items: list[str] | tuple = (),
    days_text: str | None = None,
    printed_date: str | None = None,
    leaders_finding: bool = False,
    improvements: list[str] | tuple = ("The quality of supervision.", "The timeliness of assessments."),
) -> bytes:
    """A focused (or monitoring) visit letter laid out like the real ones: letterhead, the
    letter's date, "Dear ...", heading, opening sentence with the visit's days, the focus
    sentence, "Headline findings", any "Areas for priority action", "What needs to improve",
    findings over a second page (letterhead repeated, page numbers), "Yours sincerely".

    focus: a key of FOCUS, or free text completing "Inspectors looked at ..."; None prints no
    focus sentence (a COVID-era review of the whole service). focus_items: print instead the
    monitoring visits' "... progress made in the following areas ...:" and these items as a
    bulleted list. also_leaders: a second sentence
    naming the impact of leaders. leaders_finding: a second sentence that is a finding about the
    impact of leaders (not what inspectors looked at). priority_actions: the actions' texts, laid out in
    `priority_style` (see PRIORITY_STYLES; "none_stated" and "unreadable" need no texts).
    days_text: the visit's days printed as given ("the 15 and 16 of May 2018", "24 October 2022 to
    25 October 2023"); printed_date: the letter's date printed as given ("8th of March, 2019")."""
    what = {"focused_visit": "focused visit", "monitoring_visit": "monitoring visit"}[kind]
    published = published or date.fromordinal(visit_end.toordinal() + 35)
    doc = _Letter()
    _letter_head(doc, published, council, f"{what.capitalize()} to {council} children's services", printed_date)
    days = days_text or visit_days(visit_start, visit_end, date_wording, year_printed)
    doc.para(
        f"This letter summarises the findings of the {what} to {council} children's services "
        f"{date_intro} {days}. His Majesty's Inspectors for this visit were {lead_inspector} and "
        f"Alex Example."
    )
    if focus_items:
        doc.para("Areas covered by the visit", size=12, bold=True)
        doc.para(
            "Inspectors reviewed the progress made in the following areas of concern identified at the "
            "last inspection:",
            gap=1,
        )
        doc.bullets(focus_items, glyph="l")
    elif focus is not None:
        if kind == "monitoring_visit":
            doc.para(
                f"This visit was the second monitoring visit since the local authority was judged "
                f"inadequate. Inspectors reviewed the progress made in {FOCUS.get(focus, focus)}."
            )
        else:
            doc.para(f"Inspectors looked at {FOCUS.get(focus, focus)}.")
        if also_leaders:
            doc.para("They also looked at the impact of leaders on social work practice in this area of the service.")
        if leaders_finding:
            doc.para("Since the last inspection, the impact of leaders on practice with these children has grown.")
    doc.para(
        "This visit was carried out in line with the inspection of local authority children's services "
        "(ILACS) framework. Inspectors considered a range of evidence, including children's records."
    )
    doc.para("Headline findings", size=12, bold=True)
    doc.filler(2)
    if priority_actions or priority_style in ("none_stated", "none_bullet", "earlier_remain", "unreadable"):
        _priority_section(doc, list(priority_actions), priority_style)
    doc.para("What needs to improve in this area of social work practice?", size=12, bold=True)
    doc.bullets(list(improvements))
    doc.para("Main findings", size=12, bold=True)
    doc.filler(6)
    _sign(doc, lead_inspector)
    return bytes(doc.output())


def monitoring_visit_pdf(council: str, **kwargs) -> bytes:
    """A monitoring visit letter (a council judged inadequate): as `focused_visit_pdf`, its focus
    stated as the progress inspectors reviewed."""
    return focused_visit_pdf(council, kind="monitoring_visit", **kwargs)


# each theme as the real letters word the multi-agency response (their heading or first sentence)
JTAI_THEMES = {
    "cse_and_missing": "child sexual exploitation and those missing from home, care or education",
    "domestic_abuse": "children who are victims of domestic abuse",
    "neglect": "children living with neglect",
    "exploitation": "the criminal exploitation of children",
    "sexual_abuse_in_family": "sexual abuse in the family",
    "mental_health": "children's mental health",
    "initial_need_and_risk": "identification of initial need and risk",
    "serious_youth_violence": "serious youth violence",
}
# the older letters' signatories: Ofsted's National Director beside the CQC's, then HMICFRS's and
# HMI Probation's, laid out in two columns under the inspectorates' names
JOINT_SIGNATORIES = [
    ("Care Quality Commission", "Carl Quality", "Deputy Chief Inspector"),
    ("HMI Constabulary", "Pat Police", "Her Majesty's Inspector of Constabulary"),
    ("HMI Probation", "Rob Probation", "Assistant Chief Inspector"),
]


def jtai_pdf(
    council: str,
    *,
    inspection_start: date,
    inspection_end: date,
    published: date | None = None,
    lead_inspector: str = "Jane Smith",
    theme: str = "domestic_abuse",
    date_wording: str = "to",
    heading_names_theme: bool = False,
    deep_dive: bool = False,
    ofsted_column: int = 0,
    ofsted_signs: bool = True,
    priority_actions: list[str] | tuple = (),
    priority_style: str = "singular_lead_in",
    improvements: list[str] | tuple = ("The quality of information sharing between agencies.",),
) -> bytes:
    """A joint targeted area inspection letter: headed "Joint targeted area inspection of
    <council>", "This letter summarises the findings of the joint targeted area inspection (JTAI)
    of the multi-agency response to <theme> in <council>", "This inspection took place from ..."
    (date_wording "to": "8 to 12 June 2020"; "full": each date written out in full), signed by
    Ofsted's National Director above the other inspectorates' signatories, each with its post.
    heading_names_theme: the older letters (2016-2020): "Joint targeted area inspection of the
    multi-agency response to <theme> in <council>", "Between 4 and 8 March 2019, Ofsted, ...
    undertook a joint inspection of ...", signed in columns under the inspectorates' names
    ("Ofsted Care Quality Commission"; `ofsted_column` 1: the CQC's column first). deep_dive: the
    heading says only "abuse and neglect" and the theme is the 'deep dive' focus. theme: a key of
    JTAI_THEMES, or words of no theme. ofsted_signs: False leaves Ofsted out of the signatures.
    priority_actions: in `priority_style` (see `_priority_section`)."""
    published = published or date.fromordinal(inspection_end.toordinal() + 50)
    doc = _Letter()
    words = JTAI_THEMES.get(theme, theme)
    response = f"the multi-agency response to {'abuse and neglect' if deep_dive else words} in {council}"
    days = visit_days(inspection_start, inspection_end, date_wording)
    if heading_names_theme:
        _letter_head(doc, published, council, f"Joint targeted area inspection of {response}")
        doc.para(
            f"Between {days}, Ofsted, the Care Quality Commission (CQC), HMI Constabulary and Fire & Rescue "
            f"Services (HMICFRS) and HMI Probation (HMI Prob) undertook a joint inspection of {response}. "
            f"This inspection included a 'deep dive' focus on the response to {words}."
        )
    else:
        _letter_head(doc, published, council, f"Joint targeted area inspection of {council}")
        doc.para(f"This letter summarises the findings of the joint targeted area inspection (JTAI) of {response}.")
        doc.para(
            f"This inspection took place from {days}. It was carried out by inspectors from Ofsted, the Care "
            f"Quality Commission (CQC) and His Majesty's Inspectorate of Constabulary and Fire & Rescue "
            f"Services (HMICFRS)."
        )
    doc.para("Headline findings", size=12, bold=True)
    doc.filler(3)
    if priority_actions or priority_style == "none_bullet":
        _priority_section(doc, list(priority_actions), priority_style)
    doc.para("What needs to improve?", size=12, bold=True)
    doc.bullets(list(improvements))
    doc.para("Next steps", size=12, bold=True)
    doc.filler(5)
    doc.para(
        "The director of children's services should prepare a written statement of proposed action "
        "responding to the findings outlined in this letter."
    )
    doc.para("Yours sincerely", gap=1)
    ofsted = [("Ofsted", lead_inspector, "National Director, Social Care")] if ofsted_signs else []
    signatories = ofsted + JOINT_SIGNATORIES
    if heading_names_theme:
        if ofsted_column and ofsted_signs:
            signatories[0], signatories[1] = signatories[1], signatories[0]
        doc.set_font("Helvetica", size=11)
        for left, right in zip(signatories[::2], signatories[1::2]):
            doc.cell(85, 6, _ascii(left[0]))  # the headings' row, then each column's name and post
            doc.cell(0, 6, _ascii(right[0]), new_x="LMARGIN", new_y="NEXT")
            top = doc.get_y()
            for x, (_, name, post) in ((doc.l_margin, left), (doc.l_margin + 85, right)):
                # each column's lines sit a little lower than the last column's, as the real
                # letters' text boxes do: the text comes out column by column
                doc.set_xy(x, top + (x > doc.l_margin) * 0.8)
                doc.multi_cell(80, 6, _ascii(f"{name}\n{post}"), new_x="LEFT", new_y="NEXT")
            doc.set_xy(doc.l_margin, top + 16)
    else:
        for inspectorate, name, post in signatories:
            where = ", Ofsted" if inspectorate == "Ofsted" else (", CQC" if "Quality" in inspectorate else "")
            doc.para(f"{name}\n{post}{where}", gap=1)
    return bytes(doc.output())


AREA_SEND_OUTCOME_TEXT = {
    "positive": "The local area partnership's special educational needs and/or disabilities (SEND) arrangements "
    "typically lead to positive experiences and outcomes for children and young people with SEND.",
    "inconsistent": "The local area partnership's arrangements lead to inconsistent experiences and outcomes for "
    "children and young people with special educational needs and/or disabilities (SEND).",
    "systemic_failings": "There are widespread and/or systemic failings leading to significant concerns about the "
    "experiences and outcomes of children and young people with special educational needs "
    "and/or disabilities (SEND).",
}


def area_send_pdf(
    council: str,
    outcome: str | None,
    *,
    inspection_start: date,
    inspection_end: date,
    lead_inspector: str = "Jane Smith",
    cqc_lead: str = "Chris Carer",
    cqc_first: bool = False,
    roles_name_inspectorate: bool = True,
) -> bytes:
    """An area SEND report (2023 framework): title, dates, the "Inspection outcome" section in
    one of AREA_SEND_OUTCOME_TEXT's wordings (None: no such section, as a monitoring inspection),
    and an inspection team naming Ofsted's and the CQC's lead inspectors side by side
    (`cqc_first`: the CQC's column printed first; `roles_name_inspectorate` False: each role says
    only "Lead inspector", "Inspector", the column's heading naming the inspectorate)."""
    doc = _Doc(f"Area SEND inspection report: {council} Local Area Partnership")
    doc.add_page()
    doc.para("Local area partnership report", size=10)
    doc.para(f"Area SEND inspection of {council} Local Area Partnership", size=18, bold=True)
    doc.para(f"Inspection dates: {_date_range(inspection_start, inspection_end)}", gap=0)
    doc.para("Dates of previous inspection: 3 to 7 July 2017", gap=3)
    if outcome:
        doc.para("Inspection outcome", size=13, bold=True)
        doc.para(
            AREA_SEND_OUTCOME_TEXT[outcome] + " The next full area SEND inspection will be within "
            "approximately three years."
        )
    doc.para("Information about the local area partnership", size=13, bold=True)
    doc.filler(2)
    doc.add_page()
    doc.para("What is it like to be a child or young person with SEND in this area?", size=13, bold=True)
    doc.filler(4)
    doc.add_page()
    doc.para("Inspection team", size=13, bold=True)
    ofsted = [f"{lead_inspector} HMI, Ofsted lead inspector", "Alex Example, Ofsted HMI"]
    cqc = [f"{cqc_lead}, CQC lead inspector", "Sam Sample, CQC inspector"]
    if not roles_name_inspectorate:
        ofsted = [f"{lead_inspector} HMI, Lead inspector", "Alex Example, HMI"]
        cqc = [f"{cqc_lead}, Lead inspector", "Sam Sample, Inspector"]
    left, right = (cqc, ofsted) if cqc_first else (ofsted, cqc)
    doc.para(("Care Quality Commission    Ofsted" if cqc_first else "Ofsted    Care Quality Commission"), gap=0)
    for a, b in zip(left, right):
        doc.set_font("Helvetica", size=10)
        doc.cell(85, 6, _ascii(a))
        doc.cell(0, 6, _ascii(b), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def area_send_2016_pdf(
    council: str,
    *,
    inspection_start: date,
    inspection_end: date,
    published: date,
    lead_inspector: str = "Jane Smith",
    revisit: bool = False,
) -> bytes:
    """An area SEND letter of the 2016 framework (or its revisit): a letter with the days in its
    opening sentence ("Between 22 January 2020 and 24 January 2020, Ofsted and the CQC ..."),
    ending in whether a written statement of action is required; no outcome."""
    doc = _Letter()
    what = "revisit" if revisit else "inspection"
    _letter_head(doc, published, council, f"Joint local area SEND {what} in {council}")
    doc.para(
        f"Between {_long(inspection_start)} and {_long(inspection_end)}, Ofsted and the Care Quality "
        f"Commission (CQC) {'revisited' if revisit else 'conducted a joint inspection of'} the local area "
        f"of {council} to judge the effectiveness of the area in implementing the special educational "
        f"needs and disability reforms."
    )
    doc.para(
        "This inspection was led by one of Her Majesty's Inspectors from Ofsted, with a team of "
        "inspectors including a children's services inspector from the CQC."
    )
    doc.filler(4)
    doc.para("As a result of the findings of this inspection, a Written Statement of Action is required.")
    doc.para("Yours sincerely", gap=1)
    doc.para(f"{lead_inspector}\nHer Majesty's Inspector")
    return bytes(doc.output())


def letter_pdf(
    kind: str, council: str, *, visit_start: date, visit_end: date, lead_inspector: str = "Jane Smith", **kwargs
) -> bytes:
    """An ungraded letter of `kind` ("focused_visit", "monitoring_visit" or "jtai"): see
    focused_visit_pdf and jtai_pdf for the keyword options."""
    if kind == "jtai":
        return jtai_pdf(
            council, inspection_start=visit_start, inspection_end=visit_end, lead_inspector=lead_inspector, **kwargs
        )
    return focused_visit_pdf(
        council, visit_start=visit_start, visit_end=visit_end, lead_inspector=lead_inspector, kind=kind, **kwargs
    )


def lscb_review_pdf(
    council: str,
    grade: str,
    *,
    inspection_start: date,
    inspection_end: date,
    published: date,
    lead_inspector: str = "Jane Smith",
) -> bytes:
    """A review of a Local Safeguarding Children Board published on its own (SIF years): the
    board's judgement stated on page 1 and again in the body; page 1 names no inspectorate."""
    title = "Review of the effectiveness of the Local Safeguarding Children Board"
    verb = "requires improvement" if grade == "requires_improvement" else f"is {grade}"
    doc = _Doc(f"{council} {title}")
    doc.add_page()
    doc.para(f"{council} Local Safeguarding Children Board", size=18, bold=True)
    doc.para(title, size=16, bold=True)
    doc.para(f"Inspection date: {_date_range(inspection_start, inspection_end, 'dash')}", gap=0)
    doc.para(f"Report published: {_long(published)}", gap=4)
    doc.para(f"The effectiveness of the Local Safeguarding Children Board (LSCB) {verb}", size=14, bold=True)
    doc.filler(2)
    doc.add_page()
    doc.para("Recommendations", size=13, bold=True)
    doc.filler(2, numbered_from=1)
    doc.para("The Local Safeguarding Children Board (LSCB)", size=14, bold=True)
    doc.para(f"The Local Safeguarding Children Board {verb}", size=12, bold=True)
    doc.filler(2, numbered_from=3)
    doc.para("Information about this review", size=13, bold=True)
    doc.para("The review was carried out by Her Majesty's Inspectors (HMI) from Ofsted.")
    doc.para(f"Lead inspector: {lead_inspector}", gap=4)
    return bytes(doc.output())


def not_found_html() -> bytes:
    """The site's "Report not found" page, served with a success status in place of a PDF."""
    return b"""<!DOCTYPE html>
<html lang="en" class="govuk-template">
<head><meta charset="utf-8"><title>Report not found - Ofsted</title></head>
<body class="govuk-template__body">
<header class="govuk-header"><a href="/" class="govuk-header__link">Ofsted</a></header>
<main class="govuk-main-wrapper" id="main-content" role="main">
<h1 class="govuk-heading-xl">Report not found</h1>
<p class="govuk-body">Sorry, we could not find the report you were looking for.</p>
<p class="govuk-body">It may have been moved or removed. <a href="/">Search for a report</a>.</p>
</main>
</body>
</html>
"""


FRAMEWORK_ERAS = [  # (first publication date, framework), newest last: which layout a date gets
    (date(2012, 1, 1), "lac"),
    (date(2013, 11, 1), "sif"),
    (date(2018, 6, 1), "ilacs_2018"),
    (date(2023, 6, 1), "ilacs_2023"),
    (date(2026, 4, 1), "ilacs_2026"),
]
AREAS = {
    "lac": [
        "lac_overall_effectiveness",
        "lac_capacity_to_improve",
        "lac_outcomes",
        "lac_quality_of_provision",
        "lac_leadership_management",
    ],
    "sif": ["overall_effectiveness"] + [key for key, _label in SIF_TABLE],
    "ilacs_2018": ["overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care_and_care_leavers"],
    "ilacs_2023": ["overall_effectiveness", "impact_of_leaders", "help_and_protection", "in_care", "care_leavers"],
    "ilacs_2026": ["impact_of_leaders", "help_and_protection", "in_care", "care_leavers"],
}


@functools.cache
def listing_pdf(council: str, kind: str, published: date) -> bytes:
    """A plausible report for a listed publication, for whole-site fakes (`pdf_factory`):
    the framework of its date, grades drawn deterministically from (council, date). Made once
    per test process (the same fake sites recur across the suite; each report takes a while)."""
    import random

    rng = random.Random(f"{council}|{published.isoformat()}")
    end = date.fromordinal(published.toordinal() - 40)
    start = date.fromordinal(end.toordinal() - 11)
    if kind == "area_send":
        outcome = rng.choice(sorted(AREA_SEND_OUTCOME_TEXT))
        return area_send_pdf(council, outcome, inspection_start=start, inspection_end=end)
    if kind != "inspection":
        letter = kind if kind in ("focused_visit", "monitoring_visit", "jtai") else "monitoring_visit"
        return letter_pdf(letter, council, visit_start=start, visit_end=end, published=published)
    framework = [f for first, f in FRAMEWORK_ERAS if published >= first][-1]
    scale = (
        ["outstanding", "good", "adequate", "inadequate"]
        if framework == "lac"
        else ["outstanding", "good", "requires_improvement", "requires_improvement", "inadequate"]
    )
    grades = {area: rng.choice(scale) for area in AREAS[framework]}
    return report_pdf(
        framework,
        council,
        grades,
        inspection_start=start,
        inspection_end=end,
        published=published,
        lead_inspector=rng.choice(["Jane Smith", "Ravi Patel", "Ann O'Neill"]),
    )
