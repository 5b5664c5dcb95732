"""Speed of full-text search (etl/search.py) on a synthetic England the size of the real one:
~1,080 publications on the real council reference, ~20,000 pages of generated report-like text
(a Zipf-weighted vocabulary with the phrases analysts look for sprinkled through it), loaded
through the real load path (etl.load.load_reports with the page text, then the index sync).

For a fixed set of queries, the p50 and p95 of `search()` (hits, snippets and counts, the
connection open as a page has it), and in the same run a plain scan of the stored text for the
same queries (ILIKE over publication_text, feeding the same hits and counts): the ratio is the
figure. Then what the text adds to a first run: the parse stage reading every page and keeping it
in the landing store (measured per page on the real reports under ../shared/corpus when present,
else on synthetic PDFs), and the load storing and indexing it, against parse + load without it.

Goals (issue 24): p95 <= 100 ms; >= 20x faster than the scan; indexing adds <= 15% to a first
run's parse and load.

    .venv/bin/python bench/bench_search.py [--postgres] [--repeat 15]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl import changes, load, reference, search  # noqa: E402
from etl.warehouse import connect, migrate  # noqa: E402
from tests.support.england import bench_on_engines, england_records  # noqa: E402
from tests.support.warehouse_fixtures import fresh_postgres_url, stored_file_for  # noqa: E402

P95_MS, SPEEDUP, ADDED = 100, 20, 0.15
PAGES = {"inspection": 26, "focused_visit": 7, "area_send": 12, "jtai": 10}
WORDS_PER_PAGE = 420
# query -> the same query as a plain scan: AND of (OR of ILIKE patterns), then NOT ILIKE patterns
QUERIES = {
    '"private fostering"': ([["private fostering"]], []),
    '"return home interviews"': ([["return home interview"]], []),
    "LADO": ([["lado"]], []),
    "care leavers pathway": ([["care"], ["leavers"], ["pathway"]], []),
    '"unaccompanied asylum-seeking children"': ([["unaccompanied asylum-seeking children"]], []),
    "fostering -private": ([["fostering"]], ["private"]),
    'LADO OR "designated officer"': ([["lado", "designated officer"]], []),
    'missing "return home"': ([["missing"], ["return home"]], []),
    "exploitation county lines": ([["exploitation"], ["county"], ["lines"]], []),
    "social workers": ([["social"], ["workers"]], []),
}
PHRASES = [
    "private fostering arrangements",
    "return home interviews",
    "the LADO",
    "care leavers",
    "pathway plans",
    "unaccompanied asylum-seeking children",
    "designated officer",
    "missing from home",
    "county lines exploitation",
    "social workers",
    "corporate parenting",
    "neglect strategy",
]
COMMON = (
    "children and young people the of and to in a is for that are with their social workers care "
    "leaders practice plans managers support families services local authority partners quality "
    "assessment risk needs timely effective good help protection"
).split()


def page_texts(reports, seed: int = 5) -> dict[str, list[str]]:
    """sha256 -> generated pages: common words, a long tail of rarer ones, a few phrases."""
    rnd = random.Random(seed)
    syllables = ["ca", "re", "lo", "vi", "men", "tor", "al", "is", "ed", "ing", "pro", "sta", "ter", "un", "ble"]
    tail = sorted({"".join(rnd.choices(syllables, k=rnd.randrange(2, 5))) for _ in range(12000)})
    vocabulary = COMMON + tail
    weights = [200.0] * len(COMMON) + [1.0 / (i + 1) ** 0.9 * 400 for i in range(len(tail))]
    cumulative = list(accumulate(weights))
    texts = {}
    for r in reports:
        pages = []
        for _ in range(PAGES[r.kind]):
            words = rnd.choices(vocabulary, cum_weights=cumulative, k=WORDS_PER_PAGE)
            for _ in range(rnd.choice((0, 0, 0, 1, 1, 2))):
                words.insert(rnd.randrange(len(words)), rnd.choice(PHRASES))
            pages.append(" ".join(words).capitalize() + ".")
        texts[r.sha256] = pages
    return texts


def load_first_run(wh, records, texts) -> float:
    """A first run's load (reports, judgements, history), with or without the page text; seconds."""
    councils, publications, reports = records
    load.start_run(wh, "first")
    load.load_councils(wh, councils)
    load.load_publications(wh, publications, "first")
    load.load_downloads(wh, [stored_file_for(p) for p in publications], [])
    reference.sync(wh)
    started = time.perf_counter()
    for i in range(0, len(reports), 200):  # the batches pipeline.load_reports loads
        load.load_reports(wh, reports[i : i + 200], "first", texts=texts.get if texts else None)
    if texts:
        search.sync_index(wh)
    changes.refresh(wh, "first")
    return time.perf_counter() - started


def scan_matches(plan):
    """`search`'s matching step as a plain scan of the stored text (no index): the same statement
    PostgreSQL's index lookup runs (the filtered publications joined to their matching pages),
    with ILIKE over every page's text in place of the index."""
    groups, excluded = plan
    clauses = ["(" + " OR ".join("t.text ILIKE ?" for _ in g) + ")" for g in groups]
    clauses += ["t.text NOT ILIKE ?" for _ in excluded]
    patterns = [f"%{p}%" for g in groups for p in g] + [f"%{p}%" for p in excluded]

    def matching(wh, query, where, params):
        return search.sql_matches(wh, " AND ".join(clauses), patterns, where, params)

    return matching


def timed(run, repeat: int) -> list[float]:
    run()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


@contextmanager
def another_warehouse(url: str):
    if url.startswith("duckdb"):
        yield url.replace(".duckdb", "-without-text.duckdb")
    else:
        with fresh_postgres_url() as other:
            yield other


def parse_cost_per_page() -> tuple[float, float, str]:
    """(seconds per page to parse, seconds per page the text adds: reading every page and keeping
    it in the landing store), as the pipeline parses (child process)."""
    from etl.config import Settings
    from etl.landing import LandingStore
    from etl.parse.isolate import ParsePool

    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    files = sorted(shared.glob("*/*.pdf"))[:40]
    if files:
        data, where = [f.read_bytes() for f in files], f"{len(files)} real reports"
    else:
        from datetime import date

        from tests.support.synth_reports import report_pdf

        data = [
            report_pdf(
                "ilacs_2023",
                f"Council {i}",
                {"overall_effectiveness": "good"},
                inspection_start=date(2025, 1, 6),
                inspection_end=date(2025, 1, 17),
            )
            for i in range(40)
        ]
        where = "40 synthetic reports"
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp, ParsePool(settings) as pool:
        store = LandingStore(tmp)
        pool.parse_bytes(data[0], "warm-up")
        best_plain, best_text, pages = float("inf"), float("inf"), 0
        for _ in range(3):  # the best of three: the machine is shared
            started = time.perf_counter()
            for d in data:
                pool.parse_bytes(d, "x")
            best_plain = min(best_plain, time.perf_counter() - started)
            started, pages = time.perf_counter(), 0
            for n, d in enumerate(data):
                record, text = pool.parse_with_text(d, "x")
                store.save_text(f"{n:064x}", record.parser_version, text)
                pages += len(text)
            best_text = min(best_text, time.perf_counter() - started)
    return best_plain / pages, max(0.0, best_text - best_plain) / pages, f"{where}, {pages} pages"


def bench(url: str, label: str, repeat: int) -> bool:
    records = england_records()
    texts = page_texts(records[2])
    pages = sum(map(len, texts.values()))
    with another_warehouse(url) as plain_url:
        with connect(plain_url) as wh:
            migrate(wh)
            load_plain = load_first_run(wh, records, None)
    with connect(url) as wh:
        migrate(wh)
        load_text = load_first_run(wh, records, texts)
        print(
            f"\n{label}: {len(records[2])} publications, {pages} pages, "
            f"{sum(len(p.split()) for ps in texts.values() for p in ps) / 1e6:.1f} M words; "
            f"search then a plain scan (ILIKE over publication_text), {repeat} runs each"
        )
        searched, ok = [], True
        for query, plan in QUERIES.items():
            result = search.search(wh, query, limit=20, allowed_hosts=())
            times = timed(lambda query=query: search.search(wh, query, limit=20, allowed_hosts=()), repeat)
            matches = search._matching
            search._matching = scan_matches(plan)
            try:
                scanned = search.search(wh, query, limit=20, allowed_hosts=())
                scan = timed(
                    lambda query=query: search.search(wh, query, limit=20, allowed_hosts=()), max(3, repeat // 5)
                )
            finally:
                search._matching = matches
            ratio = statistics.median(scan) / statistics.median(times)
            searched += times
            ok &= ratio >= SPEEDUP
            print(
                f"  {query:42s} {result.total:6d} pages  p50 {statistics.median(times):6.1f} ms"
                f"  p95 {p95(times):6.1f} ms   scan p50 {statistics.median(scan):7.1f} ms ({scanned.total:6d} pages)"
                f"  {ratio:5.0f}x"
            )
    all_p95 = p95(searched)
    print(
        f"  all queries: p50 {statistics.median(searched):.1f} ms, p95 {all_p95:.1f} ms"
        f" (goal {P95_MS} ms: {'ok' if all_p95 <= P95_MS else 'OVER'}); every query >= {SPEEDUP}x the scan:"
        f" {'ok' if ok else 'NO'}"
    )
    parse_page, text_page, where = PARSE
    parse, extract, indexing = parse_page * pages, text_page * pages, load_text - load_plain
    base = parse + load_plain
    print(
        f"  first run without search: parse {parse:.1f} s ({parse_page * 1000:.2f} ms/page over {where})"
        f" + load {load_plain:.1f} s = {base:.1f} s"
    )
    print(
        f"  the load storing and indexing the text adds {indexing:.1f} s: {100 * indexing / base:.1f}%"
        f" (goal <= {100 * ADDED:.0f}%); the parse reading every page and keeping it adds {extract:.1f} s"
        f" ({text_page * 1000:.2f} ms/page): {100 * (indexing + extract) / base:.1f}% in all"
    )
    return ok and all_p95 <= P95_MS and indexing / base <= ADDED


if __name__ == "__main__":
    PARSE = parse_cost_per_page()
    sys.exit(
        bench_on_engines(
            bench,
            __doc__.splitlines()[0],
            f"p95 <= {P95_MS} ms, >= {SPEEDUP}x the scan, indexing <= {100 * ADDED:.0f}% of a first run",
        )
    )
