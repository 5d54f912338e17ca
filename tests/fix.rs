//! `--fix` end to end: fixes are text splices that remove their finding and keep the file
//! formatted as `terraform fmt` wants.

use std::path::Path;
use std::process::Command;

fn preflight(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn copy_tree(from: &Path, to: &Path) {
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

fn rules_found(dir: &Path, path: &str) -> Vec<String> {
    let out = preflight(dir, &["check", path, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn terraform_fmt_ok(file: &Path) -> Option<bool> {
    let out = Command::new("terraform")
        .args(["fmt", "-check"])
        .arg(file)
        .output()
        .ok()?;
    Some(out.status.success())
}

#[test]
fn fix_gates_the_data_sources_and_keeps_the_file_formatted() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/platform-broken"),
        dir.path(),
    );
    let main_tf = dir.path().join("envs/dev/main.tf");
    let before = std::fs::read_to_string(&main_tf).unwrap();
    assert_eq!(
        rules_found(dir.path(), "envs/dev")
            .iter()
            .filter(|r| *r == "ungated-data-source")
            .count(),
        2
    );

    // --diff shows the change and writes nothing.
    let only = ["--select", "ungated-data-source"];
    let out = preflight(
        dir.path(),
        &["check", "envs/dev", "--fix", "--diff", only[0], only[1]],
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+  count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&main_tf).unwrap(), before);

    let out = preflight(
        dir.path(),
        &["check", "envs/dev", "--fix", only[0], only[1]],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("applied 2 fixes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&main_tf).unwrap();
    assert_ne!(after, before);
    assert!(
        !rules_found(dir.path(), "envs/dev")
            .iter()
            .any(|r| r == "ungated-data-source")
    );
    // Only the two count lines changed.
    let changed = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, 2);
    assert_eq!(before.lines().count(), after.lines().count());
    match terraform_fmt_ok(&main_tf) {
        Some(ok) => assert!(ok, "terraform fmt -check fails after the fix:\n{after}"),
        None => eprintln!("terraform not installed: skipping the fmt check"),
    }
}

#[test]
fn fix_replaces_a_literal_namespace_with_a_reference_keeping_crlf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("preflight.toml"), "").unwrap();
    let text = "resource \"kubernetes_namespace_v1\" \"argocd\" {\r\n  metadata {\r\n    name = \"argocd\"\r\n  }\r\n}\r\n\r\n# The bootstrap settings ArgoCD reads.\r\nresource \"kubernetes_config_map_v1\" \"argocd_bootstrap\" {\r\n  metadata {\r\n    name      = \"argocd-bootstrap\"\r\n    namespace = \"argocd\"\r\n  }\r\n  data = {\r\n    env = \"dev\"\r\n  }\r\n}\r\n";
    std::fs::write(dir.path().join("main.tf"), text).unwrap();
    assert_eq!(rules_found(dir.path(), "."), ["unmanaged-namespace"]);
    let out = preflight(dir.path(), &["check", ".", "--fix"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(dir.path().join("main.tf")).unwrap();
    assert!(
        after.contains("    namespace = kubernetes_namespace_v1.argocd.metadata[0].name\r\n"),
        "{after}"
    );
    assert!(after.contains("# The bootstrap settings ArgoCD reads.\r\n"));
    assert_eq!(after.matches("\r\n").count(), text.matches("\r\n").count());
    assert!(rules_found(dir.path(), ".").is_empty());
}

#[test]
fn fix_creates_the_missing_namespace_and_adds_the_issuer_source() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/platform-broken"),
        dir.path(),
    );
    let found = rules_found(dir.path(), ".");
    assert_eq!(
        found.iter().filter(|r| *r == "unmanaged-namespace").count(),
        1
    );
    assert_eq!(
        found.iter().filter(|r| *r == "undeployed-issuer").count(),
        2
    );
    let out = preflight(
        dir.path(),
        &[
            "check",
            ".",
            "--fix",
            "--select",
            "unmanaged-namespace,undeployed-issuer",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("applied 3 fixes in 2 files"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = rules_found(dir.path(), ".");
    for rule in [
        "unmanaged-namespace",
        "undeployed-issuer",
        "parse-error",
        "duplicate-key",
    ] {
        assert!(
            !found.iter().any(|r| r == rule),
            "{rule} after the fix: {found:?}"
        );
    }
    let main_tf = dir.path().join("envs/dev/main.tf");
    let text = std::fs::read_to_string(&main_tf).unwrap();
    assert!(text.contains(
        "resource \"kubernetes_namespace_v1\" \"argocd\" {\n  count = var.enable_k8s_resources ? 1 : 0\n"
    ), "{text}");
    assert!(text.contains("namespace = kubernetes_namespace_v1.argocd[0].metadata[0].name"));
    match terraform_fmt_ok(&main_tf) {
        Some(ok) => assert!(ok, "terraform fmt -check fails after the fix:\n{text}"),
        None => eprintln!("terraform not installed: skipping the fmt check"),
    }
    // The two references asked for one source: it is added once.
    let app = std::fs::read_to_string(dir.path().join("gitops/argocd/apps/dev/cert-manager.yaml"))
        .unwrap();
    assert_eq!(
        app.matches("path: gitops/kustomize/bases/cert-manager")
            .count(),
        1,
        "{app}"
    );
}

#[test]
fn fix_renames_a_one_argument_trim_to_trimspace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "locals {\n  a = trim(\" x \")\n  b = trim(\" y \", \" \")\n  c = trim()\n}\n",
    )
    .unwrap();
    let out = preflight(dir.path(), &["check", ".", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixable: Vec<(u64, bool)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), !f["fix"].is_null()))
        .collect();
    // `trim()` has no mechanical fix.
    assert_eq!(fixable, [(2, true), (4, false)]);
    preflight(dir.path(), &["check", ".", "--fix"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        "locals {\n  a = trimspace(\" x \")\n  b = trim(\" y \", \" \")\n  c = trim()\n}\n"
    );
}

#[test]
fn the_issuer_help_follows_a_single_source_application() {
    let url = "https://github.com/acme/platform-infra.git";
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("preflight.toml".to_string(), format!("[gitops]\nrepo_urls = [\"{url}\"]\n")),
        (
            "apps/cert-manager.yaml".to_string(),
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: cert-manager\nspec:\n  destination:\n    server: https://eks.example.com\n  source:\n    repoURL: https://charts.jetstack.io\n    chart: cert-manager\n    targetRevision: v1.14.0\n".to_string(),
        ),
        (
            "apps/web.yaml".to_string(),
            format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  destination:\n    server: https://eks.example.com\n  source:\n    repoURL: {url}\n    path: k8s/web\n    targetRevision: HEAD\n"),
        ),
        (
            "k8s/web/cert.yaml".to_string(),
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web\n  issuerRef:\n    name: letsencrypt-prod\n    kind: ClusterIssuer\n".to_string(),
        ),
        (
            "k8s/issuers/issuer.yaml".to_string(),
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt-prod\nspec: {}\n".to_string(),
        ),
    ];
    for (rel, text) in &files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = preflight(dir.path(), &["check", ".", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "undeployed-issuer")
        .expect("the issuer finding");
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64()),
        (Some("k8s/web/cert.yaml"), Some(8))
    );
    let help = f["help"].as_str().unwrap();
    assert!(help.contains("has a single `source:`"), "{help}");
    assert!(help.contains("  sources:\n    - <the current source>\n    - repoURL: https://github.com/acme/platform-infra.git"), "{help}");
    assert!(!help.starts_with("add `k8s/issuers` as a source"), "{help}");
    // Turning `source:` into `sources:` is not a mechanical insertion: no fix.
    assert!(f["fix"].is_null(), "{f}");
}
