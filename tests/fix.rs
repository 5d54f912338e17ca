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
    let out = preflight(dir.path(), &["check", "envs/dev", "--fix", "--diff"]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+  count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&main_tf).unwrap(), before);

    let out = preflight(dir.path(), &["check", "envs/dev", "--fix"]);
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
