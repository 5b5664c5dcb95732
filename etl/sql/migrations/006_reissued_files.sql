-- Re-issued reports: the site sometimes replaces a published file under the same URL (a
-- correction). Each version is kept; the older ones, and the reports parsed from them, are
-- marked superseded by the newer file (its sha256). Only current versions feed the history.
ALTER TABLE stored_files ADD COLUMN IF NOT EXISTS superseded_by TEXT;
ALTER TABLE stored_files ADD COLUMN IF NOT EXISTS superseded_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN IF NOT EXISTS superseded_by TEXT;
