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

-- Prospective experiments (start_experiment, stop_experiment, experiment_report, experiment_draw,
-- the assigning trigger and the two catalog tables; sql/experiments.sql) and funnel().
CREATE TABLE experiments (
    name        text        PRIMARY KEY CHECK (name <> ''),
    model       text        NOT NULL,
    -- schema-qualified, as the trigger was created on it
    target      text        NOT NULL,
    key_column  text        NOT NULL,
    -- {"treatment": "model", "control": "random" | "model:NAME" | a numeric column}
    arms        jsonb       NOT NULL,
    -- share of new leads assigned to the treatment arm
    fraction    float8      NOT NULL CHECK (fraction > 0 AND fraction < 1),
    -- blind, sample_size, capacity, outcome, created_column, converted_at_column, value_column,
    -- arm_column, score_column
    options     jsonb       NOT NULL,
    sample_size bigint      CHECK (sample_size > 0),
    -- leads assigned so far, counted when sample_size is set
    assigned    bigint      NOT NULL DEFAULT 0,
    status      text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', 'stopped')),
    owner       name        NOT NULL DEFAULT current_user,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    stopped_at  timestamptz
);
COMMENT ON TABLE experiments IS 'lead_scoring: prospective A/B and blind tests of a model against a control routing';

-- Which arm each lead is in. Readable only by the experiment's owner (row-level security), so a
-- blind experiment's arms stay hidden from the reps who work the leads.
CREATE TABLE experiment_assignments (
    experiment   text        NOT NULL,
    lead_key     text        NOT NULL,
    arm          text        NOT NULL CHECK (arm IN ('treatment', 'control')),
    -- the score the lead was routed by (its arm's model score, rule score or random number)
    routed_score float8,
    owner        name        NOT NULL,
    assigned_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (experiment, lead_key)
);
COMMENT ON TABLE experiment_assignments IS 'lead_scoring: the arm of each lead of an experiment (visible to its owner only)';
ALTER TABLE experiment_assignments ENABLE ROW LEVEL SECURITY;
CREATE POLICY experiment_owner_reads ON experiment_assignments FOR SELECT USING (owner = current_user);

SELECT pg_catalog.pg_extension_config_dump('experiments', '');
SELECT pg_catalog.pg_extension_config_dump('experiment_assignments', '');

GRANT SELECT ON experiments, experiment_assignments TO PUBLIC;

-- A uniform number in [0, 1) from an experiment, a lead key and a salt: salt 0 chooses the arm
-- (treatment when below the fraction), salt 1 is the 'random' routing's score, salt 2 breaks ties
-- between equal routed scores in experiment_report(). The same inputs give the same number.
CREATE FUNCTION experiment_draw(experiment text, lead_key text, salt integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT (pg_catalog.hashtextextended(experiment || ':' || lead_key, salt) & 4294967295)::float8 / 4294967296.0 $$;

-- The row trigger start_experiment() installs (argument: the experiment's name). It runs as the
-- extension's owner so that reps inserting leads need no rights on the catalog tables, and with
-- a fixed search_path. A lead keeps its arm: the arm is a hash of experiment name and lead key,
-- and a key already assigned keeps its stored arm and score. Once the planned sample size is
-- reached the experiment is 'complete' and new leads get no arm.
CREATE FUNCTION experiment_assign_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e lead_scoring.experiments;
    row_json jsonb := pg_catalog.to_jsonb(NEW);
    key text;
    chosen text;
    routing text;
    routed float8;
    done boolean;
    output jsonb := '{}';
BEGIN
    SELECT * INTO e FROM lead_scoring.experiments x WHERE x.name OPERATOR(pg_catalog.=) TG_ARGV[0];
    IF NOT FOUND OR e.status OPERATOR(pg_catalog.<>) 'running' THEN
        RETURN NEW;
    END IF;
    key := row_json OPERATOR(pg_catalog.->>) e.key_column;
    IF key IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT a.arm, a.routed_score INTO chosen, routed FROM lead_scoring.experiment_assignments a
     WHERE a.experiment OPERATOR(pg_catalog.=) e.name AND a.lead_key OPERATOR(pg_catalog.=) key;
    IF NOT FOUND THEN
        -- The count towards the planned sample size (an experiment without one is not updated
        -- per lead: every update of a row in one transaction lengthens the chain the next walks).
        done := false;
        IF e.sample_size IS NOT NULL THEN
            UPDATE lead_scoring.experiments x SET assigned = x.assigned OPERATOR(pg_catalog.+) 1,
                   status = CASE WHEN x.assigned OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) x.sample_size
                                 THEN 'complete' ELSE x.status END
             WHERE x.name OPERATOR(pg_catalog.=) e.name AND x.status OPERATOR(pg_catalog.=) 'running'
            RETURNING x.status OPERATOR(pg_catalog.=) 'complete' INTO done;
            IF NOT FOUND THEN
                RETURN NEW;
            END IF;
        END IF;
        chosen := CASE WHEN lead_scoring.experiment_draw(e.name, key, 0) OPERATOR(pg_catalog.<) e.fraction
                       THEN 'treatment' ELSE 'control' END;
        routing := e.arms OPERATOR(pg_catalog.->>) chosen;
        routed := CASE WHEN routing OPERATOR(pg_catalog.=) 'model' THEN lead_scoring.score(e.model, NEW)
                       WHEN routing OPERATOR(pg_catalog.=) 'random' THEN lead_scoring.experiment_draw(e.name, key, 1)
                       WHEN pg_catalog.left(routing, 6) OPERATOR(pg_catalog.=) 'model:'
                       THEN lead_scoring.score(pg_catalog.substr(routing, 7), NEW)
                       ELSE (row_json OPERATOR(pg_catalog.->>) routing)::float8 END;
        INSERT INTO lead_scoring.experiment_assignments (experiment, lead_key, arm, routed_score, owner)
        VALUES (e.name, key, chosen, routed, e.owner);
        IF done THEN
            RAISE NOTICE 'experiment "%" reached its planned sample size of % leads: it is complete, new leads get no arm',
                e.name, e.sample_size;
        END IF;
    END IF;
    IF e.options OPERATOR(pg_catalog.?) 'arm_column' THEN
        output := output OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(e.options OPERATOR(pg_catalog.->>) 'arm_column', chosen);
    END IF;
    IF e.options OPERATOR(pg_catalog.?) 'score_column' THEN
        output := output OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(e.options OPERATOR(pg_catalog.->>) 'score_column', routed);
    END IF;
    IF output OPERATOR(pg_catalog.<>) '{}' THEN
        NEW := pg_catalog.jsonb_populate_record(NEW, output);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION experiment_assign_row() IS
  'The trigger lead_scoring.start_experiment() installs: assigns each new lead of the target table to an arm.';

CREATE FUNCTION lead_scoring."experiment_report"(
	"name" TEXT /* Option < & str > */
) RETURNS TABLE (
	"arm" TEXT,  /* String */
	"routing" TEXT,  /* String */
	"leads" bigint,  /* i64 */
	"worked" bigint,  /* i64 */
	"conversions" bigint,  /* i64 */
	"conversion_rate" double precision,  /* Option < f64 > */
	"rate_low" double precision,  /* Option < f64 > */
	"rate_high" double precision,  /* Option < f64 > */
	"median_days_to_conversion" double precision,  /* Option < f64 > */
	"mean_deal_value" double precision,  /* Option < f64 > */
	"total_deal_value" double precision,  /* Option < f64 > */
	"difference" double precision,  /* Option < f64 > */
	"difference_low" double precision,  /* Option < f64 > */
	"difference_high" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"test" TEXT,  /* Option < String > */
	"verdict" TEXT  /* Option < String > */
)
STABLE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'experiment_report_wrapper';

CREATE FUNCTION lead_scoring."funnel"(
	"source" TEXT, /* Option < & str > */
	"tier" TEXT DEFAULT NULL, /* Option < & str > */
	"period" TEXT DEFAULT 'month', /* Option < & str > */
	"cost_per_lead" double precision DEFAULT NULL, /* Option < f64 > */
	"options" jsonb DEFAULT '{}' /* Option < pgrx :: JsonB > */
) RETURNS TABLE (
	"period" date,  /* Option < pgrx :: datum :: Date > */
	"tier" TEXT,  /* Option < String > */
	"leads" bigint,  /* i64 */
	"mqls" bigint,  /* Option < i64 > */
	"sqls" bigint,  /* Option < i64 > */
	"conversions" bigint,  /* i64 */
	"conversion_rate" double precision,  /* Option < f64 > */
	"mql_to_sql_rate" double precision,  /* Option < f64 > */
	"median_days_to_conversion" double precision,  /* Option < f64 > */
	"deal_velocity" double precision,  /* Option < f64 > */
	"sales_acceptance_rate" double precision,  /* Option < f64 > */
	"cost_per_qualified_lead" double precision  /* Option < f64 > */
)
STABLE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'funnel_wrapper';

CREATE FUNCTION lead_scoring."start_experiment"(
	"name" TEXT, /* Option < & str > */
	"model_name" TEXT, /* Option < & str > */
	"target" regclass, /* Option < PgRelation > */
	"arms" TEXT[] DEFAULT ARRAY['model', 'random'], /* :: std :: option :: Option < Vec < Option < String > > > */
	"fraction" double precision DEFAULT 0.5, /* Option < f64 > */
	"options" jsonb DEFAULT '{}' /* Option < JsonB > */
) RETURNS jsonb /* JsonB */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'start_experiment_wrapper';

CREATE FUNCTION lead_scoring."stop_experiment"(
	"name" TEXT /* Option < & str > */
) RETURNS jsonb /* JsonB */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'stop_experiment_wrapper';
-- Citus: the catalog tables as reference tables, so scoring on the workers finds the models.
CREATE FUNCTION lead_scoring."distribute_catalog"() RETURNS jsonb
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'distribute_catalog_wrapper';

-- Reproducibility: each version's lead keys per part (sorted 64-bit hashes), and split_of().
ALTER TABLE lead_scoring.models ADD COLUMN split_keys bytea;
CREATE FUNCTION lead_scoring."split_of"("model" TEXT, "key" TEXT, "version" INT DEFAULT NULL) RETURNS TEXT
STABLE PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'split_of_wrapper';
CREATE FUNCTION lead_scoring."split_of"("model" TEXT, "key" anyelement, "version" INT DEFAULT NULL) RETURNS TEXT
STABLE PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'split_of_any_wrapper';
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

-- report() gains the funnel argument (a Funnel section from funnel() over a CRM source); it
-- reads that source, so it is no longer PARALLEL SAFE.
DROP FUNCTION lead_scoring."report"(TEXT);
CREATE FUNCTION lead_scoring."report"(
	"model_name" TEXT,
	"funnel" jsonb DEFAULT NULL
) RETURNS TEXT
STABLE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'report_wrapper';

-- Value-based scoring (README "Value-based scoring"): expected_value() and expected_value_tier()
-- (a conversion model's probability x a regression model's predicted deal value), and
-- optimal_threshold()'s value_model argument (its threshold column is NULL with it) and its
-- segment argument (a threshold on one segment's validation leads).
-- options.task 'regression' and options.value_tiers are train() options: no DDL.
CREATE FUNCTION lead_scoring."expected_value"(
	"model_name" TEXT,
	"value_model" TEXT,
	"lead" anyelement
) RETURNS double precision
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'expected_value_wrapper';

CREATE FUNCTION lead_scoring."expected_value"(
	"model_name" TEXT,
	"value_model" TEXT,
	"lead" jsonb
) RETURNS double precision
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'expected_value_jsonb_wrapper';

CREATE FUNCTION lead_scoring."expected_value_tier"(
	"model_name" TEXT,
	"value_model" TEXT,
	"lead" anyelement,
	"tiers" jsonb
) RETURNS TEXT
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'expected_value_tier_wrapper';

CREATE FUNCTION lead_scoring."expected_value_tier"(
	"model_name" TEXT,
	"value_model" TEXT,
	"lead" jsonb,
	"tiers" jsonb
) RETURNS TEXT
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'expected_value_tier_jsonb_wrapper';

-- expected_value() on a table row gets the row's columns (score_support), as score() does.
CREATE FUNCTION lead_scoring.expected_value_fields(model_name text, value_model text, row_type regtype, VARIADIC columns "any") RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_expected_value_fields' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.expected_value_fields(text, text, regtype, "any") IS
  'expected_value(model, value_model, l) with the row given as its columns: what the planner rewrites expected_value(model, value_model, l) to.';
COMMENT ON FUNCTION lead_scoring.score_support(internal) IS
  'Planner support of score, tier, score_100 and expected_value: passes a table row as its columns instead of forming the whole row.';
ALTER FUNCTION lead_scoring.expected_value(text, text, anyelement) SUPPORT lead_scoring.score_support;

DROP FUNCTION lead_scoring.optimal_threshold(text, text, double precision, double precision, double precision);
CREATE FUNCTION lead_scoring."optimal_threshold"(
	"model_name" TEXT,
	"method" TEXT,
	"deal_value" double precision DEFAULT NULL,
	"cost_per_lead" double precision DEFAULT NULL,
	"precision_at_least" double precision DEFAULT NULL,
	"value_model" TEXT DEFAULT NULL,
	"segment" TEXT DEFAULT NULL
) RETURNS TABLE (
	"model" TEXT,
	"method" TEXT,
	"threshold" double precision,
	"precision" double precision,
	"recall" double precision,
	"f1" double precision,
	"share_pursued" double precision,
	"expected_profit_per_1000" double precision,
	"realized_profit_per_1000" double precision
)
STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'optimal_threshold_wrapper';

-- set_tiers() gains the segment argument: the tiers of one segment's model of a version trained
-- with options.segment_tiers.
DROP FUNCTION lead_scoring."set_tiers"(TEXT, jsonb, TEXT);
CREATE FUNCTION lead_scoring."set_tiers"(
	"model_name" TEXT,
	"tiers" jsonb,
	"reason" TEXT DEFAULT NULL,
	"segment" TEXT DEFAULT NULL
) RETURNS jsonb
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'set_tiers_wrapper';
-- roc_auc, pr_auc and ks_statistic keep the count of positive and negative rows per distinct
-- score in a score_counts value instead of every pair in an internal state, so Citus can run
-- them as partial aggregates per shard. CREATE OR REPLACE keeps the aggregates' oids, so views
-- and functions that call them keep working; the 0.1.0 final functions are then unused.
CREATE TYPE score_counts;
CREATE FUNCTION score_counts_in(cstring) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION score_counts_out(score_counts) RETURNS cstring
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE score_counts (
    INPUT = score_counts_in, OUTPUT = score_counts_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain);
COMMENT ON TYPE score_counts IS
  'State of roc_auc, pr_auc and ks_statistic: the count of positive and negative rows per distinct score.';
CREATE FUNCTION score_counts_accum(state score_counts, score float8, label boolean) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION score_counts_accum(state score_counts, score float8, label bigint) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_accum_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION score_counts_combine(a score_counts, b score_counts) RETURNS score_counts
  AS 'MODULE_PATHNAME', 'lead_scoring_score_counts_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION roc_auc_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_roc_auc_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pr_auc_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_pr_auc_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ks_statistic_counts_final(state score_counts) RETURNS float8
  AS 'MODULE_PATHNAME', 'lead_scoring_ks_statistic_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE roc_auc(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = roc_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE roc_auc(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = roc_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE pr_auc(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = pr_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE pr_auc(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = pr_auc_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE ks_statistic(score float8, label boolean) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = ks_statistic_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE ks_statistic(score float8, label bigint) (
    SFUNC = score_counts_accum, STYPE = score_counts, FINALFUNC = ks_statistic_counts_final,
    COMBINEFUNC = score_counts_combine, PARALLEL = SAFE);
DROP FUNCTION roc_auc_final(internal);
DROP FUNCTION pr_auc_final(internal);
DROP FUNCTION ks_statistic_final(internal);

-- Binary columns compressed with lz4 where the server has it (see catalog.sql); rows stored
-- before keep their pglz compression and read as before.
DO $lz4$
BEGIN
    ALTER TABLE lead_scoring.models ALTER COLUMN artifact SET COMPRESSION lz4,
                                    ALTER COLUMN validation_predictions SET COMPRESSION lz4,
                                    ALTER COLUMN split_keys SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$lz4$;
