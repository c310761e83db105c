-- Feature building blocks, as an analyst turns raw CRM events into model inputs: time-decayed
-- counts and sums, engagement velocity, intent keywords, free-mail addresses, decaying points
-- and log scaling. Events after the as-of time never count, so features built for a past date
-- do not leak the future.
CREATE TABLE web_events (lead_id int, at timestamptz, url text, minutes float8);
INSERT INTO web_events VALUES
  (1, '2026-05-31 12:00+00', '/pricing', 3),
  (1, '2026-05-25 12:00+00', '/pricing', 1),
  (1, '2026-05-10 12:00+00', '/docs', 10),
  (1, '2026-06-05 12:00+00', '/pricing', 7),   -- after as_of: ignored
  (2, '2026-04-20 12:00+00', '/blog', 2),
  (2, NULL, '/blog', 1);

-- An event at as_of counts 1, one half-life earlier 0.5; later events count 0.
SELECT lead_id,
       round(lead_scoring.decayed_count(at, '2026-06-01 12:00+00', '7 days')::numeric, 4) AS decayed_visits,
       round((lead_scoring.decayed_count(at, '2026-06-01 12:00+00', '7 days') FILTER (WHERE url = '/pricing'))::numeric, 4) AS pricing,
       round(lead_scoring.decayed_sum(minutes, at, '2026-06-01 12:00+00', '7 days')::numeric, 4) AS decayed_minutes,
       lead_scoring.engagement_velocity(at, '2026-06-01 12:00+00', '14 days') AS velocity
  FROM web_events GROUP BY lead_id ORDER BY lead_id;

SELECT lead_scoring.intent_flags('Can we see PRICING and book a demo?', ARRAY['pricing', 'demo', 'api']) AS flags,
       cardinality(lead_scoring.intent_flags('nothing here', ARRAY['pricing'])) AS none,
       lead_scoring.is_personal_email('jane@gmail.com') AS gmail,
       lead_scoring.is_personal_email('jane@acme.io') AS company,
       lead_scoring.score_decay(50, '2026-01-01', '2026-03-02', 10) AS decayed_points,
       round(lead_scoring.log_scale(99)::numeric, 6) AS log_99;

-- as_of may differ per row: each lead's features as of its own date.
SELECT lead_id, to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS as_of,
       round(lead_scoring.decayed_count(at, as_of, '7 days')::numeric, 4) AS decayed_visits
  FROM web_events JOIN (VALUES (1, timestamptz '2026-05-26 12:00+00'), (2, timestamptz '2026-04-20 12:00+00')) a(lead_id, as_of)
       USING (lead_id)
 GROUP BY lead_id, as_of ORDER BY lead_id;
-- Velocity: events in the last window over those in the window before (at least 1); without
-- earlier events it is the recent count itself.
SELECT lead_scoring.engagement_velocity(ts, '2026-06-01', '7 days') AS four_after_two,
       lead_scoring.engagement_velocity(ts, '2026-06-01', '7 days') FILTER (WHERE ts > '2026-05-25') AS four_after_none
  FROM (VALUES ('2026-05-31'::timestamptz), ('2026-05-30'), ('2026-05-29'), ('2026-05-28'),
               ('2026-05-24'), ('2026-05-23')) e(ts);
-- Aggregates over no events are 0; the scalars are STRICT (NULL in, NULL out).
SELECT lead_scoring.decayed_count(at, '2026-06-01', '7 days') AS no_events,
       lead_scoring.decayed_sum(minutes, at, '2026-06-01', '7 days') AS no_minutes
  FROM web_events WHERE false;
SELECT lead_scoring.is_personal_email('no-domain') AS no_domain, lead_scoring.is_personal_email('ceo@Outlook.com') AS outlook,
       lead_scoring.log_scale(-99) = -lead_scoring.log_scale(99) AS symmetric, lead_scoring.log_scale(0) AS zero,
       lead_scoring.log_scale(NULL) IS NULL AS null_in_null_out, lead_scoring.intent_flags(NULL, ARRAY['demo']) IS NULL AS null_text;
-- Points decay toward 0 and never past it; activity after as_of means no decay.
SELECT lead_scoring.score_decay(50, '2026-01-01', '2026-12-01', 10) AS floored,
       lead_scoring.score_decay(-20, '2026-01-01', '2026-02-15', 10) AS negative_moves_up,
       lead_scoring.score_decay(50, '2026-03-01', '2026-02-01', 10) AS later_activity;

-- Errors: half-lives and windows must be positive, as_of must be given, keywords must be real.
SELECT lead_scoring.decayed_count(at, '2026-06-01', '-1 day') FROM web_events;
SELECT lead_scoring.decayed_count(at, NULL, '1 day') FROM web_events;
SELECT lead_scoring.engagement_velocity(at, '2026-06-01', '0 seconds') FROM web_events;
SELECT lead_scoring.decayed_sum(minutes, at, '2026-06-01', '0 days') FROM web_events;
SELECT lead_scoring.intent_flags('pricing', ARRAY[]::text[]);
SELECT lead_scoring.intent_flags('pricing', ARRAY['pricing', '']);
SELECT lead_scoring.intent_flags('pricing', ARRAY['pricing', NULL]);
SELECT lead_scoring.score_decay(50, '2026-01-01', '2026-03-02', -10);
