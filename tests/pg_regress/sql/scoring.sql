-- Scoring, as an analyst first meets it (the README quick start): train a model on a CRM table,
-- inspect it, score and tier any row or jsonb document, evaluate, deploy a second version; then
-- how score() on a table row is planned, how a deploy reaches other sessions' cached models,
-- and the errors a user meets.
SELECT setseed(0.17);
CREATE TABLE crm_leads AS
SELECT id,
       'lead' || id || '@example.com' AS email,
       visits,
       source,
       company_size,
       random() < 1 / (1 + exp(-(-3.5 + 0.5 * coalesce(visits, 2)
                                  + CASE source WHEN 'Referral' THEN 1.5 WHEN 'Webinar' THEN 0.8 ELSE 0 END))) AS converted
  FROM (SELECT id,
               CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 8)::int END AS visits,
               (ARRAY['Google', 'Referral', 'Webinar', 'Select'])[1 + floor(random() * 4)::int] AS source,
               (ARRAY['1-10', '11-50', '51-200'])[1 + floor(random() * 3)::int] AS company_size
          FROM generate_series(1, 2000) AS id) s;

-- Train: every column but the label and the id is a feature; the unique email is skipped.
SELECT model_name, version, algorithm, deployed,
       round((metrics->'test'->>'roc_auc')::numeric, 3) > 0.75 AS good_test_auc
  FROM lead_scoring.train('inbound', 'crm_leads', 'converted', options => '{"exclude": ["id"]}');

SELECT name, version, algorithm, deployed, training_rows, test_roc_auc > 0.75 AS good
  FROM lead_scoring.model_overview WHERE name = 'inbound';

SELECT jsonb_pretty(features) FROM lead_scoring.models WHERE name = 'inbound';
SELECT split, training->'parts' AS parts FROM lead_scoring.models WHERE name = 'inbound';
SELECT jsonb_agg(t->>'name') AS tiers FROM lead_scoring.models, jsonb_array_elements(tiers) t WHERE name = 'inbound';

-- Score and tier any row of the table, or a jsonb document.
SELECT id, round(lead_scoring.score('inbound', l)::numeric, 4) AS score, lead_scoring.tier('inbound', l) AS tier
  FROM crm_leads l ORDER BY id LIMIT 5;
SELECT round(lead_scoring.score('inbound', '{"visits": 7, "source": "Referral", "company_size": "11-50"}'::jsonb)::numeric, 4) AS referral,
       round(lead_scoring.score('inbound', '{"visits": 0, "source": "Google", "company_size": "11-50"}'::jsonb)::numeric, 4) AS cold_google,
       lead_scoring.tier('inbound', '{"visits": 7, "source": "Referral", "company_size": "11-50"}'::jsonb) AS tier;
-- Unseen levels and placeholders are handled, not errors; keys the model does not use are ignored.
SELECT round(lead_scoring.score('inbound', '{"visits": null, "source": "TikTok", "company_size": "Select"}'::jsonb)::numeric, 4) AS unseen,
       lead_scoring.score('inbound', '{"visits": 3, "source": "Google", "company_size": "1-10", "owner": "Ann"}'::jsonb)
         = lead_scoring.score('inbound', '{"visits": 3, "source": "Google", "company_size": "1-10"}'::jsonb) AS extra_key_ignored;
-- score_100 is the probability in percent, rounded, for a CRM field.
SELECT lead_scoring.score_100('inbound', l) AS score_100, round(lead_scoring.score('inbound', l)::numeric * 100) AS rounded
  FROM crm_leads l WHERE id = 1;

-- Tier counts, as a BI tool would read them.
SELECT lead_scoring.tier('inbound', l) AS tier, count(*) AS leads, round(avg(converted::int), 2) AS conversion
  FROM crm_leads l GROUP BY 1 ORDER BY 3 DESC;

-- Evaluate on any labelled query.
SELECT e->>'model' AS model, e->>'rows' AS rows, round((e->>'roc_auc')::numeric, 3) > 0.75 AS good
  FROM lead_scoring.evaluate('inbound', 'SELECT * FROM crm_leads WHERE id > 1000') AS e;

-- A second version is not deployed here (options.deploy "if_better" cannot evaluate the live
-- version, which needs a feature this one lacks); deploy() switches every session to it.
SELECT version, deployed FROM lead_scoring.train('inbound', 'crm_leads', 'converted',
       ARRAY['visits', 'source'], options => '{"alpha": 5}');
SELECT lead_scoring.score('inbound', l) = lead_scoring.score('inbound@1', l) AS live_is_v1 FROM crm_leads l WHERE id = 1;
SELECT lead_scoring.deploy('inbound', 2, 'fewer features');
SELECT lead_scoring.score('inbound', l) = lead_scoring.score('inbound@2', l) AS live_is_v2 FROM crm_leads l WHERE id = 1;
SELECT model_name, version, event, reason FROM lead_scoring.model_events WHERE model_name = 'inbound' ORDER BY id;

-- score() on a table row is planned as score_fields() with the row's columns, so no whole row
-- is formed; on the nullable side of an outer join the row stays whole (it can be NULL, and
-- then so is the score). Both give the same scores, tiers and 0-100 scores on every row.
EXPLAIN (VERBOSE, COSTS OFF) SELECT lead_scoring.score('inbound', l) FROM crm_leads l;
SELECT g, lead_scoring.tier('inbound', l) FROM generate_series(1999, 2001) g LEFT JOIN crm_leads l ON l.id = g ORDER BY g;
SELECT count(*) AS rows, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differing
  FROM (SELECT id, (lead_scoring.score('inbound', l), lead_scoring.tier('inbound', l), lead_scoring.score_100('inbound', l)) AS a
          FROM crm_leads l) x
  JOIN (SELECT id, (lead_scoring.score('inbound', l), lead_scoring.tier('inbound', l), lead_scoring.score_100('inbound', l)) AS b
          FROM (SELECT * FROM crm_leads OFFSET 0) l) y USING (id);
-- score_fields() checks the columns it is given against the row type: call score() instead.
SELECT lead_scoring.score_fields('inbound', 'crm_leads', id, visits) FROM crm_leads LIMIT 1;

-- Each session caches decoded models; a deploy in another session reaches it at its next
-- transaction.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT version FROM lead_scoring.train('cached', 'crm_leads', 'converted', ARRAY['visits', 'source']);
SELECT version FROM lead_scoring.train('cached', 'crm_leads', 'converted', ARRAY['visits', 'source'],
                                       options => '{"alpha": 50, "deploy": "never"}');
-- The versions differ, and this session caches version 1.
SELECT lead_scoring.score('cached@1', l) <> lead_scoring.score('cached@2', l) AS versions_differ FROM crm_leads l WHERE id = 1;
SELECT lead_scoring.score('cached', l) = lead_scoring.score('cached@1', l) AS live_is_v1 FROM crm_leads l WHERE id = 1;
-- Another session deploys version 2 and commits; this session then scores with version 2.
SELECT dblink_connect('other', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                      split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT * FROM dblink('other', $$SELECT lead_scoring.deploy('cached', 2, 'from another session')->>'deployed_version'$$) AS t(deployed text);
SELECT dblink_disconnect('other');
SELECT lead_scoring.score('cached', l) = lead_scoring.score('cached@2', l) AS live_is_v2 FROM crm_leads l WHERE id = 1;

-- Mistakes get clear errors; a NULL model name or lead gives NULL (the functions are STRICT).
SELECT lead_scoring.score('outbound', l) FROM crm_leads l LIMIT 1;
SELECT lead_scoring.score('inbound@7', l) FROM crm_leads l LIMIT 1;
SELECT lead_scoring.score('inbound@latest', l) FROM crm_leads l LIMIT 1;
SELECT * FROM lead_scoring.train('x', 'crm_lead', 'converted');
SELECT * FROM lead_scoring.train('x', 'crm_leads', 'convert');
SELECT * FROM lead_scoring.train('x', 'crm_leads', 'converted', options => '{"split": {"method": "time"}}');
SELECT * FROM lead_scoring.train('x', 'crm_leads', 'converted', options => '{"class_weight": "heavy"}');
SELECT lead_scoring.score('inbound', '{"visits": 1}'::jsonb);
SELECT lead_scoring.score('inbound', '{"visits": "many", "source": "Google"}'::jsonb);
SELECT lead_scoring.score('inbound', '{"visits": "NaN", "source": "Google"}'::jsonb);
SELECT lead_scoring.score('inbound', '[1, 2]'::jsonb);
SELECT lead_scoring.score('inbound', 42);
SELECT lead_scoring.tier('inbound', l) FROM (SELECT id, visits FROM crm_leads) l LIMIT 1;
SELECT lead_scoring.score(NULL, l) IS NULL AS null_model, lead_scoring.tier('inbound', NULL::jsonb) IS NULL AS null_lead
  FROM crm_leads l WHERE id = 1;
SELECT count(*) AS models_after_errors FROM lead_scoring.models WHERE name IN ('inbound', 'x');
