//! HCL that `terraform validate` accepts must parse: a repeated object key (the last wins),
//! deep nesting, long operator chains. Each fixture is checked by preflight (no
//! `parse-error`) and, when `terraform` is installed, by `terraform validate` itself, so the
//! premise of the fixture is tested too. Without `terraform` that half is skipped, saying so.

use std::path::Path;
use std::process::Command;

fn fixtures() -> Vec<(&'static str, String)> {
    vec![
        (
            "repeated-key",
            "locals {\n  tags = {\n    Name = \"a\"\n    Team = \"x\"\n    Name = \"b\"\n  }\n}\n\noutput \"name\" {\n  value = local.tags.Name\n}\n".to_string(),
        ),
        (
            "parens",
            format!(
                "locals {{\n  deep = {}1{}\n}}\n\noutput \"deep\" {{\n  value = local.deep\n}}\n",
                "(".repeat(64),
                ")".repeat(64)
            ),
        ),
        (
            "chain",
            format!(
                "locals {{\n  chain = {}\n}}\n\noutput \"chain\" {{\n  value = local.chain\n}}\n",
                vec!["1"; 130].join(" + ")
            ),
        ),
        (
            "objects",
            format!(
                "locals {{\n  nested = {}1{}\n}}\n\noutput \"nested\" {{\n  value = local.nested\n}}\n",
                "{ a = [".repeat(120),
                "]}".repeat(120)
            ),
        ),
    ]
}

fn write(root: &Path) {
    std::fs::write(root.join("preflight.toml"), "").unwrap();
    for (dir, text) in fixtures() {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join("main.tf"), text).unwrap();
    }
}

#[test]
fn preflight_parses_what_terraform_validate_accepts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}:{}", f["rule"], f["file"], f["line"]))
        .collect();
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn terraform_validate_accepts_the_fixtures() {
    let terraform = ["/usr/local/bin/terraform", "terraform"]
        .into_iter()
        .find(|t| {
            Command::new(t)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(terraform) = terraform else {
        eprintln!(
            "skipped: `terraform` is not installed, so the fixtures' validity is not re-checked"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    for (name, _) in fixtures() {
        let out = Command::new(terraform)
            .args(["validate", "-no-color"])
            .current_dir(dir.path().join(name))
            .env_remove("TF_CLI_CONFIG_FILE")
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "terraform validate rejects {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
