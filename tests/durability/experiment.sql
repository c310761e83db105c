-- A running prospective experiment on top of build_catalog.sql: new leads of crm.inbox get an
-- arm from the experiment's trigger (written into the row's arm column too).
CREATE TABLE crm.inbox (id int PRIMARY KEY, region text, source text, visits int, pages float8, employees numeric, converted boolean);
SELECT lead_scoring.start_experiment('inbox_routing', 'logit_mem', 'crm.inbox', ARRAY['model', 'random'], 0.5,
                                     '{"capacity": 0.5, "arm_column": "arm"}') IS NOT NULL AS started;
INSERT INTO crm.inbox (id, region, source, visits, pages, employees, converted)
SELECT id, region, source, visits, pages, employees, id % 3 = 0 FROM crm.fixed_leads WHERE id <= 12;
