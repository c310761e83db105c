-- Value-based scoring on the demo CRM: a regression of deal value on won deals, the conversion
-- model, each lead's expected value (probability of converting x predicted deal value), value
-- tiers, and thresholds priced with each lead's own value.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(20000, 42) ->> 'leads' AS leads;

-- Won deals and their value, with the features the conversion model sees.
CREATE VIEW won_deals AS
SELECT f.lead_id, f.company_size, f.industry, f.funding_stage, f.seniority, f.lead_source, l.deal_value
  FROM lead_scoring_demo.lead_features f JOIN lead_scoring_demo.leads l USING (lead_id)
 WHERE l.stage = 'won';
SELECT count(*) AS won_deals, round(avg(deal_value)) AS mean_value FROM won_deals;

-- options.task 'regression' learns a numeric label: ridge regression (the linear family of
-- algorithm 'logistic', penalised by options.alpha) through the same preprocessing.
SELECT model_name, version, algorithm FROM lead_scoring.train('demo_deal_value', 'won_deals', 'deal_value',
  ARRAY['company_size', 'industry', 'funding_stage', 'seniority', 'lead_source'],
  options => '{"task": "regression"}');

-- Its metrics are the regression's: RMSE and MAE in the label's unit, R², the label's mean and
-- median per part (no ROC AUC, no threshold).
SELECT part, (m ->> 'rows')::int AS rows, round((m ->> 'rmse')::numeric, -2) AS rmse, round((m ->> 'mae')::numeric, -2) AS mae,
       round((m ->> 'r2')::numeric, 2) AS r2, round((m ->> 'median_label')::numeric, -2) AS median_label
  FROM lead_scoring.models, jsonb_each(metrics) AS p(part, m)
 WHERE name = 'demo_deal_value' ORDER BY part;

-- score() of a regression model is the predicted deal value (not a probability); explain()
-- gives each feature's contribution in the same unit, adding up to it.
SELECT company_size, round(lead_scoring.score('demo_deal_value', w)::numeric, -2) AS predicted_value
  FROM (SELECT DISTINCT ON (company_size) * FROM won_deals ORDER BY company_size, lead_id) w
 ORDER BY predicted_value;
SELECT round(sum(contribution)::numeric, 6) = round(lead_scoring.score('demo_deal_value', w)::numeric, 6) AS contributions_add_up
  FROM (SELECT * FROM won_deals ORDER BY lead_id LIMIT 1) w, lead_scoring.explain('demo_deal_value', w) GROUP BY w.*;

-- Value tiers: by default Gold is the top 10% of predicted values on validation, Silver the next
-- 30%, Bronze the rest (options.value_tiers sets other quantiles). Stored as amounts:
SELECT t ->> 'name' AS tier, round((t ->> 'min_score')::numeric, -2) AS from_value
  FROM lead_scoring.models, jsonb_array_elements(tiers) t WHERE name = 'demo_deal_value';
SELECT lead_scoring.tier('demo_deal_value', w) AS tier, count(*) AS deals
  FROM won_deals w GROUP BY 1 ORDER BY 1;
-- ... or amounts, as set_tiers() (or options.tiers) gives them.
SELECT jsonb_array_length(lead_scoring.set_tiers('demo_deal_value', '{"Gold": 20000, "Silver": 12000, "Bronze": 0}',
  'value tiers in dollars')) AS tiers;
SELECT lead_scoring.tier('demo_deal_value', w) AS tier, count(*) AS deals
  FROM won_deals w GROUP BY 1 ORDER BY 1;

-- The conversion model, on every lead; options.key records which leads were in which part.
SELECT model_name, version FROM lead_scoring.train('demo_convert', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"exclude": ["created_at"], "key": "lead_id"}');

-- Expected value = p(convert) x predicted deal value, per lead: the leads worth most.
SELECT lead_id, round(lead_scoring.score('demo_convert', f)::numeric, 2) AS p_convert,
       round(lead_scoring.score('demo_deal_value', f)::numeric, -2) AS value,
       round(lead_scoring.expected_value('demo_convert', 'demo_deal_value', f)::numeric, -1) AS expected_value
  FROM lead_scoring_demo.lead_features f
 ORDER BY lead_scoring.expected_value('demo_convert', 'demo_deal_value', f) DESC, lead_id LIMIT 5;
SELECT max(abs(lead_scoring.expected_value('demo_convert', 'demo_deal_value', f)
               - lead_scoring.score('demo_convert', f) * greatest(lead_scoring.score('demo_deal_value', f), 0))) < 1e-9 AS is_the_product
  FROM lead_scoring_demo.lead_features f;
-- Tiers by expected value, in amounts.
SELECT lead_scoring.expected_value_tier('demo_convert', 'demo_deal_value', f, '{"A": 5000, "B": 1000, "C": 0}') AS tier,
       count(*) AS leads, round(avg(converted::int), 3) AS conversion
  FROM lead_scoring_demo.lead_features f GROUP BY 1 ORDER BY 1;

-- Which leads to work: optimal_threshold's expected-value rule with one deal value for all
-- leads pursues every lead above one probability ...
SELECT method, round(threshold::numeric, 3) AS threshold, round(share_pursued::numeric, 3) AS pursued,
       round(expected_profit_per_1000::numeric, -3) AS expected_per_1000, round(realized_profit_per_1000::numeric, -3) AS realized_per_1000
  FROM lead_scoring.optimal_threshold('demo_convert', 'expected_value', deal_value => 20000, cost_per_lead => 500);
-- ... with value_model, each validation lead is priced by its own predicted deal value: pursue
-- when p x value > cost_per_lead (no single probability threshold, so threshold is NULL).
SELECT method, threshold, round(share_pursued::numeric, 3) AS pursued,
       round(expected_profit_per_1000::numeric, -3) AS expected_per_1000, round(realized_profit_per_1000::numeric, -3) AS realized_per_1000
  FROM lead_scoring.optimal_threshold('demo_convert', 'expected_value', cost_per_lead => 500, value_model => 'demo_deal_value');
-- The same share, counted by hand on the validation leads:
SELECT round(avg((lead_scoring.expected_value('demo_convert', 'demo_deal_value', f) > 500)::int), 3) AS pursued
  FROM lead_scoring_demo.lead_features f WHERE lead_scoring.split_of('demo_convert', f.lead_id::text) = 'validation';

-- The order matters: the value model where the conversion model goes is an ERROR.
SELECT lead_scoring.expected_value('demo_deal_value', 'demo_convert', f) FROM lead_scoring_demo.lead_features f LIMIT 1;
SELECT lead_scoring.expected_value('demo_convert', 'demo_convert', f) FROM lead_scoring_demo.lead_features f LIMIT 1;
-- What needs a probability refuses a regression model.
SELECT lead_scoring.score_100('demo_deal_value', w) FROM won_deals w LIMIT 1;
SELECT * FROM lead_scoring.optimal_threshold('demo_deal_value', 'f1');
-- A text label is an ERROR.
SELECT version FROM lead_scoring.train('demo_bad', 'won_deals', 'industry', ARRAY['company_size'], options => '{"task": "regression"}');

-- Boosted trees learn the value too (LightGBM's squared error, stopping early on the validation
-- leads' squared error): the same columns, a value in the label's unit, contributions that add
-- up to it.
SELECT model_name, algorithm FROM lead_scoring.train('demo_deal_trees', 'won_deals', 'deal_value',
  ARRAY['company_size', 'industry', 'funding_stage', 'seniority', 'lead_source'], 'gbm',
  '{"task": "regression", "deploy": "always"}');
SELECT (metrics -> 'test' ->> 'rmse')::float8 > 0 AS has_rmse, metrics -> 'test' ? 'roc_auc' AS has_auc
  FROM lead_scoring.models WHERE name = 'demo_deal_trees';
SELECT round(sum(contribution)::numeric, 6) = round(lead_scoring.score('demo_deal_trees', w)::numeric, 6) AS contributions_add_up,
       lead_scoring.score('demo_deal_trees', w) > 1000 AS a_deal_value
  FROM (SELECT * FROM won_deals ORDER BY lead_id LIMIT 1) w, lead_scoring.explain('demo_deal_trees', w) GROUP BY w.*;
