-- lead_scoring 0.1.0 -> 0.2.0, run by ALTER EXTENSION lead_scoring UPDATE on a database whose
-- extension was created (or restored) at 0.1.0. It holds the DDL that makes such a database's
-- objects equal to a fresh 0.2.0 install; tests/durability/upgrade.sh compares the two and
-- lists whatever is missing here. Models, events, monitoring and feedback rows are untouched:
-- 0.2.0 reads 0.1.0's artifacts as they are.
\echo Use "ALTER EXTENSION lead_scoring UPDATE TO '0.2.0'" to load this file. \quit

-- attach_events() triggers name their target table and feature view by schema-qualified name
-- instead of oid (a restored dump gives relations new oids); ::regclass reads both, so
-- triggers created by 0.1.0 keep working. pg_catalog.format: a format() placed earlier on the
-- search_path of whoever inserts the events is never called, and the function runs with the
-- search_path pg_catalog, pg_temp (the key columns' = is pg_catalog's).
CREATE OR REPLACE FUNCTION lead_scoring.rescore_from_feature_view() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    EXECUTE pg_catalog.format(
        'UPDATE %s AS lead SET %I = lead_scoring.score(%L, f.*), %I = lead_scoring.tier(%L, f.*)
           FROM %s AS f
          WHERE f.%I = lead.%I AND lead.%I IN (SELECT c.%I FROM lead_scoring_changed_rows AS c)',
        TG_ARGV[0]::regclass, TG_ARGV[4], TG_ARGV[2], TG_ARGV[5], TG_ARGV[2],
        TG_ARGV[3]::regclass, TG_ARGV[1], TG_ARGV[1], TG_ARGV[1], TG_ARGV[1]);
    RETURN NULL;
END
$fn$;

-- A statement trigger on the models table drops every session's cached models when rows are
-- changed by hand (UPDATE, DELETE, TRUNCATE), not only through train()/deploy().
CREATE FUNCTION lead_scoring.models_changed_trigger()
	RETURNS TRIGGER
	LANGUAGE c
	AS 'MODULE_PATHNAME', 'models_changed_trigger_wrapper';

CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.models
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.models_changed_trigger();

-- The approval workflow, the card people write and the decision log (README "Approvals and the
-- decision log"): a version's approval state, the events they log, the approval column in the
-- overview, the decisions view and the four functions.
ALTER TABLE lead_scoring.models
  ADD COLUMN approval text CHECK (approval IN ('pending', 'approved', 'rejected'));
ALTER TABLE lead_scoring.model_events DROP CONSTRAINT model_events_event_check;
ALTER TABLE lead_scoring.model_events ADD CONSTRAINT model_events_event_check
  CHECK (event IN ('trained', 'deployed', 'undeployed', 'retired', 'tiers_changed', 'threshold_changed',
                   'rolled_back', 'deploy_decision', 'attached', 'detached',
                   'scheduled', 'unscheduled', 'approved', 'rejected', 'card_changed',
                   'decision'));

CREATE OR REPLACE VIEW lead_scoring.model_overview AS
SELECT m.name,
       m.version,
       m.algorithm,
       m.deployed,
       m.label,
       (m.training ->> 'rows')::bigint                         AS training_rows,
       (m.metrics -> 'test' ->> 'roc_auc')::float8             AS test_roc_auc,
       (m.metrics -> 'test' ->> 'pr_auc')::float8              AS test_pr_auc,
       m.threshold,
       m.created_at,
       m.created_by,
       m.approval
FROM lead_scoring.models m
ORDER BY m.name, m.version;

CREATE VIEW lead_scoring.decisions AS
SELECT e.id,
       e.model_name,
       e.version,
       e.reason AS decision,
       e.actor  AS decided_by,
       e.at     AS decided_at
FROM lead_scoring.model_events e
WHERE e.event = 'decision'
ORDER BY e.model_name, e.id;
COMMENT ON VIEW lead_scoring.decisions IS 'lead_scoring: the decision log of each model (log_decision())';
GRANT SELECT ON lead_scoring.decisions TO PUBLIC;

CREATE FUNCTION lead_scoring."approve"(
	"model_name" TEXT,
	"version" INT,
	"reason" TEXT
) RETURNS jsonb
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'approve_wrapper';

CREATE FUNCTION lead_scoring."reject"(
	"model_name" TEXT,
	"version" INT,
	"reason" TEXT
) RETURNS jsonb
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'reject_wrapper';

CREATE FUNCTION lead_scoring."set_card"(
	"model_name" TEXT,
	"owner" TEXT DEFAULT NULL,
	"intended_use" TEXT DEFAULT NULL,
	"limitations" TEXT DEFAULT NULL
) RETURNS jsonb
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_card_wrapper';

CREATE FUNCTION lead_scoring."log_decision"(
	"model_name" TEXT,
	"decision" TEXT
) RETURNS bigint
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'log_decision_wrapper';
