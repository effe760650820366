//! Plain log lines on stderr (structured logs and self-metrics come with the
//! telemetry work).

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
