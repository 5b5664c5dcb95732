-- The first warehouse schema: what the pipeline stores.
-- One dialect subset that DuckDB and PostgreSQL both run: TEXT, INTEGER, DATE, TIMESTAMP,
-- BOOLEAN, primary keys for upserts (ON CONFLICT), no foreign keys (stages load in any order).

-- One row per pipeline run; the first successful one defines the alert baseline.
CREATE TABLE pipeline_runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status      TEXT NOT NULL           -- running | success | failed
);

CREATE TABLE councils (
    urn        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    url        TEXT,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL
);

-- Every publication listed on a council's page, graded or not. The URL identifies it.
CREATE TABLE publications (
    url             TEXT PRIMARY KEY,
    urn             TEXT NOT NULL,
    local_authority TEXT,
    kind            TEXT NOT NULL,
    title           TEXT,
    published       DATE,
    first_seen      TIMESTAMP NOT NULL,
    first_seen_run  TEXT,
    last_seen       TIMESTAMP NOT NULL
);

-- Every verified file in the landing store, by content hash and the URL it came from.
CREATE TABLE stored_files (
    sha256        TEXT NOT NULL,
    url           TEXT NOT NULL,
    uri           TEXT NOT NULL,
    size          BIGINT NOT NULL,
    fetched_at    TIMESTAMP NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    PRIMARY KEY (sha256, url)
);

-- Downloads that were not a complete PDF, with the reason; resolved_at is set when a later
-- run stores a good file for the same URL (the row is kept).
CREATE TABLE quarantined_downloads (
    url         TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,
    uri         TEXT,
    fetched_at  TIMESTAMP NOT NULL,
    attempts    INTEGER NOT NULL,
    resolved_at TIMESTAMP
);

-- One parsed report per file (report_id = the file's sha256); a newer parser version replaces it.
CREATE TABLE reports (
    report_id        TEXT PRIMARY KEY,
    urn              TEXT,
    local_authority  TEXT,
    is_report        BOOLEAN NOT NULL,
    reason           TEXT,
    kind             TEXT,
    framework        TEXT,
    inspection_start DATE,
    inspection_end   DATE,
    published        DATE,
    lead_inspector   TEXT,
    url              TEXT,
    sha256           TEXT,
    source           TEXT,
    parser_version   TEXT NOT NULL,
    parsed_at        TIMESTAMP NOT NULL,
    review_flags     TEXT NOT NULL,     -- JSON array of reasons; '[]' = nothing to review
    needs_review     BOOLEAN NOT NULL,
    record_hash      TEXT NOT NULL,     -- fingerprint of the parsed content (idempotent reloads)
    first_seen       TIMESTAMP NOT NULL,
    first_seen_run   TEXT
);

-- Raw framework keys, as parsed.
CREATE TABLE judgements (
    report_id TEXT NOT NULL,
    area      TEXT NOT NULL,
    grade     TEXT NOT NULL,
    PRIMARY KEY (report_id, area)
);

-- A human's decision on a report flagged for review. With rows in review_judgements those
-- grades are used; without, the parsed judgements are accepted as they are.
CREATE TABLE review_resolutions (
    report_id   TEXT PRIMARY KEY,
    resolved_at TIMESTAMP NOT NULL,
    resolved_by TEXT,
    note        TEXT
);

CREATE TABLE review_judgements (
    report_id TEXT NOT NULL,
    area      TEXT NOT NULL,
    grade     TEXT NOT NULL,
    PRIMARY KEY (report_id, area)
);

-- Type-2 slowly changing dimension per council x tracked area (recomputed by `changes`).
CREATE TABLE rating_history (
    urn              TEXT NOT NULL,
    area             TEXT NOT NULL,     -- tracked area key (docs/warehouse.md)
    grade            TEXT NOT NULL,
    valid_from       DATE NOT NULL,     -- inspection end of the report that set the grade
    valid_to         DATE,              -- exclusive; NULL while current
    is_current       BOOLEAN NOT NULL,
    report_id        TEXT NOT NULL,     -- the report that set this grade
    source_area      TEXT NOT NULL,     -- that report's framework key
    latest_report_id TEXT NOT NULL,     -- the latest report that judged this same grade
    end_reason       TEXT,              -- changed | retired (area not judged by a later framework)
    PRIMARY KEY (urn, area, valid_from)
);

-- Change events, kept for ever: a correction that removes one sets retracted_at.
CREATE TABLE change_events (
    change_id          TEXT PRIMARY KEY,
    urn                TEXT NOT NULL,
    local_authority    TEXT,
    area               TEXT NOT NULL,
    previous_grade     TEXT NOT NULL,
    grade              TEXT NOT NULL,
    direction          TEXT NOT NULL,   -- improved | declined
    report_id          TEXT NOT NULL,
    previous_report_id TEXT NOT NULL,
    inspection_end     DATE,
    previous_published DATE,
    published          DATE,
    report_url         TEXT,
    detected_at        TIMESTAMP NOT NULL,
    detected_run       TEXT,
    retracted_at       TIMESTAMP,
    retracted_run      TEXT
);

CREATE TABLE alert_deliveries (
    change_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,         -- delivered | failed
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    delivered_at TIMESTAMP,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (change_id, channel)
);
