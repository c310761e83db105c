-- Explanations: why a lead scores as it does (explain), the same in words a rep reads
-- (top_reasons), and which features matter overall (feature_importance), for a logistic model
-- and for gradient boosted trees trained on the same leads.
SELECT setseed(0.31);
CREATE TABLE why_leads AS
SELECT id, visits, channel, seniority,
       random() < 1 / (1 + exp(-(-2.5 + 0.5 * coalesce(visits, 5) + CASE channel WHEN 'partner' THEN 1.2 WHEN 'web' THEN -0.4 ELSE 0 END
                                 + 0.3 * seniority))) AS converted
  FROM (SELECT id, CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 8)::int END AS visits,
               (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel,
               floor(random() * 5)::int AS seniority
          FROM generate_series(1, 2000) id) s;
SELECT model_name, algorithm FROM lead_scoring.train('why', 'why_leads', 'converted', ARRAY['visits', 'channel', 'seniority']);
SELECT model_name, algorithm FROM lead_scoring.train('why_trees', 'why_leads', 'converted', ARRAY['visits', 'channel', 'seniority'],
                                                     algorithm => 'gbm', options => '{"trees": 40}');

-- explain(): one row per feature with its contribution to the lead's log-odds, plus a
-- (baseline) row; for logistic it is coefficient x (transformed value - its training mean).
SELECT feature, value, round(contribution::numeric, 3) AS contribution
  FROM lead_scoring.explain('why', (SELECT l FROM why_leads l WHERE id = 1));
-- The rows add up to the model's log-odds, for both algorithms, on every lead.
SELECT m AS model, count(*) AS leads, max(abs(e.total - ln(e.p / (1 - e.p)))) < 1e-6 AS adds_up
  FROM unnest(ARRAY['why', 'why_trees']) m,
       LATERAL (SELECT lead_scoring.score(m, l) AS p, (SELECT sum(contribution) FROM lead_scoring.explain(m, l)) AS total
                  FROM why_leads l WHERE id <= 200) e
 GROUP BY m ORDER BY m;
-- A jsonb lead works the same; a missing value is shown as NULL, an unseen level by name.
SELECT feature, value, round(contribution::numeric, 3) AS contribution
  FROM lead_scoring.explain('why_trees', '{"visits": null, "channel": "podcast", "seniority": 4}'::jsonb);
-- The hottest partner lead's biggest reason is its channel or its visits, whatever the algorithm.
SELECT m AS model, (SELECT feature FROM lead_scoring.explain(m, '{"visits": 7, "channel": "partner", "seniority": 4}'::jsonb)
                     WHERE feature <> '(baseline)' ORDER BY abs(contribution) DESC LIMIT 1) AS biggest
  FROM unnest(ARRAY['why', 'why_trees']) m ORDER BY m;

-- top_reasons(): the k largest reasons raising and lowering the score, biggest first, in words.
SELECT jsonb_pretty(lead_scoring.top_reasons('why', '{"visits": 7, "channel": "web", "seniority": 0}'::jsonb, 2)
                    #- '{score}' #- '{positive,0,contribution}' #- '{negative,0,contribution}' #- '{negative,1,contribution}');
SELECT id, r->>'model' AS model, round((r->>'score')::numeric, 3) = round(lead_scoring.score('why_trees', l)::numeric, 3) AS score_agrees,
       jsonb_array_length(r->'positive') <= 1 AND jsonb_array_length(r->'negative') <= 1 AS at_most_1_each_side
  FROM why_leads l, LATERAL lead_scoring.top_reasons('why_trees', l, 1) r WHERE id <= 3 ORDER BY id;
-- Each side is sorted, biggest first: raising reasons are positive, lowering ones negative.
CREATE FUNCTION why_sorted(reasons jsonb, sign int) RETURNS boolean LANGUAGE sql AS $$
  SELECT coalesce(bool_and(sign * c > 0 AND (next IS NULL OR abs(c) >= abs(next))), true)
    FROM (SELECT (x->>'contribution')::float8 AS c, lead((x->>'contribution')::float8) OVER (ORDER BY n) AS next
            FROM jsonb_array_elements(reasons) WITH ORDINALITY y(x, n)) s
$$;
SELECT m AS model, bool_and(why_sorted(r->'positive', 1) AND why_sorted(r->'negative', -1)) AS sorted
  FROM unnest(ARRAY['why', 'why_trees']) m, why_leads l, LATERAL lead_scoring.top_reasons(m, l) r
 WHERE id <= 100 GROUP BY m ORDER BY m;

-- feature_importance(): mean |contribution| on the validation part, most important first, the
-- direction in words; logistic models add the coefficient, the odds ratio per standard
-- deviation of a number and the coefficient of each level of a text column.
SELECT feature, round(importance::numeric, 2) AS importance, direction, round(coefficient::numeric, 2) AS coefficient,
       round(odds_ratio::numeric, 2) AS odds_ratio
  FROM lead_scoring.feature_importance('why');
SELECT key AS level, round(value::numeric, 2) AS coefficient
  FROM lead_scoring.feature_importance('why'), jsonb_each_text(level_coefficients) WHERE feature = 'channel' ORDER BY 2 DESC;
SELECT feature, importance > 0 AS matters, direction, coefficient IS NULL AS no_coefficient
  FROM lead_scoring.feature_importance('why_trees');

-- Mistakes: unknown model, a lead without a feature, a value of the wrong type, a k out of
-- range, a value that is not a row; NULL arguments give nothing.
SELECT * FROM lead_scoring.explain('no_such_model', '{}'::jsonb);
SELECT * FROM lead_scoring.explain('why', '{"visits": 3, "channel": "web"}'::jsonb);
SELECT * FROM lead_scoring.explain('why', '{"visits": "three", "channel": "web", "seniority": 1}'::jsonb);
SELECT * FROM lead_scoring.explain('why', 42);
SELECT * FROM lead_scoring.explain('why_trees', (SELECT l FROM (SELECT id, visits FROM why_leads) l WHERE id = 1));
SELECT lead_scoring.top_reasons('why', '{"visits": 3, "channel": "web", "seniority": 1}'::jsonb, 0);
SELECT lead_scoring.top_reasons('why', '{"visits": 3, "channel": "web", "seniority": 1}'::jsonb, 101);
SELECT * FROM lead_scoring.feature_importance('no_such_model');
SELECT count(*) AS rows FROM lead_scoring.explain(NULL, '{"visits": 3, "channel": "web", "seniority": 1}'::jsonb);
SELECT lead_scoring.top_reasons('why', NULL::jsonb) IS NULL AS null_lead;
