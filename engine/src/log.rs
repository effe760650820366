//! Plain log lines on stderr; the counts behind them are also in `telemetry`'s
//! metrics.

pub fn error(msg: std::fmt::Arguments<'_>) {
    eprintln!("sluice: error: {msg}");
}

pub fn warn(msg: std::fmt::Arguments<'_>) {
    eprintln!("sluice: warning: {msg}");
}

pub fn debug(msg: std::fmt::Arguments<'_>) {
    if std::env::var_os("SLUICE_DEBUG").is_some() {
        eprintln!("sluice: {msg}");
    }
}

pub fn info(msg: std::fmt::Arguments<'_>) {
    eprintln!("sluice: {msg}");
}

/// The current UTC time as RFC 3339 (`2026-12-02T15:04:05Z`), for records written to
/// files.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
