"""The DuckDB warehouse's text index: tantivy, in a folder beside the DuckDB file
(`warehouse.duckdb` -> `warehouse.duckdb.search/`), one document per page of publication_text,
analysed by etl.search_text's analyser (the one PostgreSQL's tsvector is written with).

publication_text is the truth; the index follows it and can always be rebuilt from it:
- the load replaces a report's pages and queues its id in `search_pending` in one transaction;
- `sync` (after each load, and before each search) re-indexes the queued reports, commits the
  index, then clears the queue. A crash before the index commit leaves the queue for the next
  sync; a crash after it leaves a queue whose replay changes nothing (delete, then add again).
- a page count that differs from publication_text's (a restored DuckDB file, a deleted folder)
  rebuilds the index whole; `drift` compares every report's page count (the data checks).
Index writes happen while the DuckDB file is open, whose lock admits one process at a time;
threads of one process take `_WRITING`. Searchers read committed segments only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from pathlib import Path

from etl.search_text import Query, analyzer
from etl.warehouse import Warehouse, _duckdb_path

log = logging.getLogger(__name__)

WRITER_HEAP = 256_000_000  # a budget, not an allocation: a first run indexes in few segments
WRITER_THREADS = 2
_WRITING = threading.Lock()
_OPEN: dict[str, TextIndex] = {}  # one open index per folder in this process


@lru_cache(maxsize=1 << 16)  # every search maps the filtered reports to their keys
def report_key(report_id: str) -> int:
    """A signed 64-bit key of a report id (tantivy's fast fields are numeric)."""
    return int.from_bytes(hashlib.blake2b(report_id.encode(), digest_size=8).digest(), "big", signed=True)


def index_path(wh: Warehouse) -> str | None:
    path = _duckdb_path(wh.url)
    return None if path == ":memory:" else f"{Path(path).resolve()}.search"


class TextIndex:
    def __init__(self, path: str | None):
        import tantivy

        builder = tantivy.SchemaBuilder()
        # stored too: a snippet is cut from the text the index found (read in one call per hit)
        builder.add_text_field("text", stored=True, tokenizer_name="ofsted", index_option="position")
        # fast: a search counts its matching pages per report in tantivy (a terms aggregation)
        builder.add_text_field("report_id", tokenizer_name="raw", index_option="basic", fast=True)
        builder.add_integer_field("rkey", fast=True)
        builder.add_integer_field("page", fast=True)
        self.schema = builder.build()
        if path:
            Path(path).mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(self.schema, path=path, reuse=True)
        except ValueError as exc:  # an index from an older release: the warehouse rebuilds it
            if "schema does not match" not in str(exc):
                raise
            log.warning("text index %s has another schema: made anew, rebuilt from the warehouse", path)
            self.index = tantivy.Index(self.schema, path=path, reuse=False)
        self.index.register_tokenizer("ofsted", analyzer())  # etl.search's, for PostgreSQL too
        self.path = path

    @classmethod
    def of(cls, wh: Warehouse) -> TextIndex:
        """The index of this warehouse (kept open per process; one per in-memory warehouse)."""
        path = index_path(wh)
        if path is None:
            index = getattr(wh, "_text_index", None)
            if index is None:
                index = wh._text_index = cls(None)
            return index
        with _WRITING:
            if path not in _OPEN:
                _OPEN[path] = cls(path)
            return _OPEN[path]

    # -- writing -----------------------------------------------------------------------------
    def _write(self, wh: Warehouse, report_ids: list[str] | None) -> int:
        """Re-index these reports' pages (all of publication_text when None)."""
        import tantivy

        if report_ids is None:
            rows = wh.fetchall("SELECT report_id, page, text FROM publication_text")
        else:
            rows = wh.fetchall(
                "SELECT report_id, page, text FROM publication_text"
                " WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))",
                [report_ids],
            )
        writer = self.index.writer(WRITER_HEAP, WRITER_THREADS)
        try:
            if report_ids is None:
                writer.delete_all_documents()
            else:
                for rid in report_ids:
                    writer.delete_documents_by_term("report_id", rid)
            for rid, page, text in rows:
                writer.add_document(tantivy.Document(text=text, report_id=rid, rkey=report_key(rid), page=page))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self.index.reload()
        return len(rows)

    def sync(self, wh: Warehouse) -> None:
        """Index the reports the load queued; rebuild if the page counts still disagree."""
        with _WRITING:
            # one round trip when all is in step (every search asks)
            pending, stored = wh.fetchone(
                "SELECT (SELECT list(report_id ORDER BY report_id) FROM search_pending),"
                " (SELECT COUNT(*) FROM publication_text)"
            )
            if pending:
                self._write(wh, pending)
                wh.execute(
                    "DELETE FROM search_pending WHERE report_id IN (SELECT unnest(CAST(? AS TEXT[])))", [pending]
                )
            self.index.reload()
            if self.index.searcher().num_docs != stored:
                log.warning(
                    "text index %s holds %d pages, the warehouse %d: rebuilding it",
                    self.path or "(in memory)",
                    self.index.searcher().num_docs,
                    stored,
                )
                self._write(wh, None)

    def rebuild(self, wh: Warehouse) -> int:
        with _WRITING:
            n = self._write(wh, None)
            wh.execute("DELETE FROM search_pending")
            return n

    # -- reading -----------------------------------------------------------------------------
    def _query(self, query: Query):
        import tantivy

        def phrase(p):
            if len(p) == 1:
                return tantivy.Query.term_query(self.schema, "text", p[0][1])
            return tantivy.Query.phrase_query(self.schema, "text", list(p))

        clauses = [
            (tantivy.Occur.Must, tantivy.Query.boolean_query([(tantivy.Occur.Should, phrase(p)) for p in group]))
            for group in query.groups
        ]
        clauses += [(tantivy.Occur.MustNot, phrase(p)) for p in query.excluded]
        return tantivy.Query.boolean_query(clauses)

    def page_counts(self, query: Query | None = None, searcher=None) -> dict[str, int]:
        """report_id -> its pages that match `query` (every page when None), counted in tantivy."""
        import tantivy

        searcher = searcher or self.index.searcher()
        if not searcher.num_docs:
            return {}
        agg = searcher.aggregate(
            self._query(query) if query else tantivy.Query.all_query(),
            {"r": {"terms": {"field": "report_id", "size": max(searcher.num_docs, 1)}}},
        )
        return {b["key"]: int(b["doc_count"]) for b in agg["r"]["buckets"]}

    def pages(self, query: Query, report_ids: list[str], searcher) -> dict[tuple[str, int], object]:
        """(report_id, page) -> address of these reports' pages that match `query`."""
        import tantivy

        if not report_ids:
            return {}
        only = tantivy.Query.term_set_query(self.schema, "report_id", list(report_ids))
        hits = [
            address
            for _, address in searcher.search(
                tantivy.Query.boolean_query([(tantivy.Occur.Must, self._query(query)), (tantivy.Occur.Must, only)]),
                limit=max(searcher.num_docs, 1),
                count=False,
            ).hits
        ]
        by_key = {report_key(rid): rid for rid in report_ids}
        keys, pages = searcher.fast_field_values("rkey", hits), searcher.fast_field_values("page", hits)
        return {(by_key[k], p): a for k, p, a in zip(keys, pages, hits)}

    @staticmethod
    def texts(addresses: list, searcher) -> list[str]:
        return [searcher.doc(a)["text"][0] for a in addresses]

    def drift(self, wh: Warehouse) -> list[str]:
        """Where the index is out of step: reports queued and not indexed, reports whose
        indexed page count differs from publication_text's (`sync` repairs both)."""
        self.index.reload()
        indexed = self.page_counts()
        queued = wh.fetchone("SELECT COUNT(*) FROM search_pending")[0]
        problems = [f"{queued} report(s) queued for the index, not yet indexed"] if queued else []
        for rid, pages in wh.fetchall("SELECT report_id, COUNT(*) FROM publication_text GROUP BY report_id ORDER BY 1"):
            got = indexed.pop(rid, 0)
            if got != pages:
                problems.append(f"{rid[:12]}: {got} pages indexed, {pages} stored")
        problems += [f"{rid[:12]}: {n} pages indexed, none stored" for rid, n in sorted(indexed.items())]
        return problems
