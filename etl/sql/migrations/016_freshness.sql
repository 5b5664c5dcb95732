-- Freshness (issue 26): what the hourly crawl knows of each council's page, the rolling sweep's
-- position, and the operators' staleness notices.

-- One row per council page the crawl has tried to read (etl/crawl.py, pages_to_read).
CREATE TABLE council_pages (
    urn           TEXT PRIMARY KEY,
    listed_latest TEXT,        -- the search result's "Latest report" text when the page was last read
    read_at       TIMESTAMP,   -- the last successful read of the page
    failed_at     TIMESTAMP    -- a failed read since then: the page is read again next run
);

-- The rolling sweep (one row, id 1): when it last ran, and the fraction of a page it owes.
CREATE TABLE crawl_sweep (
    id       INTEGER PRIMARY KEY,
    swept_at TIMESTAMP NOT NULL,
    carry    DOUBLE PRECISION NOT NULL
);

-- One row per stretch without a successful run that operators were told of (etl/freshness.py):
-- the notice is sent once, and the recovery message once, when a run succeeds again.
CREATE TABLE stale_notices (
    stretch      TEXT PRIMARY KEY,     -- the last success before the stretch (ISO time), or 'never'
    last_success TIMESTAMP,
    sent_at      TIMESTAMP NOT NULL,
    recovered_at TIMESTAMP             -- when the recovery message went out
);
