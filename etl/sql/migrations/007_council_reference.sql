-- The council reference (etl/reference/): codes, regions, statistical neighbours and
-- reorganisations, keyed by Ofsted URN. Filled by `etl.reference.sync` on every run's start and
-- by `ofsted reference`, from the data files shipped in the package (never from outside it).

CREATE TABLE ref_councils (
    urn              TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    also_known_as    TEXT,              -- '; '-separated
    la_code          TEXT NOT NULL,     -- DfE three-digit code
    ons_code         TEXT NOT NULL,     -- ONS GSS code, current
    former_ons_codes TEXT,              -- ' '-separated earlier codes of the same area
    region_code      TEXT NOT NULL,
    region_name      TEXT NOT NULL,
    la_type          TEXT,
    population_0_25  INTEGER,
    abolished        DATE,              -- NULL while the council exists
    hex_q            INTEGER,           -- hex-map cell (odd-r); NULL for abolished councils
    hex_r            INTEGER
);

CREATE TABLE ref_statistical_neighbours (
    urn           TEXT NOT NULL,
    neighbour_urn TEXT NOT NULL,
    rank          INTEGER NOT NULL,     -- 1 = most similar
    PRIMARY KEY (urn, neighbour_urn)
);

-- predecessor_urn is NULL where the reference has no URN for the predecessor (Bournemouth)
CREATE TABLE ref_successions (
    predecessor_ons_code TEXT NOT NULL,
    successor_urn        TEXT NOT NULL,
    predecessor_urn      TEXT,
    predecessor_name     TEXT NOT NULL,
    effective            DATE NOT NULL,
    PRIMARY KEY (predecessor_ons_code, successor_urn)
);

-- the codes analysts join on, stamped onto each history row (etl.reference.refresh_derived)
ALTER TABLE rating_history ADD COLUMN la_code TEXT;
ALTER TABLE rating_history ADD COLUMN ons_code TEXT;
ALTER TABLE rating_history ADD COLUMN region TEXT;
