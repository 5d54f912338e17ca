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

/// Print how long a phase took, with the process's CPU time so far (user + system, every
/// thread) and its resident memory at the phase's end where the system tells them, when
/// timings are on.
pub fn report_phase(phase: &str, took: Duration) {
    if !on() {
        return;
    }
    match usage() {
        Some((cpu, resident)) => eprintln!(
            "timing: {phase}: {:.1} ms ({:.1} ms CPU so far, {} MB resident)",
            took.as_secs_f64() * 1000.0,
            cpu.as_secs_f64() * 1000.0,
            resident >> 20
        ),
        None => report(phase, took),
    }
}

/// CPU time used so far and resident bytes now.
#[cfg(target_os = "linux")]
fn usage() -> Option<(Duration, u64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions; getrusage writes only the struct it is given.
    let (page, ru) = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) != 0 {
            return None;
        }
        (libc::sysconf(libc::_SC_PAGESIZE), ru)
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Some((
        tv(ru.ru_utime) + tv(ru.ru_stime),
        pages * u64::try_from(page).ok()?,
    ))
}

#[cfg(not(target_os = "linux"))]
fn usage() -> Option<(Duration, u64)> {
    None
}

/// Run `f`, reporting how long it took as `phase` (with [`report_phase`]).
pub fn time<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    if !on() {
        return f();
    }
    let started = Instant::now();
    let out = f();
    report_phase(phase, started.elapsed());
    out
}
