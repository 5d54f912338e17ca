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
    insta::assert_json_snapshot!(v, { ".summary.elapsed_ms" => "[elapsed]", ".base.root" => "[root]" });
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
    // Two parse errors, and the note on what of the half-read file was skipped.
    assert_eq!(results.len(), 3);
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
        preflight(&[
            "check",
            "testdata/parse-errors/gitops/apps/dev-keycloak.yaml"
        ])
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
    let parse_error = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "parse-error")
        .unwrap();
    assert_eq!(parse_error["severity"], "warning");
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
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The note on what the unparsed file switched off stays.
    assert_eq!(rules, ["skipped-file"]);
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

#[test]
fn junit_output_is_well_formed_xml_with_one_case_per_finding() {
    let out = preflight(&["check", FIXTURE, "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("<?xml"));
    assert_eq!(text.matches("<testcase ").count(), 3);
    assert_eq!(text.matches("<failure ").count(), 2);
    assert!(text.contains(r#"failures="2""#));
    assert!(text.trim_end().ends_with("</testsuites>"));
    let clean = preflight(&[
        "check",
        "testdata/parse-errors/gitops/apps/dev-keycloak.yaml",
        "--format",
        "junit",
    ]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(stdout(&clean).contains("files checked"));
}

#[test]
fn baseline_hides_recorded_findings_and_reports_stale_entries() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    let out = preflight(&["check", FIXTURE, "--write-baseline", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert_eq!(recorded["entries"].as_array().unwrap().len(), 3);

    let out = preflight(&[
        "check",
        FIXTURE,
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);

    // An entry that matches nothing is reported so the file can shrink.
    let mut stale = recorded.clone();
    stale["entries"][0]["file"] = "gone.tf".into();
    std::fs::write(&base, serde_json::to_string(&stale).unwrap()).unwrap();
    let out = preflight(&["check", FIXTURE, "--baseline", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 baseline entries no longer match"), "{err}");
    assert!(err.contains("gone.tf"), "{err}");

    std::fs::write(&base, "not json").unwrap();
    assert_eq!(
        preflight(&["check", FIXTURE, "--baseline", base.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs")
        .status
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn changed_checks_only_what_the_change_touches() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("envs/prod")).unwrap();
    std::fs::create_dir_all(root.join("envs/dev")).unwrap();
    // A pre-existing problem in prod, committed.
    std::fs::write(root.join("envs/prod/main.tf"), "resource \"x\" \"y\" {\n").unwrap();
    std::fs::write(root.join("envs/dev/main.tf"), "locals {}\n").unwrap();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "base"]);
    // The change breaks dev.
    std::fs::write(root.join("envs/dev/main.tf"), "locals {\n").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["check", root.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let out = preflight(&args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "parse-error")
            .map(|f| f["file"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(&[]), ["envs/dev/main.tf", "envs/prod/main.tf"]);
    assert_eq!(run(&["--changed", "HEAD"]), ["envs/dev/main.tf"]);
    assert_eq!(run(&["--changed"]), ["envs/dev/main.tf"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "change"]);
    let out = preflight(&["check", root.to_str().unwrap(), "--changed", "HEAD"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no changed files"));
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_without_the_feature_is_a_clear_error() {
    let out = preflight(&["check", FIXTURE, "--aws"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("built without AWS support"), "{err}");
}
