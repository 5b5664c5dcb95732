-- England at any date (docs/warehouse.md, "England at any date"): both tables are rewritten with
-- the history, in the refresh's transaction (etl.england.rewrite, from etl.reference.refresh_derived).

-- Per council and tracked area, one span per inspection that judged the area (or retired it:
-- grade 'not_judged'), from its inspection end to the next one's, clipped to the council's
-- existence; a successor's spans begin with its predecessors' inspections (source_urn).
CREATE TABLE grade_timeline (
    urn             TEXT NOT NULL,
    local_authority TEXT,
    region          TEXT,
    area            TEXT NOT NULL,
    grade           TEXT NOT NULL,
    valid_from      DATE NOT NULL,
    valid_to        DATE,              -- exclusive; NULL while current
    inspection_end  DATE NOT NULL,     -- the inspection's own end (before clipping)
    framework       TEXT NOT NULL,
    report_id       TEXT NOT NULL,
    report_url      TEXT,
    source_urn      TEXT NOT NULL,     -- whose inspection it was (a predecessor's, when inherited)
    exists_from     DATE,              -- a successor: the reorganisation that created it
    exists_to       DATE               -- abolished
);
CREATE INDEX grade_timeline_area ON grade_timeline (area, valid_from);

-- The counts as at every month end since April 2012, for England and each region, every tracked
-- area (but area SEND, on its own scale).
CREATE TABLE grade_distribution (
    group_name              TEXT NOT NULL,   -- 'England' or a region's name
    as_at                   DATE NOT NULL,
    area                    TEXT NOT NULL,
    councils                INTEGER NOT NULL, -- graded in the area
    outstanding             INTEGER NOT NULL,
    good                    INTEGER NOT NULL,
    requires_improvement    INTEGER NOT NULL, -- with adequate (2012-13)
    inadequate              INTEGER NOT NULL,
    not_judged              INTEGER NOT NULL, -- latest inspection does not judge the area
    good_or_outstanding_pct DOUBLE PRECISION, -- one decimal; NULL when no council is graded
    PRIMARY KEY (area, group_name, as_at)
);
