-- Parses that were not applied to `reports` (issue 10). One row per file (report_id):
--   kind 'retry':  the parse failed (crash, time or memory limit, parser error). Not a verdict on
--                  the file: tried again on later runs; after 3 attempts at one parser version
--                  the file is recorded as unreadable (or, if a report is stored, that report is
--                  kept) and operators are told.
--   kind 'review': a re-parse that would lose what the stored parse had (the report, or an
--                  area); the stored report and judgements stay in force until a person accepts
--                  the held parse (etl.load.accept_held_parse) or a later parser version reads it.
-- The row goes once a parse of the file is applied.
CREATE TABLE parse_holds (
    report_id      TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,       -- retry | review
    parser_version TEXT NOT NULL,       -- of the held (or last failed) parse
    reason         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,    -- failed attempts at parser_version
    record         TEXT NOT NULL,       -- the held parse, as JSON (etl.records.to_dict)
    url            TEXT,
    first_held_at  TIMESTAMP NOT NULL,
    last_held_at   TIMESTAMP NOT NULL,
    last_run       TEXT
);
