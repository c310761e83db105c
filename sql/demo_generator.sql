-- The demo CRM of lead_scoring.generate_demo(): {n} leads, seed {seed}. Every random draw is a
-- hash of (seed, row key, salt), so a seed always gives the same data, in any plan.
DROP SCHEMA IF EXISTS lead_scoring_demo CASCADE;
CREATE SCHEMA lead_scoring_demo;
COMMENT ON SCHEMA lead_scoring_demo IS 'demo CRM from lead_scoring.generate_demo({n}, {seed})';

-- A uniform number in [0, 1) from a key and a salt.
CREATE FUNCTION lead_scoring_demo.unit(k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(k, {seed}::bigint * 1000 + salt) & 4294967295)::float8 / 4294967296.0 $$;

CREATE TABLE lead_scoring_demo.companies AS
SELECT c AS company_id,
       'Company ' || c AS name,
       (ARRAY['Software', 'Financial Services', 'Healthcare', 'Retail', 'Manufacturing', 'Education', 'Media'])
           [1 + floor(lead_scoring_demo.unit(c, 1) * 7)::int] AS industry,
       round(exp(ln(5) + lead_scoring_demo.unit(c, 2) * ln(1000)))::int AS employees,
       (ARRAY['United States', 'United States', 'United States', 'United Kingdom', 'Germany', 'France',
              'India', 'Brazil', 'Canada', 'Australia'])[1 + floor(lead_scoring_demo.unit(c, 3) * 10)::int] AS country,
       (ARRAY['Bootstrapped', 'Seed', 'Series A', 'Series B', 'Series C+', 'Public'])
           [1 + floor(lead_scoring_demo.unit(c, 4) * 6)::int] AS funding_stage
  FROM generate_series(1, greatest({n} / 5, 10)) c;
ALTER TABLE lead_scoring_demo.companies ADD PRIMARY KEY (company_id),
  ADD COLUMN size text GENERATED ALWAYS AS (CASE WHEN employees <= 10 THEN '1-10' WHEN employees <= 50 THEN '11-50'
      WHEN employees <= 200 THEN '51-200' WHEN employees <= 1000 THEN '201-1000' ELSE '1000+' END) STORED;

-- Leads before their outcome; intent is latent (it drives engagement, not conversion directly).
-- An unlogged work table, not a temp table: a million rows overflow temp_buffers, and the
-- planner needs its statistics (ANALYZE below) to join it by hash rather than by nested loop.
CREATE UNLOGGED TABLE lead_scoring_demo.demo_leads_base AS
SELECT l::bigint AS lead_id,
       1 + floor(lead_scoring_demo.unit(l, 10) * greatest({n} / 5, 10))::int AS company_id,
       (ARRAY['Organic Search', 'Organic Search', 'Paid Search', 'Paid Search', 'Referral', 'Webinar', 'Events',
              'Outbound', 'Partner'])[1 + floor(lead_scoring_demo.unit(l, 11) * 9)::int] AS source,
       floor(power(lead_scoring_demo.unit(l, 12), 1.4) * 5)::int AS seniority_rank,
       (ARRAY['Engineering', 'Marketing', 'Sales', 'Operations', 'Finance'])[1 + floor(lead_scoring_demo.unit(l, 16) * 5)::int] AS department,
       lead_scoring_demo.unit(l, 13) < 0.3 AS personal,
       timestamptz '2025-01-01 00:00+00' + lead_scoring_demo.unit(l, 14) * interval '13104 hours' AS created_at,
       lead_scoring_demo.unit(l, 15) AS intent
  FROM generate_series(1, {n}) l;
ALTER TABLE lead_scoring_demo.demo_leads_base ADD PRIMARY KEY (lead_id);
ANALYZE lead_scoring_demo.demo_leads_base;
ANALYZE lead_scoring_demo.companies;

-- Events: 2 to 20 per lead (more for high intent), spread over 45 days after creation (about
-- 80% in the first 30), none after 2026-07-01. From 2026-04-01 (the product change: a new
-- pricing page and a self-serve trial) most page visits go to the pricing page: 0.17 of the
-- events move from other pages to /pricing, a shift drift() rates `alert` (PSI >= 0.25).
CREATE TABLE lead_scoring_demo.lead_events AS
SELECT k AS event_id, lead_id,
       CASE WHEN r < p_demo THEN 'demo_request'
            WHEN r < p_demo + 0.03 THEN 'webinar'
            WHEN r < p_demo + 0.08 THEN 'content_download'
            WHEN r < p_demo + 0.08 + p_pricing + p_other_pages THEN 'page_visit'
            ELSE 'email_open' END AS event_type,
       CASE WHEN r < p_demo + 0.08 THEN NULL
            WHEN r < p_demo + 0.08 + p_pricing THEN '/pricing'
            WHEN r < p_demo + 0.08 + p_pricing + p_other_pages THEN
                 (ARRAY['/', '/features', '/blog/lead-scoring-guide', '/customers', '/docs/getting-started', '/careers'])
                     [1 + floor(lead_scoring_demo.unit(k, 22) * 6)::int]
            END AS url,
       occurred_at
  FROM (SELECT b.lead_id, b.lead_id * 64 + e AS k,
               lead_scoring_demo.unit(b.lead_id * 64 + e, 20) AS r,
               0.01 + 0.07 * b.intent * b.intent AS p_demo,
               0.03 + 0.20 * b.intent + CASE WHEN b.created_at >= '2026-04-01 00:00+00' THEN 0.17 ELSE 0 END AS p_pricing,
               0.20 - CASE WHEN b.created_at >= '2026-04-01 00:00+00' THEN 0.17 ELSE 0 END AS p_other_pages,
               b.created_at + power(lead_scoring_demo.unit(b.lead_id * 64 + e, 21), 1.5) * interval '1080 hours' AS occurred_at
          FROM lead_scoring_demo.demo_leads_base b,
               LATERAL generate_series(1, 2 + floor(18 * b.intent * b.intent)::int) e) ev
 WHERE occurred_at <= '2026-07-01 00:00+00';
ANALYZE lead_scoring_demo.lead_events;

-- The ground truth (README "Demo CRM"): a logistic model of the signals in the first 30 days.
CREATE TABLE lead_scoring_demo.leads AS
SELECT b.lead_id, b.company_id, b.source,
       CASE b.seniority_rank WHEN 0 THEN b.department || ' Specialist' WHEN 1 THEN b.department || ' Manager'
            WHEN 2 THEN 'Director of ' || b.department WHEN 3 THEN 'VP ' || b.department
            ELSE (ARRAY['CTO', 'CMO', 'CRO', 'COO', 'CFO'])[1 + floor(lead_scoring_demo.unit(b.lead_id, 17) * 5)::int] END AS job_title,
       (ARRAY['Individual Contributor', 'Manager', 'Director', 'VP', 'C-Level'])[1 + b.seniority_rank] AS seniority,
       'lead' || b.lead_id || '@' || CASE WHEN b.personal
            THEN (ARRAY['gmail.com', 'outlook.com', 'yahoo.com', 'hotmail.com', 'icloud.com'])[1 + floor(lead_scoring_demo.unit(b.lead_id, 18) * 5)::int]
            ELSE 'company' || b.company_id || '.com' END AS email,
       b.created_at,
       t.converted,
       CASE WHEN t.converted THEN b.created_at + interval '720 hours' + lead_scoring_demo.unit(b.lead_id, 31) * interval '2160 hours' END AS converted_at,
       -- The sales funnel as the CRM shows it on 2026-07-01 (README "The demo CRM"): new draws
       -- use salts 40 and up, so every column above keeps its values.
       CASE WHEN t.converted AND f.converted_at <= d0.data_end THEN 'won'
            WHEN NOT t.converted AND f.closed_at <= d0.data_end THEN 'lost'
            WHEN f.sql_at <= d0.data_end THEN 'SQL'
            WHEN f.mql_at <= d0.data_end THEN 'MQL'
            WHEN b.created_at > d0.data_end - interval '336 hours' THEN 'new'
            ELSE 'in_pipeline' END AS stage,
       CASE WHEN f.mql_at <= d0.data_end THEN f.mql_at END AS mql_at,
       CASE WHEN f.sql_at <= d0.data_end THEN f.sql_at END AS sql_at,
       -- Won deals only: log-normal, larger for larger companies (median about 12,000 at 50
       -- employees, times 1.6 per tenfold headcount).
       CASE WHEN t.converted AND f.converted_at <= d0.data_end THEN
            round((12000 * power(c.employees / 50.0, 0.2)
                   * exp(0.6 * sqrt(-2 * ln(1 - lead_scoring_demo.unit(b.lead_id, 45)))
                               * cos(2 * pi() * lead_scoring_demo.unit(b.lead_id, 46))))::numeric, 2) END AS deal_value,
       -- A typical hand-made points rule of the first 30 days: seniority, any pricing visit, a
       -- demo request, a large company (which the truth ignores); no weights fitted to outcomes.
       (CASE WHEN b.seniority_rank >= 3 THEN 20 WHEN b.seniority_rank = 2 THEN 10 ELSE 0 END
        + CASE WHEN coalesce(s.pricing, 0) > 0 THEN 10 ELSE 0 END
        + CASE WHEN coalesce(s.demos, 0) > 0 THEN 30 ELSE 0 END
        + CASE WHEN c.employees > 200 THEN 10 ELSE 0 END)::int AS rule_score
  FROM lead_scoring_demo.demo_leads_base b
  JOIN lead_scoring_demo.companies c USING (company_id)
  LEFT JOIN (SELECT e.lead_id,
                    count(*) FILTER (WHERE e.event_type = 'demo_request') AS demos,
                    count(*) FILTER (WHERE e.url = '/pricing') AS pricing,
                    count(*) FILTER (WHERE e.event_type = 'webinar') AS webinars,
                    count(*) FILTER (WHERE e.event_type = 'content_download') AS downloads,
                    count(*) FILTER (WHERE e.event_type = 'email_open') AS opens
               FROM lead_scoring_demo.lead_events e JOIN lead_scoring_demo.demo_leads_base b2 USING (lead_id)
              WHERE e.occurred_at < b2.created_at + interval '720 hours'
              GROUP BY e.lead_id) s USING (lead_id),
  LATERAL (SELECT b.created_at >= '2026-04-01 00:00+00' AS after_change) d,
  LATERAL (SELECT lead_scoring_demo.unit(b.lead_id, 30) < 1 / (1 + exp(-(
                 -5.0
               + CASE WHEN d.after_change THEN 0.8 ELSE 2.0 END * least(coalesce(s.demos, 0), 2)
               + CASE WHEN d.after_change THEN 0.55 ELSE 0.45 END * least(coalesce(s.pricing, 0), 6)
               + 0.25 * b.seniority_rank
               - 0.8 * b.personal::int
               + 0.3 * least(coalesce(s.webinars, 0), 2)
               + 0.15 * least(coalesce(s.downloads, 0), 3)
               + 0.02 * least(coalesce(s.opens, 0), 10)
               + CASE WHEN c.industry = 'Software' THEN 0.3 ELSE 0 END
               + CASE WHEN c.funding_stage IN ('Series B', 'Series C+') THEN 0.2 ELSE 0 END
               + CASE b.source WHEN 'Referral' THEN 0.5 WHEN 'Partner' THEN 0.3 WHEN 'Paid Search' THEN -0.2
                               WHEN 'Outbound' THEN -0.3 ELSE 0 END
               + 0.3 * cos(2 * pi() * (extract(month FROM b.created_at AT TIME ZONE 'UTC') - 10) / 12)
             ))) AS converted) t,
  LATERAL (SELECT timestamptz '2026-07-01 00:00+00' AS data_end) d0,
  -- The funnel's dates: every converted lead became an MQL within 14 days and an SQL between
  -- then and its conversion; of the others, engaged leads become MQLs more often and a quarter
  -- of the MQLs SQLs; a lost lead closes 60 to 150 days after creation.
  LATERAL (SELECT conv.converted_at, mql.mql_at,
                  CASE WHEN t.converted THEN mql.mql_at + (0.2 + 0.6 * lead_scoring_demo.unit(b.lead_id, 43)) * extract(epoch FROM conv.converted_at - mql.mql_at) * interval '1 second'
                       WHEN mql.mql_at IS NOT NULL AND lead_scoring_demo.unit(b.lead_id, 44) < 0.25
                       THEN mql.mql_at + interval '120 hours' + lead_scoring_demo.unit(b.lead_id, 47) * interval '480 hours' END AS sql_at,
                  b.created_at + interval '1440 hours' + lead_scoring_demo.unit(b.lead_id, 41) * interval '2160 hours' AS closed_at
             FROM (SELECT CASE WHEN t.converted THEN b.created_at + interval '720 hours' + lead_scoring_demo.unit(b.lead_id, 31) * interval '2160 hours' END AS converted_at) conv,
                  LATERAL (SELECT CASE WHEN t.converted OR lead_scoring_demo.unit(b.lead_id, 40)
                                          < 0.15 + 0.35 * (coalesce(s.demos, 0) + coalesce(s.pricing, 0) > 0)::int
                                       THEN b.created_at + interval '24 hours' + lead_scoring_demo.unit(b.lead_id, 42) * interval '312 hours' END AS mql_at) mql) f;
ALTER TABLE lead_scoring_demo.leads ADD PRIMARY KEY (lead_id);
ALTER TABLE lead_scoring_demo.lead_events ADD PRIMARY KEY (event_id);
CREATE INDEX ON lead_scoring_demo.lead_events (lead_id);

-- One row per lead, features as of 30 days after creation (events later are ignored).
CREATE VIEW lead_scoring_demo.lead_features AS
SELECT l.lead_id, l.created_at, l.source AS lead_source, l.seniority, c.industry, c.size AS company_size,
       c.funding_stage, c.country,
       lead_scoring.is_personal_email(l.email) AS personal_email,
       coalesce(f.pricing_visits, 0) AS pricing_visits,
       coalesce(f.demo_requests, 0) AS demo_requests,
       coalesce(f.webinars, 0) AS webinars,
       coalesce(f.content_downloads, 0) AS content_downloads,
       coalesce(f.email_opens, 0) AS email_opens,
       coalesce(f.engagement_velocity, 0) AS engagement_velocity,
       l.converted
  FROM lead_scoring_demo.leads l
  JOIN lead_scoring_demo.companies c USING (company_id)
  LEFT JOIN (SELECT e.lead_id,
                    lead_scoring.decayed_count(e.occurred_at, x.as_of, '14 days') FILTER (WHERE e.url = '/pricing') AS pricing_visits,
                    lead_scoring.decayed_count(e.occurred_at, x.as_of, '14 days') FILTER (WHERE e.event_type = 'demo_request') AS demo_requests,
                    lead_scoring.decayed_count(e.occurred_at, x.as_of, '14 days') FILTER (WHERE e.event_type = 'webinar') AS webinars,
                    lead_scoring.decayed_count(e.occurred_at, x.as_of, '14 days') FILTER (WHERE e.event_type = 'content_download') AS content_downloads,
                    lead_scoring.decayed_count(e.occurred_at, x.as_of, '14 days') FILTER (WHERE e.event_type = 'email_open') AS email_opens,
                    lead_scoring.engagement_velocity(e.occurred_at, x.as_of, '15 days') AS engagement_velocity
               FROM lead_scoring_demo.lead_events e
               JOIN lead_scoring_demo.leads l2 USING (lead_id),
               LATERAL (SELECT l2.created_at + interval '720 hours' AS as_of) x
              GROUP BY e.lead_id) f USING (lead_id);
ANALYZE lead_scoring_demo.companies;
ANALYZE lead_scoring_demo.leads;
ANALYZE lead_scoring_demo.lead_events;
DROP TABLE lead_scoring_demo.demo_leads_base;
