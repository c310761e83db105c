-- Governance: which version is live and why. The auto-deploy policy (options.deploy) decides
-- whether a new version goes live; deploy(), rollback() and retire() change it by hand; every
-- decision is in the model_events log; model_overview and model_card() show it to people; a
-- rep's flag() corrects a label for the next retrain; an ordinary role can score but not change
-- models.
SELECT setseed(0.4);
CREATE TABLE gov_leads AS
SELECT id, visits, channel,
       random() < 1 / (1 + exp(-(-3 + 0.6 * visits + CASE channel WHEN 'partner' THEN 1.5 ELSE 0 END))) AS converted
  FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
          FROM generate_series(1, 1500) id) s;

-- "never": stored, not live (not even a first version); the name alone cannot score yet.
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"deploy": "never"}');
SELECT lead_scoring.score('gov', '{"visits": 3, "channel": "web"}'::jsonb);
SELECT lead_scoring.score('gov@1', '{"visits": 3, "channel": "web"}'::jsonb) > 0 AS version_scores;
-- "if_better" (the default): deployed when nothing is live, or when its test ROC AUC is at
-- least the live version's on the same test rows. A heavily regularized version 2 goes live (nothing
-- was), version 3 beats it, version 4 (even more regularized) does not; "always" deploys it anyway.
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'], options => '{"alpha": 1000}');
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'], options => '{"alpha": 0.1}');
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'], options => '{"alpha": 5000}');
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"alpha": 5000, "deploy": "always"}');
-- Each decision is logged with the policy, both ROC AUCs on the same rows and the reason.
SELECT version, detail->>'policy' AS policy, detail->>'deploy' AS deploy, detail->>'live_version' AS live_version,
       detail->>'test_rows' AS test_rows,
       round((detail->>'new_test_roc_auc')::numeric, 3) AS new_auc, round((detail->>'live_test_roc_auc_on_same_rows')::numeric, 3) AS live_auc,
       regexp_replace(reason, '[0-9]\.[0-9]+', 'x', 'g') AS reason
  FROM lead_scoring.model_events WHERE model_name = 'gov' AND event = 'deploy_decision' ORDER BY id;
-- A live version that cannot score the new version's rows (it needs a column they lack) stays.
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits']);
SELECT reason FROM lead_scoring.model_events WHERE model_name = 'gov' AND version = 6 AND event = 'deploy_decision';

-- model_overview: one row per version, for BI tools.
SELECT name, version, algorithm, deployed, label, training_rows, round(test_roc_auc::numeric, 3) AS test_roc_auc
  FROM lead_scoring.model_overview WHERE name = 'gov' ORDER BY version;

-- deploy() by hand, with a reason; rollback() returns to the version live before, and a second
-- rollback goes further back instead of undoing the first.
SELECT lead_scoring.deploy('gov', 3, 'back to the best test ROC AUC');
SELECT lead_scoring.deploy('gov', 6, 'try visits only');
SELECT lead_scoring.rollback('gov', 'partners mis-scored');
SELECT lead_scoring.rollback('gov', 'version 3 was no better');
-- A retired version can no longer be scored by version or deployed, and rollback skips it; the
-- live version cannot be retired.
SELECT lead_scoring.retire('gov', 1, 'never deployed');
SELECT lead_scoring.retire('gov', 5, 'live: refused');
SELECT lead_scoring.score('gov@1', '{"visits": 3, "channel": "web"}'::jsonb);
SELECT lead_scoring.deploy('gov', 1);
SELECT version, deployed, retired_at IS NOT NULL AS retired FROM lead_scoring.models WHERE name = 'gov' ORDER BY version;

-- The log: who did what, in order (actor is the role). Training logs "trained" too.
SELECT version, event, detail->>'from' AS rolled_from, detail->>'to' AS rolled_to, reason, actor = current_user AS by_me
  FROM lead_scoring.model_events WHERE model_name = 'gov' AND event IN ('deployed', 'rolled_back', 'retired') ORDER BY id;
SELECT event, count(*) FROM lead_scoring.model_events WHERE model_name = 'gov' GROUP BY 1 ORDER BY 1;

-- The model card: markdown for people who do not read SQL, with the change history.
SELECT line FROM regexp_split_to_table(lead_scoring.model_card('gov'), E'\n') AS line WHERE line LIKE '#%';
SELECT line FROM regexp_split_to_table(lead_scoring.model_card('gov'), E'\n') AS line
 WHERE line LIKE '- source:%' OR line LIKE '- train:%' OR line LIKE '| visits |%' OR line LIKE '| channel |%' OR line LIKE '- tier %';
SELECT count(*) AS history_rows FROM regexp_split_to_table(split_part(lead_scoring.model_card('gov'), '## Change history', 2), E'\n') line
 WHERE line ~ '^\| [0-9]';
SELECT split_part(lead_scoring.model_card('gov@4'), E'\n', 1) AS title;

-- Rep feedback: lead 7 did not convert, says the CRM, but signed last week; the latest flag
-- counts. Retraining with use_feedback applies it (one more conversion) and says so in the source.
SELECT converted FROM gov_leads WHERE id = 7;
SELECT lead_scoring.flag('gov', '7', false, 'still deciding') > 0 AS flagged;
SELECT lead_scoring.flag('gov', '7', true, 'signed on 3 March; CRM stage was never updated') > 0 AS flagged;
SELECT lead_key, correct_label, note, flagged_by = current_user AS by_me FROM lead_scoring.lead_feedback WHERE model_name = 'gov' ORDER BY id;
SELECT version, deployed FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"use_feedback": true, "key": "id", "deploy": "never"}');
SELECT version, source, (SELECT sum((p->>'positives')::int) FROM jsonb_each(training->'parts') x(k, p)) AS positives
  FROM lead_scoring.models WHERE name = 'gov' AND version IN (3, 7) ORDER BY version;

-- An ordinary role can score and read the overview and model cards, but not change models.
CREATE ROLE regress_lead_reader;
GRANT SELECT ON gov_leads TO regress_lead_reader;
SET ROLE regress_lead_reader;
SELECT round(lead_scoring.score('gov', '{"visits": 3, "channel": "partner"}'::jsonb)::numeric, 3) > 0 AS can_score,
       (SELECT count(*) FROM lead_scoring.model_overview WHERE name = 'gov') AS versions_seen;
SELECT * FROM lead_scoring.train('gov', 'gov_leads', 'converted', ARRAY['visits', 'channel']);
SELECT lead_scoring.deploy('gov', 3, 'not mine to do');
SELECT lead_scoring.set_tiers('gov', '{"A": 0.5, "B": 0}');
RESET ROLE;
DROP OWNED BY regress_lead_reader;
DROP ROLE regress_lead_reader;

-- Mistakes: unknown models and versions, NULLs, a version given the wrong way, a bad policy.
SELECT lead_scoring.deploy('gov', 99);
SELECT lead_scoring.deploy('gov', NULL);
SELECT lead_scoring.deploy('gov@3', 3);
SELECT lead_scoring.deploy('no_such_model', 1);
SELECT lead_scoring.rollback('no_such_model');
SELECT version FROM lead_scoring.train('gov_once', 'gov_leads', 'converted', ARRAY['visits', 'channel']);
SELECT lead_scoring.rollback('gov_once', 'nothing to go back to');
SELECT lead_scoring.retire('gov', 99);
SELECT lead_scoring.retire('gov', 1);
SELECT lead_scoring.model_card('no_such_model');
SELECT lead_scoring.flag('no_such_model', '7', true);
SELECT lead_scoring.flag('gov', NULL, true);
SELECT lead_scoring.flag('gov', '7', NULL);
SELECT * FROM lead_scoring.train('gov', 'gov_leads', 'converted', options => '{"deploy": "sometimes"}');
SELECT * FROM lead_scoring.train('gov', 'gov_leads', 'converted', options => '{"use_feedback": true}');
SELECT * FROM lead_scoring.train('gov', 'gov_leads', 'converted', options => '{"use_feedback": true, "key": "lead_id"}');
