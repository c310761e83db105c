-- After a restore: the experiment's trigger assigns new leads of crm.inbox (the arm is the hash
-- of name and key, and is written into the row), and its report reads every lead. Prints one
-- line: assigned leads, those whose arm is the hash and in the row, the report's leads.
INSERT INTO crm.inbox (id, region, source, visits, pages, employees, converted)
SELECT 1000 + id, region, source, visits, pages, employees, id % 3 = 0 FROM crm.fixed_leads WHERE id <= 12;
SELECT count(*) AS assigned,
       count(*) FILTER (WHERE a.arm = CASE WHEN lead_scoring.experiment_draw('inbox_routing', a.lead_key, 0) < 0.5
                                           THEN 'treatment' ELSE 'control' END AND i.arm = a.arm) AS arm_is_the_hash,
       (SELECT sum(leads) FROM lead_scoring.experiment_report('inbox_routing')) AS reported
  FROM lead_scoring.experiment_assignments a JOIN crm.inbox i ON i.id::text = a.lead_key
 WHERE a.experiment = 'inbox_routing';
