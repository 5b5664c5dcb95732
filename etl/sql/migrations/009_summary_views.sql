-- The analysts' summary: the views gain the reference's codes and region, and three new views
-- (columns documented in docs/warehouse.md).

DROP VIEW current_ratings;

CREATE VIEW current_ratings AS
SELECT h.urn,
       COALESCE(c.name, h.local_authority) AS local_authority,
       h.area,
       h.grade,
       h.framework,
       h.inspection_end,
       h.published,
       h.report_url,
       h.la_code,
       h.ons_code,
       h.region
FROM rating_history h
LEFT JOIN councils c ON c.urn = h.urn
WHERE h.is_current;

DROP VIEW rating_changes;

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
       e.change_id,
       rc.la_code,
       rc.ons_code,
       rc.region_name AS region
FROM change_events e
LEFT JOIN councils c ON c.urn = e.urn
LEFT JOIN ref_councils rc ON rc.urn = e.urn
WHERE e.retracted_at IS NULL;

-- The grade scale, ranked (higher is better), to compare grades in SQL.
CREATE TABLE grade_scale (
    grade TEXT PRIMARY KEY,
    rank  INTEGER NOT NULL
);
INSERT INTO grade_scale (grade, rank) VALUES
    ('outstanding', 5), ('good', 4), ('adequate', 3), ('requires_improvement', 2), ('inadequate', 1);

-- Per council: its latest graded inspection, the grade now in each headline area, the grade
-- held the day before that inspection, and the direction. Derived from rating_history and the
-- reports it names (one report stands per council and date, so the current rows of the latest
-- date all name the latest report).
CREATE VIEW latest_grades_computed AS
WITH latest AS (
    SELECT urn, MAX(COALESCE(inspection_end, published)) AS inspected_on
    FROM rating_history
    WHERE is_current
    GROUP BY urn
),
by_area AS (
    SELECT h.urn, h.area, l.inspected_on,
           MAX(CASE WHEN h.is_current AND COALESCE(h.inspection_end, h.published) = l.inspected_on
                    THEN h.latest_report_id END) AS report_id,
           MAX(CASE WHEN h.is_current THEN h.grade END) AS grade,
           MAX(CASE WHEN h.valid_from < l.inspected_on AND (h.valid_to IS NULL OR h.valid_to >= l.inspected_on)
                    THEN h.grade END) AS previous
    FROM rating_history h
    JOIN latest l ON l.urn = h.urn
    GROUP BY h.urn, h.area, l.inspected_on
),
directed AS (
    SELECT a.*, CASE WHEN cur.rank > prev.rank THEN 'improved' WHEN cur.rank < prev.rank THEN 'declined'
                     WHEN cur.rank = prev.rank THEN 'unchanged' END AS direction
    FROM by_area a
    LEFT JOIN grade_scale cur ON cur.grade = a.grade
    LEFT JOIN grade_scale prev ON prev.grade = a.previous
),
-- a framework that does not judge an area (ILACS 2026: overall effectiveness): not_judged
by_council AS (
    SELECT urn, inspected_on, MAX(report_id) AS report_id,
           COALESCE(MAX(CASE WHEN area = 'overall_effectiveness' THEN grade END), 'not_judged') AS overall_effectiveness,
           COALESCE(MAX(CASE WHEN area = 'impact_of_leaders' THEN grade END), 'not_judged') AS impact_of_leaders,
           COALESCE(MAX(CASE WHEN area = 'help_and_protection' THEN grade END), 'not_judged') AS help_and_protection,
           COALESCE(MAX(CASE WHEN area = 'in_care' THEN grade END), 'not_judged') AS in_care,
           COALESCE(MAX(CASE WHEN area = 'care_leavers' THEN grade END), 'not_judged') AS care_leavers,
           MAX(CASE WHEN area = 'overall_effectiveness' THEN previous END) AS previous_overall_effectiveness,
           MAX(CASE WHEN area = 'impact_of_leaders' THEN previous END) AS previous_impact_of_leaders,
           MAX(CASE WHEN area = 'help_and_protection' THEN previous END) AS previous_help_and_protection,
           MAX(CASE WHEN area = 'in_care' THEN previous END) AS previous_in_care,
           MAX(CASE WHEN area = 'care_leavers' THEN previous END) AS previous_care_leavers,
           MAX(CASE WHEN area = 'overall_effectiveness' THEN direction END) AS overall_effectiveness_direction,
           MAX(CASE WHEN area = 'impact_of_leaders' THEN direction END) AS impact_of_leaders_direction,
           MAX(CASE WHEN area = 'help_and_protection' THEN direction END) AS help_and_protection_direction,
           MAX(CASE WHEN area = 'in_care' THEN direction END) AS in_care_direction,
           MAX(CASE WHEN area = 'care_leavers' THEN direction END) AS care_leavers_direction
    FROM directed
    GROUP BY urn, inspected_on
)
SELECT b.*,
       r.framework,
       r.inspection_start,
       r.inspection_end,
       COALESCE(r.published, pub.published) AS published,
       r.lead_inspector,
       r.url AS report_url
FROM by_council b
JOIN reports r ON r.report_id = b.report_id
LEFT JOIN publications pub ON pub.url = r.url;

-- latest_grades_computed kept as a table: rewritten with rating_history, in the same transaction
-- (etl.reference.refresh_derived), so latest_inspections reads it instead of planning and running
-- the whole derivation on every query (DuckDB's planner alone took ~10 ms on it).
CREATE TABLE latest_grades AS SELECT * FROM latest_grades_computed;
ALTER TABLE latest_grades ADD PRIMARY KEY (urn);

-- One row per council the site lists that still exists: its latest graded inspection, the grade
-- in each headline area (not_judged where that inspection's framework does not judge it; empty
-- if never inspected), the grade before and the direction, and its latest ungraded visit.
CREATE VIEW latest_inspections AS
WITH visits AS (
    SELECT urn, kind, published, url,
           ROW_NUMBER() OVER (PARTITION BY urn ORDER BY published DESC, url DESC) AS n
    FROM publications
    WHERE kind IN ('focused_visit', 'monitoring_visit') AND published IS NOT NULL
)
SELECT c.urn,
       c.name AS local_authority,
       rc.la_code,
       rc.ons_code,
       rc.region_name AS region,
       b.framework,
       b.inspection_start,
       b.inspection_end,
       b.published,
       b.lead_inspector,
       b.report_url,
       b.overall_effectiveness,
       b.impact_of_leaders,
       b.help_and_protection,
       b.in_care,
       b.care_leavers,
       b.previous_overall_effectiveness,
       b.previous_impact_of_leaders,
       b.previous_help_and_protection,
       b.previous_in_care,
       b.previous_care_leavers,
       b.overall_effectiveness_direction,
       b.impact_of_leaders_direction,
       b.help_and_protection_direction,
       b.in_care_direction,
       b.care_leavers_direction,
       CAST(CURRENT_DATE - b.inspected_on AS INTEGER) AS days_since_inspection,
       v.kind AS latest_visit_kind,
       v.published AS latest_visit_published,
       v.url AS latest_visit_url
FROM councils c
LEFT JOIN ref_councils rc ON rc.urn = c.urn
LEFT JOIN latest_grades b ON b.urn = c.urn
LEFT JOIN visits v ON v.urn = c.urn AND v.n = 1
WHERE rc.abolished IS NULL;

-- Each council beside each of its statistical neighbours (rank 1 = most similar) and their
-- current grades; a neighbour the site does not list keeps its reference name, grades empty.
CREATE VIEW neighbour_ratings AS
SELECT li.urn,
       li.local_authority,
       li.la_code,
       li.region,
       li.overall_effectiveness,
       sn.rank AS neighbour_rank,
       sn.neighbour_urn,
       COALESCE(n.local_authority, rc.name) AS neighbour_local_authority,
       rc.la_code AS neighbour_la_code,
       rc.region_name AS neighbour_region,
       n.framework AS neighbour_framework,
       n.inspection_end AS neighbour_inspection_end,
       n.published AS neighbour_published,
       n.overall_effectiveness AS neighbour_overall_effectiveness,
       n.impact_of_leaders AS neighbour_impact_of_leaders,
       n.help_and_protection AS neighbour_help_and_protection,
       n.in_care AS neighbour_in_care,
       n.care_leavers AS neighbour_care_leavers
FROM latest_inspections li
JOIN ref_statistical_neighbours sn ON sn.urn = li.urn
LEFT JOIN ref_councils rc ON rc.urn = sn.neighbour_urn
LEFT JOIN latest_inspections n ON n.urn = sn.neighbour_urn;

-- Every council's rating history, and for a council formed by a reorganisation its
-- predecessors' history too (inherited = true, closed at the succession date at the latest).
CREATE VIEW council_lineage AS
SELECT h.urn,
       COALESCE(c.name, rc.name, h.local_authority) AS local_authority,
       h.area,
       h.grade,
       h.valid_from,
       h.valid_to,
       h.is_current,
       FALSE AS inherited,
       h.urn AS source_urn,
       COALESCE(c.name, rc.name, h.local_authority) AS source_local_authority,
       CAST(NULL AS DATE) AS succeeded_on,
       h.framework,
       h.report_url
FROM rating_history h
LEFT JOIN councils c ON c.urn = h.urn
LEFT JOIN ref_councils rc ON rc.urn = h.urn
UNION ALL
SELECT s.successor_urn AS urn,
       COALESCE(c.name, rc.name) AS local_authority,
       h.area,
       h.grade,
       h.valid_from,
       CASE WHEN h.valid_to IS NULL OR h.valid_to > s.effective THEN s.effective ELSE h.valid_to END AS valid_to,
       FALSE AS is_current,
       TRUE AS inherited,
       h.urn AS source_urn,
       COALESCE(pc.name, s.predecessor_name, h.local_authority) AS source_local_authority,
       s.effective AS succeeded_on,
       h.framework,
       h.report_url
FROM ref_successions s
JOIN rating_history h ON h.urn = s.predecessor_urn
LEFT JOIN councils c ON c.urn = s.successor_urn
LEFT JOIN ref_councils rc ON rc.urn = s.successor_urn
LEFT JOIN councils pc ON pc.urn = s.predecessor_urn;
