-- Prospective experiments on the demo CRM: does routing leads by the model make sales convert
-- more than routing them at random or by the hand-made points rule? start_experiment() puts a
-- trigger on the table new leads arrive in; each lead gets an arm by a hash of the experiment
-- and its key; experiment_report() compares the arms with a significance test.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(20000, 42) ->> 'leads' AS leads;

-- The demo's sales funnel on its last day (2026-07-01): won and lost leads, and open ones
-- (SQL, MQL, in_pipeline, new); deal values for won deals; the CRM's own points rule.
SELECT stage, count(*), count(mql_at) AS mql, count(sql_at) AS sql, count(deal_value) AS deals,
       round(avg(rule_score)) AS avg_rule_score
  FROM lead_scoring_demo.leads GROUP BY stage ORDER BY stage;
SELECT bool_and(stage <> 'won' OR converted) AND bool_and(stage <> 'lost' OR NOT converted) AS consistent_with_converted,
       bool_and(mql_at <= sql_at) AND bool_and(sql_at <= converted_at) AS funnel_in_order,
       bool_and((deal_value IS NOT NULL) = (stage = 'won')) AS deal_value_for_won_deals
  FROM lead_scoring_demo.leads;
-- The rule (seniority, a pricing visit, a demo request, a large company) ranks leads, but less
-- well than a model of the same first 30 days.
SELECT round(lead_scoring.roc_auc(rule_score::float8, converted)::numeric, 3) AS rule_auc
  FROM lead_scoring_demo.leads WHERE created_at >= '2025-10-01' AND created_at < '2026-03-01';

-- 1. A model trained on the leads before 2025-10-01 only, so the experiment's leads are new to it.
SELECT model_name, version FROM lead_scoring.train('crm_routing',
  $$SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < '2025-10-01'$$, 'converted',
  options => '{"exclude": ["lead_id", "created_at"]}');

-- 2. The table new leads arrive in: the features reps see, with the CRM's columns.
CREATE TABLE crm_inbox AS
SELECT f.*, l.stage, l.rule_score, l.converted_at, l.deal_value
  FROM lead_scoring_demo.lead_features f JOIN lead_scoring_demo.leads l USING (lead_id) WITH NO DATA;
ALTER TABLE crm_inbox ADD PRIMARY KEY (lead_id);

-- 3. Experiments. Sales can work a fifth of the leads (capacity 0.2): in each arm the leads with
-- the highest routed score are worked, and only a worked lead's conversion counts. The demo's
-- outcomes exist whether a lead is worked or not, so this capacity is what makes routing
-- matter; an arm wins only if its score puts the converting leads first.
-- Model against random routing, blind: reps see a priority, not the arm.
SELECT lead_scoring.start_experiment('model_vs_random', 'crm_routing', 'crm_inbox', ARRAY['model', 'random'], 0.5,
  '{"capacity": 0.2, "blind": true, "score_column": "priority",
    "created_column": "created_at", "converted_at_column": "converted_at", "value_column": "deal_value"}') ->> 'trigger' AS trig;
-- Model against the CRM's points rule (an existing score column), the arm written into the row.
SELECT lead_scoring.start_experiment('model_vs_rule', 'crm_routing', 'crm_inbox', ARRAY['model', 'rule_score'], 0.5,
  '{"capacity": 0.2, "arm_column": "arm"}') ->> 'arms' AS arms;
-- Two controls against each other: random against random, and the model against itself.
SELECT lead_scoring.start_experiment('random_vs_random', 'crm_routing', 'crm_inbox', ARRAY['random', 'random'], 0.5,
  '{"capacity": 0.2}') ->> 'arms' AS arms;
SELECT lead_scoring.start_experiment('model_vs_model', 'crm_routing', 'crm_inbox', ARRAY['model', 'model:crm_routing'], 0.5,
  '{"capacity": 0.2}') ->> 'arms' AS arms;
-- A planned sample size: after 1,000 leads the experiment is complete and assigns no more.
SELECT lead_scoring.start_experiment('planned', 'crm_routing', 'crm_inbox', ARRAY['model', 'random'], 0.5,
  '{"sample_size": 1000}') ->> 'sample_size' AS sample_size;
SELECT name, arms, fraction, status FROM lead_scoring.experiments ORDER BY name;

-- 4. Replay five months of leads (October 2025 to February 2026, all old enough to have an
-- outcome by the end of the data) as if they arrived one by one.
INSERT INTO crm_inbox
SELECT f.*, l.stage, l.rule_score, l.converted_at, l.deal_value
  FROM lead_scoring_demo.lead_features f JOIN lead_scoring_demo.leads l USING (lead_id)
 WHERE f.created_at >= '2025-10-01' AND f.created_at < '2026-03-01' ORDER BY f.created_at;

-- What reps see: a priority for every lead, the arm only of the experiment that is not blind.
SELECT count(*) AS leads, count(priority) AS with_priority, count(arm) AS with_arm FROM crm_inbox;
-- The arms of a blind experiment are in lead_scoring.experiment_assignments, which only the
-- experiment's owner reads. A lead keeps its arm: it is a hash of experiment name and key.
SELECT experiment, arm, count(*) FROM lead_scoring.experiment_assignments GROUP BY 1, 2 ORDER BY 1, 2 DESC;
SELECT count(*) FILTER (WHERE arm = CASE WHEN lead_scoring.experiment_draw(experiment, lead_key, 0) < 0.5
                                         THEN 'treatment' ELSE 'control' END) AS arm_is_the_hash
  FROM lead_scoring.experiment_assignments WHERE experiment = 'model_vs_random';
SELECT name, status, assigned FROM lead_scoring.experiments WHERE name = 'planned';

-- 5. The reports. Per arm: leads, leads worked, conversions, the conversion rate with its 95%
-- Wilson interval, median days to conversion and deal value of the conversions; on the
-- treatment row the difference, its p-value (two-proportion z test; Fisher's exact test when
-- an expected count is below 5) and a verdict.
SELECT arm, routing, leads, worked, conversions, round(conversion_rate::numeric, 4) AS rate,
       round(rate_low::numeric, 4) AS rate_low, round(rate_high::numeric, 4) AS rate_high,
       round(median_days_to_conversion::numeric, 1) AS median_days, round(mean_deal_value::numeric) AS mean_deal,
       round(total_deal_value::numeric) AS total_deals
  FROM lead_scoring.experiment_report('model_vs_random');
SELECT arm, round(difference::numeric, 4) AS difference, round(difference_low::numeric, 4) AS low,
       round(difference_high::numeric, 4) AS high, p_value < 0.05 AS significant, test, verdict
  FROM lead_scoring.experiment_report('model_vs_random') WHERE arm = 'treatment';
-- Against the points rule the model's lead is smaller (+1.3 points) and only just significant
-- (p = 0.04): the rule already uses the strongest signals; the model weighs them and the rest.
SELECT arm, routing, leads, worked, conversions, round(conversion_rate::numeric, 4) AS rate,
       round(p_value::numeric, 4) AS p_value, verdict
  FROM lead_scoring.experiment_report('model_vs_rule');
-- The controls: the same routing in both arms shows no significant difference.
SELECT 'random_vs_random' AS experiment, conversions, round(p_value::numeric, 4) AS p_value, p_value < 0.05 AS significant, verdict
  FROM lead_scoring.experiment_report('random_vs_random') WHERE arm = 'treatment'
UNION ALL
SELECT 'model_vs_model', conversions, round(p_value::numeric, 4), p_value < 0.05, verdict
  FROM lead_scoring.experiment_report('model_vs_model') WHERE arm = 'treatment';
-- Without a capacity every lead counts as worked, and the routing cannot change who converts.
SELECT arm, leads, worked, conversions, round(p_value::numeric, 4) AS p_value
  FROM lead_scoring.experiment_report('planned');

-- 6. Stopping drops the trigger; the report stays readable.
SELECT lead_scoring.stop_experiment('model_vs_rule') - 'assigned' AS stopped;
SELECT count(*) AS experiment_triggers FROM pg_trigger WHERE tgrelid = 'crm_inbox'::regclass AND tgname LIKE 'lead_scoring_experiment_%';

-- Mistakes: a taken name, a fraction outside (0, 1), an empty arm, an unknown model, a target
-- without a key, stopping twice, an unknown experiment.
SELECT lead_scoring.start_experiment('model_vs_random', 'crm_routing', 'crm_inbox');
SELECT lead_scoring.start_experiment('e', 'crm_routing', 'crm_inbox', fraction => 1);
SELECT lead_scoring.start_experiment('e', 'crm_routing', 'crm_inbox', ARRAY['model', '']);
SELECT lead_scoring.start_experiment('e', 'no_such_model', 'crm_inbox');
CREATE TABLE crm_keyless AS SELECT * FROM crm_inbox WITH NO DATA;
SELECT lead_scoring.start_experiment('e', 'crm_routing', 'crm_keyless');
SELECT lead_scoring.stop_experiment('model_vs_rule');
SELECT * FROM lead_scoring.experiment_report('no_such_experiment');
