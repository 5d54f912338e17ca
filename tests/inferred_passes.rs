//! Staged applies inferred from the repository's scripts: `-var`, `-var-file` and
//! `TF_VAR_` settings, in Terraform's precedence (`TF_VAR_` loses to terraform.tfvars).

use std::path::Path;
use std::process::Command;

const ROOT: &str = r#"variable "enable_k8s_resources" {
  type = bool
}

resource "aws_eks_cluster" "this" {
  name     = "dev"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-1"]
  }
}

data "aws_eks_cluster" "this" {
  name = aws_eks_cluster.this.name
}

provider "kubernetes" {
  host = data.aws_eks_cluster.this.endpoint
}

resource "kubernetes_namespace_v1" "apps" {
  count = var.enable_k8s_resources ? 1 : 0
  metadata {
    name = "apps"
  }
}
"#;

fn write(root: &Path, files: &[(&str, &str)]) {
    std::fs::write(root.join("preflight.toml"), "").unwrap();
    for (p, text) in files {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The `--verbose` lines naming passes, and the (rule, file, line) of the errors.
fn check(root: &Path) -> (Vec<String>, Vec<(String, String, u64)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", ".", "--verbose", "--format", "json"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let passes = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("pass `"))
        .map(|l| l.trim_start_matches("preflight: ").to_string())
        .collect();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let errors = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (passes, errors)
}

const BY_ENV: &str = "#!/usr/bin/env bash\nset -euo pipefail\ncd \"$(dirname \"$0\")/..\"\nexport TF_VAR_enable_k8s_resources=false\nterraform -chdir=envs/dev apply -auto-approve\nexport TF_VAR_enable_k8s_resources=true\nterraform -chdir=envs/dev apply -auto-approve\n";

#[test]
fn tf_var_exports_in_a_bootstrap_script_are_the_passes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("envs/dev/main.tf", ROOT), ("scripts/bootstrap.sh", BY_ENV)],
    );
    let (passes, errors) = check(dir.path());
    assert_eq!(
        passes.first().map(String::as_str),
        Some(
            "pass `pass1` (enable_k8s_resources = false): inferred: scripts/bootstrap.sh runs `terraform apply` on envs/dev at line 5 and again at line 7"
        ),
        "{passes:?}"
    );
    // The data source reads the cluster the same pass creates.
    assert_eq!(
        errors,
        [(
            "ungated-data-source".to_string(),
            "envs/dev/main.tf".to_string(),
            13
        )]
    );
}

#[test]
fn terraform_tfvars_wins_over_tf_var_so_the_script_gives_no_passes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("envs/dev/main.tf", ROOT),
            ("envs/dev/terraform.tfvars", "enable_k8s_resources = true\n"),
            ("scripts/bootstrap.sh", BY_ENV),
        ],
    );
    let (passes, _) = check(dir.path());
    assert!(
        !passes.iter().any(|p| p.contains("scripts/bootstrap.sh")),
        "{passes:?}"
    );
}

#[test]
fn var_files_a_makefile_passes_are_the_passes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("envs/dev/main.tf", ROOT),
            ("envs/dev/stage1.tfvars", "enable_k8s_resources = false\n"),
            ("envs/dev/stage2.tfvars", "enable_k8s_resources = true\n"),
            (
                "Makefile",
                "TF := terraform -chdir=envs/dev\n\nbootstrap:\n\t$(TF) apply -var-file=stage1.tfvars\n\t$(TF) apply -var-file=stage2.tfvars\n",
            ),
        ],
    );
    let (passes, errors) = check(dir.path());
    assert_eq!(
        passes.first().map(String::as_str),
        Some(
            "pass `pass1` (enable_k8s_resources = false): inferred: Makefile runs `terraform apply` on envs/dev at line 4 and again at line 5"
        ),
        "{passes:?}"
    );
    assert_eq!(
        errors,
        [(
            "ungated-data-source".to_string(),
            "envs/dev/main.tf".to_string(),
            13
        )]
    );
}
