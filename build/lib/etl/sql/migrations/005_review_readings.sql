-- What the parser saw, kept with each report so a reviewer can judge it without the PDF
-- (etl/review.py, `ofsted review`). All JSON text, like review_flags:
--   review_notes:  non-blocking notes (an area read from one source only); the report counts
--   unread_areas:  areas the framework requires that could not be read ("not read" in the history)
--   readings:      per area, what the page-1 table and the body said: {"area": {"table": .., "body": ..}}
ALTER TABLE reports ADD COLUMN review_notes TEXT DEFAULT '[]';
ALTER TABLE reports ADD COLUMN unread_areas TEXT DEFAULT '[]';
ALTER TABLE reports ADD COLUMN readings TEXT DEFAULT '{}';
