"""README's example alerts are real output: this renders them, on both engines, from a warehouse
loaded through the pipeline's load and change stages with two councils' published facts (their
inspections' dates, grades and letters, as their reports state them; no report text), and
compares them with README's block. `python -m tests.test_alert_readme` rewrites the block."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from etl import changes, load, reference
from etl.alert.events import collect_events
from etl.alert.messages import render, render_digest
from etl.records import Council, Visit
from tests.support.warehouse_fixtures import make_publication, make_report, stored_file_for

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- alert examples: rendered by tests/test_alert_readme.py (python -m tests.test_alert_readme) -->"
END = "<!-- end of alert examples -->"

BURY, SOLIHULL = Council("80443", "Bury", ""), Council("80554", "Solihull", "")
GRADES = ("overall_effectiveness", "impact_of_leaders", "help_and_protection")
# what a letter's areas for priority action are quoted as; here placeholders, not a letter's words
PLACEHOLDERS = ("[the first sentence of the first area for priority action]", "[the first sentence of the second]")


def inspection(council, n, framework, start, end, published, grades, kind="inspection", inspection_type=None):
    record = make_report(
        council.urn, n, framework, end, grades, published=published, kind=kind, la=council.name, parser_version="1.6.0"
    )
    return replace(record, inspection_start=start, inspection_type=inspection_type)


def letter(council, n, kind, start, end, published, areas, actions=0, theme=None):
    record = make_report(
        council.urn, n, None, end, kind=kind, published=published, la=council.name, parser_version="1.6.0"
    )
    return replace(
        record,
        inspection_start=start,
        visit=Visit(
            areas=tuple(sorted(areas)),
            priority_actions=actions,
            priority_action_texts=PLACEHOLDERS[:actions],
            theme=theme,
        ),
    )


def sif(oe, hp, lap, ad, cl, lmg):
    return dict(
        zip(
            (
                "overall_effectiveness",
                "help_and_protection",
                "looked_after_and_permanence",
                "adoption_performance",
                "care_leavers",
                "leadership_management_governance",
            ),
            (oe, hp, lap, ad, cl, lmg),
        )
    )


RI, GOOD, INADEQUATE = "requires_improvement", "good", "inadequate"
RECORDS = [
    inspection(
        BURY, 1, "sif", date(2016, 2, 22), date(2016, 3, 17), date(2016, 5, 16), sif(RI, GOOD, RI, GOOD, RI, GOOD)
    ),
    letter(
        BURY,
        2,
        "focused_visit",
        date(2020, 9, 29),
        date(2020, 10, 1),
        date(2020, 11, 13),
        ("care_leavers", "help_and_protection", "impact_of_leaders", "in_care"),
    ),
    inspection(
        BURY,
        3,
        "ilacs_2018",
        date(2021, 10, 25),
        date(2021, 11, 5),
        date(2021, 12, 17),
        {**dict(zip(GRADES, (INADEQUATE,) * 3)), "in_care_and_care_leavers": RI},
        inspection_type="standard",
    ),
    inspection(
        BURY,
        4,
        "area_send_2023",
        date(2024, 2, 12),
        date(2024, 2, 16),
        date(2024, 5, 7),
        {"area_send_outcome": "systemic_failings"},
        kind="area_send",
    ),
    inspection(
        BURY,
        5,
        "ilacs_2023",
        date(2025, 6, 9),
        date(2025, 6, 20),
        date(2025, 7, 29),
        {**dict(zip(GRADES, (RI, GOOD, RI))), "in_care": RI, "care_leavers": RI},
        inspection_type="standard",
    ),
    inspection(
        SOLIHULL, 1, "sif", date(2016, 4, 25), date(2016, 5, 19), date(2016, 7, 7), sif(RI, RI, RI, GOOD, RI, RI)
    ),
    inspection(
        SOLIHULL,
        2,
        "ilacs_2018",
        date(2019, 11, 11),
        date(2019, 11, 22),
        date(2020, 1, 9),
        {**dict(zip(GRADES, (RI,) * 3)), "in_care_and_care_leavers": GOOD},
        inspection_type="standard",
    ),
    letter(
        SOLIHULL, 3, "focused_visit", date(2021, 6, 23), date(2021, 6, 24), date(2021, 8, 2), ("help_and_protection",)
    ),
    letter(
        SOLIHULL,
        4,
        "jtai",
        date(2022, 1, 10),
        date(2022, 1, 14),
        date(2022, 2, 21),
        ("help_and_protection",),
        actions=2,
        theme="initial_need_and_risk",
    ),
    inspection(
        SOLIHULL,
        5,
        "ilacs_2018",
        date(2022, 10, 31),
        date(2022, 11, 11),
        date(2023, 1, 13),
        {**dict(zip(GRADES, (INADEQUATE,) * 3)), "in_care_and_care_leavers": INADEQUATE},
        inspection_type="standard",
    ),
    inspection(
        SOLIHULL,
        6,
        "ilacs_2023",
        date(2025, 11, 3),
        date(2025, 11, 14),
        date(2026, 1, 12),
        {**dict(zip(GRADES, (GOOD,) * 3)), "in_care": RI, "care_leavers": GOOD},
        inspection_type="standard",
    ),
]


def load_examples(wh) -> None:
    reference.sync(wh)
    load.start_run(wh, "r1")
    load.load_councils(
        wh, [replace(c, url=f"https://reports.ofsted.gov.uk/provider/44/{c.urn}") for c in (BURY, SOLIHULL)], "r1"
    )
    pubs = [
        make_publication(
            r.urn, int(r.source.split("/")[1].split(".")[0]), r.published, kind=r.kind, la=r.local_authority
        )
        for r in RECORDS
    ]
    load.load_publications(wh, pubs, "r1")
    load.load_downloads(wh, [stored_file_for(p) for p in pubs], [])
    load.load_reports(wh, RECORDS, "r1")
    changes.refresh(wh, "r1")
    load.finish_run(wh, "r1")


def fenced(text: str) -> str:
    return f"```text\n{text}\n```"


def examples(wh) -> str:
    """README's block: every event's title, one message in full, and a weekly digest."""
    load_examples(wh)
    events = collect_events(wh)
    titles = "\n".join(render(e, "text").title for e in events)
    solihull = next(
        e for e in events if e.council == "Solihull" and e.kind == "grade_change" and e.published == date(2026, 1, 12)
    )
    full = render(solihull, "text")
    recent = [e for e in events if e.published >= date(2024, 1, 1)]
    digest = render_digest(recent, "text", "weekly", date(2026, 11, 30), date(2026, 12, 6))
    return "\n\n".join(
        [
            BEGIN,
            "Titles, one a report or letter (plain text; chat gets Markdown, email HTML):",
            fenced(titles),
            "A message in full:",
            fenced(f"{full.title}\n\n{full.body}"),
            "A weekly digest sent on 7 December 2026 for what was first seen that week:",
            fenced(f"{digest.title}\n\n{digest.body}"),
            END,
        ]
    )


def readme_block(text: str) -> str:
    assert BEGIN in text and END in text, "README has no alert examples block"
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def test_readme_alert_examples_are_the_real_output(wh):
    expected = examples(wh)
    assert readme_block(README.read_text(encoding="utf-8")) == expected, (
        "README's alert examples differ from the real output; run `python -m tests.test_alert_readme`"
    )


def test_readme_quotes_only_titles_the_examples_render(wh):
    """Every alert title README's prose quotes ("Ofsted: ...") is one the examples render."""
    import re

    block = examples(wh)
    text = README.read_text(encoding="utf-8")
    prose = text.replace(readme_block(text), "")
    quoted = [" ".join(q.split()) for q in re.findall(r"\"(Ofsted: [^\"]+)\"", prose)]  # lines rewrapped
    assert quoted, "README's prose quotes no title"
    assert [q for q in quoted if q not in block] == []


def main() -> int:
    """Rewrite README's block from a DuckDB warehouse in a temporary directory."""
    from etl.warehouse import connect, migrate

    with tempfile.TemporaryDirectory() as tmp:
        with connect(f"duckdb:///{tmp}/examples.duckdb") as wh:
            migrate(wh)
            block = examples(wh)
    text = README.read_text(encoding="utf-8")
    README.write_text(text.replace(readme_block(text), block), encoding="utf-8")
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
