//! SQL for the row-shape matrix (row_shapes.rs): the training data, the lead values every shape
//! is built from, the helpers that fill a shape, build its plain-typed reference, and compare.

/// Training data with a planted signal over a numeric, a money, a text (one level longer than
/// a TOAST threshold), a boolean and a date feature; the lead values (`rs_values`, 29 rows with
/// NULL in every position, an all-NULL row, compressible and incompressible text over 2 kB,
/// numerics of 24 digits and 1e-130); the domains and the helper functions.
pub const SETUP: &str = r#"
SET LOCAL timezone = 'UTC';
SELECT setseed(0.31);
CREATE TABLE rs_train AS
SELECT v.*, random() < 1 / (1 + exp(-(-2.0 + 0.4 * coalesce(v.visits, 3)
        + CASE v.source WHEN 'Reference' THEN 1.5 WHEN 'Partner' || repeat('-', 3000) THEN 1.0 ELSE 0 END
        + CASE WHEN v.opted_in THEN 0.4 ELSE 0 END - 0.002 * coalesce(v.amount, 0)::float8))) AS converted
  FROM (SELECT i AS id, CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 10)::int END AS visits,
               round((random() * 500)::numeric, 2) AS amount,
               (ARRAY['Google', 'Reference', 'Olark Chat', 'Partner' || repeat('-', 3000)])[1 + floor(random() * 4)::int] AS source,
               random() < 0.5 AS opted_in,
               date '2024-01-01' + floor(random() * 365)::int AS signup
          FROM generate_series(1, 600) AS i) AS v;
CREATE TABLE rs_values AS
SELECT i AS id,
       CASE WHEN i % 7 = 1 THEN NULL ELSE (i * 3) % 11 END AS visits,
       CASE WHEN i % 7 = 2 THEN NULL WHEN i % 5 = 0 THEN 1e-130 WHEN i % 5 = 1 THEN 123456.789012345678901234
            ELSE round(i * 17.25::numeric, 2) END AS amount,
       CASE WHEN i % 7 = 3 THEN NULL
            ELSE (ARRAY['Google', 'Reference', 'Olark Chat', 'Partner' || repeat('-', 3000), 'Google  ',
                        (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 80) g),
                        repeat((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 80) g), 4)])[1 + i % 7] END AS source,
       CASE WHEN i % 7 = 4 THEN NULL ELSE i % 2 = 0 END AS opted_in,
       CASE WHEN i % 7 = 5 THEN NULL ELSE date '2024-01-01' + i * 9 END AS signup
  FROM generate_series(1, 28) AS i
UNION ALL SELECT 29, NULL, NULL, NULL, NULL, NULL;
CREATE VIEW rs_values_view AS SELECT signup, id, visits, amount, source, opted_in FROM rs_values;
CREATE DOMAIN rs_count AS int CHECK (VALUE >= 0);
CREATE DOMAIN rs_money AS numeric;
CREATE DOMAIN rs_label AS text;
CREATE DOMAIN rs_flag AS boolean;
CREATE DOMAIN rs_day AS date;
CREATE DOMAIN rs_big AS bigint;
CREATE DOMAIN rs_real AS double precision;
CREATE DOMAIN rs_padded AS character(10);
CREATE DOMAIN rs_moment AS timestamptz;
CREATE TYPE rs_permuted_row AS (signup date, opted_in boolean, source text, amount numeric, visits int, id int);
CREATE FUNCTION rs_lead_sql(int) RETURNS rs_permuted_row LANGUAGE sql STABLE
  AS 'SELECT signup, opted_in, source, amount, visits, id FROM rs_values WHERE id = $1';
CREATE FUNCTION rs_lead_plpgsql(k int) RETURNS rs_permuted_row LANGUAGE plpgsql STABLE AS $$
DECLARE r rs_permuted_row;
BEGIN
  SELECT signup, opted_in, source, amount, visits, id INTO r FROM rs_values WHERE id = k;
  RETURN r;
END $$;

-- The plain type a shape's column is compared as: numbers float8, strings text, the rest their base type.
CREATE FUNCTION rs_plain_type(t oid) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE b.typcategory WHEN 'N' THEN 'double precision' WHEN 'S' THEN 'text' ELSE format_type(b.oid, NULL) END
    FROM pg_type d JOIN pg_type b ON b.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
   WHERE d.oid = t $$;

-- The lead columns of a relation that rs_fill writes (generated columns are computed).
CREATE FUNCTION rs_lead_columns(t regclass) RETURNS TABLE (attname name, atttypid oid, atttypmod int, attgenerated "char")
LANGUAGE sql STABLE AS $$
  SELECT attname, atttypid, atttypmod, attgenerated FROM pg_attribute
   WHERE attrelid = t AND attnum > 0 AND NOT attisdropped
     AND attname IN ('id', 'visits', 'amount', 'amount_base', 'source', 'opted_in', 'signup')
   ORDER BY attnum $$;

-- Inserts rs_values (ids moved by id_offset) into t, each value cast to the column's type.
CREATE FUNCTION rs_fill(t regclass, id_offset int, filter text DEFAULT 'true') RETURNS void LANGUAGE plpgsql AS $$
DECLARE cols text; exprs text;
BEGIN
  SELECT string_agg(quote_ident(c.attname), ', '),
         string_agg(format('(%s)::%s', CASE c.attname WHEN 'id' THEN 'v.id + ' || id_offset WHEN 'amount_base' THEN 'v.amount'
                                       ELSE 'v.' || quote_ident(c.attname) END, format_type(c.atttypid, c.atttypmod)), ', ')
    INTO cols, exprs FROM rs_lead_columns(t) c WHERE c.attgenerated = '';
  EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM rs_values v WHERE %s', t, cols, exprs, filter);
END $$;

-- COPY FROM a file of rs_values (ids moved by id_offset) into t: the path COPY FROM STDIN takes.
CREATE FUNCTION rs_copy(t regclass, id_offset int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE cols text; exprs text; path text := '/tmp/lead_scoring_row_shapes_' || pg_backend_pid() || '_' || t::oid;
BEGIN
  SELECT string_agg(quote_ident(c.attname), ', '),
         string_agg(format('(%s)::%s', CASE c.attname WHEN 'id' THEN 'v.id + ' || id_offset WHEN 'amount_base' THEN 'v.amount'
                                       ELSE 'v.' || quote_ident(c.attname) END, format_type(c.atttypid, c.atttypmod)), ', ')
    INTO cols, exprs FROM rs_lead_columns(t) c WHERE c.attgenerated = '';
  EXECUTE format('COPY (SELECT %s FROM rs_values v) TO %L', exprs, path);
  EXECUTE format('COPY %s (%s) FROM %L', t, cols, path);
END $$;

-- A plain-typed table with the same values as the shape relation.
CREATE FUNCTION rs_reference(shape regclass, ref text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE exprs text;
BEGIN
  SELECT string_agg(format('%I::%s AS %I', c.attname, CASE c.attname WHEN 'id' THEN 'int' ELSE rs_plain_type(c.atttypid) END,
                            c.attname), ', ')
    INTO exprs FROM rs_lead_columns(shape) c WHERE c.attname <> 'amount_base';
  EXECUTE format('CREATE TABLE %I AS SELECT %s FROM %s', ref, exprs, shape);
END $$;

-- Rows compared and rows that differ between two (key, value) queries, matched by key.
CREATE FUNCTION rs_compare(shape_query text, ref_query text, OUT compared int, OUT mismatched int) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT count(*)::int, (count(*) FILTER (WHERE a.v IS DISTINCT FROM b.v))::int
                    FROM (%s) AS a (k, v) FULL JOIN (%s) AS b (k, v) ON a.k = b.k', shape_query, ref_query)
    INTO compared, mismatched;
END $$;

-- What a statement gives: its one value, or the class of its error.
CREATE FUNCTION rs_outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE q INTO r;
  RETURN 'ok ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN 'error class ' || left(SQLSTATE, 2);
END $$;

-- An attached table's stored score and tier against score() and tier() of the same row.
CREATE FUNCTION rs_attached(t regclass, m text, score_column text, tier_column text,
                            OUT checked int, OUT mismatched int, OUT unscored int) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SELECT count(*)::int,
                         (count(*) FILTER (WHERE float8send(x.%I) IS DISTINCT FROM float8send(lead_scoring.score(%L, x))
                                              OR x.%I IS DISTINCT FROM lead_scoring.tier(%L, x)))::int,
                         (count(*) FILTER (WHERE x.%I IS NULL))::int FROM %s x',
                 score_column, m, tier_column, m, score_column, t)
    INTO checked, mismatched, unscored;
END $$;
"#;
