-- CRM workflow: the rescoring trigger, rescore(), a scored view, hot-lead alerts received by a
-- listening session, and governance (auto-deploy decision, rollback, retire, model card).
SELECT setseed(0.25);
CREATE TABLE wf_leads AS
SELECT id, floor(random() * 10)::int AS visits,
       (ARRAY['Google', 'Reference', 'Chat'])[1 + floor(random() * 3)::int] AS source,
       false AS converted
  FROM generate_series(1, 800) id;
UPDATE wf_leads SET converted = random() < 1 / (1 + exp(-(-4 + 0.6 * visits + CASE source WHEN 'Reference' THEN 1.5 ELSE 0 END)));
ALTER TABLE wf_leads ADD PRIMARY KEY (id);
SELECT version, deployed FROM lead_scoring.train('wf', 'wf_leads', 'converted', ARRAY['visits', 'source']);

-- attach() creates lead_score and lead_tier; rescore() fills the existing rows in one UPDATE.
SELECT lead_scoring.attach('wf_leads', 'wf');
SELECT lead_scoring.rescore('wf_leads', 'wf');
SELECT count(*) FILTER (WHERE lead_score IS NULL) AS unscored,
       count(*) FILTER (WHERE lead_score = lead_scoring.score('wf', l) AND lead_tier = lead_scoring.tier('wf', l)) AS current
  FROM wf_leads l;
SELECT tiers->0->>'name' AS top_tier FROM lead_scoring.models WHERE name = 'wf';

-- A second session listens for hot-lead alerts (dblink shows channel and payload, not the PID).
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('listener', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('listener', 'LISTEN lead_scoring_alerts');
CREATE FUNCTION wait_for_alerts(expected int) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
DECLARE
    got jsonb[] := '{}';
    r record;
BEGIN
    FOR i IN 1..100 LOOP
        FOR r IN SELECT extra FROM dblink_get_notify('listener') WHERE notify_name = 'lead_scoring_alerts' LOOP
            got := got || r.extra::jsonb;
        END LOOP;
        EXIT WHEN cardinality(got) >= expected;
        PERFORM pg_sleep(0.05);
    END LOOP;
    PERFORM pg_sleep(0.2);  -- anything beyond the expected alerts would show up here too
    FOR r IN SELECT extra FROM dblink_get_notify('listener') WHERE notify_name = 'lead_scoring_alerts' LOOP
        got := got || r.extra::jsonb;
    END LOOP;
    RETURN QUERY SELECT unnest(got);
END
$$;

-- A cold lead arrives (no alert), then turns hot (one alert), then stays hot (no alert).
INSERT INTO wf_leads (id, visits, source) VALUES (9001, 0, 'Chat');
SELECT lead_tier FROM wf_leads WHERE id = 9001;
UPDATE wf_leads SET visits = 9, source = 'Reference' WHERE id = 9001;
UPDATE wf_leads SET visits = 8 WHERE id = 9001;
SELECT lead_tier FROM wf_leads WHERE id = 9001;
SELECT a - 'score' AS alert,
       (a->>'score')::float8 = lead_scoring.score('wf', '{"visits": 9, "source": "Reference"}'::jsonb) AS score_at_the_rise
  FROM wait_for_alerts(1) AS a;
-- A new lead that is hot at once alerts with old_tier null.
INSERT INTO wf_leads (id, visits, source) VALUES (9002, 9, 'Reference');
SELECT a - 'score' AS alert FROM wait_for_alerts(1) AS a;
SELECT dblink_disconnect('listener');

-- A scored view for BI tools: score, score_100, tier and top reasons.
SELECT lead_scoring.create_scored_view('wf_scored', 'SELECT 1', 'wf');
CREATE VIEW wf_plain AS SELECT id, visits, source FROM wf_leads;
SELECT lead_scoring.create_scored_view('wf_scored', 'wf_plain', 'wf');
SELECT attname FROM pg_attribute WHERE attrelid = 'wf_scored'::regclass AND attnum > 0 ORDER BY attnum;
SELECT id, score_100, tier, score_100 = round(score * 100) AS consistent,
       jsonb_array_length(top_reasons->'positive') <= 3 AS reasons_ok FROM wf_scored WHERE id IN (9001, 9002) ORDER BY id;

-- Governance: a retrain on fewer features is not deployed (the live version needs a column it
-- lacks); the decision is logged with its reason.
SELECT version, deployed FROM lead_scoring.train('wf', 'wf_leads', 'converted', ARRAY['visits']);
SELECT version, detail->>'policy' AS policy, detail->>'deploy' AS deploy, reason
  FROM lead_scoring.model_events WHERE model_name = 'wf' AND event = 'deploy_decision' ORDER BY id;
SELECT lead_scoring.deploy('wf', 2, 'visits only');
SELECT lead_scoring.rollback('wf', 'partners mis-scored');
SELECT lead_scoring.rollback('wf', 'again');
SELECT lead_scoring.retire('wf', 1, 'deployed one cannot go');
SELECT lead_scoring.retire('wf', 2, 'superseded');
SELECT lead_scoring.score('wf@2', l) FROM wf_leads l LIMIT 1;
SELECT lead_scoring.deploy('wf', 2);
SELECT version, event, reason FROM lead_scoring.model_events
 WHERE model_name = 'wf' AND event IN ('deployed', 'rolled_back', 'retired', 'attached') ORDER BY id;
SELECT line FROM regexp_split_to_table(lead_scoring.model_card('wf'), E'\n') AS line WHERE line LIKE '#%';

-- detach() removes the trigger; the columns stay.
SELECT lead_scoring.detach('wf_leads', 'wf');
INSERT INTO wf_leads (id, visits, source) VALUES (9003, 1, 'Chat');
SELECT lead_score IS NULL AS unscored FROM wf_leads WHERE id = 9003;
SELECT lead_scoring.detach('wf_leads', 'wf');
