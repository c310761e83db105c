-- lead_scoring catalog: trained model versions and their event log.
-- Both tables are registered with pg_extension_config_dump so pg_dump keeps models and history.

CREATE TABLE models (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL CHECK (name <> '' AND position('@' IN name) = 0),
    version      integer     NOT NULL CHECK (version > 0),
    algorithm    text        NOT NULL,
    label        text        NOT NULL,
    positive_label text,
    source       text        NOT NULL,
    -- one element per source column: name, kind and fitted preprocessing
    features     jsonb       NOT NULL,
    options      jsonb       NOT NULL,
    split        jsonb       NOT NULL,
    -- rows and positives per part, class weights, convergence
    training     jsonb       NOT NULL,
    -- {"train": {...}, "validation": {...}, "test": {...}}
    metrics      jsonb       NOT NULL,
    threshold    float8      NOT NULL CHECK (threshold >= 0 AND threshold <= 1),
    tiers        jsonb       NOT NULL,
    -- versioned envelope (magic, format version, checksum, bincode body)
    artifact     bytea       NOT NULL,
    -- the validation part's (probability, label) pairs, for choosing thresholds later
    validation_predictions bytea NOT NULL,
    -- global feature importance (mean |SHAP| on the validation part), computed at training
    importance   jsonb       NOT NULL DEFAULT '[]',
    -- reference distributions for drift(): per feature on the training part, the score on validation
    reference    jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   name        NOT NULL DEFAULT current_user,
    deployed     boolean     NOT NULL DEFAULT false,
    -- set by retire(): a retired version cannot be deployed or scored by version
    retired_at   timestamptz,
    -- which part each lead was in: per part the sorted 64-bit hashes of the lead keys' text
    -- (see core/src/data/lead_keys.rs); NULL when trained without a lead key; read by split_of().
    split_keys   bytea,
    -- options.deploy = 'approval': 'pending' until approve() or reject(); NULL otherwise
    approval     text CHECK (approval IN ('pending', 'approved', 'rejected')),
    CHECK (NOT (deployed AND retired_at IS NOT NULL)),
    UNIQUE (name, version)
);
COMMENT ON TABLE models IS 'lead_scoring: one row per trained model version';

-- The binary columns are compressed with lz4 where the server was built with it (pglz
-- otherwise): a 300-tree gbm artifact is about 1 MB of model text, which pglz took 47 ms to
-- store per training (to 68%) and lz4 8 ms (to 81%); the predictions and key hashes barely
-- compress at all, and lz4 finds that out faster.
DO $lz4$
BEGIN
    ALTER TABLE models ALTER COLUMN artifact SET COMPRESSION lz4,
                       ALTER COLUMN validation_predictions SET COMPRESSION lz4,
                       ALTER COLUMN split_keys SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$lz4$;

-- At most one deployed version per model name.
CREATE UNIQUE INDEX models_one_deployed_per_name ON models (name) WHERE deployed;

CREATE TABLE model_events (
    id          bigserial   PRIMARY KEY,
    model_name  text        NOT NULL,
    version     integer,
    event       text        NOT NULL CHECK (event IN ('trained', 'deployed', 'undeployed', 'retired', 'tiers_changed', 'threshold_changed',
                                                 'rolled_back', 'deploy_decision', 'attached', 'detached',
                                                 'scheduled', 'unscheduled', 'approved', 'rejected', 'card_changed',
                                                 'decision')),
    detail      jsonb       NOT NULL DEFAULT '{}',
    reason      text,
    actor       name        NOT NULL DEFAULT current_user,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE model_events IS 'lead_scoring: append-only log of who trained or deployed what, when and why';
CREATE INDEX model_events_by_model ON model_events (model_name, at);

-- Rep feedback on individual leads (lead_scoring.flag()): the label a rep says is right.
-- Retraining with options.use_feedback applies the latest flag per lead key.
CREATE TABLE lead_feedback (
    id            bigserial   PRIMARY KEY,
    model_name    text        NOT NULL,
    lead_key      text        NOT NULL,
    correct_label boolean     NOT NULL,
    note          text,
    flagged_by    name        NOT NULL DEFAULT current_user,
    flagged_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE lead_feedback IS 'lead_scoring: rep feedback (the correct label of a lead) for retraining';
CREATE INDEX lead_feedback_by_key ON lead_feedback (model_name, lead_key, id);

SELECT pg_catalog.pg_extension_config_dump('lead_feedback', '');
SELECT pg_catalog.pg_extension_config_dump('lead_feedback_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('models', '');
SELECT pg_catalog.pg_extension_config_dump('models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('model_events', '');
SELECT pg_catalog.pg_extension_config_dump('model_events_id_seq', '');

-- For BI tools: one row per model version with its headline numbers.
CREATE VIEW model_overview AS
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
FROM models m
ORDER BY m.name, m.version;
COMMENT ON VIEW model_overview IS 'lead_scoring: model names, versions, algorithm, deployed flag and test metrics';

-- The decision log (log_decision()): free-form decisions about a model or one of its versions,
-- with who wrote them and when.
CREATE VIEW decisions AS
SELECT e.id,
       e.model_name,
       e.version,
       e.reason AS decision,
       e.actor  AS decided_by,
       e.at     AS decided_at
FROM model_events e
WHERE e.event = 'decision'
ORDER BY e.model_name, e.id;
COMMENT ON VIEW decisions IS 'lead_scoring: the decision log of each model (log_decision())';

-- Security (README "Roles and grants"): every role may use the schema, score with any model
-- (which reads models) and read the overview and the event log; changing models (train, deploy,
-- rollback, retire, set_tiers) needs INSERT/UPDATE on the catalog, granted explicitly to admins.
-- Reps may record feedback with flag().
GRANT USAGE ON SCHEMA lead_scoring TO PUBLIC;
GRANT SELECT ON models, model_events, model_overview, decisions, lead_feedback TO PUBLIC;
GRANT INSERT ON lead_feedback TO PUBLIC;
GRANT USAGE ON SEQUENCE lead_feedback_id_seq TO PUBLIC;
