//! Logging through `tracing`, with Kamailio's levels: `debug` from -5 (alert) to 3 (debug);
//! a message prints when its level is at most `debug` (default 0 = warnings).

use std::sync::atomic::{AtomicI32, Ordering};

use tracing::Level;

static DEBUG: AtomicI32 = AtomicI32::new(0);

/// Kamailio's log levels.
pub const L_ALERT: i32 = -5;
pub const L_BUG: i32 = -4;
pub const L_CRIT: i32 = -3;
pub const L_ERR: i32 = -1;
pub const L_WARN: i32 = 0;
pub const L_NOTICE: i32 = 1;
pub const L_INFO: i32 = 2;
pub const L_DBG: i32 = 3;

/// The tracing level a Kamailio level maps to.
pub fn tracing_level(level: i32) -> Level {
    match level {
        i32::MIN..=L_ERR => Level::ERROR,
        L_WARN => Level::WARN,
        L_NOTICE | L_INFO => Level::INFO,
        _ => Level::DEBUG,
    }
}

/// Whether a message at `level` prints with the configured `debug`.
pub fn enabled(level: i32) -> bool {
    level <= DEBUG.load(Ordering::Relaxed)
}

pub(crate) fn init(debug: i32) {
    DEBUG.store(debug, Ordering::Relaxed);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_level(debug))
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// Writes a script message (xlog, log) at a Kamailio level.
pub fn script(level: i32, text: &[u8]) {
    if !enabled(level) {
        return;
    }
    let text = String::from_utf8_lossy(text);
    let text = text.trim_end_matches('\n');
    match tracing_level(level) {
        Level::ERROR => tracing::error!(target: "script", "{text}"),
        Level::WARN => tracing::warn!(target: "script", "{text}"),
        Level::INFO => tracing::info!(target: "script", "{text}"),
        _ => tracing::debug!(target: "script", "{text}"),
    }
}

/// A `while` loop hit `max_while_loops` and was stopped (Kamailio logs it as an error too).
pub fn runaway_while(limit: i64) {
    tracing::error!("runaway while loop: stopped after {limit} iterations (max_while_loops)");
}
