//! The binary end to end: every output format on a fixture repository, exit codes, errors.

use std::path::Path;
use std::process::{Command, Output};

fn preflight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Replace the run time, which varies, in the summary line.
fn stable(text: &str) -> String {
    text.lines()
        .map(|l| match (l.starts_with("preflight: "), l.rfind(" (")) {
            (true, Some(i)) if l.ends_with(" ms)") => format!("{} (TIME ms)", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const FIXTURE: &str = "testdata/parse-errors";

#[test]
fn human_output_shows_snippets_and_ends_with_a_summary() {
    let out = preflight(&["check", FIXTURE]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stable(&stdout(&out)));
}

#[test]
fn json_output_follows_the_contract() {
    let out = preflight(&["check", FIXTURE, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    insta::assert_json_snapshot!(v, { ".summary.elapsed_ms" => "[elapsed]" });
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let out = preflight(&["check", FIXTURE, "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/schemas/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(
        |r| r["id"] == "parse-error" && r["help"]["text"].as_str().unwrap().contains("## Fix")
    ));
    insta::assert_json_snapshot!(results);
}

#[test]
fn github_output_is_workflow_commands() {
    let out = preflight(&["check", FIXTURE, "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stable(&stdout(&out)));
}

#[test]
fn fail_on_controls_the_exit_code() {
    assert_eq!(
        preflight(&["check", FIXTURE, "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        preflight(&["check", "testdata/parse-errors/modules"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sarif");
    let out = preflight(&[
        "check",
        FIXTURE,
        "--format",
        "sarif",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"version\": \"2.1.0\""));
    assert!(stdout(&out).is_empty());
}

#[test]
fn explain_prints_the_rule_page() {
    let out = preflight(&["explain", "parse-error"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("# parse-error"));
    let out = preflight(&["explain", "no-such-rule"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rules_lists_every_rule() {
    let out = preflight(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for id in [
        "parse-error",
        "skipped-file",
        "suppression-without-reason",
        "unused-suppression",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(id)),
            "{id} missing from:\n{text}"
        );
    }
}

#[test]
fn configuration_errors_name_file_and_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("preflight.toml"),
        "exclude = []\n\n[rules.parse-error]\nseverity = \"fatal\"\n",
    )
    .unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("preflight.toml:4"), "{err}");
    assert!(err.contains("fatal"), "{err}");

    std::fs::write(
        dir.path().join("preflight.toml"),
        "[rules.no-such-rule]\nenabled = false\n",
    )
    .unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("preflight.toml:1"));
}

#[test]
fn configured_severity_and_disabled_rules_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "resource \"x\" \"y\" {\n").unwrap();
    std::fs::write(
        dir.path().join("preflight.toml"),
        "[rules.parse-error]\nseverity = \"warning\"\n",
    )
    .unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["severity"], "warning");
    assert_eq!(
        preflight(&[
            "check",
            dir.path().to_str().unwrap(),
            "--fail-on",
            "warning"
        ])
        .status
        .code(),
        Some(1)
    );

    std::fs::write(
        dir.path().join("preflight.toml"),
        "[rules.parse-error]\nenabled = false\n",
    )
    .unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = preflight(&["check", "does/not/exist"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does/not/exist"));
    assert_eq!(
        preflight(&["check", "--format", "xml"]).status.code(),
        Some(2)
    );
}

#[test]
fn suppression_silences_one_block_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("preflight.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("values.yaml"),
        "# preflight:ignore skipped-file -- not a template\nname: x\n",
    )
    .unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "unused-suppression");
    assert_eq!(v["findings"][0]["line"], 1);
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_without_the_feature_is_a_clear_error() {
    let out = preflight(&["check", FIXTURE, "--aws"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("built without AWS support"), "{err}");
}
