-- When Ofsted is due back (issue 29; etl/due.py, rules and sources in docs/warehouse.md).

-- Each council's window for its next inspection of children's services, as at the last refresh
-- (rewritten with the history: etl.derived.rewrite). due_status: window (earliest and
-- latest; latest NULL while a pause of inspections has not visibly ended), monitoring (judged
-- inadequate: re-inspected when Ofsted judges it ready, no dates) or none (no inspection yet, or
-- no pace to tell). due_rule says why, in words.
CREATE TABLE due_windows (
    urn          TEXT PRIMARY KEY,
    as_at        DATE NOT NULL,
    due_status   TEXT NOT NULL,
    due_earliest DATE,
    due_latest   DATE,
    due_rule     TEXT NOT NULL
);

-- latest_inspections gains the latest graded inspection's type (017's reports.inspection_type) and
-- the window (columns appended: every earlier column stays as it was).
CREATE OR REPLACE VIEW latest_inspections AS
WITH latest_letters AS (
    SELECT urn, kind, published, url,
           ROW_NUMBER() OVER (PARTITION BY urn ORDER BY published DESC, url DESC) AS n
    FROM publications
    WHERE kind IN ('focused_visit', 'monitoring_visit') AND published IS NOT NULL
),
jtais AS (
    SELECT urn, COALESCE(inspection_end, published) AS inspected_on, theme,
           ROW_NUMBER() OVER (PARTITION BY urn ORDER BY COALESCE(inspection_end, published) DESC, url DESC) AS n
    FROM visits
    WHERE kind = 'jtai' AND COALESCE(inspection_end, published) IS NOT NULL
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
       vf.priority_actions AS latest_visit_priority_actions,
       j.inspected_on AS latest_jtai_date,
       j.theme AS latest_jtai_theme,
       lr.inspection_type,
       d.due_status,
       d.due_earliest,
       d.due_latest,
       d.due_rule
FROM councils c
LEFT JOIN ref_councils rc ON rc.urn = c.urn
LEFT JOIN latest_grades b ON b.urn = c.urn
LEFT JOIN reports lr ON lr.report_id = b.report_id
LEFT JOIN latest_letters v ON v.urn = c.urn AND v.n = 1
LEFT JOIN jtais j ON j.urn = c.urn AND j.n = 1
LEFT JOIN due_windows d ON d.urn = c.urn
LEFT JOIN reports vr ON vr.url = v.url AND vr.is_report AND vr.superseded_by IS NULL
LEFT JOIN visit_findings vf ON vf.report_id = vr.report_id
LEFT JOIN rating_history send ON send.urn = c.urn AND send.area = 'area_send_outcome' AND send.is_current
WHERE rc.abolished IS NULL;
