-- What each report and letter says must improve (issue 24; columns documented in docs/warehouse.md).

-- Each parsed document's improvement points, in order (position 1, 2, ...), written by the load
-- with its report: a newer parse of the file replaces them.
CREATE TABLE improvement_points (
    report_id TEXT NOT NULL,
    position  INTEGER NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);

-- The points of current documents only, as the `visits` view takes letters: a re-issued file's
-- old version (superseded) drops out, and so does a file a newer parse says is not a report.
CREATE VIEW improvements AS
SELECT r.report_id,
       COALESCE(r.urn, p.urn) AS urn,
       r.kind,
       r.framework,
       COALESCE(r.published, p.published) AS published,
       i.position,
       i.text,
       COALESCE(c.name, r.local_authority, p.local_authority) AS local_authority,
       r.inspection_end,
       r.url
FROM improvement_points i
JOIN reports r ON r.report_id = i.report_id
LEFT JOIN publications p ON p.url = r.url
LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)
WHERE r.is_report AND r.superseded_by IS NULL;

-- The points of each council's latest graded inspection (the report behind latest_grades, as
-- latest_inspections shows it; an abolished council's are history, left out as there).
CREATE VIEW current_improvements AS
SELECT lg.urn,
       i.local_authority,
       rc.region_name AS region,
       lg.framework,
       lg.inspection_end,
       i.published,
       i.position,
       i.text,
       lg.report_id,
       lg.report_url
FROM latest_grades lg
JOIN improvements i ON i.report_id = lg.report_id
LEFT JOIN ref_councils rc ON rc.urn = lg.urn
WHERE rc.abolished IS NULL;
