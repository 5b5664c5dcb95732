-- DuckDB's search index is tantivy, beside the DuckDB file (etl/search_index.py): reports whose
-- text the load replaced, queued in the same transaction until the index has them.
CREATE TABLE search_pending (
    report_id TEXT PRIMARY KEY
);
