-- The approval workflow, the card people write and the decision log: a new version trained
-- with options.deploy = 'approval' waits, pending, until a member of a role in the setting
-- lead_scoring.approvers approves it (which deploys it) or rejects it; the owner, intended use
-- and known limitations are written on the model card with set_card(); log_decision() keeps a
-- free-form log; if_better can ask for a margin or a significant difference; and a scheduled
-- retrain with retrain_on_alert trains only after monitor() raised an alert.
SELECT setseed(0.7);
CREATE TABLE gw_leads AS
SELECT id, visits, channel,
       random() < 1 / (1 + exp(-(-3 + 0.6 * visits + CASE channel WHEN 'partner' THEN 1.5 ELSE 0 END))) AS converted
  FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
          FROM generate_series(1, 1500) id) s;

-- The team: gw_risk approves models; gw_alice is in it, gw_bob is not. Both may write the
-- catalog (README "Roles and grants"), so only the approvers rule tells them apart.
CREATE ROLE gw_risk NOLOGIN;
CREATE ROLE gw_alice NOLOGIN IN ROLE gw_risk;
CREATE ROLE gw_bob NOLOGIN;
GRANT INSERT, UPDATE ON lead_scoring.models TO gw_alice, gw_bob;
GRANT INSERT ON lead_scoring.model_events TO gw_alice, gw_bob;
GRANT USAGE ON SEQUENCE lead_scoring.models_id_seq, lead_scoring.model_events_id_seq TO gw_alice, gw_bob;
-- Only a superuser may name the approvers (ALTER DATABASE ... SET or postgresql.conf in real life).
SET lead_scoring.approvers = 'gw_risk';

-- Version 1 goes live as usual. Version 2 is trained under "approval": stored, pending, not live.
SELECT version, deployed FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel']);
SELECT version, deployed FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"alpha": 0.1, "deploy": "approval"}');
SELECT version, deployed, approval FROM lead_scoring.model_overview WHERE name = 'gw' ORDER BY version;
SELECT split_part(lead_scoring.model_card('gw@2'), E'\n', 1) AS card_title;
-- Nobody deploys it around the review, not even its owner.
SELECT lead_scoring.deploy('gw', 2, 'no time for a review');

-- gw_bob is not an approver; gw_alice is. Her approval deploys version 2 in the same transaction.
SET ROLE gw_bob;
SELECT lead_scoring.approve('gw', 2, 'looks fine to me');
RESET ROLE;
SET ROLE gw_alice;
SELECT lead_scoring.approve('gw', 2, 'test ROC AUC and tiers reviewed with sales');
RESET ROLE;
SELECT version, deployed, approval FROM lead_scoring.model_overview WHERE name = 'gw' ORDER BY version;
-- The deployment history says who approved and why.
SELECT version, event, actor, reason FROM lead_scoring.model_events
 WHERE model_name = 'gw' AND event IN ('approved', 'rejected', 'deployed') ORDER BY id;

-- A version can be rejected instead: it stays stored, never live.
SELECT version, deployed FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits'],
                                                 options => '{"deploy": "approval"}');
SET ROLE gw_alice;
SELECT lead_scoring.reject('gw', 3, 'drops the channel: partner leads lose their lift');
RESET ROLE;
SELECT version, deployed, approval FROM lead_scoring.model_overview WHERE name = 'gw' ORDER BY version;

-- What goes wrong: a version that is not pending, no reason, an unknown model or version.
SELECT lead_scoring.approve('gw', 3, 'second thoughts');
SELECT lead_scoring.approve('gw', 1, 'never asked for approval');
SELECT lead_scoring.approve('gw', 2, NULL);
SELECT lead_scoring.approve('gw', 9, 'no such version');
SELECT lead_scoring.reject('gw_missing', 1, 'no such model');

-- The card people write: owner, intended use, known limitations (approvers or the owner may).
SET ROLE gw_alice;
SELECT lead_scoring.set_card('gw', owner => 'Revenue Operations (Dana Ito)',
       intended_use => 'Prioritise inbound demo requests from the website and partners, EMEA only.',
       limitations => 'Not validated on event leads collected before 2025.');
RESET ROLE;
SET ROLE gw_bob;
SELECT lead_scoring.set_card('gw', owner => 'me');
RESET ROLE;
SELECT lead_scoring.set_card('gw');

-- The decision log: free-form, with who and when; 'gw@2' ties a decision to a version.
SET ROLE gw_alice;
SELECT lead_scoring.log_decision('gw@2', 'Keep the 0.4 threshold until the Q3 pipeline review.') > 0 AS logged;
SELECT lead_scoring.log_decision('gw', 'Partner leads are scored by this model from 1 June.') > 0 AS logged;
RESET ROLE;
SELECT version, decision, decided_by FROM lead_scoring.decisions WHERE model_name = 'gw' ORDER BY id;
SELECT lead_scoring.log_decision('gw', '');

-- All of it on the model card: the owner, the intended use and limitations written above (before
-- the generated ones), and the Decisions section.
-- The change history lists the approval and each card edit (the fields it changed). Times
-- are replaced by <at> here.
SELECT regexp_replace(line, '^\| [0-9-]+ [0-9:]+ \|', '| <at> |') AS line
  FROM regexp_split_to_table(lead_scoring.model_card('gw'), E'\n') AS line
 WHERE line LIKE '#%' OR line LIKE 'Owner:%' OR line LIKE 'Prioritise%' OR line LIKE '- Not validated%'
    OR line LIKE '| % | gw_alice |%';

-- if_better with a margin: the new version must beat the live one by deploy_margin of test ROC
-- AUC on the same rows (no model gains 0.5). With deploy_test = 'significant' it must also be
-- better by DeLong's paired test (p < 0.05): the same model again ties, p = 1. The decision and
-- its numbers are in the training summary (and a NOTICE, not shown here).
SELECT version, deployed FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"alpha": 0.1, "deploy_margin": 0.5}');
SELECT version, deployed FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                                 options => '{"alpha": 0.1, "deploy_test": "significant"}');
SELECT version, training->'deploy_decision'->>'deploy' AS deploy, training->'deploy_decision'->>'margin' AS margin,
       round((training->'deploy_decision'->>'p_value')::numeric, 3) AS p_value,
       regexp_replace(training->'deploy_decision'->>'reason', '[0-9]\.[0-9]{4}', 'x', 'g') AS reason
  FROM lead_scoring.models WHERE name = 'gw' AND version IN (4, 5) ORDER BY version;
-- A margin only means something under if_better.
SELECT * FROM lead_scoring.train('gw', 'gw_leads', 'converted', options => '{"deploy": "approval", "deploy_margin": 0.01}');

-- Retraining on alert: with retrain_on_alert, train() does nothing until monitor() records an
-- alert for the model (schedule it with schedule_retraining() to run often, and monitoring on
-- its own schedule). The labels of these leads flipped: monitor() alerts, the next run retrains.
SELECT version FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"retrain_on_alert": true}');
SELECT status FROM lead_scoring.monitor('gw', 'SELECT id, visits, channel, NOT converted AS converted FROM gw_leads');
SELECT version FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"retrain_on_alert": true}');
SELECT version FROM lead_scoring.train('gw', 'gw_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"retrain_on_alert": true}');

RESET lead_scoring.approvers;
DROP OWNED BY gw_alice, gw_bob;
DROP ROLE gw_alice, gw_bob, gw_risk;
