-- An ILACS inspection's type (issue 28; docs/parsing.md, docs/warehouse.md).

-- `inspection_type`: short (one week on site) or standard (two), read by the parser from the
-- inspection dates (etl.parse.frameworks.inspection_type); NULL for every other framework and
-- for a span of neither. Rows stored before are filled by the re-parse parser 1.6.0 brings.
ALTER TABLE reports ADD COLUMN IF NOT EXISTS inspection_type TEXT;

-- latest_inspections shows it from migration 018, which restates that view once for this and
-- the due windows (a view's columns are only appended by restating its query).
