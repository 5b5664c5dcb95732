-- Every publication's text, page by page, for full-text search (issue 24; docs/warehouse.md).
-- Written by the load from the text the parse stage kept beside the file in the landing store;
-- a re-parse replaces a report's pages. `page` is the PDF's page number, from 1.
CREATE TABLE publication_text (
    report_id TEXT NOT NULL,
    page      INTEGER NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (report_id, page)
);

-- What search looks in: current publications (a re-issued file's old version left out), with
-- the council, its region and the link to the file.
CREATE VIEW search_documents AS
SELECT r.report_id,
       COALESCE(r.urn, p.urn) AS urn,
       COALESCE(c.name, r.local_authority, p.local_authority) AS council,
       r.kind,
       COALESCE(r.published, p.published) AS published,
       rc.region_name AS region,
       rc.region_code,
       r.url
FROM reports r
LEFT JOIN publications p ON p.url = r.url
LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)
LEFT JOIN ref_councils rc ON rc.urn = COALESCE(r.urn, p.urn)
WHERE r.is_report AND r.superseded_by IS NULL;
