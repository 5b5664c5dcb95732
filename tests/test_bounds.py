"""What a document says about itself is checked and bounded (issue 23): the council it names
against its listing, the characters it may carry, the time and length its text may take, in the
parser, the alerts (subscribers' and operators'), the feeds and the exports. The hostile
documents are made here (tests/support/synth_reports.py)."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import date
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from etl.alert.events import AlertEvent
from etl.config import Settings
from etl.parse import parse_bytes
from etl.records import ListingMeta
from tests.support.synth_reports import focused_visit_pdf, report_pdf

BURY = ListingMeta(urn="80443", local_authority="Bury", url="https://files.ofsted.gov.uk/v1/file/1")
ILACS = {
    "overall_effectiveness": "inadequate",
    "impact_of_leaders": "inadequate",
    "help_and_protection": "inadequate",
    "in_care": "inadequate",
    "care_leavers": "inadequate",
}
SITE = ("files.ofsted.gov.uk",)


def durham_report() -> bytes:
    return report_pdf(
        "ilacs_2023", "Durham", ILACS, inspection_start=date(2025, 3, 3), inspection_end=date(2025, 3, 14)
    )


def letter(council: str = "Bury", actions=("Improve the timeliness of assessments.",), **kw) -> bytes:
    return focused_visit_pdf(
        council,
        visit_start=date(2025, 5, 6),
        visit_end=date(2025, 5, 7),
        published=date(2025, 6, 2),
        priority_actions=list(actions),
        **kw,
    )


# -- 1. the council a document names, against its listing -------------------------------------------
def test_a_report_naming_another_council_is_held_and_moves_no_grade(wh):
    from etl.graded import graded_reports
    from etl.load import load_reports

    record = parse_bytes(durham_report(), "durham.pdf", BURY)
    assert "council: names Durham; listed under Bury (80443)" in record.review_flags
    assert record.local_authority == "Bury"  # the listing files it: never the PDF's words
    load_reports(wh, [record], "run-1")
    assert wh.fetchone("SELECT needs_review FROM reports")[0]
    assert [r for r in graded_reports(wh) if r.urn == "80443"] == []  # held: no grade moves
    # the same report under its own council's listing is not held for it
    own = parse_bytes(durham_report(), "durham.pdf", ListingMeta(urn="80465", local_authority="Durham"))
    assert not [f for f in own.review_flags if f.startswith("council:")]


def test_a_letter_naming_another_council_is_noted_and_announced_under_its_listing():
    from etl.pipeline import RunSummary, summarise_records

    record = parse_bytes(letter("Durham"), "letter.pdf", BURY)
    assert "council: names Durham; listed under Bury (80443)" in record.review_notes
    assert not record.review_flags and record.visit.priority_actions == 1
    summary = RunSummary("run-1")
    summarise_records(summary, [record])
    lines = "\n".join(summary.lines())
    assert "PRIORITY ACTION Bury (80443)" in lines and "Durham" not in lines


@pytest.mark.parametrize(
    "named, urn, another",
    [
        ("Royal Borough of Windsor & Maidenhead", "80546", False),
        ("Kingston upon Hull City Council", "80477", False),
        ("Bournemouth, Christchurch and Poole", "2532287", False),
        ("Poole", "2532287", False),  # its predecessor
        ("Northamptonshire", "2637548", False),  # West Northamptonshire's predecessor
        ("the City of Bristol", "80441", False),
        ("Herefordshire Council", "80474", False),
        ("London Borough of Hammersmith and Fulham", "80497", False),
        ("Newcastle", "80525", False),  # a short form of one council's name
        ("the local area", "80443", False),  # no council at all: nothing to compare
        ("Durham County Council", "80443", True),
        ("North Somerset", "80555", True),  # not Somerset, though it contains it
        ("Leicestershire", "80482", True),  # not Leicester
    ],
)
def test_names_are_compared_after_normalising_through_the_reference(named, urn, another):
    from etl.reference import names_another_council

    assert names_another_council(named, urn) is another


# -- 2. characters ------------------------------------------------------------------------------------
def test_invisible_and_xml_forbidden_characters_are_removed_where_text_comes_in():
    from etl.parse.text import clean

    hidden = "A\u200bB\u200c\u200dC\u2060D\ufeffE\u200eF\u200fG\u061cH\U000e0041I\ufffeJ\uffffK\ud800L\x0bM"
    assert clean(hidden) == "AB" + "CDEFGH" + "I-JKLM"  # U+FFFE: pdfium's hyphen, kept as "-"
    assert clean("tab\tand\nnewline") == "tab\tand\nnewline"


def test_a_priority_action_with_u_ffff_leaves_the_feeds_well_formed():
    from etl.parse.letters import read_priority_actions
    from etl.parse.text import clean

    # the text layer as pdfium gives it, through the intake every page goes through (PdfText.page)
    page = clean("Areas for priority action\n\u2022 Improve the \uffff timeliness of assessments.\nYours sincerely")
    actions = read_priority_actions(page.split("\n"))
    assert actions.texts == ("Improve the timeliness of assessments.",)
    ET.fromstring(feed(list(actions.texts)))
    ET.fromstring(feed(["Improve the \uffff timeliness \ud800 of assessments."]))  # a row stored before


def feed(texts, council="Bury") -> bytes:
    from etl.web.feeds import atom_feed

    change = dict(
        change_id="c",
        urn="80443",
        local_authority=council,
        area="in_care",
        direction="declined",
        previous_grade="good",
        grade="inadequate",
        published=date(2025, 1, 1),
        inspection_end=None,
        previous_published=None,
        report_url=None,
    )
    action = dict(
        report_id="r",
        urn="80443",
        local_authority=council,
        kind="focused_visit",
        areas="in_care",
        priority_actions=len(texts),
        texts=texts,
        published=date(2025, 1, 1),
        inspection_end=None,
        url=None,
    )
    return atom_feed(
        council, "http://x/changes.atom", "http://x/", [change], lambda u: f"http://x/{u}", lambda u: None, [action]
    )


# any code point, surrogates included, and those XML forbids more often than chance would draw them
ANY_CHARACTER = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    st.sampled_from("\uffff\ufffe\ud800\udfff\x0b\x1f\u200b\U000e0001"),
)
ANY_TEXT = st.lists(ANY_CHARACTER, max_size=40).map("".join)  # (st.text would drop the sampled ones)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT, st.lists(ANY_TEXT, max_size=3))
def test_every_feed_is_well_formed_whatever_a_document_contains(name, texts):
    ET.fromstring(feed(texts, name))


# -- 3. linear time -----------------------------------------------------------------------------------
class AdversarialPdf:
    """What a reader sees of a PDF, every page the same hostile text."""

    def __init__(self, text: str, pages: int = 1):
        self.text, self.pages, self.data = text, pages, b""

    def page(self, n: int, bullets: bool = False) -> str:
        return self.text

    def all_text(self) -> str:
        return "\n".join([self.text] * self.pages)


PIECES = [
    ".",
    ",",
    ";",
    ":",
    " ",
    "\n",
    "-",
    "\u2022",
    "(",
    ")",
    "'",
    "1.",
    "a)",
    " and",
    " or",
    " including",
    "A",
    "s",
    "Dear ",
    "visit ",
    " to ",
    "on 1 ",
    "May",
    " 2025",
    "Yours sincerely",
    "HMI",
    "Areas for priority action",
]


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4))
def test_every_text_rule_runs_in_linear_time_on_100_kb_of_separators_and_punctuation(pieces):
    from etl.parse import frameworks, letters

    unit = "".join(pieces)
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    readers = {
        **frameworks.READERS,
        "area_send": letters.read_area_send,
        "letter": lambda pdf: letters.read_letter(pdf, "focused_visit"),
        "first_sentence": lambda pdf: letters.first_sentence(pdf.text),
        "identify": lambda pdf: frameworks.identify(pdf.text),
    }
    for name, read in readers.items():
        start = time.perf_counter()
        try:
            read(AdversarialPdf(text))
        except Exception:
            pass  # a reader may give up on nonsense; it must do so in time
        # linear rules take well under a second (quadratic ones took minutes): room for a busy machine
        assert time.perf_counter() - start < 3, f"{name} on {unit!r} * n"


def test_a_letter_with_a_100_kb_item_parses_in_under_2_s_with_the_item_cut_and_noted():
    from etl.parse.letters import MAX_TEXT

    # 100 KB of ", and": the joining tail a pattern anchored at the end took minutes over (on lines, as
    # printed: one unwrapped line of it takes the PDF library long to lay out)
    long_item = "Improve the help given to children,\n" + "\n".join(["and," + " and," * 19] * 1000) + "\nnow."
    data = letter(actions=[long_item, "Strengthen management oversight."])
    start = time.perf_counter()
    record = parse_bytes(data, "l.pdf", BURY, Settings.from_env({}))
    assert time.perf_counter() - start < 2
    assert record.is_report and record.visit.priority_actions == 2
    first = record.visit.priority_action_texts[0]
    assert len(first) <= MAX_TEXT + 1 and first.endswith("…")
    assert any("cut" in n and "priority action" in n for n in record.review_notes)


# -- 4. operators' notices, escaped like subscribers' alerts --------------------------------------------
MENTIONS = "@everyone @here <!channel> <@123456> <@&789>"


@pytest.mark.parametrize(
    "url", ["discord://123456/KwebhookToken", "mmost://host/token", "json://127.0.0.1/x", "mailto://u:p@example.com"]
)
def test_operators_notices_are_defused_through_the_subscribers_escaping(url):
    from etl.alert import notify_operators

    sent = []
    notify_operators(
        [url],
        f"Files need attention {MENTIONS}",
        f"NOT A REPORT Inspection of {MENTIONS}",
        send=lambda *args: sent.append(args),
    )
    ((target, title, body, fmt),) = sent
    # an email has no mentions: there, markup is what must not pass
    mentions = ("<!channel>", "<@123456>", "<@&789>") + (() if fmt == "html" else ("@everyone", "@here"))
    for text in (title, body):
        for mention in mentions:
            assert mention not in text, (fmt, text)
    assert "Inspection of" in body and target == url


def test_discord_is_told_to_ping_nobody(monkeypatch):
    import apprise.plugins.discord as discord

    from etl.alert import apprise_send

    payloads = []

    class Answer:
        status_code, content, text, headers = 204, b"", "", {}

    monkeypatch.setattr(
        discord.requests, "post", lambda url, data=None, **kw: payloads.append(json.loads(data)) or Answer()
    )
    assert apprise_send("discord://123456/KwebhookToken", "t", "hello @everyone", "markdown") is None
    assert payloads and all(p["allowed_mentions"] == {"parse": []} for p in payloads)


# -- 5. each message within its service's limit ------------------------------------------------------
def priority_event(texts, url="https://files.ofsted.gov.uk/v1/file/9") -> AlertEvent:
    return AlertEvent(
        event_id="priority_action:x",
        kind="priority_action",
        urn="80443",
        council="Bury",
        published=date(2025, 6, 2),
        url=url,
        noticed_at=None,
        letter_kind="focused_visit",
        visit_areas=("in_care",),
        priority_actions=len(texts),
        priority_action_texts=tuple(texts),
    )


@pytest.mark.parametrize("fmt, limit", [("markdown", 2000), ("markdown", 4096), ("text", 4096), ("html", 32768)])
def test_ten_thousand_bullets_are_cut_at_a_whole_item_within_the_limit_with_the_link(fmt, limit):
    from etl.alert.messages import render

    texts = [f"Improve practice number {i}." for i in range(10_000)]
    message = render(priority_event(texts), fmt, SITE, limit=limit)
    assert len(message.title) + 2 + len(message.body) <= limit
    shown = BeautifulSoup(message.body, "html.parser").get_text() if fmt == "html" else message.body
    shown = shown.replace("\\", "")
    kept = [int(n) for n in re.findall(r"number (\d+)\.", shown)]
    assert kept and kept == list(range(len(kept)))  # whole items, in order
    assert f"… {10_000 - len(kept)} more: see the letter" in shown
    assert "files.ofsted.gov.uk/v1/file/9" in message.body


def test_a_message_too_long_to_send_is_refused_once_never_retried(wh, monkeypatch):
    from etl.alert import delivery

    attempts = []
    event = priority_event([f"Item {i}." for i in range(50)])
    monkeypatch.setattr(delivery, "collect_events", lambda wh: [event])
    monkeypatch.setattr(delivery, "message_limit", lambda url: 40)  # not even the title fits
    rule = delivery.Rule(target="t", url="json://127.0.0.1:9/x")
    for _ in range(2):
        delivery.send_alerts(wh, [rule], None, include_baseline=True, send=lambda *a: attempts.append(a) or None)
    assert attempts == []
    status, error = wh.fetchone("SELECT status, last_error FROM alert_messages")
    assert status == "refused" and "too long" in error


# -- 6. exports and bare URLs ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ['focus;=HYPERLINK("http://evil.example","x")', "a,+1", "a\t-2", "x; @SUM(1)", "=1+1"]
)
def test_no_text_field_can_start_a_formula_under_any_common_separator(value):
    from etl.export import FORMULA_START, csv_text

    line = csv_text(["focus"], [(value,)]).splitlines()[1]
    for sep in (",", ";", "\t"):
        for cell in line.split(sep):
            assert not cell.strip().strip('"').startswith(FORMULA_START), (sep, line)


@pytest.mark.parametrize("fmt", ["text", "html", "markdown"])
def test_a_bare_foreign_url_is_broken_in_every_format(fmt):
    from etl.alert.messages import render

    body = render(priority_event(["Sign in at http://evil.example/login now."]), fmt, SITE).body
    shown = BeautifulSoup(body, "html.parser").get_text() if fmt == "html" else body
    assert "evil.example" not in shown and "http://evil" not in shown
    assert "evil" in shown


def test_a_long_workbook_cell_is_cut_at_a_whole_item_pointing_to_the_csv():
    import openpyxl

    from etl.england import TABLE_COLUMNS
    from etl.export import SHEET_HEADINGS, SHEETS, Dataset, to_xlsx

    items = [f"Improve practice number {i} for children in care." for i in range(2000)]
    long_text = "Inspectors looked at " + ", ".join(items) + "."
    ds = Dataset("visits", ["urn", "priority_action_texts", "focus"], [("80443", json.dumps(items), long_text)])
    columns = {"grade_distribution": TABLE_COLUMNS}  # its quarters are picked by its own columns
    others = {
        name: Dataset(name, list(columns.get(name) or SHEET_HEADINGS.get(sheet, ["urn"])), [])
        for sheet, name in SHEETS.items()
    }
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({**others, "visits": ds}, [])))["Visits"]
    texts, focus = sheet.cell(2, 2).value, sheet.cell(2, 3).value
    for cell in (texts, focus):
        assert len(cell) <= 32767 and cell.endswith("(cut: full text in the CSV)")
    kept = texts.removesuffix("\n(cut: full text in the CSV)").split("\n")  # a list: a line per item
    assert kept == items[: len(kept)] and 0 < len(kept) < len(items)
    assert long_text.startswith(focus.removesuffix(" … (cut: full text in the CSV)"))
