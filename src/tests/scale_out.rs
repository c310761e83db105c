//! `distribute_catalog()` and the Citus paths without Citus: what a single server does. The
//! cluster itself is tested by tests/citus/run.sh (a coordinator and two workers).

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    #[pg_test(error = "distribute_catalog() needs Citus, and the citus extension is not installed in this database")]
    fn distribute_catalog_without_citus_is_an_error() {
        Spi::run("SELECT lead_scoring.distribute_catalog()").unwrap();
    }

    #[pg_test]
    fn without_citus_tables_are_local_and_attach_sends_alerts() {
        make_leads("leads", 300);
        train_default("m", "leads");
        // The Citus checks find no Citus and change nothing: alerts stay allowed.
        assert_eq!(
            Spi::get_one::<String>("SELECT lead_scoring.attach('leads', 'm')").unwrap().as_deref(),
            Some("lead_scoring_m")
        );
        Spi::run("INSERT INTO leads (id, email, visits, source, opted_in, noise, created_at, converted) SELECT id + 1000, email, visits, source, opted_in, noise, created_at, converted FROM leads LIMIT 3").unwrap();
        assert_eq!(Spi::get_one::<i64>("SELECT count(lead_score) FROM leads WHERE id > 1000").unwrap(), Some(3));
    }
}
