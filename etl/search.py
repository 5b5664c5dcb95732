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

The query is parsed here, not by `websearch_to_tsquery`, because PostgreSQL's parser reads URLs,
hyphenated words and numbers its own way, which tantivy could not match; the syntax is the same
(words, "quoted phrases", OR, -exclusion). Hits come newest first (published, council, page), so
a limit keeps the same hits on both engines; snippets are cut from the stored text here too, as
(text, marked) segments with no markup: each surface escapes them for itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_LIMIT = 1000
MAX_TERM_CHARS = 40  # longer runs are codes or garbage, not words anyone searches for
SNIPPET_WORDS = 24  # terms shown (the stop words between them come too)
SNIPPET_LEAD = 6  # terms shown before the first match
SNIPPET_READ = 800  # characters of a page tokenized first for its snippet (x4 until enough)

# Snowball's English stop words (PostgreSQL's english.stop): common words are no search
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself it its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a an the and but if or
because as until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don should now
""".split()
)


class QueryError(ValueError):
    """A query that cannot be searched: the message says why, for the person who typed it."""


# -- the analyser: text -> terms, the same for every engine ----------------------------------
_SPACE = re.compile(r"\s+")
_EDGE_AFTER = re.compile(r"\S*")  # the non-space run a word ends in

Phrase = tuple[tuple[int, str], ...]  # (position from the phrase's first term, term)


@lru_cache(maxsize=1)
def analyzer():
    """tantivy's analyser, run in Rust for both engines: words split at anything not a letter or
    digit, over-long ones dropped, lower case, folded to ASCII (naïve -> naive), words left with
    anything else dropped, stop words dropped, Snowball English stems. A dropped word keeps its
    place, so phrases match across it the same way on both engines."""
    import tantivy

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TERM_CHARS + 1))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.alphanum_only())
        .filter(tantivy.Filter.custom_stopword(sorted(STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def tokens(text: str) -> list[tuple[int, str, int, int]]:
    """(position, term, start, end) of every term of `text` (start and end: character offsets)."""
    return [(t.position, t.text, t.char_offset_from, t.char_offset_to) for t in analyzer().pre_tokenize(text).tokens]


def terms(text: str) -> list[str]:
    """Every term of `text`, in order."""
    return analyzer().analyze(text)


def tsvector(text: str) -> bytes:
    """`text` as a PostgreSQL tsvector in its binary form (what COPY ... FORMAT BINARY sends),
    each term at the position tantivy gives it, 1-based, at most 16,383, its first 256 positions
    (tsvector's limits).
    One pass over the tokens, terms and positions encoded once per process: a first run writes
    millions, and PostgreSQL reads this form several times faster than tsvector text."""
    positions: dict[str, list[int]] = {}
    for token in analyzer().pre_tokenize(text).tokens:
        at = positions.get(token.text)
        if at is None:
            at = positions[token.text] = []
        at.append(token.position)
    parts = [len(positions).to_bytes(4, "big")]
    for term, at in positions.items():
        if len(at) > _MOST_POSITIONS or at[-1] >= _LAST_POSITION:  # what PostgreSQL's text form keeps
            at = sorted({min(p, _LAST_POSITION - 1) for p in at})[:_MOST_POSITIONS]
        parts.append(_TERM_BYTES[term])
        parts.append(_UINT16[len(at)])
        parts += [_UINT16[p + 1] for p in at]
    return b"".join(parts)


_LAST_POSITION, _MOST_POSITIONS = 16383, 256
_UINT16 = [n.to_bytes(2, "big") for n in range(_LAST_POSITION + 1)]


class _TermBytes(dict):
    """A term as tsvector's binary form starts it (UTF-8, NUL-terminated), made once."""

    def __missing__(self, term: str) -> bytes:
        data = self[term] = term.encode() + b"\0"
        return data


_TERM_BYTES = _TermBytes()


def _phrase(text: str) -> Phrase:
    found = tokens(text)
    return tuple((position - found[0][0], term) for position, term, _, _ in found)


# -- the query ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """AND over `groups` (each an OR of phrases), none of the `excluded` phrases; a phrase is
    its terms with their positions from its first."""

    groups: tuple[tuple[Phrase, ...], ...]
    excluded: tuple[Phrase, ...] = ()

    def phrases(self) -> list[Phrase]:
        return [p for g in self.groups for p in g]

    def tsquery(self) -> str:
        """The query as PostgreSQL `to_tsquery('simple', ...)` text (terms are [a-z0-9]+)."""

        def phrase(p):
            out = f"'{p[0][1]}'"
            for (before, _), (position, term) in zip(p, p[1:]):
                out += f" <{position - before}> '{term}'"
            return out

        parts = ["(" + " | ".join(f"({phrase(p)})" for p in g) + ")" for g in self.groups]
        parts += [f"!({phrase(p)})" for p in self.excluded]
        return " & ".join(parts)


_QUERY_ITEM = re.compile(r'(-)?(?:"([^"]*)"|([^\s"]+))')


def parse_query(text: str) -> Query:
    """A search box's text -> Query: words (all must appear), "quoted phrases", OR between two
    words or phrases, -word or -"phrase" to exclude. QueryError says what is wrong."""
    if text is None or not text.strip():
        raise QueryError('empty query: type a word or a "quoted phrase" to find')
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text)} characters (the limit is {MAX_QUERY_CHARS})")
    if text.count('"') % 2:
        raise QueryError('unbalanced quotes: close the "quoted phrase" with a second "')
    groups: list[list[Phrase]] = []
    excluded: list[Phrase] = []
    join_next = False  # the previous item was OR: the next phrase joins the last group
    for m in _QUERY_ITEM.finditer(text):
        negated, quoted, word = m.group(1), m.group(2), m.group(3)
        if word == "OR" and not negated:
            join_next = bool(groups)
            continue
        phrase = _phrase(quoted if quoted is not None else word)
        if not phrase:  # stop words only, or punctuation
            continue
        if negated:
            excluded.append(phrase)
        elif join_next:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        join_next = False
    if not groups:
        if excluded:
            raise QueryError("nothing to find: add a word or phrase to look for, not only -exclusions")
        raise QueryError(
            "only common words (such as 'the', 'of', 'and'), which are not searched: add a word that says what to find"
        )
    return Query(tuple(tuple(dict.fromkeys(g)) for g in groups), tuple(dict.fromkeys(excluded)))


# -- snippets ----------------------------------------------------------------------------
Segment = tuple[str, bool]  # (text, marked)


def _run_before(text: str, at: int) -> str:
    """The non-space run of `text` that ends at `at` (what a shown word starts with)."""
    start = at
    while start and not text[start - 1].isspace():
        start -= 1
    return text[start:at]


class _Tokens:
    """A text's tokens as (position, term, start, end), read from tantivy's token objects only
    where asked: a snippet needs every term but the positions and offsets of a few (each read
    costs a Python object; a page has hundreds)."""

    __slots__ = ("raw", "terms")

    def __init__(self, text: str):
        self.raw = analyzer().pre_tokenize(text).tokens
        self.terms = [t.text for t in self.raw]

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> tuple[int, str, int, int]:
        t = self.raw[i]
        return t.position, self.terms[i], t.char_offset_from, t.char_offset_to


def _matches(found: _Tokens, query: Query) -> list[tuple[int, int]]:
    """Token ranges (first, last index into `found`) of every match of the query's phrases, in order."""
    starting: dict[str, list[Phrase]] = {}  # a phrase's first term -> the phrases
    for phrase in query.phrases():
        starting.setdefault(phrase[0][1], []).append(phrase)
    raw, terms, spans = found.raw, found.terms, []
    for i in [i for i, term in enumerate(terms) if term in starting]:
        base = raw[i].position
        for phrase in starting[terms[i]]:
            last = i
            for offset, term in phrase[1:]:  # each next term at its distance, if there
                want, k = base + offset, last + 1
                while k < len(raw) and raw[k].position < want:
                    k += 1
                if k == len(raw) or raw[k].position != want or terms[k] != term:
                    break
                last = k
            else:
                spans.append((i, last))
    return spans


def _tokens_to_show(text: str, query: Query, words: int) -> tuple[_Tokens, list[tuple[int, int]]]:
    """The tokens of the shortest prefix of `text` that decides the snippet, and their matches:
    the first match and the `words` terms from just before it, with room for any phrase to end.
    A prefix cut at a space has exactly the text's first tokens; a hit's match is usually early,
    so most of a page is never tokenized (this was most of a search's time)."""
    reach = max(phrase[-1][0] for phrase in query.phrases())  # positions a phrase spans
    cut = SNIPPET_READ
    while True:
        space = _SPACE.search(text, cut) if cut < len(text) else None
        found = _Tokens(text[: space.start()] if space else text)
        spans = _matches(found, query)
        if space is None:
            return found, spans
        if spans:
            first = spans[0][0]
            end = max(0, first - SNIPPET_LEAD) + words
            if len(found) > end and found[max(first, end - 1)][0] + reach < found[-1][0]:
                return found, spans
        cut *= 4


def snippet(text: str, query: Query, words: int = SNIPPET_WORDS) -> tuple[Segment, ...]:
    """About `words` terms of `text` from just before the first match (the stop words between
    them shown too), each matched phrase marked whole; plain text segments (no markup, not
    escaped)."""
    found, spans = _tokens_to_show(text, query, words)
    if not found:
        return ((" ".join(text.split())[:200], False),) if text.strip() else ()
    start = max(0, (spans[0][0] if spans else 0) - SNIPPET_LEAD)
    end = min(len(found), start + words)  # tokens start .. end - 1 are shown
    marked = [(found[a][2], found[b][3]) for a, b in spans if a >= start and b < end]
    segments: list[list] = []

    def add(piece: str, is_marked: bool) -> None:
        piece = _SPACE.sub(" ", piece)
        if not piece:
            return
        if segments and segments[-1][1] == is_marked:
            segments[-1][0] += piece
        else:
            segments.append([piece, is_marked])

    first = found[start][2] if start else 0  # from the text's start, or its end,
    last = found[end - 1][3] if end < len(found) else len(text)  # when shown to there
    if start > 0:
        add("… ", False)
    add(_run_before(text, first), False)  # punctuation the first word starts with
    cursor = first
    for a, b in marked:
        if a < cursor:  # overlapping matches: one mark
            a = cursor
        add(text[cursor:a], False)
        add(text[a:b], True)
        cursor = max(cursor, b)
    add(text[cursor:last], False)
    add(_EDGE_AFTER.match(text, last).group(), False)  # and the punctuation it ends with
    if end < len(found):
        add(" …", False)
    if segments:
        segments[0][0], segments[-1][0] = segments[0][0].lstrip(), segments[-1][0].rstrip()
    return tuple((s, m) for s, m in segments if s)


def snippet_text(segments: Iterable[Segment], mark: tuple[str, str] = ("«", "»")) -> str:
    """Segments as one line of plain text, matches between `mark`s (terminal, CSV)."""
    return "".join(f"{mark[0]}{s}{mark[1]}" if m else s for s, m in segments)


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
HIT_COLUMNS = ("published", "council", "urn", "kind", "page", "snippet", "url", "report_id")


def _hit_row(hit: Hit) -> tuple:
    return (hit.published, hit.council, hit.urn, hit.kind, hit.page, snippet_text(hit.snippet), hit.url, hit.report_id)


def render_json(result: SearchResult) -> str:
    import json

    hits = [
        dict(
            zip(HIT_COLUMNS, _hit_row(h)),
            published=h.published.isoformat() if h.published else None,
            snippet=snippet_text(h.snippet),
            segments=[[s, m] for s, m in h.snippet],
        )
        for h in result.hits
    ]
    return (
        json.dumps(
            {
                "total": result.total,
                "documents": result.documents,
                "shown": len(result.hits),
                "counts": result.counts,
                "hits": hits,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def render_table(result: SearchResult) -> str:
    """Hits for a person at a terminal: a block per page, then the counts (every line through
    for_terminal: the text is the PDF's)."""
    from etl.links import for_terminal

    if not result.total:
        return "no page matches\n"
    lines = [
        f"{result.total} page(s) in {result.documents} publication(s) match; "
        f"{'all' if len(result.hits) == result.total else f'the newest {len(result.hits)}'} shown"
    ]
    for h in result.hits:
        lines += [
            "",
            f"{h.published or 'undated'}  {h.council or '?'} ({h.urn or '?'})  {h.kind}  page {h.page}",
            f"    {snippet_text(h.snippet)}",
            f"    {h.url or '(no link: the address is not allowed)'}",
        ]
    lines.append("")
    for key, label in (("year", "by year"), ("kind", "by kind"), ("region", "by region")):
        lines.append(f"publications {label}: " + ", ".join(f"{k} {n}" for k, n in result.counts[key].items()))
    return "\n".join(for_terminal(line) for line in lines) + "\n"
