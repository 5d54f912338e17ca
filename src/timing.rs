//! With `PREFLIGHT_TIMINGS` set, how long each phase of a check took, on standard error:
//! the figures behind BENCHMARKS.md's "where the time goes".

use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PREFLIGHT_TIMINGS").is_some_and(|v| !v.is_empty()))
}

/// Print how long `phase` took, when timings are on.
pub fn report(phase: &str, took: Duration) {
    if on() {
        eprintln!("timing: {phase}: {:.1} ms", took.as_secs_f64() * 1000.0);
    }
}

/// Run `f`, reporting how long it took as `phase`.
pub fn time<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    if !on() {
        return f();
    }
    let started = Instant::now();
    let out = f();
    report(phase, started.elapsed());
    out
}
