//! Scheduled monitoring and retraining through pg_cron: job names, the SQL text each job runs
//! (every value a quoted literal, so a hostile model name or source cannot inject SQL), and
//! what to tell the user when pg_cron is missing.

use serde_json::Value;

use crate::core_err;
use crate::CoreResult;

/// Longest job name pg_cron keeps whole (`cron.job.jobname` is a `name`: 63 bytes).
pub const MAX_JOB_NAME_BYTES: usize = 63;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Monitoring,
    Retraining,
}

impl JobKind {
    pub const ALL: [JobKind; 2] = [JobKind::Monitoring, JobKind::Retraining];

    /// The word used in job names, events and `unschedule()`.
    pub fn word(self) -> &'static str {
        match self {
            JobKind::Monitoring => "monitoring",
            JobKind::Retraining => "retraining",
        }
    }

    /// `monitoring` / `retraining`, or an error listing both.
    pub fn parse(word: &str) -> CoreResult<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.word() == word).ok_or_else(|| {
            core_err!(InvalidArgument, "unknown job \"{word}\"; use 'monitoring' or 'retraining' (or NULL for both)")
        })
    }
}

/// The pg_cron job name of a model's job: `lead_scoring:monitoring:<model>`. One job per model
/// and kind, so scheduling again replaces the schedule (pg_cron upserts by name). A name that
/// would not fit pg_cron's 63 bytes keeps the start of the model name plus `~` and the CRC-32
/// of the whole name, so two long names sharing a prefix still get two jobs.
pub fn job_name(kind: JobKind, model: &str) -> String {
    let prefix = format!("lead_scoring:{}:", kind.word());
    let name = format!("{prefix}{model}");
    if name.len() <= MAX_JOB_NAME_BYTES {
        return name;
    }
    let suffix = format!("~{:08x}", crc32fast::hash(model.as_bytes()));
    let room = MAX_JOB_NAME_BYTES - prefix.len() - suffix.len();
    let cut = (0..=room).rev().find(|&i| model.is_char_boundary(i)).unwrap_or(0);
    format!("{prefix}{}{suffix}", &model[..cut])
}

/// A SQL string literal, as PostgreSQL's `quote_literal`: quotes doubled, and with backslashes
/// doubled in an `E'...'` literal, so the value is read back exactly whatever
/// `standard_conforming_strings` says.
pub fn sql_literal(s: &str) -> String {
    let quoted = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// The statement a monitoring job runs.
pub fn monitoring_command(model: &str, source: &str) -> String {
    format!("SELECT * FROM lead_scoring.monitor({}, {})", sql_literal(model), sql_literal(source))
}

/// The statement a retraining job runs: `train()` with the same arguments, so the new
/// version is deployed by the policy in `options.deploy` (default `if_better`).
pub fn retraining_command(
    model: &str,
    source: &str,
    label: &str,
    features: Option<&[String]>,
    algorithm: &str,
    options: &Value,
) -> String {
    let features = match features {
        None => "NULL::text[]".to_string(),
        Some(list) => format!("ARRAY[{}]::text[]", list.iter().map(|f| sql_literal(f)).collect::<Vec<_>>().join(", ")),
    };
    format!(
        "SELECT model_name, version, deployed FROM lead_scoring.train({}, {}, {}, features => {features}, algorithm => {}, options => {}::jsonb)",
        sql_literal(model),
        sql_literal(source),
        sql_literal(label),
        sql_literal(algorithm),
        sql_literal(&options.to_string())
    )
}

/// What the server says about pg_cron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronFacts {
    /// The pg_cron package is installed (`pg_available_extensions` lists it).
    pub available: bool,
    /// `shared_preload_libraries` loads it.
    pub preloaded: bool,
    /// `CREATE EXTENSION pg_cron` was run in this database.
    pub created_here: bool,
    /// `cron.database_name` (known once preloaded).
    pub cron_database: Option<String>,
    pub current_database: String,
}

/// Why scheduling cannot work here, as (message, hint), or `None` when pg_cron is ready.
pub fn cron_problem(f: &CronFacts) -> Option<(String, String)> {
    if f.created_here {
        return None;
    }
    let db = &f.current_database;
    let conf = format!(
        "add shared_preload_libraries = 'pg_cron' and cron.database_name = '{}' to postgresql.conf (or ALTER SYSTEM SET ...), restart PostgreSQL, then run CREATE EXTENSION pg_cron; in database {db}",
        db.replace('\'', "''")
    );
    if !f.available {
        return Some((
            "scheduling needs the pg_cron extension, which is not installed on this server".into(),
            format!("install it (Debian: apt-get install postgresql-15-cron), then {conf}"),
        ));
    }
    if !f.preloaded {
        return Some((
            "scheduling needs pg_cron loaded at server start, and shared_preload_libraries does not load it".into(),
            conf,
        ));
    }
    match &f.cron_database {
        Some(cron_db) if cron_db != db => Some((
            format!("pg_cron runs its jobs from database \"{cron_db}\" (cron.database_name), not from this database \"{db}\""),
            format!(
                "set cron.database_name = '{}' and restart PostgreSQL, then run CREATE EXTENSION pg_cron; here",
                db.replace('\'', "''")
            ),
        )),
        _ => Some((
            format!("pg_cron is loaded but its extension is not created in database \"{db}\""),
            "run CREATE EXTENSION pg_cron; in this database (as a superuser)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOSTILE: &str = "x'); DROP TABLE lead_scoring.models; --\\";

    #[test]
    fn literals_are_quoted_like_postgres() {
        assert_eq!(sql_literal("plain"), "'plain'");
        assert_eq!(sql_literal("o'brien"), "'o''brien'");
        assert_eq!(sql_literal("a\\b'c"), "E'a\\\\b''c'");
        assert_eq!(sql_literal(HOSTILE), "E'x''); DROP TABLE lead_scoring.models; --\\\\'");
    }

    #[test]
    fn commands_quote_every_value() {
        assert_eq!(monitoring_command("inbound", "crm.leads"), "SELECT * FROM lead_scoring.monitor('inbound', 'crm.leads')");
        assert_eq!(
            retraining_command(
                "m",
                "SELECT * FROM t WHERE s = 'x'",
                "converted",
                None,
                "logistic",
                &json!({"deploy": "if_better"})
            ),
            "SELECT model_name, version, deployed FROM lead_scoring.train('m', 'SELECT * FROM t WHERE s = ''x''', 'converted', \
             features => NULL::text[], algorithm => 'logistic', options => '{\"deploy\":\"if_better\"}'::jsonb)"
        );
        let features = vec!["visits".to_string(), "it's".to_string()];
        let cmd = retraining_command(HOSTILE, "s", "l", Some(&features), "gbm", &json!({"note": "a'b"}));
        assert!(cmd.starts_with("SELECT model_name, version, deployed FROM lead_scoring.train(E'x''); DROP TABLE lead_scoring.models; --\\\\', 's', 'l', "), "{cmd}");
        assert!(
            cmd.contains("features => ARRAY['visits', 'it''s']::text[]")
                && cmd.contains("options => '{\"note\":\"a''b\"}'::jsonb")
        );
        // Outside the quoted literals only the fixed statement remains.
        let outside: String = cmd.split('\'').step_by(2).collect();
        assert!(!outside.contains("DROP"), "{outside}");
    }

    #[test]
    fn job_names_are_per_model_and_kind_and_never_truncated() {
        assert_eq!(job_name(JobKind::Monitoring, "inbound"), "lead_scoring:monitoring:inbound");
        assert_eq!(job_name(JobKind::Retraining, "inbound"), "lead_scoring:retraining:inbound");
        let fits = "m".repeat(63 - "lead_scoring:retraining:".len());
        assert_eq!(job_name(JobKind::Retraining, &fits), format!("lead_scoring:retraining:{fits}"));
        // Longer names: cut on a character boundary, plus the hash of the whole name.
        let (a, b) = (format!("{fits}a"), format!("{fits}b"));
        let (ja, jb) = (job_name(JobKind::Retraining, &a), job_name(JobKind::Retraining, &b));
        assert!(ja.len() <= 63 && jb.len() <= 63 && ja != jb, "{ja} {jb}");
        assert_eq!(ja, format!("lead_scoring:retraining:{}~{:08x}", &fits[..30], crc32fast::hash(a.as_bytes())));
        let accented = job_name(JobKind::Monitoring, &"é".repeat(40));
        assert!(accented.len() <= 63 && accented.starts_with("lead_scoring:monitoring:éé"), "{accented}");
        assert_eq!(JobKind::parse("retraining").unwrap(), JobKind::Retraining);
        assert!(JobKind::parse("both").is_err());
    }

    #[test]
    fn each_missing_step_gets_its_own_instructions() {
        let ready = CronFacts {
            available: true,
            preloaded: true,
            created_here: true,
            cron_database: Some("crm".into()),
            current_database: "crm".into(),
        };
        assert_eq!(cron_problem(&ready), None);
        let (m, h) = cron_problem(&CronFacts {
            available: false,
            preloaded: false,
            created_here: false,
            cron_database: None,
            ..ready.clone()
        })
        .unwrap();
        assert!(
            m.contains("not installed")
                && h.contains("apt-get install postgresql-15-cron")
                && h.contains("shared_preload_libraries = 'pg_cron'")
        );
        assert!(h.contains("cron.database_name = 'crm'") && h.contains("CREATE EXTENSION pg_cron"));
        let (m, h) =
            cron_problem(&CronFacts { preloaded: false, created_here: false, cron_database: None, ..ready.clone() }).unwrap();
        assert!(m.contains("shared_preload_libraries") && h.contains("restart PostgreSQL") && !h.contains("apt-get"));
        let (m, h) = cron_problem(&CronFacts { created_here: false, ..ready.clone() }).unwrap();
        assert!(m.contains("not created in database \"crm\"") && h.contains("CREATE EXTENSION pg_cron"));
        let (m, h) = cron_problem(&CronFacts { created_here: false, cron_database: Some("postgres".into()), ..ready }).unwrap();
        assert!(m.contains("from database \"postgres\"") && h.contains("cron.database_name = 'crm'"));
    }
}
