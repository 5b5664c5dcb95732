-- Letters read for what they say (focused and monitoring visits, JTAIs) and area SEND outcomes
-- (issue 17; columns documented in docs/warehouse.md).

-- What each parsed letter says it looked at and found, written by the load with its report
-- (a newer parse replaces it). `areas`: the sorted area keys, comma-separated ('' when the
-- letter's focus could not be read); `priority_action_texts`: JSON array, the first sentence
-- of each area for priority action (for alerts; may be shorter than priority_actions).
CREATE TABLE visit_findings (
    report_id             TEXT PRIMARY KEY,
    areas                 TEXT NOT NULL,
    priority_actions      INTEGER NOT NULL,
    priority_action_texts TEXT NOT NULL,
    focus                 TEXT
);

-- One row per current letter (a re-issued file's old version left out); areas and
-- priority_actions are null for a letter parsed before letters were read for them.
CREATE VIEW visits AS
SELECT r.report_id,
       COALESCE(r.urn, p.urn) AS urn,
       r.kind,
       r.inspection_start,
       r.inspection_end,
       COALESCE(r.published, p.published) AS published,
       r.lead_inspector,
       v.areas,
       v.priority_actions,
       r.url,
       COALESCE(c.name, r.local_authority, p.local_authority) AS local_authority,
       v.priority_action_texts,
       v.focus
FROM reports r
LEFT JOIN visit_findings v ON v.report_id = r.report_id
LEFT JOIN publications p ON p.url = r.url
LEFT JOIN councils c ON c.urn = COALESCE(r.urn, p.urn)
WHERE r.is_report AND r.superseded_by IS NULL
  AND r.kind IN ('focused_visit', 'monitoring_visit', 'jtai');

-- The area SEND outcomes on the scale table, ranked within their own scale (positive best):
-- an area's grades are all on one scale, so ranks are only ever compared within it.
INSERT INTO grade_scale (grade, rank) VALUES ('positive', 3), ('inconsistent', 2), ('systemic_failings', 1);

-- A council's latest graded inspection is its latest children's services inspection: an area
-- SEND outcome (another inspection, of the local area partnership) is shown beside it.
CREATE OR REPLACE VIEW latest_grades_computed AS
WITH latest AS (
    SELECT urn, MAX(COALESCE(inspection_end, published)) AS inspected_on
    FROM rating_history
    WHERE is_current AND area <> 'area_send_outcome'
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
    WHERE h.area <> 'area_send_outcome'
    GROUP BY h.urn, h.area, l.inspected_on
),
directed AS (
    SELECT a.*, CASE WHEN cur.rank > prev.rank THEN 'improved' WHEN cur.rank < prev.rank THEN 'declined'
                     WHEN cur.rank = prev.rank THEN 'unchanged' END AS direction
    FROM by_area a
    LEFT JOIN grade_scale cur ON cur.grade = a.grade
    LEFT JOIN grade_scale prev ON prev.grade = a.previous
),
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

-- latest_inspections gains the council's area SEND outcome (and the end of the inspection that
-- set it) and, for its latest visit, the visit's date, the areas it looked at and its areas
-- for priority action (columns appended: the view keeps every earlier column as it was).
CREATE OR REPLACE VIEW latest_inspections AS
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
       v.url AS latest_visit_url,
       send.grade AS area_send_outcome,
       COALESCE(send.inspection_end, send.published) AS area_send_date,
       COALESCE(vr.inspection_end, v.published) AS latest_visit_date,
       vf.areas AS latest_visit_areas,
       vf.priority_actions AS latest_visit_priority_actions
FROM councils c
LEFT JOIN ref_councils rc ON rc.urn = c.urn
LEFT JOIN latest_grades b ON b.urn = c.urn
LEFT JOIN visits v ON v.urn = c.urn AND v.n = 1
LEFT JOIN reports vr ON vr.url = v.url AND vr.is_report AND vr.superseded_by IS NULL
LEFT JOIN visit_findings vf ON vf.report_id = vr.report_id
LEFT JOIN rating_history send ON send.urn = c.urn AND send.area = 'area_send_outcome' AND send.is_current
WHERE rc.abolished IS NULL;
