//! The seed's GitOps failure, end to end through the binary: the dev cert-manager
//! Application installs only the chart, so the ClusterIssuer the ingresses name never
//! exists; the fixed form adds the kustomize source.

use std::path::Path;
use std::process::Command;

/// The GitOps rules, from the registry.
fn gitops_rules() -> Vec<&'static str> {
    preflight::rules::domain("gitops")
        .iter()
        .map(|r| r.meta().id)
        .collect()
}

type Row = (String, String, String, u64);

/// (rule, severity, file, line) of the GitOps rules' findings.
fn findings(fixture: &str) -> Vec<Row> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("check")
        .arg(&dir)
        .args(["--format", "json"])
        .output()
        .expect("run preflight");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{fixture}: not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rules = gitops_rules();
    let mut v: Vec<Row> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

fn owned(v: &[(&str, &str, &str, u64)]) -> Vec<Row> {
    let mut v: Vec<Row> = v
        .iter()
        .map(|(r, s, f, l)| (r.to_string(), s.to_string(), f.to_string(), *l))
        .collect();
    v.sort();
    v
}

/// The fixtures are not git clones, so the branch `development` cannot be checked: one
/// note says so, in both forms.
const REVISION_NOTE: (&str, &str, &str, u64) = (
    "unknown-target-revision",
    "note",
    "gitops/argocd/apps/dev/backstage.yaml",
    20,
);

#[test]
fn broken_platform_reports_the_undeployed_cluster_issuer() {
    assert_eq!(
        findings("platform-broken"),
        owned(&[
            (
                "undeployed-issuer",
                "error",
                "gitops/helm/backstage/values/dev.yaml",
                13
            ),
            (
                "undeployed-issuer",
                "error",
                "gitops/helm/kube-prometheus-stack/values/dev.yaml",
                7
            ),
            // The seed's empty secret: Terraform creates it without a version (the module's
            // `initial_value` is not set) and the backstage ExternalSecret reads it.
            (
                "secret-without-value",
                "error",
                "gitops/helm/backstage/values/dev.yaml",
                33
            ),
            REVISION_NOTE,
            // The rendering hazards `tests/hazard_fixtures.rs` describes: Backstage's chart
            // told not to create the account nothing creates, and prod's
            // kube-prometheus-stack synced without server-side apply.
            (
                "missing-service-account",
                "error",
                "gitops/helm/backstage/values/dev.yaml",
                38
            ),
            (
                "sync-option-hazard",
                "error",
                "gitops/argocd/apps/prod/kube-prometheus-stack.yaml",
                13
            ),
        ])
    );
}

#[test]
fn fixed_platform_has_no_gitops_errors_or_warnings() {
    assert_eq!(findings("platform-fixed"), owned(&[REVISION_NOTE]));
}

/// The seed's case under pre-commit: staging only the cert-manager Application reports the
/// annotations in other files of the same cluster that now name a missing issuer.
#[test]
fn naming_the_changed_application_reports_its_whole_cluster() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args([
            "check",
            "testdata/platform-broken/gitops/argocd/apps/dev/cert-manager.yaml",
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "undeployed-issuer")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "undeployed-issuer".to_string(),
                "gitops/helm/backstage/values/dev.yaml".to_string(),
                13
            ),
            (
                "undeployed-issuer".to_string(),
                "gitops/helm/kube-prometheus-stack/values/dev.yaml".to_string(),
                7
            ),
        ]
    );
    // A prod Application alone does not drag in dev's findings.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args([
            "check",
            "testdata/platform-broken/gitops/argocd/apps/prod",
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "undeployed-issuer"),
        "{v}"
    );
}
