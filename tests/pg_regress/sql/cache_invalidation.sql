-- A deploy in one session reaches the cached model of another session at its next transaction.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT setseed(0.5);
CREATE TABLE cache_leads AS
SELECT id, floor(random() * 8)::int AS visits,
       (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int] AS channel,
       random() < 0.3 AS converted
  FROM generate_series(1, 600) id;
UPDATE cache_leads SET converted = converted OR (visits >= 6 AND channel = 'a');
SELECT version FROM lead_scoring.train('cached', 'cache_leads', 'converted', ARRAY['visits', 'channel']);
SELECT version FROM lead_scoring.train('cached', 'cache_leads', 'converted', ARRAY['visits', 'channel'], options => '{"alpha": 50, "deploy": "never"}');
-- The versions differ, and this session caches version 1.
SELECT lead_scoring.score('cached@1', l) <> lead_scoring.score('cached@2', l) AS versions_differ FROM cache_leads l WHERE id = 1;
SELECT lead_scoring.score('cached', l) = lead_scoring.score('cached@1', l) AS live_is_v1 FROM cache_leads l WHERE id = 1;
-- Another session deploys version 2 and commits.
SELECT dblink_connect('other', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                      split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT * FROM dblink('other', $$SELECT lead_scoring.deploy('cached', 2, 'from another session')->>'deployed_version'$$) AS t(deployed text);
SELECT dblink_disconnect('other');
-- This session now scores with version 2.
SELECT lead_scoring.score('cached', l) = lead_scoring.score('cached@2', l) AS live_is_v2 FROM cache_leads l WHERE id = 1;
