//! `preflight graph` end to end.

use std::process::Command;

fn graph(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("graph")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn mermaid_marks_the_findings_and_shows_what_each_application_deploys() {
    let (code, text) = graph(&["testdata/platform-broken"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("flowchart LR\n"));
    // prod's cert-manager deploys the issuers; dev's does not, and dev's values are marked.
    assert!(text.contains("ClusterIssuer letsencrypt-staging"));
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("⚠ undeployed-issuer"))
        .collect();
    assert_eq!(marked.len(), 2, "{text}");
    assert!(marked.iter().all(|l| l.contains("/dev.yaml")));
    assert!(text.contains("class ") && text.contains(" finding"));
    assert_eq!(
        text.matches("subgraph ").count(),
        text.matches("\n  end\n").count()
    );
}

#[test]
fn fixed_repository_has_no_marked_errors() {
    let (code, text) = graph(&["testdata/platform-fixed"]);
    assert_eq!(code, 0);
    assert!(!text.contains("undeployed-issuer"), "{text}");
}

#[test]
fn dot_output_is_accepted_by_graphviz() {
    let (code, text) = graph(&["testdata/platform-broken", "--format", "dot"]);
    assert_eq!(code, 0);
    assert!(text.starts_with("digraph preflight {"));
    assert!(text.contains("fillcolor=\"#fde2e1\""));
    let Ok(mut child) = Command::new("dot")
        .args(["-Tsvg", "-o", "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("graphviz `dot` not installed: skipping the syntax check");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "dot rejected:\n{text}");
}
