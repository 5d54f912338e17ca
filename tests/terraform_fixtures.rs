//! The platform fixtures end to end: the broken form reproduces the seed's Terraform
//! failures (and nothing else from the Terraform rules); the fixed form is clean.

use std::process::{Command, Output};

/// The Terraform rules, from the registry.
fn terraform_rules() -> Vec<&'static str> {
    preflight::rules::domain("terraform")
        .iter()
        .map(|r| r.meta().id)
        .collect()
}

fn preflight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

/// (rule, file, line) of the Terraform rules' findings.
fn terraform_findings(path: &str, extra: &[&str]) -> Vec<(String, String, u64)> {
    let mut args = vec!["check", path, "--format", "json"];
    args.extend_from_slice(extra);
    let out = preflight(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let rules = terraform_rules();
    let mut found: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or("")))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    found
}

/// The rows, sorted like [`terraform_findings`].
fn owned(v: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = v
        .iter()
        .map(|(r, f, l)| (r.to_string(), f.to_string(), *l))
        .collect();
    v.sort();
    v
}

#[test]
fn broken_platform_reproduces_the_seed_failures() {
    let found = terraform_findings("testdata/platform-broken/envs/dev", &[]);
    assert_eq!(
        found,
        owned(&[
            // "Invalid for_each argument" where the deployer role is created rather than
            // adopted (a fresh account): its keys hold the new role's ARN.
            ("apply-time-count", "modules/ci_deployer/main.tf", 51),
            // "reading EKS Cluster (goldenpath-dev-eks): couldn't find resource" in pass 1.
            ("ungated-data-source", "envs/dev/main.tf", 53),
            ("ungated-data-source", "envs/dev/main.tf", 58),
            // "namespaces \"argocd\" not found" for the bootstrap ConfigMap.
            ("unmanaged-namespace", "envs/dev/main.tf", 94),
            // The apply-order hazards `tests/hazard_fixtures.rs` describes: a
            // ClusterSecretStore applied with the chart installing its CRD, and a values
            // patch whose needle is not in the template.
            ("crd-before-plan", "modules/kubernetes_addons/main.tf", 102),
            (
                "replace-needle-missing",
                "modules/kubernetes_addons/main.tf",
                70
            ),
        ])
    );
}

#[test]
fn broken_platform_help_gives_the_corrected_count() {
    let out = preflight(&[
        "check",
        "testdata/platform-broken/envs/dev",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let helps: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "ungated-data-source")
        .filter_map(|f| f["help"].as_str())
        .collect();
    assert_eq!(
        helps,
        [
            "count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0",
            "count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0"
        ]
    );
}

#[test]
fn fixed_platform_is_clean() {
    assert_eq!(
        terraform_findings("testdata/platform-fixed/envs/dev", &[]),
        vec![]
    );
    assert_eq!(terraform_findings("testdata/platform-fixed", &[]), vec![]);
}

#[test]
fn pass_two_alone_still_sees_the_missing_namespace() {
    assert_eq!(
        terraform_findings("testdata/platform-broken/envs/dev", &["--pass", "pass2"]),
        owned(&[
            ("apply-time-count", "modules/ci_deployer/main.tf", 51),
            ("unmanaged-namespace", "envs/dev/main.tf", 94),
            // The hazards of pass 2 (see `broken_platform_reproduces_the_seed_failures`).
            ("crd-before-plan", "modules/kubernetes_addons/main.tf", 102),
            (
                "replace-needle-missing",
                "modules/kubernetes_addons/main.tf",
                70
            ),
        ])
    );
}

#[test]
fn the_two_passes_are_inferred_from_the_bootstrap_script_and_shown_with_verbose() {
    for example in ["testdata/platform-broken", "testdata/platform-fixed"] {
        let out = preflight(&["check", example, "--verbose", "--format", "json"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("pass `pass1` (enable_k8s_resources = false): inferred: bootstrap/10_bootstrap/two-pass-apply.sh runs `terraform apply` on envs/dev at line 10 and again at line 11"),
            "{err}"
        );
        assert!(
            err.contains("pass `pass2` (enable_k8s_resources = true)"),
            "{err}"
        );
    }
}

#[test]
fn an_unknown_pass_is_a_usage_error() {
    let out = preflight(&["check", "testdata/platform-broken", "--pass", "pass9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown pass `pass9`"), "{err}");
    assert!(err.contains("pass1, pass2"), "{err}");
}

#[test]
fn fixtures_are_terraform_fmt_clean() {
    let Ok(out) = Command::new("terraform").arg("version").output() else {
        eprintln!("terraform is not on PATH: skipped");
        return;
    };
    if !out.status.success() {
        return;
    }
    for dir in ["testdata/platform-broken", "testdata/platform-fixed"] {
        let out = Command::new("terraform")
            .args(["fmt", "-check", "-recursive", dir])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("terraform fmt runs");
        assert!(
            out.status.success(),
            "terraform fmt -check {dir}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Every error and warning of any rule, as (severity, rule, file).
fn all_findings(path: &str) -> Vec<(String, String, String)> {
    let out = preflight(&["check", path, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "note")
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_fixed_example_has_no_error_or_warning_from_any_rule() {
    assert_eq!(all_findings("testdata/platform-fixed"), vec![]);
}

#[test]
fn the_broken_example_reports_every_regression_of_the_seed() {
    let found = all_findings("testdata/platform-broken");
    let has = |rule: &str, file: &str| {
        found
            .iter()
            .any(|(sev, r, f)| sev == "error" && r == rule && f == file)
    };
    // The data sources read during plan, the namespace nothing creates, the issuer the
    // cert-manager Application does not deploy, the CI policy without iam:CreatePolicy,
    // the teardown patterns that miss goldenpath-idp-*, the secret created without a value.
    for (rule, file) in [
        ("ungated-data-source", "envs/dev/main.tf"),
        ("unmanaged-namespace", "envs/dev/main.tf"),
        ("undeployed-issuer", "gitops/helm/backstage/values/dev.yaml"),
        ("ci-policy-gap", "modules/iam/main.tf"),
        ("teardown-coverage", "modules/iam/main.tf"),
        (
            "secret-without-value",
            "gitops/helm/backstage/values/dev.yaml",
        ),
    ] {
        assert!(has(rule, file), "{rule} at {file} missing: {found:?}");
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_fixed_example_is_clean_with_no_configuration_at_all() {
    // No preflight.toml: no declared passes, no GitOps repository URLs, no IAM settings.
    let dir = tempfile::tempdir().unwrap();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/platform-fixed");
    copy_tree(&here, dir.path());
    std::fs::remove_file(dir.path().join("preflight.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", ".", "--verbose", "--format", "json"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let loud: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "note")
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pass `pass1` (enable_k8s_resources = false): inferred: bootstrap/10_bootstrap/two-pass-apply.sh"),
        "{err}"
    );
}
