-- Links the site gave that may not be links (etl.links: not http(s), or a host outside the
-- allowed list): the publication is kept with its URL as text and the reason; it is never
-- fetched, shown to people only as text, and listed in the review queue.
ALTER TABLE publications ADD COLUMN IF NOT EXISTS link_refused TEXT;

-- Channel names no longer carry any part of the target's URL but its scheme (an Apprise URL
-- may hold its key in the host): "prowl://KEY#digest" becomes "prowl#digest", the digest kept,
-- so messages already sent are not sent again.
UPDATE alert_messages SET channel = regexp_replace(channel, '://[^#]*#', '#') WHERE channel LIKE '%://%#%';
