-- current_ratings read straight from rating_history: the history row carries what the view
-- shows about the latest inspection that judged it (filled by `changes.refresh`), so "every
-- council now" is one scan and a key lookup instead of a four-table join.

ALTER TABLE rating_history ADD COLUMN local_authority TEXT;
ALTER TABLE rating_history ADD COLUMN framework TEXT;
ALTER TABLE rating_history ADD COLUMN inspection_end DATE;
ALTER TABLE rating_history ADD COLUMN published DATE;
ALTER TABLE rating_history ADD COLUMN report_url TEXT;

-- backfill rows written by an earlier version (the next refresh rewrites them all anyway)
UPDATE rating_history
SET local_authority = src.local_authority,
    framework = src.framework,
    inspection_end = src.inspection_end,
    published = src.published,
    report_url = src.url
FROM (SELECT r.report_id, COALESCE(r.local_authority, p.local_authority) AS local_authority, r.framework,
             r.inspection_end, COALESCE(r.published, p.published) AS published, r.url
      FROM reports r LEFT JOIN publications p ON p.url = r.url) AS src
WHERE src.report_id = rating_history.latest_report_id;

DROP VIEW current_ratings;

CREATE VIEW current_ratings AS
SELECT h.urn,
       COALESCE(c.name, h.local_authority) AS local_authority,
       h.area,
       h.grade,
       h.framework,
       h.inspection_end,
       h.published,
       h.report_url
FROM rating_history h
LEFT JOIN councils c ON c.urn = h.urn
WHERE h.is_current;

CREATE INDEX rating_history_urn ON rating_history (urn);
