-- attach_events() on top of build_catalog.sql: page views arrive in crm.page_views, a feature
-- view counts them per lead, and the leads in crm.event_leads are rescored from that view in
-- the statement that inserts the views. Its triggers name the target table and the feature
-- view in their arguments, which a restore into another database must still resolve.
SET client_min_messages = warning;
CREATE TABLE crm.event_leads (id int PRIMARY KEY, region text, source text, pages float8, employees numeric);
CREATE TABLE crm.page_views (id int REFERENCES crm.event_leads, url text);
CREATE VIEW crm.event_features AS
SELECT l.id, l.region, l.source, l.pages, l.employees,
       (SELECT count(*) FROM crm.page_views v WHERE v.id = l.id)::int AS visits
  FROM crm.event_leads l;
INSERT INTO crm.event_leads SELECT id, region, source, pages, employees FROM crm.fixed_leads WHERE id <= 10;
SELECT count(*) AS triggers FROM lead_scoring.attach_events('crm.page_views', 'crm.event_leads', 'id', 'logit_mem', 'crm.event_features');
SELECT lead_scoring.rescore('crm.event_leads', 'logit_mem') AS rescored;
