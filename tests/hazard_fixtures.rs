//! The apply-order and rendering hazards on the platform fixtures: the broken form applies a
//! ClusterSecretStore with kubernetes_manifest in the same apply as the external-secrets
//! chart, patches the external-dns values with a needle whose whitespace differs, tells the
//! Backstage chart not to create the account nothing creates, and syncs prod's
//! kube-prometheus-stack without server-side apply; the fixed form has none of them.

use std::process::Command;

const RULES: &[&str] = &[
    "crd-before-plan",
    "missing-service-account",
    "replace-needle-missing",
    "sync-option-hazard",
];

fn findings(fixture: &str) -> Vec<(String, String, String, u64)> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", fixture, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut found: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| RULES.contains(&f["rule"].as_str().unwrap_or("")))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

fn row(rule: &str, file: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), "error".into(), file.into(), line)
}

#[test]
fn broken_platform_has_each_hazard() {
    let mut want = vec![
        row("crd-before-plan", "modules/kubernetes_addons/main.tf", 102),
        row(
            "missing-service-account",
            "gitops/helm/backstage/values/dev.yaml",
            38,
        ),
        row(
            "replace-needle-missing",
            "modules/kubernetes_addons/main.tf",
            70,
        ),
        row(
            "sync-option-hazard",
            "gitops/argocd/apps/prod/kube-prometheus-stack.yaml",
            13,
        ),
    ];
    want.sort();
    assert_eq!(findings("testdata/platform-broken"), want);
}

#[test]
fn fixed_platform_has_none() {
    assert_eq!(findings("testdata/platform-fixed"), []);
}

#[test]
fn the_helps_state_the_fix() {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", "testdata/platform-broken", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let help = |rule: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .and_then(|f| f["help"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(help("crd-before-plan").contains("kubectl_manifest"));
    assert!(help("missing-service-account").contains("serviceAccount.create: true"));
    assert!(
        help("replace-needle-missing").contains("txtOwnerId: goldenpath"),
        "{}",
        help("replace-needle-missing")
    );
    assert!(help("sync-option-hazard").contains("ServerSideApply=true"));
}
