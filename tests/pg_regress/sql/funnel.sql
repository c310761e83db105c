-- The sales funnel per tier and period: funnel() reads a CRM table or view and gives, per
-- period of the created column and per tier, the conversion rate, the MQL -> SQL rate, the
-- median days to conversion, the deal velocity (value won per day of sales cycle), the sales
-- acceptance rate from reps' flag() feedback and the cost per qualified (MQL) lead.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(20000, 42) ->> 'leads' AS leads;

-- The demo's leads with a tier from a model, and a boolean for what has happened by the end of
-- the data: a won deal (stage 'won'), not the eventual conversion of a lead still open.
SELECT model_name FROM lead_scoring.train('crm_funnel',
  $$SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < '2025-10-01'$$, 'converted',
  options => '{"exclude": ["lead_id", "created_at"]}');
CREATE VIEW crm_funnel AS
SELECT l.lead_id, l.created_at, l.mql_at, l.sql_at, l.stage = 'won' AS won, l.converted_at, l.deal_value,
       lead_scoring.tier('crm_funnel', f) AS tier
  FROM lead_scoring_demo.leads l JOIN lead_scoring_demo.lead_features f USING (lead_id);

-- Per quarter and tier, with a marketing cost of 40 per lead.
SELECT to_char(period, 'YYYY-"Q"Q') AS quarter, tier, leads, mqls, sqls, conversions, round(conversion_rate::numeric, 3) AS conversion,
       round(mql_to_sql_rate::numeric, 3) AS mql_to_sql, round(median_days_to_conversion::numeric, 1) AS median_days,
       round(deal_velocity::numeric) AS velocity_per_day, round(cost_per_qualified_lead::numeric, 2) AS cost_per_mql
  FROM lead_scoring.funnel('crm_funnel', 'tier', 'quarter', 40,
         '{"outcome": "won", "mql_column": "mql_at", "sql_column": "sql_at",
           "converted_at_column": "converted_at", "value_column": "deal_value"}')
 WHERE period < '2026-01-01';

-- Sales acceptance: reps flag leads they reviewed (true: a good lead); the latest flag per
-- lead counts. Here reps reviewed 300 hot and warm leads of 2025 and accepted the converting ones
-- and some more.
SELECT count(*) AS flags FROM (
  SELECT lead_scoring.flag('crm_funnel', lead_id::text, won OR lead_id % 4 = 0)
    FROM crm_funnel WHERE tier IN ('hot', 'warm') AND created_at < '2026-01-01' ORDER BY lead_id LIMIT 300) f;
SELECT tier, leads, round(sales_acceptance_rate::numeric, 3) AS acceptance
  FROM lead_scoring.funnel('crm_funnel', 'tier', 'all', NULL,
         '{"outcome": "won", "feedback_model": "crm_funnel", "key": "lead_id"}');

-- One row for everything: period 'all' and no tier; numbers that need a column not given are NULL.
SELECT period, tier, leads, conversions, round(conversion_rate::numeric, 4) AS conversion, mqls, mql_to_sql_rate
  FROM lead_scoring.funnel('crm_funnel', period => 'all', options => '{"outcome": "won"}');

-- Mistakes: an unknown period, a label that is not boolean, a feedback model without its key.
SELECT * FROM lead_scoring.funnel('crm_funnel', period => 'fortnight');
SELECT * FROM lead_scoring.funnel('crm_funnel', options => '{"outcome": "tier"}');
SELECT * FROM lead_scoring.funnel('crm_funnel', options => '{"outcome": "won", "feedback_model": "crm_funnel"}');
