"""Full-text search over every publication's text, on both engines, with one query syntax.

    result = search(wh, '"return home interviews" -LADO', kind="inspection", since=date(2023, 1, 1))
    result.total, result.documents, result.counts["year"], result.hits[0].snippet

The text is stored when a file is parsed (`publication_text`, one row per page, replaced by a
re-parse); search never reads a PDF. One analyser (tantivy's, in Rust, configured here) turns
text and queries into terms for both engines (words of letters and digits, folded to ASCII lower
case, Snowball's English stop words dropped, Snowball English stems), each at its position, so
the same query finds the same pages:

- PostgreSQL: a `tsvector` of those terms at those positions under a GIN index, matched with a
  `tsquery` built from the parsed query;
- DuckDB: a tantivy index beside the DuckDB file (etl/search_index.py) with the same analyser,
  fed from `publication_text` (rebuildable from it at any time).

The analyser, the query language and the snippets are etl/search_text.py's, which both engines'
code imports (so the index and the search do not import each other).

The query is parsed here, not by `websearch_to_tsquery`, because PostgreSQL's parser reads URLs,
hyphenated words and numbers its own way, which tantivy could not match; the syntax is the same
(words, "quoted phrases", OR, -exclusion). Hits come newest first (published, council, page), so
a limit keeps the same hits on both engines; snippets are cut from the stored text here too, as
(text, marked) segments with no markup: each surface escapes them for itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from etl.search_text import MAX_LIMIT, Query, QueryError, Segment, parse_query, snippet, tsvector
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


# -- storing the text ------------------------------------------------------------------------
def replace_text(wh: Warehouse, pages: Mapping[str, Sequence[str]]) -> None:
    """Store each report's page texts (report_id -> pages, page 1 first), replacing what a
    previous parse stored; call inside the load's transaction. On DuckDB the reports are queued
    for the text index (synced by `sync_index` once the transaction has committed)."""
    if not pages:
        return
    ids = sorted(pages)
    wh.execute("DELETE FROM publication_text WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))", [ids])
    rows = [(rid, n, text) for rid in ids for n, text in enumerate(pages[rid], 1)]
    if wh.engine == "postgresql":
        # binary COPY: no SQL text to parse, the tsvector in PostgreSQL's own binary form (a
        # tsvector's text form took PostgreSQL longer to read than the page took to analyse)
        with wh.copy("COPY publication_text (report_id, page, text, terms) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            for rid, page, text in rows:
                copy.write(_copy_row(rid.encode(), page, text.encode(), tsvector(text)))
            copy.write(b"\xff\xff")
    else:
        wh.insert_rows("publication_text", ("report_id", "page", "text"), rows)
        wh.insert_rows("search_pending", ("report_id",), [(rid,) for rid in ids], conflict=("report_id",))


_COPY_HEADER = b"PGCOPY\n\xff\r\n\0" + bytes(8)  # signature, no flags, no extension


def _copy_row(report_id: bytes, page: int, text: bytes, terms: bytes) -> bytes:
    """One row of binary COPY: four fields, each its length then its bytes."""
    return b"".join(
        (
            b"\0\x04",
            len(report_id).to_bytes(4, "big"),
            report_id,
            b"\0\0\0\x04",
            page.to_bytes(4, "big"),
            len(text).to_bytes(4, "big"),
            text,
            len(terms).to_bytes(4, "big"),
            terms,
        )
    )


def sync_index(wh: Warehouse) -> None:
    """Bring the DuckDB text index in step with publication_text (a no-op on PostgreSQL)."""
    if wh.engine == "duckdb":
        from etl.search_index import TextIndex

        TextIndex.of(wh).sync(wh)


def index_drift(wh: Warehouse) -> list[str]:
    """Where the text index and publication_text disagree (none on PostgreSQL: one table)."""
    if wh.engine != "duckdb":
        return []
    from etl.search_index import TextIndex

    return TextIndex.of(wh).drift(wh)


def rebuild_index(wh: Warehouse) -> int:
    """Rebuild the DuckDB text index from publication_text; returns the pages indexed."""
    if wh.engine != "duckdb":
        return 0
    from etl.search_index import TextIndex

    return TextIndex.of(wh).rebuild(wh)


# -- searching ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    report_id: str
    urn: str | None
    council: str | None
    kind: str | None
    published: date | None
    page: int
    snippet: tuple[Segment, ...]
    url: str | None  # the PDF at that page (#page=N), when the link rule allows it


@dataclass
class SearchResult:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    total: int = 0  # pages that match
    documents: int = 0  # publications with a matching page
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # documents by year, kind, region


UNKNOWN = "unknown"


def _filters(kind, urn, region, since, until) -> tuple[str, list]:
    from etl.records import KINDS

    if kind is not None and kind not in KINDS:
        raise QueryError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    clauses, params = [], []
    for sql, value in (("kind = ?", kind), ("urn = ?", urn), ("published >= ?", since), ("published <= ?", until)):
        if value is not None:
            clauses.append(sql)
            params.append(value)
    if region:
        clauses.append("(LOWER(region) = LOWER(?) OR LOWER(region_code) = LOWER(?))")
        params += [region, region]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


@dataclass
class Matches:
    """What a query matched, within the filters: each matching publication as a search_documents
    row, and how to get the matching pages and their text of the few that are shown."""

    documents: list[tuple]  # (report_id, published, council, kind, region, urn, url)
    page_counts: dict[str, int]  # report_id -> its matching pages
    pages_of: Callable[[list[str]], dict[str, list[int]]]
    texts_of: Callable[[list[tuple[str, int]]], dict[tuple[str, int], str]]


_DOC_COLUMNS = "report_id, published, council, kind, region, urn, url"


def sql_matches(wh: Warehouse, match: str, match_params: list, where: str, params: list) -> Matches:
    """The matching pages in one statement: the filtered publications joined to the pages whose
    `match` condition holds (an index lookup on PostgreSQL; the bench's plain scan puts ILIKE
    here), each publication with its matching pages."""
    # the matching pages first, once, each report's together (MATERIALIZED: a planner without
    # fresh statistics on a first run's tables otherwise looks them up once per publication)
    rows = wh.fetchall(
        f"WITH t AS MATERIALIZED (SELECT report_id, array_agg(page ORDER BY page) AS pages"
        f" FROM publication_text t WHERE {match} GROUP BY report_id)"
        f" SELECT {', '.join('d.' + c for c in _DOC_COLUMNS.split(', '))}, t.pages"
        f" FROM (SELECT {_DOC_COLUMNS} FROM search_documents{where}) d JOIN t ON t.report_id = d.report_id",
        match_params + params,
    )
    pages = {row[0]: list(row[-1]) for row in rows}
    return Matches(
        [row[:-1] for row in rows],
        {rid: len(p) for rid, p in pages.items()},
        lambda rids: {rid: pages[rid] for rid in rids},
        lambda shown: _page_texts(wh, shown),
    )


def _matching(wh: Warehouse, query: Query, where: str, params: list) -> Matches:
    """The query's matches among the filtered publications, by the engine's index."""
    if wh.engine == "postgresql":
        return sql_matches(wh, "t.terms @@ to_tsquery('simple', ?)", [query.tsquery()], where, params)
    from etl.search_index import TextIndex

    index = TextIndex.of(wh)
    index.sync(wh)
    searcher = index.index.searcher()  # one snapshot for counts, pages and texts
    counts = index.page_counts(query, searcher)
    # the publications' details from the warehouse, only when something matched (~1,100 in all
    # England: one fetch costs less than sending the matching ids)
    docs = (
        [row for row in wh.fetchall(f"SELECT {_DOC_COLUMNS} FROM search_documents{where}", params) if row[0] in counts]
        if counts
        else []
    )
    found: dict[tuple[str, int], object] = {}

    def pages_of(rids: list[str]) -> dict[str, list[int]]:
        found.update(index.pages(query, rids, searcher))
        pages: dict[str, list[int]] = {rid: [] for rid in rids}
        for rid, page in sorted(found):
            if rid in pages:
                pages[rid].append(page)
        return pages

    return Matches(
        docs,
        {row[0]: counts[row[0]] for row in docs},
        pages_of,
        lambda shown: dict(zip(shown, index.texts([found[p] for p in shown], searcher))),
    )


def _page_texts(wh: Warehouse, pages: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The stored text of these pages, looked up by key."""
    if not pages:
        return {}
    return {
        (rid, page): text
        for rid, page, text in wh.fetchall(
            "SELECT t.report_id, t.page, t.text FROM publication_text t JOIN (SELECT unnest(CAST(? AS TEXT[])) AS r,"
            " unnest(CAST(? AS INTEGER[])) AS p) k ON t.report_id = k.r AND t.page = k.p",
            [[r for r, _ in pages], [p for _, p in pages]],
        )
    }


def _counts(docs: Iterable[tuple]) -> dict[str, dict[str, int]]:
    """These publications by year (newest first), kind and region (most first, then by name)."""
    by: dict[str, dict[str, int]] = {"year": {}, "kind": {}, "region": {}}
    for _, published, _, kind, region, _, _ in docs:
        for key, value in (("year", published.year if published else None), ("kind", kind), ("region", region)):
            name = UNKNOWN if value is None else str(value)
            by[key][name] = by[key].get(name, 0) + 1
    return {
        key: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]) if key != "year" else kv[0], reverse=key == "year"))
        for key, v in by.items()
    }


def search(
    wh: Warehouse,
    query: str,
    *,
    kind: str | None = None,
    urn: str | None = None,
    region: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 50,
    offset: int = 0,
    allowed_hosts: Sequence[str] | None = None,
) -> SearchResult:
    """Pages of current publications that match `query` (parse_query's syntax), newest first
    (`limit` of them after the first `offset`: only those shown get snippets), with counts of
    matching publications by year, kind and region. QueryError for a query or filter that
    cannot be searched."""
    parsed = parse_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if since and until and since > until:
        raise QueryError(f"--since {since} is after --until {until}")
    where, params = _filters(kind, urn, region, since, until)
    matches = _matching(wh, parsed, where, params)
    matching = matches.documents
    result = SearchResult(
        parsed, total=sum(matches.page_counts.values()), documents=len(matching), counts=_counts(matching)
    )
    # newest first; then council, report and page: one order on both engines
    matching.sort(key=lambda d: (-(d[1] or date.min).toordinal(), d[2] or "", d[0]))
    chosen, wanted = [], offset + limit  # the publications the shown pages are in
    for row in matching:
        if wanted <= 0:
            break
        chosen.append(row)
        wanted -= matches.page_counts[row[0]]
    pages = matches.pages_of([row[0] for row in chosen])
    shown = [(row[0], page) for row in chosen for page in pages[row[0]]][offset : offset + limit]
    docs = {row[0]: row for row in chosen}
    texts = matches.texts_of(shown)
    hosts = allowed_hosts if allowed_hosts is not None else _allowed_hosts()
    for rid, page in shown:
        _, published, council, kind_, _, urn_, url = docs[rid]
        result.hits.append(
            Hit(
                rid,
                urn_,
                council,
                kind_,
                published,
                page,
                snippet(texts[rid, page], parsed),
                _page_link(url, page, hosts),
            )
        )
    return result


def _allowed_hosts() -> tuple[str, ...]:
    from etl.config import Settings

    return Settings.from_env().allowed_hosts


def _page_link(url: str | None, page: int, hosts) -> str | None:
    from etl.links import safe_link

    link = safe_link(url, hosts)
    return f"{link.split('#', 1)[0]}#page={page}" if link else None


# -- `ofsted search` ---------------------------------------------------------------------
