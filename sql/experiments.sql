-- lead_scoring prospective experiments (README "Prospective experiments"): start_experiment()
-- writes one row in experiments and installs a row trigger on the target table; the trigger
-- assigns each new lead to an arm in experiment_assignments. Both registered with
-- pg_extension_config_dump so pg_dump keeps running experiments.

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
