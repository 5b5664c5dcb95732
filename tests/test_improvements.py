"""What each report and letter says must improve (etl.parse.improvements), on generated
documents laid out like the real ones and on lines built by hand."""

from __future__ import annotations

import json
import time
from datetime import date

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from etl.config import Settings
from etl.parse import parse_bytes
from etl.parse.improvements import (
    MAX_ITEM,
    SECTIONS,
    Line,
    document_lines,
    join_lines,
    page_furniture,
    section_lines,
    split_items,
)
from etl.parse.text import BULLET
from tests.support.synth_reports import focused_visit_pdf, jtai_pdf, report_pdf

SETTINGS = Settings.from_env({})
START, END = date(2024, 5, 6), date(2024, 5, 17)
ILACS = dict(
    overall_effectiveness="good",
    impact_of_leaders="good",
    help_and_protection="good",
    in_care="requires_improvement",
    care_leavers="good",
)
SIF = dict(
    overall_effectiveness="requires_improvement",
    help_and_protection="good",
    looked_after_and_permanence="requires_improvement",
    leadership_management_governance="good",
)
# points long enough to wrap, each worded apart (as real points are)
POINTS = [
    f"The {what} of the help that children and families receive when they first need it, and of the plans that follow."
    for what in ("quality", "timeliness", "consistency", "oversight", "recording", "review", "stability")
]


def parse(pdf: bytes):
    record = parse_bytes(pdf, "x.pdf", settings=SETTINGS)
    assert record.is_report, record.reason
    return record


def lines(*texts: str) -> list[Line]:
    return [Line(text, 0, row) for row, text in enumerate(texts)]


def test_an_ilacs_list_running_over_a_page_break_is_read_whole_without_the_running_header():
    pdf = report_pdf(
        "ilacs_2023",
        "Exampleshire",
        ILACS,
        inspection_start=START,
        inspection_end=END,
        improvements=POINTS,
        improvements_after=7,
    )
    record = parse(pdf)
    # the list does run over a page: its first and last points are on different pages
    from etl.parse.guard import Deadline
    from etl.parse.text import PdfText

    text = PdfText(pdf, 50, Deadline(30))
    pages = [n for n in range(text.pages) for point in (POINTS[0], POINTS[-1]) if point[:40] in text.page(n)]
    assert len(set(pages)) == 2, pages
    assert record.improvements == tuple(POINTS)
    assert record.to_contract()["improvements"] == POINTS
    assert not [n for n in record.review_notes if n.startswith("improvements")]


def test_a_sif_numbered_list_keeps_each_items_sub_bullets_and_skips_its_themes():
    recommendations = [
        POINTS[0],
        (
            "Improve the arrangements for children who go missing by ensuring that:",
            ["return home interviews are offered to every child", "risks are shared."],
        ),
        POINTS[1],
    ]
    pdf = report_pdf(
        "sif",
        "Exampleshire",
        SIF,
        inspection_start=START,
        inspection_end=END,
        published=date(2016, 7, 1),
        recommendations=recommendations,
    )
    assert parse(pdf).improvements == (
        POINTS[0],
        "Improve the arrangements for children who go missing by ensuring that: return home "
        "interviews are offered to every child risks are shared.",
        POINTS[1],
    )


def test_a_focused_visits_points_and_a_jtais_points_stop_at_the_next_heading():
    visit = focused_visit_pdf("Exampleshire", visit_start=START, visit_end=END, improvements=POINTS[:3])
    assert parse(visit).improvements == tuple(POINTS[:3])
    jtai = jtai_pdf("Exampleshire", inspection_start=START, inspection_end=END, improvements=POINTS[3:5])
    record = parse(jtai)
    assert record.kind == "jtai" and record.improvements == tuple(POINTS[3:5])


def test_a_letters_letterhead_on_the_next_page_is_no_part_of_a_point():
    # enough points to run onto the second page, where the letterhead is printed again
    points = [p.replace("children", f"children ({n})") for n, p in enumerate(POINTS * 3)]
    record = parse(focused_visit_pdf("Exampleshire", visit_start=START, visit_end=END, improvements=points))
    assert record.improvements == tuple(points)


def test_a_document_without_the_section_has_none_and_no_note():
    record = parse(
        report_pdf("ilacs_2023", "Exampleshire", ILACS, inspection_start=START, inspection_end=END, improvements=[])
    )
    assert record.improvements == ()
    assert json.loads(json.dumps(record.to_contract()))["improvements"] == []
    assert not [n for n in record.review_notes if n.startswith("improvements")]


def test_an_ilacs_section_that_lists_nothing_has_no_points_and_a_note():
    record = parse(
        report_pdf(
            "ilacs_2023",
            "Exampleshire",
            ILACS,
            inspection_start=START,
            inspection_end=END,
            improvements="There is a very small number of areas where practice varies.",
        )
    )
    assert record.improvements == ()
    assert [n for n in record.review_notes if n.startswith("improvements")]
    assert record.review_flags == ()  # noted, never held


def test_sub_headings_priority_actions_and_timescales_are_not_points():
    sif = lines(
        "What does the local authority need to improve?",
        "Priority and immediate action",
        "1. Review every unallocated case.",
        "Areas for improvement",
        "Care leavers",
        "2. Ensure that pathway plans are",
        "reviewed.",
        "Adoption",
        "3. Recruit adopters.",
        "The local authority's strengths",
        "4. Leaders know their services well.",
    )
    assert split_items(section_lines(sif, SECTIONS["sif"])[0], SECTIONS["sif"])[0] == [
        "Ensure that pathway plans are reviewed.",
        "Recruit adopters.",
    ]
    lac = lines(
        "Areas for improvement",
        "15. The local authority should take the following action.",
        "Immediately:",
        f"{BULLET} ensure all children have a plan",
        "Within three months:",
        f"{BULLET} ensure that reviews take place",
        "Record of main findings",
    )
    assert split_items(section_lines(lac, SECTIONS["lac"])[0], SECTIONS["lac"])[0] == [
        "ensure all children have a plan",
        "ensure that reviews take place",
    ]


def test_a_list_ends_at_a_heading_the_template_does_not_name():
    body = lines(
        "What needs to improve?",
        f"{BULLET} The sharing of health information between agencies.",
        "The local safeguarding partnership",
        "Leaders have a clear understanding of the work that needs to be done across the area.",
    )
    assert split_items(section_lines(body, SECTIONS["jtai"])[0], SECTIONS["jtai"])[0] == [
        "The sharing of health information between agencies."
    ]


def test_prose_paragraphs_and_a_section_that_only_says_earlier_points_stand():
    send = SECTIONS["area_send"]
    rows = lines(
        "Areas for improvement",
        "Leaders should improve the quality of plans by ensuring:",
        f"{BULLET} all children are seen; and",
        f"{BULLET} plans are reviewed.",
        "Leaders should reduce waiting times.",
        "Local area partnership details",
    )
    assert split_items(section_lines(rows, send)[0], send)[0] == [
        "Leaders should improve the quality of plans by ensuring: all children are seen; and plans are reviewed.",
        "Leaders should reduce waiting times.",
    ]
    stands = lines(
        "Areas for improvement",
        "The areas for improvement identified at the last inspection remain.",
        "Local area partnership details",
    )
    assert split_items(section_lines(stands, send)[0], send) == ([], None)


def test_footnotes_and_their_markers_are_removed():
    from etl.parse.improvements import _without_footnotes

    page = lines(
        "What needs to improve?1",
        f"{BULLET} Operation Encompass2 is not yet effective.",
        "1 The national framework sets out the outcomes.",
        "2 A scheme that tells schools of incidents.",
    )
    assert [x.text for x in _without_footnotes(page)] == [
        "What needs to improve?",
        f"{BULLET} Operation Encompass is not yet effective.",
    ]


def test_a_word_hyphenated_at_a_line_end_keeps_its_hyphen():
    assert (
        join_lines(["The multi-", "agency response to children", "and young people."])
        == "The multi-agency response to children and young people."
    )


def test_an_over_long_item_is_cut_with_a_note_and_a_100_kb_sentence_reads_fast():
    words = "word " * 20_000
    body = lines("What needs to improve?", f"{BULLET} {words}", "The experiences and progress of children")
    started = time.perf_counter()
    items, note = split_items(section_lines(body, SECTIONS["ilacs"])[0], SECTIONS["ilacs"])
    assert time.perf_counter() - started < 1.0
    assert len(items) == 1 and len(items[0]) <= MAX_ITEM + 4 and note and "cut" in note


_TEXT = st.text(alphabet=st.sampled_from(list("ab Z1.:;?-'()") + [BULLET, "\n"]), max_size=80)


@hsettings(max_examples=60, deadline=2000)
@given(st.lists(_TEXT, max_size=30), st.sampled_from(sorted(SECTIONS)))
def test_reading_any_lines_never_fails_and_gives_one_line_items(texts, kind):
    section = SECTIONS[kind]
    body, _ended = section_lines(
        lines(
            "Areas for improvement",
            "What needs to improve?",
            "Recommendations",
            *[t for text in texts for t in text.split("\n") if t.strip()],
        ),
        section,
    )
    items, _note = split_items(body or [], section)
    assert all(item and "\n" not in item and len(item) <= MAX_ITEM + 4 for item in items)


def test_document_lines_of_a_real_layout_drop_page_numbers_and_running_headers():
    from etl.parse.guard import Deadline
    from etl.parse.text import PdfText

    pdf = PdfText(
        report_pdf("ilacs_2023", "Exampleshire", ILACS, inspection_start=START, inspection_end=END), 50, Deadline(30)
    )
    text = [x.text for x in document_lines(pdf, page_furniture(pdf))]
    assert not [x for x in text if x.isdigit()]
    assert text.count("Inspection of Exampleshire local authority children's services") <= 1
