-- PostgreSQL's search: each page's terms (etl/search.py's analyser, taken as they are by the
-- `simple` config) under a GIN index.
ALTER TABLE publication_text ADD COLUMN terms tsvector NOT NULL;
CREATE INDEX publication_text_terms ON publication_text USING GIN (terms);
