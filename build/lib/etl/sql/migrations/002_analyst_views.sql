-- The analyst views (columns as in the warehouse issue) and lookup indexes.

CREATE INDEX publications_urn ON publications (urn);
CREATE INDEX reports_urn ON reports (urn);
CREATE INDEX stored_files_url ON stored_files (url);

-- One row per council and tracked area: its grade now, from the latest inspection judging it.
CREATE VIEW current_ratings AS
SELECT h.urn,
       COALESCE(c.name, r.local_authority, p.local_authority) AS local_authority,
       h.area,
       h.grade,
       r.framework,
       r.inspection_end,
       COALESCE(r.published, p.published) AS published,
       r.url AS report_url
FROM rating_history h
JOIN reports r ON r.report_id = h.latest_report_id
LEFT JOIN councils c ON c.urn = h.urn
LEFT JOIN publications p ON p.url = r.url
WHERE h.is_current;

-- One row per change of grade between consecutive graded inspections (retracted ones hidden).
CREATE VIEW rating_changes AS
SELECT e.urn,
       COALESCE(c.name, e.local_authority) AS local_authority,
       e.area,
       e.previous_grade,
       e.grade,
       e.previous_published,
       e.published,
       e.direction,
       e.report_url,
       e.inspection_end,
       e.change_id
FROM change_events e
LEFT JOIN councils c ON c.urn = e.urn
WHERE e.retracted_at IS NULL;
