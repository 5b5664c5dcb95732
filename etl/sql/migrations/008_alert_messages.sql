-- Alerts: one message per report (or digest) and recipient, claimed before it is sent; and the
-- per-council alert baseline (the first run that read a council's page).

-- The run that first read the council's page: its publications then were history, not news.
ALTER TABLE councils ADD COLUMN first_listed_run TEXT;

UPDATE councils SET first_listed_run = (
    SELECT p.first_seen_run FROM publications p
    WHERE p.urn = councils.urn AND p.first_seen_run IS NOT NULL
    ORDER BY p.first_seen, p.first_seen_run LIMIT 1);

-- One row per message and channel. An event's message is keyed by the event id
-- (report:<report_id>, <kind>:<publication url>, retraction:<report_id>:<run>); a digest's by
-- digest:<cadence>:<period start>. A sender claims a row (pending|failed -> sending) in its own
-- committed statement before sending, so two senders never send one message twice.
CREATE TABLE alert_messages (
    message_id   TEXT NOT NULL,
    channel      TEXT NOT NULL,
    kind         TEXT NOT NULL,         -- the event kind, or digest
    status       TEXT NOT NULL,         -- pending | sending | delivered | failed | queued (in a digest)
    digest_id    TEXT,                  -- queued events: the digest they go out in
    due_at       TIMESTAMP,             -- digests: the end of their period
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    claimed_at   TIMESTAMP,
    claimed_by   TEXT,
    delivered_at TIMESTAMP,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, channel)
);

-- Messages already delivered one per change (alert_deliveries) count as delivered for their report.
INSERT INTO alert_messages (message_id, channel, kind, status, attempts, delivered_at, updated_at)
SELECT 'report:' || e.report_id, d.channel, 'grade_change', 'delivered', 1, MIN(d.delivered_at), MAX(d.updated_at)
FROM alert_deliveries d JOIN change_events e ON e.change_id = d.change_id
WHERE d.status = 'delivered'
GROUP BY e.report_id, d.channel;
