//! The apply-order and rendering hazards on the platform fixtures: the broken form applies a
//! ClusterSecretStore with kubernetes_manifest in the same apply as the external-secrets
//! chart, patches the external-dns values with a needle whose whitespace differs, tells the
//! Backstage chart not to create the account nothing creates, and syncs prod's
//! kube-prometheus-stack without server-side apply; the fixed form has none of them.

use std::process::Command;

/// The hazard rules of two domains (Terraform's apply order, GitOps' rendering); each is
/// checked against the registry, so a misspelt id fails.
const RULES: &[&str] = &[
    "crd-before-plan",
    "missing-service-account",
    "replace-needle-missing",
    "sync-option-hazard",
];

fn findings(fixture: &str) -> Vec<(String, String, String, u64)> {
    for rule in RULES {
        assert!(
            preflight::rules::find(rule).is_some(),
            "`{rule}` is no rule of preflight"
        );
    }
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

/// An Application rendered by Terraform whose inline values come from a long interpolated
/// block: every reported position stays inside its file, in every output format.
#[test]
fn rendered_applications_keep_positions_inside_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let w = |p: &str, t: &str| {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    w(
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );
    let mut values = String::new();
    for i in 0..400 {
        values.push_str(&format!("key{i}: value-{i}\n"));
    }
    values.push_str("ingress:\n  annotations:\n    cert-manager.io/cluster-issuer: nowhere\n");
    w("envs/dev/values.yaml", &values);
    w(
        "envs/dev/app.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n  source:\n    repoURL: https://charts.example.com\n    chart: web\n    targetRevision: 1.0.0\n    helm:\n      values: |\n        ${values}\n",
    );
    w(
        "envs/dev/main.tf",
        "resource \"kubectl_manifest\" \"web\" {\n  yaml_body = templatefile(\"${path.module}/app.yaml\", { values = indent(8, file(\"${path.module}/values.yaml\")) })\n}\n",
    );
    for format in ["human", "json", "sarif", "github", "junit"] {
        let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(["check", "--format", format])
            .arg(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let issuer: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "undeployed-issuer")
        .collect();
    // The issuer named in the rendered values is seen, at the template's `values: |`
    // (positions inside text rendered into a block scalar keep the scalar's start).
    assert_eq!(issuer.len(), 1, "{v}");
    assert_eq!(issuer[0]["file"], "envs/dev/app.yaml");
    assert_eq!(issuer[0]["line"], 14);
}
