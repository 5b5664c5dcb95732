"""Full-text search (etl/search.py, etl/search_index.py): one query syntax, the same pages on
PostgreSQL (tsvector) and DuckDB (tantivy), snippets that stay text, and a DuckDB index that
stays in step with publication_text through crashes, re-parses and two runs at once."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from etl import load, reference, search, search_index, search_text
from etl.cli import main
from etl.cli import search as search_cli
from etl.warehouse import connect, migrate
from tests.support.warehouse_fixtures import fresh_postgres_url, sample_records, stored_file_for

HOSTILE = 'fostering \x1b[31m\x1b]0;pwned\x07 <script>alert(1)</script> & "quoted"'
# page texts by the position of the report in sample_records()
TEXTS = {
    0: [
        "Return home interviews are not always used to inform safety plans for children who go missing.",
        "The LADO responds well to allegations. Private fostering arrangements are not identified.",
    ],
    1: ["Private fostering is well understood.", "Children's return-home interviews happen."],
    2: ["Care leavers live in suitable accommodation; the naïve Café staff."],
    3: ["Nothing about fostering here.", HOSTILE],
    4: ["The focused visit looked at private fostering and the LADO."],
    5: ["Adoption is timely."],
    6: ["Return home interviews are inconsistent."],
    7: ["The the of and", "Private arrangements for fostering are reviewed."],
}
REPORTS = sample_records()[2]
# query -> the (report position, page) pairs it finds
EXPECTED = {
    '"return home interviews"': {(0, 1), (1, 2), (6, 1)},
    "interview": {(0, 1), (1, 2), (6, 1)},  # stemmed: interviews, interview
    "private fostering": {(0, 2), (1, 1), (4, 1), (7, 2)},
    '"private fostering"': {(0, 2), (1, 1), (4, 1)},
    "fostering -private": {(3, 1), (3, 2)},
    "LADO OR adoption": {(0, 2), (4, 1), (5, 1)},
    '"private fostering" -LADO': {(1, 1)},
    '-"private fostering" fostering OR adoption': {(3, 1), (3, 2), (5, 1), (7, 2)},
    "naive cafe": {(2, 1)},  # accents folded
    "CARE leavers": {(2, 1)},
    "nowhere-to-be-found": set(),
}


def load_texts(wh, texts=TEXTS, reports=REPORTS, run_id="run-1"):
    councils, publications, _ = sample_records()
    load.start_run(wh, run_id)
    load.load_councils(wh, councils, run_id)
    load.load_publications(wh, publications, run_id)
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    by_sha = {r.sha256: texts.get(i, []) for i, r in enumerate(reports)}
    load.load_reports(wh, reports, run_id, texts=by_sha.get)
    search.sync_index(wh)


def found(result) -> set[tuple[int, int]]:
    position = {r.sha256: i for i, r in enumerate(REPORTS)}
    return {(position[h.report_id], h.page) for h in result.hits}


@pytest.fixture
def searchable(wh):
    reference.sync(wh)
    load_texts(wh)
    return wh


def test_each_query_finds_the_same_pages_on_either_engine(searchable):
    for query, pages in EXPECTED.items():
        result = search.search(searchable, query, limit=100)
        assert found(result) == pages, query
        assert result.total == len(pages)
        published = [h.published for h in result.hits]
        assert published == sorted(published, reverse=True)  # newest first


def test_hits_carry_council_kind_date_page_link_and_a_marked_snippet(searchable):
    result = search.search(searchable, '"private fostering"', allowed_hosts=("files.ofsted.gov.uk",))
    hit = next(h for h in result.hits if h.kind == "focused_visit")
    assert (hit.council, hit.urn, hit.published, hit.page) == ("Barnet", "80487", REPORTS[4].published, 1)
    assert hit.url == f"{REPORTS[4].url}#page=1"
    assert [s for s, marked in hit.snippet if marked] == ["private fostering"]
    assert search_text.snippet_text(hit.snippet) == "The focused visit looked at «private fostering» and the LADO."
    # a link the link rule refuses is no link
    assert all(h.url is None for h in search.search(searchable, "fostering", allowed_hosts=()).hits)


def test_counts_by_year_kind_and_region_cover_every_match_not_only_those_shown(searchable):
    result = search.search(searchable, "private fostering", limit=1)
    assert len(result.hits) == 1 and result.total == 4 and result.documents == 4
    years = {str(REPORTS[i].published.year) for i in (0, 1, 4, 7)}
    assert set(result.counts["year"]) == years and sum(result.counts["year"].values()) == 4
    assert result.counts["kind"] == {"inspection": 3, "focused_visit": 1}
    assert sum(result.counts["region"].values()) == 4 and "London" in result.counts["region"]


def test_filters_by_kind_council_region_and_dates(searchable):
    def pages(**filters):
        return found(search.search(searchable, "fostering OR adoption OR interviews", limit=100, **filters))

    everything = pages()
    assert pages(kind="focused_visit") == {(4, 1)}
    assert pages(urn="80442") == {(5, 1), (6, 1)}
    barnet = {p for p in everything if REPORTS[p[0]].urn == "80487"}
    assert pages(region="london") == pages(region="E12000007") == barnet
    assert pages(since=date(2022, 1, 1), until=date(2023, 12, 31)) == {
        p for p in everything if date(2022, 1, 1) <= REPORTS[p[0]].published <= date(2023, 12, 31)
    }


def test_only_current_publications_are_searched(searchable):
    searchable.execute("UPDATE reports SET superseded_by = 'newer' WHERE report_id = ?", [REPORTS[6].sha256])
    assert found(search.search(searchable, '"return home interviews"')) == {(0, 1), (1, 2)}


def test_a_reparse_replaces_the_text(searchable):
    newer = [replace(r, parser_version="2.0") for r in REPORTS]
    load_texts(searchable, {**TEXTS, 6: ["Missing episodes are followed up."]}, newer, run_id="run-2")
    assert found(search.search(searchable, '"return home interviews"')) == {(0, 1), (1, 2)}
    assert found(search.search(searchable, "missing episodes")) == {(6, 1)}
    assert search.index_drift(searchable) == []


def test_a_snippet_shows_the_words_around_the_first_match_marked_and_says_what_it_cut():
    text = (
        " ".join(f"w{i}" for i in range(100))
        + ' ("Children in care" interviews), then '
        + " ".join(f"v{i}" for i in range(100))
    )
    segments = search_text.snippet(text, search_text.parse_query("w3"))
    assert segments[:2] == (("w0 w1 w2 ", False), ("w3", True)) and segments[-1][0].endswith(" w23 …")
    later = search_text.snippet(text, search_text.parse_query('"children in care"'))
    assert later[0] == ('… w94 w95 w96 w97 w98 w99 ("', False)  # six terms before, and the bracket
    assert later[1] == ("Children in care", True)  # the phrase marked whole
    # 24 terms in all ("in" and "then" are stop words)
    assert later[2][0].startswith('" interviews), then v0 v1') and later[2][0].endswith(" v14 …")
    assert search_text.snippet("the of", search_text.parse_query("care")) == (("the of", False),)


@pytest.mark.parametrize(
    "query, says",
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("the of and", "only common words"),
        ('"return home', "unbalanced quotes"),
        ("-fostering", "nothing to find"),
        ("x" * 501, "the limit is 500"),
    ],
)
def test_a_query_that_cannot_be_searched_says_why(query, says):
    with pytest.raises(search.QueryError, match=says):
        search_text.parse_query(query)


def test_the_command_prints_hits_csv_and_json_and_refuses_bad_input_without_a_traceback(
    searchable, monkeypatch, capsys
):
    monkeypatch.setenv("OFSTED_WAREHOUSE_URL", searchable.url)
    searchable.execute("UPDATE councils SET name = ? WHERE urn = '80487'", ['=HYPERLINK("http://evil","x")'])
    searchable.close()

    assert main(["search", "fostering", "--council", "80487", "--until", "2024-12-31"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[31m" in out  # the PDF's escapes shown, not run
    assert "«fostering»" in out and "publications by year:" in out and "#page=2" in out
    assert main(["search", "fostering", "--council", "barnet", "--until", "2024-12-31"]) == 0
    assert capsys.readouterr().out == out, "a council by name, as by URN"

    assert main(["search", "fostering", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == ",".join(search_cli.HIT_COLUMNS)
    assert all(",=HYPERLINK" not in r and not r.startswith("=") for r in rows)
    assert any("'=HYPERLINK" in r for r in rows)  # neutralised, kept

    assert main(["search", "fostering", "--format", "json", "--limit", "1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["total"] == 6 and answer["shown"] == 1
    assert [s for s, marked in answer["hits"][0]["segments"] if marked] == ["fostering"]

    for argv, says in (
        (["search", '"open'], "unbalanced quotes"),
        (["search", "the"], "only common words"),
        (["search", "x" * 600], "the limit is 500"),
        (["search", "a", "--council", "Barnt"], "no council named 'Barnt'; closest: Barnet (80487)"),
        (["search", "fostering", "--limit", "0"], "limit"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err


def test_postgresql_holds_every_term_where_tantivy_does(tmp_path):
    """The tsvector stored on PostgreSQL has the analyser's terms at tantivy's positions (a
    dropped word keeps its place), whatever the text."""
    rnd = random.Random(3)
    pieces = [
        "Return-home",
        "interviews",
        "naïve",
        "LADO's",
        "2024",
        "co2e",
        "1e10",
        "x86_64",
        "e-mail",
        "www.gov.uk/ofsted",
        "Ωmega",
        "straße",
        "don't",
        "the",
        "…",
        "12th",
        "O'Neill",
        "3.5%",
        "a" * 45,
        "'quoted'",
        "back\\slash",
        ":colon",
        "children",
        "İstanbul",
        "cafe\u0301",
        "ﬁnance",
        "Ⅻ",
        "٣٤",
        "日本語",
        "ǅemal",
        "ΣΊΣΥΦΟΣ",
    ]
    with fresh_postgres_url() as url, connect(url) as wh:
        migrate(wh)
        for _ in range(40):
            text = " ".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 30)))
            expected: dict[str, list[int]] = {}
            for position, term, _, _ in search_text.tokens(text):
                expected.setdefault(term, []).append(position + 1)
            search.replace_text(wh, {"r": [text]})  # as the load stores it (binary COPY)
            got = {
                lexeme: list(positions)
                for lexeme, positions in wh.fetchall(
                    "SELECT lexeme, positions FROM publication_text, unnest(terms) WHERE report_id = 'r'"
                )
            }
            assert got == expected, text
        # tsvector's limits: a term's first 256 positions; past the last (16,383) terms are kept there
        search.replace_text(wh, {"long": ["care " * 16390 + "fostering leavers"]})
        assert wh.fetchall(
            "SELECT lexeme, cardinality(positions), positions[cardinality(positions)] FROM"
            " publication_text, unnest(terms) WHERE report_id = 'long' ORDER BY 1"
        ) == [("care", 256, 256), ("foster", 1, 16383), ("leaver", 1, 16383)]
    assert search_text.terms("The naïve Café's return-home INTERVIEWS") == [
        "naiv",
        "cafe",
        "return",
        "home",
        "interview",
    ]


def test_the_tsvector_of_any_text_has_the_analysers_terms_at_its_positions():
    """tsvector analyses each distinct word once, apart from its text: the same terms at the
    same positions as the analyser reading the whole text, for any characters at all."""
    rnd = random.Random(11)
    alphabet = "aeiouAEIOUßİıﬁǅΣσς0123456789٣Ⅻ日語éé\u0301\u0307'’-_. \t\n…%/" + "x" * 10

    def expected(text: str) -> bytes:
        positions: dict[str, list[int]] = {}
        for position, term, _, _ in search_text.tokens(text):
            positions.setdefault(term, []).append(position + 1)
        return len(positions).to_bytes(4, "big") + b"".join(
            term.encode() + b"\0" + len(at).to_bytes(2, "big") + b"".join(p.to_bytes(2, "big") for p in at)
            for term, at in positions.items()
        )

    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 60)))
        assert search_text.tsvector(text) == expected(text), repr(text)


def test_random_queries_match_the_same_pages_and_snippets_on_both_engines(tmp_path):
    rnd = random.Random(11)
    words = [
        "private",
        "fostering",
        "return",
        "home",
        "interviews",
        "LADO",
        "missing",
        "care",
        "leavers",
        "the",
        "of",
        "children's",
        "naïve",
        "co-ordinated",
        "2024",
    ]
    texts = {
        i: [" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 25))) for _ in range(3)]
        for i in range(len(REPORTS))
    }
    queries = []
    for _ in range(60):
        parts = []
        for _ in range(rnd.randrange(1, 4)):
            phrase = " ".join(rnd.choice(words) for _ in range(rnd.randrange(1, 3)))
            form = rnd.choice(("{}", '"{}"', "-{}", "{} OR", '-"{}"'))
            parts.append(form.format(phrase))
        queries.append(" ".join(parts))
    answers = []
    with fresh_postgres_url() as pg_url:
        for url in (f"duckdb:///{tmp_path}/w.duckdb", pg_url):
            with connect(url) as wh:
                migrate(wh)
                load_texts(wh, texts)
                answer = []
                for q in queries:
                    try:
                        r = search.search(wh, q, limit=1000, allowed_hosts=())
                    except search.QueryError as exc:
                        answer.append(str(exc))
                    else:
                        answer.append((r.total, r.counts, r.hits))
                answers.append(answer)
    assert sum(1 for a in answers[0] if isinstance(a, tuple) and a[0]) > 20  # the queries find things
    for q, on_duckdb, on_postgres in zip(queries, *answers):
        assert on_duckdb == on_postgres, q


# -- the DuckDB index in step with the warehouse -------------------------------------------
@pytest.fixture
def duck(tmp_path):
    with connect(f"duckdb:///{tmp_path}/w.duckdb") as wh:
        migrate(wh)
        load_texts(wh)
        yield wh


def test_the_index_lives_beside_the_duckdb_file(duck, tmp_path):
    assert Path(search_index.index_path(duck)) == tmp_path / "w.duckdb.search"
    assert any((tmp_path / "w.duckdb.search").iterdir())


def test_an_index_sync_that_died_after_the_load_is_done_by_the_next_search(duck, monkeypatch):
    newer = [replace(r, parser_version="2.0") for r in REPORTS]

    def crash(*args):
        raise RuntimeError("killed while indexing (on purpose)")

    monkeypatch.setattr(search_index.TextIndex, "_write", crash)
    with pytest.raises(RuntimeError):
        load_texts(duck, {**TEXTS, 5: ["Adoption is slow; sibling groups wait."]}, newer, run_id="run-2")
    assert search.index_drift(duck) == ["8 report(s) queued for the index, not yet indexed"]
    monkeypatch.undo()
    assert found(search.search(duck, "sibling groups")) == {(5, 1)}
    assert search.index_drift(duck) == []


def test_a_load_that_fails_half_way_leaves_text_and_index_as_they_were(duck, monkeypatch):
    def fail(*args):
        raise RuntimeError("disk full (on purpose)")

    monkeypatch.setattr(load, "mark_superseded_reports", fail)  # after the text is replaced
    newer = [replace(r, parser_version="2.0") for r in REPORTS]
    with pytest.raises(RuntimeError):
        load_texts(duck, {5: ["Sibling groups wait."]}, newer, run_id="run-2")
    monkeypatch.undo()
    assert found(search.search(duck, "adoption")) == {(5, 1)}
    assert found(search.search(duck, "sibling")) == set()
    assert search.index_drift(duck) == []


def test_a_lost_or_stale_index_is_rebuilt_from_the_stored_text(duck, tmp_path):
    before = found(search.search(duck, "fostering"))
    search_index._OPEN.clear()
    shutil.rmtree(tmp_path / "w.duckdb.search")  # a restored DuckDB file, say
    assert found(search.search(duck, "fostering")) == before
    # pages indexed for a report the warehouse no longer has text for: drift, then rebuilt
    duck.execute("DELETE FROM publication_text WHERE report_id = ? AND page = 2", [REPORTS[3].sha256])
    duck.execute("INSERT INTO publication_text VALUES (?, 9, 'fostering on page nine')", [REPORTS[5].sha256])
    assert len(search.index_drift(duck)) == 2
    assert search.rebuild_index(duck) == sum(len(p) for p in TEXTS.values())
    assert search.index_drift(duck) == []
    assert (5, 9) in found(search.search(duck, "fostering"))
    # an index left by a release with another schema is made anew
    import tantivy

    search_index._OPEN.clear()
    shutil.rmtree(tmp_path / "w.duckdb.search")
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("terms")
    (tmp_path / "w.duckdb.search").mkdir()
    tantivy.Index(builder.build(), path=str(tmp_path / "w.duckdb.search"))
    assert (5, 9) in found(search.search(duck, "fostering"))


LOADER = """
import sys
from dataclasses import replace
from etl import load, search
from etl.warehouse import connect
from tests.support.warehouse_fixtures import sample_records
url, which = sys.argv[1], int(sys.argv[2])
reports = [r for r in sample_records()[2] if r.urn == ("80487", "80442")[which]]
for round in range(2):
    with connect(url) as wh:
        version = f"2.{round}"
        load.load_reports(wh, [replace(r, parser_version=version) for r in reports], f"run-{which}",
                          texts=lambda sha: [f"runner{which} round{round} text"])
        search.sync_index(wh)
"""


def test_two_runs_loading_at_once_leave_the_index_in_step(duck, tmp_path):
    url = duck.url
    duck.close()
    search_index._OPEN.clear()
    root = Path(__file__).resolve().parents[1]
    runners = [subprocess.Popen([sys.executable, "-c", LOADER, url, str(i)], cwd=root) for i in (0, 1)]
    assert [p.wait(timeout=120) for p in runners] == [0, 0]
    with connect(url) as wh:
        assert search.index_drift(wh) == []
        assert {h.urn for h in search.search(wh, "round1").hits} == {"80487", "80442"}
        assert search.search(wh, "round0").total == 0
