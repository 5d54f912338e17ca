//! The validity rules end to end on `testdata/validity`: three environments sharing
//! `modules/app` and `modules/network`, with the mistakes `terraform validate` would reject.

use std::path::Path;
use std::process::Command;

const FIXTURE: &str = "testdata/validity";

#[test]
fn reports_exactly_the_invalid_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", FIXTURE, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = v["findings"].as_array().expect("findings");
    let got: Vec<(String, String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let want: Vec<(String, String, u64)> = [
        ("reserved-name", "envs/dev/locals.tf", 5),
        ("constant-condition", "envs/dev/main.tf", 6),
        ("undefined-reference", "envs/dev/main.tf", 12),
        ("unknown-module-argument", "envs/dev/main.tf", 15),
        ("bad-function-call", "envs/dev/main.tf", 21),
        ("duplicate-declaration", "envs/dev/main.tf", 25),
        ("unknown-module-argument", "envs/prod/main.tf", 9),
        ("module-source", "envs/prod/main.tf", 14),
        ("undefined-reference", "envs/prod/main.tf", 22),
        ("undefined-reference", "envs/prod/main.tf", 26),
    ]
    .iter()
    .map(|(r, f, l)| (r.to_string(), f.to_string(), *l))
    .collect();
    assert_eq!(
        got,
        want,
        "{}",
        serde_json::to_string_pretty(&v).unwrap_or_default()
    );

    let by = |rule: &str, line: u64| {
        findings
            .iter()
            .find(|f| f["rule"] == rule && f["line"] == line)
            .expect("finding")
    };
    let renamed = by("unknown-module-argument", 9);
    assert!(
        renamed["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`instance_count`")
    );
    assert_eq!(
        renamed["labels"][0]["file"].as_str(),
        Some("modules/app/variables.tf")
    );
    let output = by("undefined-reference", 22);
    assert_eq!(
        output["help"].as_str(),
        Some("did you mean `module.app.security_group_id`?")
    );
    let trim = by("bad-function-call", 21);
    assert!(
        trim["help"]
            .as_str()
            .unwrap_or_default()
            .contains("`trimspace`")
    );
    let duplicate = by("duplicate-declaration", 25);
    assert_eq!(
        duplicate["labels"][0]["file"].as_str(),
        Some("envs/dev/locals.tf")
    );
}

#[test]
fn a_shared_module_checked_through_one_environment_is_clean() {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args([
            "check",
            "testdata/validity/envs/staging",
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "{v:#}");
    assert_eq!(out.status.code(), Some(0));
}

/// The fixtures are formatted as `terraform fmt` wants (no init, no network: `fmt` reads
/// files only). Skipped when no `terraform` binary is installed.
#[test]
fn fixtures_are_terraform_fmt_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let run = Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-no-color"])
        .arg(&dir)
        .output();
    match run {
        Err(_) => eprintln!("terraform not installed: skipping the fmt check"),
        Ok(out) => assert!(
            out.status.success(),
            "terraform fmt -check failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
