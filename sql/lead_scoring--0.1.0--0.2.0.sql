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

-- Citus: the catalog tables as reference tables, so scoring on the workers finds the models.
CREATE FUNCTION lead_scoring."distribute_catalog"() RETURNS jsonb
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'distribute_catalog_wrapper';
