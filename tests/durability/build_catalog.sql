-- The database the durability tests carry across pg_dump/pg_restore, DROP/CREATE EXTENSION and
-- the 0.1.0 -> 0.2.0 upgrade (make_fixture_010.sh runs it against a 0.1.0 build). It holds:
-- every kind of model (logistic fitted in memory, two versions of it; logistic fitted by the
-- aggregate engine; boosted trees; a segmented model), their events, a monitoring row, rep
-- feedback, and a table scored on write by attach() (with a score history column).
-- Only SQL that 0.1.0 already had: the fixture is made by this same file at 0.1.0.
-- Small on purpose (600 training rows): the fixture dump of it is part of the repository.
SET client_min_messages = warning;
CREATE SCHEMA crm;

-- Training rows. setseed() makes random() repeat the same sequence, so every run trains on
-- the same rows; region changes what visits mean, so the segmented model has segments.
SELECT setseed(0.25);
CREATE TABLE crm.history AS
SELECT id, region, source, visits, pages, employees, part,
       random() < 1 / (1 + exp(-(CASE region WHEN 'emea' THEN -2.5 + 0.7 * visits
                                             WHEN 'amer' THEN 0.8 - 0.4 * visits
                                             ELSE -1 + 0.2 * visits END
                                 + 0.3 * pages - 0.000002 * employees))) AS converted
  FROM (SELECT id,
               CASE WHEN id % 40 = 0 THEN NULL WHEN id % 3 = 0 THEN 'apac' WHEN id % 3 = 1 THEN 'emea' ELSE 'amer' END AS region,
               (ARRAY['Referral', 'Webinar', 'Paid Search', 'Organic Search'])[1 + id % 4] AS source,
               floor(random() * 8)::int AS visits,
               round((random() * 4)::numeric, 3)::float8 AS pages,
               (10 + floor(random() * 5000))::numeric AS employees,
               CASE WHEN id % 10 < 7 THEN 'train' WHEN id % 10 < 9 THEN 'validation' ELSE 'test' END AS part
          FROM generate_series(1, 600) id) s;

-- The leads every check scores, with every model version: ordinary ones, a NULL of each
-- feature, and a region no model saw (the segmented model routes it to its global model).
CREATE TABLE crm.fixed_leads AS
SELECT id,
       CASE WHEN id = 3 THEN NULL WHEN id = 4 THEN 'latam' ELSE (ARRAY['emea', 'amer', 'apac'])[1 + id % 3] END AS region,
       CASE WHEN id = 5 THEN NULL ELSE (ARRAY['Referral', 'Webinar', 'Paid Search', 'Organic Search'])[1 + id % 4] END AS source,
       CASE WHEN id = 6 THEN NULL ELSE id % 9 END AS visits,
       CASE WHEN id = 7 THEN NULL ELSE (id * 0.37)::float8 END AS pages,
       CASE WHEN id = 8 THEN NULL ELSE (id * 173)::numeric END AS employees
  FROM generate_series(1, 24) id;

SELECT model_name, version FROM lead_scoring.train('logit_mem', 'crm.history', 'converted',
  ARRAY['region', 'source', 'visits', 'pages', 'employees'], options => '{"engine": "memory"}');
SELECT model_name, version FROM lead_scoring.train('logit_mem', 'crm.history', 'converted',
  ARRAY['region', 'source', 'visits', 'pages', 'employees'], options => '{"engine": "memory", "alpha": 10, "deploy": "never"}');
SELECT model_name, version FROM lead_scoring.train('logit_agg', 'crm.history', 'converted',
  ARRAY['region', 'source', 'visits', 'pages', 'employees'],
  options => '{"engine": "aggregate", "split": {"method": "column", "column": "part"}}');
SELECT model_name, version FROM lead_scoring.train('boosted', 'crm.history', 'converted',
  ARRAY['region', 'source', 'visits', 'pages', 'employees'], 'gbm', '{"trees": 20}');
SELECT model_name, version FROM lead_scoring.train('by_region', 'crm.history', 'converted',
  ARRAY['region', 'source', 'visits', 'pages', 'employees'], options => '{"segment_by": "region"}');

-- Governance and monitoring history: a deploy decision, a monitoring row, rep feedback.
SELECT lead_scoring.deploy('logit_mem', 2, 'the stronger penalty ranks as well');
SELECT status FROM lead_scoring.monitor('logit_mem', 'crm.history');
SELECT lead_scoring.flag('logit_mem', '7', true, 'signed last week; the CRM stage lagged') > 0 AS flagged;

-- A table scored on write: attach() installs the row trigger; the history column keeps the
-- previous score when an update changes it.
CREATE TABLE crm.leads (id int PRIMARY KEY, region text, source text, visits int, pages float8,
                        employees numeric, lead_score_history float8[]);
SELECT lead_scoring.attach('crm.leads', 'logit_mem');
INSERT INTO crm.leads (id, region, source, visits, pages, employees)
SELECT id, region, source, visits, pages, employees FROM crm.fixed_leads WHERE id <= 12;
UPDATE crm.leads SET visits = visits + 1 WHERE id <= 3;
