-- lead_scoring monitoring: one row per monitor() run (README "monitor"). The report reads the
-- latest rows per model; registered with pg_extension_config_dump so pg_dump keeps the history.

CREATE TABLE monitoring (
    id             bigserial   PRIMARY KEY,
    model_name     text        NOT NULL,
    version        integer     NOT NULL,
    source         text        NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    rows           bigint      NOT NULL,
    positives      bigint      NOT NULL,
    -- ROC AUC, PR AUC, precision/recall/F1 at the threshold, calibration error, conversion per
    -- tier, and vs_baseline: each compared metric with its baseline and relative change
    metrics        jsonb       NOT NULL,
    -- the model's test metrics (metrics->'test' in models)
    baseline       jsonb       NOT NULL,
    drift          jsonb       NOT NULL /* array of {feature, psi, status, detail} */,
    status         text        NOT NULL CHECK (status IN ('ok','warn','alert')),
    recommendation text        NOT NULL,
    checked_by     name        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE monitoring IS 'lead_scoring: performance and drift checks of deployed models (monitor())';
CREATE INDEX monitoring_by_model ON monitoring (model_name, checked_at);

SELECT pg_catalog.pg_extension_config_dump('monitoring', '');
SELECT pg_catalog.pg_extension_config_dump('monitoring_id_seq', '');

-- Everyone may read the history; running monitor() writes a row, so it needs INSERT on
-- monitoring and USAGE on its sequence, granted explicitly (README "Roles and grants").
GRANT SELECT ON monitoring TO PUBLIC;
