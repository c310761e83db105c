//! The row-shape matrix: every way a lead's row reaches score(), tier(), score_100(), explain(),
//! top_reasons() and the attach() trigger (dropped and added columns, TOAST, domains, char(n),
//! partitions, inheritance, generated and permuted columns, wide rows, VALUES, ROW(), function
//! results, the nullable side of an outer join) gives bit for bit what score() gives on the same
//! values cast to plain types. The SQL helpers are in row_shapes_sql.rs.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::row_shapes_sql::SETUP;

    const MODELS: [&str; 2] = ["rs_logit", "rs_gbm"];
    const LEAD_COLUMNS: &str = "id int, visits int, amount numeric, source text, opted_in boolean, signup date";

    /// A relation shape: SQL that creates and fills `{t}`, and whether attach() can go on it.
    struct TableShape {
        name: &'static str,
        build: String,
        attachable: bool,
    }

    fn table(name: &'static str, build: &str, attachable: bool) -> TableShape {
        TableShape { name, build: build.to_string(), attachable }
    }

    fn setup() {
        Spi::run(SETUP).unwrap();
        let features = "ARRAY['visits', 'amount', 'source', 'opted_in', 'signup']";
        Spi::run(&format!("SELECT * FROM lead_scoring.train('rs_logit', 'rs_train', 'converted', {features})")).unwrap();
        Spi::run(&format!(
            "SELECT * FROM lead_scoring.train('rs_gbm', 'rs_train', 'converted', {features}, 'gbm', '{{\"trees\": 30, \"threads\": 1}}')"
        ))
        .unwrap();
    }

    fn wide_columns(count: usize, start: usize) -> String {
        (start..start + count)
            .map(|i| match i % 4 {
                0 => format!("pad{i} text DEFAULT 'filler {i}'"),
                1 => format!("pad{i} smallint DEFAULT {}", i % 300),
                2 => format!("pad{i} double precision"),
                _ => format!("pad{i} numeric DEFAULT 1.5"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn table_shapes() -> Vec<TableShape> {
        let fill = "SELECT rs_fill('{t}', 0);";
        vec![
            table("plain", &format!("CREATE TABLE {{t}} ({LEAD_COLUMNS}); {fill}"), true),
            table(
                "dropped",
                &format!(
                    "CREATE TABLE {{t}} (gone1 text DEFAULT repeat('g', 300), id int, gone2 float8 DEFAULT 2.5, visits int,
                                         source text, gone3 numeric DEFAULT 7, amount numeric, opted_in boolean,
                                         gone4 smallint DEFAULT 3, signup date);
                     {fill}
                     ALTER TABLE {{t}} DROP COLUMN gone1, DROP COLUMN gone2, DROP COLUMN gone3, DROP COLUMN gone4;"
                ),
                true,
            ),
            table(
                "added_with_defaults",
                "CREATE TABLE {t} (id int, visits int);
                 SELECT rs_fill('{t}', 0);
                 ALTER TABLE {t} ADD COLUMN source text DEFAULT 'Reference', ADD COLUMN amount numeric DEFAULT 99.5,
                                 ADD COLUMN opted_in boolean DEFAULT true, ADD COLUMN signup date DEFAULT date '2024-06-01';
                 UPDATE {t} SET source = v.source, amount = v.amount, opted_in = v.opted_in, signup = v.signup
                   FROM rs_values v WHERE v.id = {t}.id AND {t}.id % 2 = 0;",
                true,
            ),
            table(
                "storage_external",
                &format!("CREATE TABLE {{t}} ({LEAD_COLUMNS}); ALTER TABLE {{t}} ALTER COLUMN source SET STORAGE EXTERNAL; {fill}"),
                true,
            ),
            table(
                "storage_main",
                &format!("CREATE TABLE {{t}} ({LEAD_COLUMNS}); ALTER TABLE {{t}} ALTER COLUMN source SET STORAGE MAIN; {fill}"),
                true,
            ),
            table(
                "int8_int2_float8_varchar_timestamp",
                &format!(
                    "CREATE TABLE {{t}} (id bigint, visits smallint, amount double precision, source varchar, opted_in boolean,
                                         signup timestamp); {fill}"
                ),
                true,
            ),
            table(
                "float4_numeric_1000_500_timestamptz",
                &format!(
                    "CREATE TABLE {{t}} (id int, visits real, amount numeric(1000, 500), source varchar(5000), opted_in boolean,
                                         signup timestamptz); {fill}"
                ),
                true,
            ),
            table(
                "bigint_char_n",
                &format!(
                    "CREATE TABLE {{t}} (id int, visits bigint, amount double precision, source character(12), opted_in boolean,
                                         signup date); {fill}"
                ),
                true,
            ),
            table(
                "char_4000",
                &format!("CREATE TABLE {{t}} (id int, visits int, amount numeric, source character(4000), opted_in boolean, signup date); {fill}"),
                true,
            ),
            table(
                "domains",
                &format!(
                    "CREATE TABLE {{t}} (id int, visits rs_count, amount rs_money, source rs_label, opted_in rs_flag, signup rs_day); {fill}"
                ),
                true,
            ),
            table(
                "domains_padded",
                &format!(
                    "CREATE TABLE {{t}} (id int, visits rs_big, amount rs_real, source rs_padded, opted_in boolean, signup rs_moment); {fill}"
                ),
                true,
            ),
            table(
                "partitioned",
                &format!(
                    "CREATE TABLE {{t}} ({LEAD_COLUMNS}) PARTITION BY RANGE (id);
                     CREATE TABLE {{t}}_low PARTITION OF {{t}} FOR VALUES FROM (MINVALUE) TO (15);
                     CREATE TABLE {{t}}_high (junk text, signup date, opted_in boolean, source text, amount numeric, visits int, id int);
                     ALTER TABLE {{t}}_high DROP COLUMN junk;
                     ALTER TABLE {{t}} ATTACH PARTITION {{t}}_high FOR VALUES FROM (15) TO (MAXVALUE);
                     {fill}"
                ),
                true,
            ),
            table(
                "inheritance",
                &format!(
                    "CREATE TABLE {{t}} ({LEAD_COLUMNS});
                     CREATE TABLE {{t}}_child (extra text DEFAULT 'child', signup date, source text, id int, amount numeric,
                                               opted_in boolean, visits int);
                     ALTER TABLE {{t}}_child INHERIT {{t}};
                     SELECT rs_fill('{{t}}', 0, 'v.id % 2 = 1');
                     SELECT rs_fill('{{t}}_child', 0, 'v.id % 2 = 0');"
                ),
                false,
            ),
            table(
                "generated",
                "CREATE TABLE {t} (id int, visits int, amount_base numeric,
                                   amount numeric GENERATED ALWAYS AS (amount_base * 1) STORED,
                                   source text, opted_in boolean, signup date);
                 SELECT rs_fill('{t}', 0);",
                false,
            ),
            table(
                "permuted",
                "CREATE TABLE {t} (signup date, opted_in boolean, source text, amount numeric, visits int, id int);
                 SELECT rs_fill('{t}', 0);",
                true,
            ),
            table(
                "wide_120",
                &format!(
                    "CREATE TABLE {{t}} (id int, {}, visits int, {}, amount numeric, source text, {}, opted_in boolean, signup date, {});
                     {fill}",
                    wide_columns(40, 0),
                    wide_columns(40, 40),
                    wide_columns(20, 80),
                    wide_columns(15, 100)
                ),
                true,
            ),
            table(
                "wide_1500",
                &format!(
                    "CREATE TABLE {{t}} (id int, {}, visits int, amount numeric, {}, source text, opted_in boolean, signup date);
                     {fill}",
                    (0..1400).map(|i| format!("p{i} smallint DEFAULT {}", i % 7)).collect::<Vec<_>>().join(", "),
                    (0..90).map(|i| format!("q{i} int")).collect::<Vec<_>>().join(", ")
                ),
                true,
            ),
            table(
                "view",
                &format!(
                    "CREATE TABLE {{t}}_base ({LEAD_COLUMNS}); SELECT rs_fill('{{t}}_base', 0);
                     CREATE VIEW {{t}} AS SELECT signup, id, visits::bigint AS visits, amount, source, opted_in FROM {{t}}_base;"
                ),
                false,
            ),
            table("materialized_view", "CREATE MATERIALIZED VIEW {t} AS SELECT * FROM rs_values;", false),
        ]
    }

    /// A way a lead reaches the functions: FROM clause, key, lead expression; and the same for the reference.
    struct Shape {
        name: String,
        from: String,
        key: String,
        lead: String,
        ref_from: String,
        ref_key: String,
        ref_lead: String,
    }

    fn expression_shapes() -> Vec<Shape> {
        let values_list = Spi::get_one::<String>(
            "SELECT string_agg(format('(%s, %s::int, %s::numeric, %s::text, %s::boolean, %s::date)', id, quote_nullable(visits),
                    quote_nullable(amount), quote_nullable(source), quote_nullable(opted_in), quote_nullable(signup)), ', ')
               FROM rs_values",
        )
        .unwrap()
        .unwrap();
        let on_values = |name: &str, from: &str, key: &str, lead: &str| Shape {
            name: name.into(),
            from: from.into(),
            key: key.into(),
            lead: lead.into(),
            ref_from: "rs_ref_values r".into(),
            ref_key: "r.id".into(),
            ref_lead: "r".into(),
        };
        let permuted_row = "ROW(v.signup, v.opted_in, v.source, v.amount, v.visits, v.id)::rs_permuted_row";
        let outer = |name: &str, relation: &str| Shape {
            name: name.into(),
            from: format!("generate_series(1, 29) AS i (id) LEFT JOIN {relation} s ON s.id = i.id AND s.id % 3 <> 0"),
            key: "i.id".into(),
            lead: "s".into(),
            ref_from: "generate_series(1, 29) AS i (id) LEFT JOIN rs_ref_values r ON r.id = i.id AND r.id % 3 <> 0".into(),
            ref_key: "i.id".into(),
            ref_lead: "r".into(),
        };
        vec![
            on_values(
                "values_list",
                &format!("(VALUES {values_list}) AS s (id, visits, amount, source, opted_in, signup)"),
                "s.id",
                "s",
            ),
            on_values("subquery", "(SELECT * FROM rs_values OFFSET 0) AS s", "s.id", "s"),
            on_values("row_expression", "rs_values v", "v.id", permuted_row),
            on_values("sql_function_result", "rs_values v", "v.id", "rs_lead_sql(v.id)"),
            on_values("plpgsql_function_result", "rs_values v", "v.id", "rs_lead_plpgsql(v.id)"),
            outer("outer_join_table", "rs_values"),
            outer("outer_join_view", "rs_values_view"),
        ]
    }

    type SqlOf = fn(&str, &str, &str) -> String;

    /// Each compared function as SQL over a model, a lead expression and its key.
    fn functions() -> Vec<(&'static str, SqlOf)> {
        fn score(m: &str, x: &str, _: &str) -> String {
            format!("encode(float8send(lead_scoring.score('{m}', {x})), 'hex')")
        }
        fn score_whole_row(m: &str, x: &str, k: &str) -> String {
            format!("encode(float8send(lead_scoring.score('{m}', CASE WHEN {k} IS NOT NULL THEN {x} END)), 'hex')")
        }
        fn tier(m: &str, x: &str, _: &str) -> String {
            format!("lead_scoring.tier('{m}', {x})")
        }
        fn score_100(m: &str, x: &str, _: &str) -> String {
            format!("lead_scoring.score_100('{m}', {x})::text")
        }
        fn explain(m: &str, x: &str, _: &str) -> String {
            format!(
                "(SELECT string_agg(e.feature || '=' || coalesce(e.value, '<null>') || ':' || encode(float8send(e.contribution), 'hex'),
                                    ';' ORDER BY e.feature) FROM lead_scoring.explain('{m}', {x}) e)"
            )
        }
        fn top_reasons(m: &str, x: &str, _: &str) -> String {
            format!("lead_scoring.top_reasons('{m}', {x}, 3)::text")
        }
        vec![
            ("score", score as SqlOf),
            ("score as a whole row", score_whole_row as SqlOf),
            ("tier", tier as SqlOf),
            ("score_100", score_100 as SqlOf),
            ("explain", explain as SqlOf),
            ("top_reasons", top_reasons as SqlOf),
        ]
    }

    /// Compares every function and model on a shape; returns (rows compared, mismatches described).
    fn compare(shape: &Shape, failures: &mut Vec<String>) -> i64 {
        let mut compared = 0i64;
        for m in MODELS {
            for (function, sql) in functions() {
                let shape_query = format!("SELECT {}, {} FROM {}", shape.key, sql(m, &shape.lead, &shape.key), shape.from);
                let ref_query =
                    format!("SELECT {}, {} FROM {}", shape.ref_key, sql(m, &shape.ref_lead, &shape.ref_key), shape.ref_from);
                let (n, bad) = Spi::get_two_with_args::<i32, i32>(
                    "SELECT compared, mismatched FROM rs_compare($1, $2)",
                    &[shape_query.as_str().into(), ref_query.as_str().into()],
                )
                .unwrap();
                let (n, bad) = (n.unwrap(), bad.unwrap());
                if n < 29 {
                    failures.push(format!("{}: {function} of {m} compared only {n} rows", shape.name));
                }
                if bad != 0 {
                    failures.push(format!("{}: {function} of {m} differs on {bad} of {n} rows", shape.name));
                }
                compared += i64::from(n);
            }
        }
        compared
    }

    #[pg_test]
    fn every_row_shape_scores_as_the_plain_typed_row() {
        setup();
        Spi::run("SELECT rs_reference('rs_values', 'rs_ref_values')").unwrap();
        let mut failures = Vec::new();
        let mut compared = 0;
        let mut shapes = 0;
        for shape in table_shapes() {
            let t = format!("rs_{}", shape.name);
            Spi::run(&shape.build.replace("{t}", &t)).unwrap();
            Spi::run(&format!("SELECT rs_reference('{t}', 'rs_ref_{}')", shape.name)).unwrap();
            let s = Shape {
                name: shape.name.to_string(),
                from: format!("{t} s"),
                key: "s.id".into(),
                lead: "s".into(),
                ref_from: format!("rs_ref_{} r", shape.name),
                ref_key: "r.id".into(),
                ref_lead: "r".into(),
            };
            compared += compare(&s, &mut failures);
            shapes += 1;
        }
        for shape in expression_shapes() {
            compared += compare(&shape, &mut failures);
            shapes += 1;
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // 26 shapes x 2 models x 6 functions, at least 29 rows each.
        assert_eq!(shapes, 26);
        assert!(compared >= 26 * 2 * 6 * 29, "{compared}");
    }

    #[pg_test]
    fn attached_tables_store_what_score_gives_after_insert_update_and_copy() {
        setup();
        let mut failures = Vec::new();
        let mut checked = 0;
        for shape in table_shapes().into_iter().filter(|s| s.attachable) {
            let t = format!("rs_att_{}", shape.name);
            Spi::run(&shape.build.replace("{t}", &t)).unwrap();
            Spi::run(&format!("SELECT lead_scoring.attach('{t}', 'rs_logit')")).unwrap();
            Spi::run(&format!("SELECT lead_scoring.attach('{t}', 'rs_gbm', 'gbm_score', 'gbm_tier')")).unwrap();
            // Rows there before attach() are scored by an UPDATE that changes nothing; then
            // INSERT, an UPDATE of a feature, and COPY.
            Spi::run(&format!(
                "UPDATE {t} SET visits = visits;
                 SELECT rs_fill('{t}', 1000);
                 UPDATE {t} SET opted_in = NOT opted_in WHERE id % 3 = 0;
                 SELECT rs_copy('{t}', 2000);"
            ))
            .unwrap();
            for (m, score, tier) in [("rs_logit", "lead_score", "lead_tier"), ("rs_gbm", "gbm_score", "gbm_tier")] {
                let (n, bad, unscored) = Spi::get_three_with_args::<i32, i32, i32>(
                    "SELECT * FROM rs_attached($1::regclass, $2, $3, $4)",
                    &[t.as_str().into(), m.into(), score.into(), tier.into()],
                )
                .unwrap();
                let (n, bad, unscored) = (n.unwrap(), bad.unwrap(), unscored.unwrap());
                if n != 3 * 29 || bad != 0 || unscored != 0 {
                    failures.push(format!("{}: {m}: {n} rows, {bad} differ from score(), {unscored} unscored", shape.name));
                }
                checked += n;
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(checked, 15 * 2 * 3 * 29);
    }

    #[pg_test(error = "column \"amount\" is a generated column, which a BEFORE trigger sees before it is computed")]
    fn attach_refuses_a_generated_feature_column() {
        setup();
        let shape = table_shapes().into_iter().find(|s| s.name == "generated").unwrap();
        Spi::run(&shape.build.replace("{t}", "rs_att_generated")).unwrap();
        Spi::run("SELECT lead_scoring.attach('rs_att_generated', 'rs_logit')").unwrap();
    }

    #[pg_test(
        error = "column \"amount\" of rs_att_regenerated is a generated column, which a BEFORE trigger sees before it is computed"
    )]
    fn the_trigger_refuses_a_feature_made_generated_after_attach() {
        setup();
        let shape = table_shapes().into_iter().find(|s| s.name == "plain").unwrap();
        Spi::run(&shape.build.replace("{t}", "rs_att_regenerated")).unwrap();
        Spi::run("SELECT lead_scoring.attach('rs_att_regenerated', 'rs_logit')").unwrap();
        Spi::run(
            "ALTER TABLE rs_att_regenerated DROP COLUMN amount;
             ALTER TABLE rs_att_regenerated ADD COLUMN amount numeric GENERATED ALWAYS AS (visits * 10) STORED",
        )
        .unwrap();
        Spi::run("INSERT INTO rs_att_regenerated (id) VALUES (100000)").unwrap();
    }

    #[pg_test]
    fn numeric_specials_score_as_their_float8_casts() {
        setup();
        let values = ["NaN", "Infinity", "-Infinity", "1e300", "-1e300", "1e-130", "1e-400", "1e400", "123.456", "0"];
        let mut tried = 0;
        for column_type in ["numeric", "numeric(1000, 500)", "double precision"] {
            Spi::run(&format!(
                "DROP TABLE IF EXISTS rs_special; CREATE TABLE rs_special ({})",
                LEAD_COLUMNS.replace("amount numeric", &format!("amount {column_type}"))
            ))
            .unwrap();
            for (i, v) in values.iter().enumerate() {
                // Values the column type cannot hold are not stored (the outcome says so).
                Spi::run(&format!(
                    "SELECT rs_outcome($$INSERT INTO rs_special VALUES ({i}, 3, '{v}', 'Google', true, '2024-05-01') RETURNING 1$$)"
                ))
                .unwrap();
            }
            let stored = Spi::get_one::<i64>("SELECT count(*) FROM rs_special").unwrap().unwrap();
            assert!(stored >= 5, "{column_type}: {stored}");
            for m in MODELS {
                for (function, sql) in functions() {
                    let ids = Spi::connect(|c| {
                        c.select("SELECT id FROM rs_special ORDER BY id", None, &[])?
                            .map(|r| r.get::<i32>(1).map(|v| v.unwrap()))
                            .collect::<Result<Vec<i32>, _>>()
                    })
                    .unwrap();
                    for id in ids {
                        let shape = format!("SELECT {} FROM rs_special s WHERE s.id = {id}", sql(m, "s", "s.id"));
                        let plain = format!(
                            "SELECT {} FROM (SELECT id, visits, amount::float8 AS amount, source, opted_in, signup
                                               FROM rs_special WHERE id = {id} OFFSET 0) r",
                            sql(m, "r", "r.id")
                        );
                        let outcome =
                            |q: &str| Spi::get_one_with_args::<String>("SELECT rs_outcome($1)", &[q.into()]).unwrap().unwrap();
                        let (a, b) = (outcome(&shape), outcome(&plain));
                        assert_eq!(a, b, "{column_type} {id}: {function} of {m}");
                        tried += 1;
                    }
                }
            }
        }
        assert!(tried >= 3 * 5 * 2 * 6, "{tried}");
    }
}
