-- Scores where the CRM keeps its leads: attach() installs a trigger that scores every inserted or
-- updated lead, rescore() fills existing rows, hot-lead alerts reach a listening session,
-- create_scored_view() serves BI tools, attach_events() rescores a lead when its behaviour
-- arrives in another table, and a score history shows each lead's trend.
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

-- After a deploy, new rows get the new version at once; rescore() brings the old rows up to date.
SELECT version, deployed FROM lead_scoring.train('wf', 'wf_leads', 'converted', ARRAY['visits'], options => '{"deploy": "always"}');
INSERT INTO wf_leads (id, visits, source) VALUES (9004, 5, 'Chat');
SELECT lead_score = lead_scoring.score('wf@2', l) AS new_version FROM wf_leads l WHERE id = 9004;
SELECT count(*) FILTER (WHERE lead_score = lead_scoring.score('wf', l)) AS current_before FROM wf_leads l WHERE id < 9000;
SELECT lead_scoring.rescore('wf_leads', 'wf') AS rescored;
SELECT count(*) FILTER (WHERE lead_score = lead_scoring.score('wf', l)) AS current_after FROM wf_leads l WHERE id < 9000;
-- The scored view names the model, not a version, so it follows the deploy too.
SELECT bool_and(v.score = lead_scoring.score('wf@2', v)) AS view_follows FROM wf_scored v WHERE id < 100;
-- detach() removes the trigger; the columns stay.
SELECT lead_scoring.detach('wf_leads', 'wf');
INSERT INTO wf_leads (id, visits, source) VALUES (9003, 1, 'Chat');
SELECT lead_score IS NULL AS unscored FROM wf_leads WHERE id = 9003;
SELECT event, detail->>'table' AS target FROM lead_scoring.model_events WHERE model_name = 'wf' AND event IN ('attached', 'detached') ORDER BY id;

-- attach_events(): a lead's features are aggregates of its page views (a view), and a new page
-- view rescores the lead, once per statement however many views arrive.
CREATE TABLE ev_leads (lead_id int PRIMARY KEY, source text);
CREATE TABLE ev_views (lead_id int REFERENCES ev_leads, url text);
INSERT INTO ev_leads SELECT id, source FROM wf_leads WHERE id < 9000;
INSERT INTO ev_views SELECT id, '/pricing' FROM wf_leads, generate_series(1, visits) WHERE id < 9000;
CREATE VIEW ev_features AS
SELECT l.lead_id, l.source, (SELECT count(*) FROM ev_views v WHERE v.lead_id = l.lead_id)::int AS visits FROM ev_leads l;
SELECT version FROM lead_scoring.train('ev', 'SELECT f.*, w.converted FROM ev_features f JOIN wf_leads w ON w.id = f.lead_id',
                                       'converted', options => '{"exclude": ["lead_id"]}');
SELECT lead_scoring.attach_events('ev_views', 'ev_leads', 'lead_id', 'ev', 'ev_features');
SELECT lead_scoring.rescore('ev_leads', 'ev') AS rescored;
-- With a lead_score_history column the trigger keeps each lead's previous scores, newest first.
ALTER TABLE ev_leads ADD lead_score_history float8[];
INSERT INTO ev_leads VALUES (9101, 'Chat');
SELECT lead_tier, lead_scoring.score_trend(lead_score, lead_score_history) AS trend FROM ev_leads WHERE lead_id = 9101;
INSERT INTO ev_views VALUES (9101, '/pricing'), (9101, '/pricing'), (9101, '/docs');
INSERT INTO ev_views VALUES (9101, '/pricing');
SELECT lead_score = lead_scoring.score('ev', f) AS current, cardinality(lead_score_history) AS history,
       lead_score_history[1] < lead_score AS rose, lead_scoring.score_trend(lead_score, lead_score_history) AS trend
  FROM ev_leads JOIN ev_features f USING (lead_id) WHERE lead_id = 9101;
-- score_trend() on its own: more than the tolerance (default 0.02) up or down from the previous score.
SELECT lead_scoring.score_trend(0.5, ARRAY[0.4]) AS up, lead_scoring.score_trend(0.5, ARRAY[0.6]) AS down,
       lead_scoring.score_trend(0.5, ARRAY[0.49]) AS within, lead_scoring.score_trend(0.5, ARRAY[0.49], 0.001) AS strict,
       lead_scoring.score_trend(0.5, NULL) AS first_score, lead_scoring.score_trend(NULL, ARRAY[0.3]) AS not_scored;
SELECT lead_scoring.detach('ev_views', 'ev') AND lead_scoring.detach('ev_leads', 'ev') AS detached;

-- Mistakes.
SELECT lead_scoring.detach('wf_leads', 'wf');
SELECT lead_scoring.rescore('wf_leads', 'wf');
SELECT lead_scoring.attach('wf_leads', 'no_such_model');
SELECT lead_scoring.attach('ev_views', 'wf');
SELECT lead_scoring.attach('wf_leads', 'wf', score_column => 'source');
SELECT lead_scoring.attach_events('ev_views', 'ev_leads', 'lead_key', 'ev', 'ev_features');
SELECT lead_scoring.create_scored_view('wf_scored_again', 'no_such_table', 'wf');
SELECT lead_scoring.score_trend(0.5, ARRAY[0.4], -1);
