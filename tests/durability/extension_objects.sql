-- Everything CREATE EXTENSION lead_scoring makes, one line per object and property, sorted, so
-- upgrade.sh can compare a database updated from 0.1.0 with a fresh install of the current
-- version and print the difference. Names only, never oids (they differ between databases).
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'lead_scoring'),
members AS (
  -- every member object, whatever its kind (functions, aggregates, tables, sequences, views,
  -- indexes' tables, types, casts ...)
  SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid) AS line
    FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
functions AS (
  -- signature, result, kind (function, aggregate, ...), volatility, strictness, parallel safety,
  -- security, the C symbol or a hash of the SQL/plpgsql body, settings (SET search_path ...),
  -- grants and comment
  SELECT format('function %s(%s) returns %s kind=%s volatile=%s strict=%s parallel=%s secdef=%s lang=%s body=%s config=%s acl=%s comment=%s',
                p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
                p.prokind, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef, l.lanname,
                CASE WHEN l.lanname = 'c' THEN p.prosrc ELSE md5(p.prosrc) END,
                coalesce(p.proconfig::text, 'none'), coalesce(p.proacl::text, 'default'), md5(coalesce(obj_description(p.oid, 'pg_proc'), ''))) AS line
    FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
   WHERE p.pronamespace = 'lead_scoring'::regnamespace
),
aggregates AS (
  SELECT format('aggregate %s(%s) sfunc=%s stype=%s combine=%s final=%s',
                p.proname, pg_get_function_identity_arguments(p.oid), a.aggtransfn::regproc,
                format_type(a.aggtranstype, NULL), a.aggcombinefn::regproc, a.aggfinalfn::regproc) AS line
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
   WHERE p.pronamespace = 'lead_scoring'::regnamespace
),
relations AS (
  SELECT format('relation %s kind=%s acl=%s comment=%s', c.relname, c.relkind,
                coalesce(c.relacl::text, 'default'), md5(coalesce(obj_description(c.oid, 'pg_class'), ''))) AS line
    FROM pg_class c WHERE c.relnamespace = 'lead_scoring'::regnamespace
),
columns AS (
  -- compression: '' is the server's default (pglz), 'l' lz4
  SELECT format('column %s.%s %s notnull=%s default=%s storage=%s compression=%s', c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''),
                a.attstorage, a.attcompression) AS line
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
   WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
),
constraints AS (
  SELECT format('constraint %s on %s: %s', co.conname, c.relname, pg_get_constraintdef(co.oid)) AS line
    FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
   WHERE c.relnamespace = 'lead_scoring'::regnamespace
),
indexes AS (
  SELECT format('index %s', pg_get_indexdef(i.indexrelid)) AS line
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'lead_scoring'::regnamespace
),
views AS (
  SELECT format('view %s: %s', c.relname, md5(pg_get_viewdef(c.oid))) AS line
    FROM pg_class c WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('v', 'm')
),
triggers AS (
  SELECT format('trigger %s on %s: %s', t.tgname, c.relname, pg_get_triggerdef(t.oid)) AS line
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = 'lead_scoring'::regnamespace AND NOT t.tgisinternal
),
dumped AS (
  -- the tables and sequences pg_dump keeps the rows of (pg_extension_config_dump)
  SELECT format('config dump %s where=%s', cfg.relid::regclass, coalesce(cfg.cond, '')) AS line
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS cfg(relid, cond) WHERE e.extname = 'lead_scoring'
),
schema AS (
  SELECT format('schema %s owner=%s acl=%s', n.nspname, n.nspowner::regrole, coalesce(n.nspacl::text, 'default')) AS line
    FROM pg_namespace n WHERE n.nspname = 'lead_scoring'
),
settings AS (
  -- the extension's settings, once its library is loaded (score() of nothing loads it)
  SELECT format('setting %s type=%s context=%s', s.name, s.vartype, s.context) AS line
    FROM pg_settings s WHERE s.name LIKE 'lead_scoring.%'
)
SELECT line FROM (
  SELECT line FROM members UNION ALL SELECT line FROM functions UNION ALL SELECT line FROM aggregates
  UNION ALL SELECT line FROM relations UNION ALL SELECT line FROM columns UNION ALL SELECT line FROM constraints
  UNION ALL SELECT line FROM indexes UNION ALL SELECT line FROM views UNION ALL SELECT line FROM triggers
  UNION ALL SELECT line FROM dumped UNION ALL SELECT line FROM schema UNION ALL SELECT line FROM settings
) all_lines ORDER BY line COLLATE "C";
