use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| map.get(key).cloned()
}

fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vorgang.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn defaults_follow_the_data_directory() {
    let settings = load(Some(Path::new("/nonexistent-is-not-read")), &env_of(&[]));
    // An explicitly named file must exist.
    assert!(matches!(settings, Err(ConfigError::File { .. })));

    let (_dir, path) = write_config("");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings.database_url,
        DatabaseUrl::Sqlite(PathBuf::from("./data/vorgang.db"))
    );
    assert_eq!(settings.listen, "127.0.0.1:8080");
    assert_eq!(settings.public_url.as_str(), "http://127.0.0.1:8080/");
    assert_eq!(
        settings.mail_url,
        MailUrl::File(PathBuf::from("./data/outbox"))
    );
    assert_eq!(settings.log, LogFormat::Text);
    assert!(settings.secret.is_none());
    assert_eq!(settings.document_max_size, 20 * 1024 * 1024);
    assert_eq!(
        settings.mail_from.to_string(),
        "vorgang <noreply@127.0.0.1>"
    );
    assert_eq!(settings.mail_timeout, std::time::Duration::from_secs(30));
    assert_eq!(settings.mail_pool_size, 4);
    assert_eq!(settings.mail_retry_base, std::time::Duration::from_secs(60));
    assert_eq!(settings.mail_max_attempts, 8);

    let settings = load(Some(&path), &env_of(&[("VORGANG_DATA_DIR", "/srv/v")])).unwrap();
    assert_eq!(
        settings.database_url,
        DatabaseUrl::Sqlite(PathBuf::from("/srv/v/vorgang.db"))
    );
    assert_eq!(
        settings.mail_url,
        MailUrl::File(PathBuf::from("/srv/v/outbox"))
    );
}

#[test]
fn environment_overrides_file_overrides_default() {
    let (_dir, path) = write_config(
        "listen = \"0.0.0.0:9000\"\nlog = \"json\"\nmail_url = \"smtp://relay.example:25\"\n",
    );
    let settings = load(
        Some(&path),
        &env_of(&[("VORGANG_LISTEN", "127.0.0.1:7000")]),
    )
    .unwrap();
    assert_eq!(settings.listen, "127.0.0.1:7000");
    assert_eq!(settings.log, LogFormat::Json);
    assert!(matches!(settings.mail_url, MailUrl::Smtp(_)));
}

#[test]
fn document_size_limit_is_given_in_mebibytes() {
    let (_dir, path) = write_config("document_max_mb = 5\n");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(settings.document_max_size, 5 * 1024 * 1024);
    let settings = load(Some(&path), &env_of(&[("VORGANG_DOCUMENT_MAX_MB", "64")])).unwrap();
    assert_eq!(settings.document_max_size, 64 * 1024 * 1024);
    let (_dir, path) = write_config("document_max_mb = \"20\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(
        error.starts_with("Einstellung document_max_mb ("),
        "{error}"
    );
}

#[test]
fn mail_settings_come_from_file_and_environment() {
    let (_dir, path) = write_config(
        "public_url = \"https://vorgang.kreis-soest.de\"\nmail_timeout_secs = 5\nmail_pool_size = 2\n",
    );
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings.mail_from.to_string(),
        "vorgang <noreply@vorgang.kreis-soest.de>"
    );
    assert_eq!(settings.mail_timeout, std::time::Duration::from_secs(5));
    assert_eq!(settings.mail_pool_size, 2);
    let settings = load(
        Some(&path),
        &env_of(&[
            ("VORGANG_MAIL_FROM", "Kreis Soest <ki@kreis-soest.de>"),
            ("VORGANG_MAIL_RETRY_BASE_SECS", "1"),
            ("VORGANG_MAIL_MAX_ATTEMPTS", "3"),
            ("VORGANG_MAIL_URL", "smtp://127.0.0.1:2525?tls=none"),
        ]),
    )
    .unwrap();
    assert_eq!(settings.mail_from.email.to_string(), "ki@kreis-soest.de");
    assert_eq!(settings.mail_retry_base, std::time::Duration::from_secs(1));
    assert_eq!(settings.mail_max_attempts, 3);
    assert!(matches!(settings.mail_url, MailUrl::Smtp(_)));
}

#[test]
fn timer_settings_come_from_file_and_environment() {
    let (_dir, path) = write_config("");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings.timer_poll_interval,
        std::time::Duration::from_secs(30)
    );
    assert_eq!(settings.timer_lease, std::time::Duration::from_secs(300));
    let (_dir, path) = write_config("timer_poll_secs = 10\ntimer_lease_secs = 60\n");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings.timer_poll_interval,
        std::time::Duration::from_secs(10)
    );
    assert_eq!(settings.timer_lease, std::time::Duration::from_secs(60));
    let settings = load(
        Some(&path),
        &env_of(&[
            ("VORGANG_TIMER_POLL_SECS", "1"),
            ("VORGANG_TIMER_LEASE_SECS", "5"),
        ]),
    )
    .unwrap();
    assert_eq!(
        settings.timer_poll_interval,
        std::time::Duration::from_secs(1)
    );
    assert_eq!(settings.timer_lease, std::time::Duration::from_secs(5));
}

#[test]
fn token_and_session_lifetimes_default_to_a_working_day_and_can_be_shortened() {
    let (_dir, path) = write_config("");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(settings.token_lifetime, chrono::TimeDelta::hours(8));
    assert_eq!(settings.sessions.idle, chrono::TimeDelta::hours(1));
    assert_eq!(settings.sessions.absolute, chrono::TimeDelta::hours(8));

    let (_dir, path) = write_config("token_lifetime_minutes = 60\nsession_idle_minutes = 15\n");
    let settings = load(Some(&path), &env_of(&[("VORGANG_SESSION_MAX_HOURS", "4")])).unwrap();
    assert_eq!(settings.token_lifetime, chrono::TimeDelta::minutes(60));
    assert_eq!(settings.sessions.idle, chrono::TimeDelta::minutes(15));
    assert_eq!(settings.sessions.absolute, chrono::TimeDelta::hours(4));
}

#[test]
fn the_proxies_header_defaults_to_x_forwarded_for_and_may_be_forwarded() {
    let (_dir, path) = write_config("trusted_proxies = \"10.0.0.5\"\n");
    let proxies = TrustedProxies::parse("10.0.0.5").unwrap();
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(settings.trusted_proxies, proxies);
    let (_dir, path) =
        write_config("trusted_proxies = \"10.0.0.5\"\nforwarded_header = \"Forwarded\"\n");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings.trusted_proxies,
        proxies.clone().with_header(ForwardedHeader::Forwarded)
    );
    let settings = load(
        Some(&path),
        &env_of(&[("VORGANG_FORWARDED_HEADER", "X-Forwarded-For")]),
    )
    .unwrap();
    assert_eq!(settings.trusted_proxies, proxies);
}

#[test]
fn a_proxy_login_header_needs_trusted_proxies() {
    let (_dir, path) = write_config("trusted_proxies = \"10.0.0.5\"\n");
    assert_eq!(load(Some(&path), &env_of(&[])).unwrap().proxy_login, None);
    let settings = load(
        Some(&path),
        &env_of(&[("VORGANG_PROXY_LOGIN_HEADER", "X-Remote-User")]),
    )
    .unwrap();
    assert_eq!(
        settings.proxy_login,
        Some(crate::auth::ProxyLogin::parse("x-remote-user").unwrap())
    );
    let error = load(
        Some(&path),
        &env_of(&[("VORGANG_PROXY_LOGIN_HEADER", "Authorization")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("proxy_login_header") && error.contains("eigene Bedeutung"),
        "{error}"
    );
    let (_dir, path) = write_config("proxy_login_header = \"X-Remote-User\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(
        error.contains("proxy_login_header") && error.contains("setzt `trusted_proxies` voraus"),
        "{error}"
    );
}

#[test]
fn jobs_have_defaults_and_come_from_tables_and_environment() {
    use crate::scheduler::jobs::JobName;
    let (_dir, path) = write_config("");
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    let reminders = settings.jobs.get(JobName::Reminders).unwrap();
    assert_eq!(reminders.schedule.expression(), "0 0 7 * * MON-FRI");
    assert!(reminders.enabled);
    assert_eq!(
        settings
            .jobs
            .get(JobName::Housekeeping)
            .unwrap()
            .schedule
            .expression(),
        "0 30 3 * * *"
    );
    assert_eq!(settings.jobs.outbox_retention_days, 90);

    let (_dir, path) = write_config(
        "outbox_retention_days = 30\n[jobs.reminders]\nschedule = \"0 0 6 * * MON-SAT\"\n\
         [jobs.housekeeping]\nenabled = false\n",
    );
    let settings = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        settings
            .jobs
            .get(JobName::Reminders)
            .unwrap()
            .schedule
            .expression(),
        "0 0 6 * * MON-SAT"
    );
    assert!(!settings.jobs.get(JobName::Housekeeping).unwrap().enabled);
    assert_eq!(settings.jobs.outbox_retention_days, 30);

    let settings = load(
        Some(&path),
        &env_of(&[
            ("VORGANG_JOBS_REMINDERS_SCHEDULE", "0 15 7 * * MON-FRI"),
            ("VORGANG_JOBS_HOUSEKEEPING_ENABLED", "true"),
        ]),
    )
    .unwrap();
    assert_eq!(
        settings
            .jobs
            .get(JobName::Reminders)
            .unwrap()
            .schedule
            .expression(),
        "0 15 7 * * MON-FRI"
    );
    assert!(settings.jobs.get(JobName::Housekeeping).unwrap().enabled);
}

#[test]
fn job_errors_name_the_job_setting() {
    let (_dir, path) = write_config("[jobs.reminders]\nschedule = \"0 7 * * *\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(
        error.starts_with("Einstellung jobs.reminders.schedule ("),
        "{error}"
    );
    assert!(error.contains("vorgang.toml"), "{error}");

    let (_dir, path) = write_config("[jobs.nachts]\nschedule = \"0 0 1 * * *\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(error.contains("unbekannter Job „nachts“"), "{error}");
    assert!(error.contains("reminders, digest, housekeeping"), "{error}");

    let (_dir, path) = write_config("[jobs.reminders]\nzeitplan = \"x\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(
        error.contains("unbekannter Schlüssel „jobs.reminders.zeitplan“"),
        "{error}"
    );

    let (_dir, path) = write_config("jobs = 1\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(error.contains("Tabelle"), "{error}");

    let (_dir, path) = write_config("[jobs.housekeeping]\nenabled = \"nein\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(
        error.starts_with("Einstellung jobs.housekeeping.enabled ("),
        "{error}"
    );
}

#[test]
fn legal_dir_is_optional_but_must_exist_when_set() {
    let (dir, path) = write_config("");
    assert_eq!(load(Some(&path), &env_of(&[])).unwrap().legal_dir, None);
    let legal = dir.path().join("rechtliches");
    std::fs::create_dir(&legal).unwrap();
    let settings = load(
        Some(&path),
        &env_of(&[("VORGANG_LEGAL_DIR", legal.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(settings.legal_dir, Some(legal));
    let error = load(
        Some(&path),
        &env_of(&[("VORGANG_LEGAL_DIR", "/gibt/es/nicht")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("Einstellung legal_dir (VORGANG_LEGAL_DIR)"),
        "{error}"
    );
}

#[test]
fn config_path_may_come_from_the_environment() {
    let (_dir, path) = write_config("listen = \"127.0.0.1:9100\"\n");
    let settings = load(None, &env_of(&[("VORGANG_CONFIG", path.to_str().unwrap())])).unwrap();
    assert_eq!(settings.listen, "127.0.0.1:9100");
}

#[test]
fn wrong_type_in_file_names_key_and_file() {
    let (_dir, path) = write_config("listen = 8080\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(error.starts_with("Einstellung listen ("), "{error}");
    assert!(error.contains("vorgang.toml"), "{error}");
    assert!(error.contains("Zeichenkette"), "{error}");
}

#[test]
fn unknown_key_and_syntax_errors_are_reported_on_one_line() {
    let (_dir, path) = write_config("lissten = \"x\"\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(error.contains("unbekannter Schlüssel „lissten“"), "{error}");

    let (_dir, path) = write_config("listen = \"127.0.0.1:1\"\nlog = [\n");
    let error = load(Some(&path), &env_of(&[])).unwrap_err().to_string();
    assert!(error.contains("Zeile 2"), "{error}");
    assert!(!error.contains('\n'), "{error}");
}

#[test]
fn invalid_environment_values_name_the_variable() {
    let (_dir, path) = write_config("");
    let cases = [
        ("VORGANG_LISTEN", "abc", "listen"),
        ("VORGANG_PUBLIC_URL", "ftp://x", "public_url"),
        ("VORGANG_MAIL_URL", "pigeon://x", "mail_url"),
        ("VORGANG_LOG", "xml", "log"),
        (
            "VORGANG_DATABASE_URL",
            "mysql://localhost/db",
            "database_url",
        ),
        ("VORGANG_DATABASE_POOL_SIZE", "many", "database_pool_size"),
        ("VORGANG_SECRET", "short", "secret"),
        ("VORGANG_METRICS_TOKEN", "kurz", "metrics_token"),
        (
            "VORGANG_TRUSTED_PROXIES",
            "10.0.0.5, proxy",
            "trusted_proxies",
        ),
        ("VORGANG_FORWARDED_HEADER", "X-Real-IP", "forwarded_header"),
        ("VORGANG_PROXY_LOGIN_HEADER", "Cookie", "proxy_login_header"),
        (
            "VORGANG_PROXY_LOGIN_HEADER",
            "X-Remote-User",
            "proxy_login_header",
        ),
        ("VORGANG_DOCUMENT_MAX_MB", "0", "document_max_mb"),
        ("VORGANG_DOCUMENT_MAX_MB", "viel", "document_max_mb"),
        (
            "VORGANG_MAIL_URL",
            "smtp://relay.example?tls=maybe",
            "mail_url",
        ),
        (
            "VORGANG_MAIL_URL",
            "smtps://relay.example?tls=none",
            "mail_url",
        ),
        ("VORGANG_MAIL_FROM", "kein Absender", "mail_from"),
        ("VORGANG_MAIL_FROM", "a@b@c", "mail_from"),
        ("VORGANG_MAIL_TIMEOUT_SECS", "0", "mail_timeout_secs"),
        ("VORGANG_MAIL_TIMEOUT_SECS", "lang", "mail_timeout_secs"),
        ("VORGANG_MAIL_POOL_SIZE", "0", "mail_pool_size"),
        ("VORGANG_MAIL_RETRY_BASE_SECS", "-1", "mail_retry_base_secs"),
        ("VORGANG_MAIL_MAX_ATTEMPTS", "1000", "mail_max_attempts"),
        ("VORGANG_TIMER_POLL_SECS", "0", "timer_poll_secs"),
        (
            "VORGANG_TOKEN_LIFETIME_MINUTES",
            "4",
            "token_lifetime_minutes",
        ),
        (
            "VORGANG_SESSION_IDLE_MINUTES",
            "1441",
            "session_idle_minutes",
        ),
        ("VORGANG_SESSION_MAX_HOURS", "0", "session_max_hours"),
        ("VORGANG_SESSION_MAX_HOURS", "acht", "session_max_hours"),
        ("VORGANG_TIMER_LEASE_SECS", "4", "timer_lease_secs"),
        ("VORGANG_TIMER_LEASE_SECS", "86401", "timer_lease_secs"),
        ("VORGANG_TIMER_LEASE_SECS", "kurz", "timer_lease_secs"),
        (
            "VORGANG_OUTBOX_RETENTION_DAYS",
            "0",
            "outbox_retention_days",
        ),
        (
            "VORGANG_JOBS_REMINDERS_SCHEDULE",
            "jeden Morgen",
            "jobs.reminders.schedule",
        ),
        (
            "VORGANG_JOBS_HOUSEKEEPING_SCHEDULE",
            "0 61 3 * * *",
            "jobs.housekeeping.schedule",
        ),
        (
            "VORGANG_JOBS_REMINDERS_ENABLED",
            "ja",
            "jobs.reminders.enabled",
        ),
    ];
    for (var, value, key) in cases {
        let error = load(Some(&path), &env_of(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("Einstellung {key} ({var})")),
            "{var}: {error}"
        );
    }
}
