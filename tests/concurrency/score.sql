-- pgbench client: scores one lead by the deployed version of "cm" three ways (the row form,
-- which the planner rewrites to the fast path, the jsonb form, and its tier) and keeps what it saw.
\set id random(1, :leads)
INSERT INTO seen (lead_id, score, score_jsonb, tier)
SELECT id, lead_scoring.score('cm', l), lead_scoring.score('cm', to_jsonb(l)), lead_scoring.tier('cm', l)
  FROM leads l WHERE id = :id;
