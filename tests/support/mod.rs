//! The harness of the hostile-input tests: every probe is the real binary under a time
//! limit and an address-space limit, and every probe tree holds a known-bad sentinel file
//! that must still be reported (a probe that makes preflight skip everything fails).

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall-time bound for one check of a tiny tree (generous: CI machines are slow and busy).
pub const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Address-space bound (KiB) for one check; the allocator reserves more than it touches.
pub const MEMORY_LIMIT_KB: u64 = 8 * 1024 * 1024;

/// The sentinel: a Terraform root with one undefined reference.
pub const SENTINEL: &str = "sentinel/main.tf";
const SENTINEL_TEXT: &str = "output \"x\" {\n  value = local.missing\n}\n";

pub struct Run {
    pub findings: Vec<Value>,
    pub code: i32,
    pub elapsed: Duration,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// The (rule, file, line) of every finding.
    pub fn triples(&self) -> Vec<(String, String, u64)> {
        self.findings
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or("").to_string(),
                    f["file"].as_str().unwrap_or("").to_string(),
                    f["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Findings other than the sentinel's.
    pub fn probe_findings(&self) -> impl Iterator<Item = &Value> {
        self.findings.iter().filter(|f| f["file"] != SENTINEL)
    }

    #[track_caller]
    pub fn expect_rule_on(&self, rule: &str, file: &str) -> &Value {
        self.findings
            .iter()
            .find(|f| f["rule"] == rule && f["file"] == file)
            .unwrap_or_else(|| panic!("no {rule} on {file}; got {:?}", self.triples()))
    }

    #[track_caller]
    pub fn expect_sentinel(&self) {
        assert!(
            self.findings
                .iter()
                .any(|f| f["rule"] == "undefined-reference"
                    && f["file"] == SENTINEL
                    && f["line"] == 2),
            "the sentinel {SENTINEL} is no longer reported; got {:?}",
            self.triples()
        );
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Write a probe tree: `files`, an empty `preflight.toml` unless one is given, and the
/// sentinel.
pub fn write(root: &Path, files: &[(&str, &[u8])]) {
    if !files.iter().any(|(p, _)| *p == "preflight.toml") {
        std::fs::write(root.join("preflight.toml"), "").unwrap();
    }
    std::fs::create_dir_all(root.join("sentinel")).unwrap();
    std::fs::write(root.join(SENTINEL), SENTINEL_TEXT).unwrap();
    for (p, text) in files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Run the binary with `args` in `dir` under the time and memory bounds, with no CI
/// variables unless `env` sets them. Panics on a timeout, a signal or a panic message.
#[track_caller]
pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_within(dir, args, env, MEMORY_LIMIT_KB)
}

/// [`run`] under another address-space limit (KiB).
#[track_caller]
pub fn run_within(dir: &Path, args: &[&str], env: &[(&str, &str)], memory_kb: u64) -> Run {
    let started = Instant::now();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {memory_kb} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("PREFLIGHT_AWS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("runs");
    // Drain the pipes while waiting: a big report must not fill them and stall the child.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut v).ok();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("preflight {args:?} did not finish within {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = out_t.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    let code = status.code().unwrap_or_else(|| {
        panic!("preflight was killed by a signal ({status:?}); stderr:\n{stderr}")
    });
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    assert_ne!(code, 101, "panic; stderr:\n{stderr}");
    let findings = serde_json::from_slice::<Value>(&stdout)
        .ok()
        .and_then(|v| v["findings"].as_array().cloned())
        .unwrap_or_default();
    Run {
        findings,
        code,
        elapsed,
        stdout,
        stderr,
    }
}

/// `preflight check DIR --format json` plus `extra`, under the bounds; the run must
/// succeed (exit 0 or 1), print JSON and still report the sentinel.
#[track_caller]
pub fn check_with(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let d = dir.to_str().unwrap();
    let mut args = vec!["check", d, "--format", "json"];
    args.extend_from_slice(extra);
    let run = run(dir, &args, env);
    assert!(
        run.code == 0 || run.code == 1,
        "exit code {} (2 = could not check, 101 = panic); stderr:\n{}",
        run.code,
        run.stderr
    );
    assert!(
        serde_json::from_slice::<Value>(&run.stdout).is_ok(),
        "not JSON: {}\nstderr:\n{}",
        run.text(),
        run.stderr
    );
    run.expect_sentinel();
    run
}

#[track_caller]
pub fn check(dir: &Path) -> Run {
    check_with(dir, &[], &[])
}

pub fn tree(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let run = check(dir.path());
    (dir, run)
}
