//! Helm charts in the repository, end to end through the binary: an app-of-apps chart whose
//! production values name a value file that does not exist, a template with an unclosed
//! action, a template using `lookup` (a note, nothing else), and a chart installed by
//! Terraform whose rendered Namespaces are what the Kubernetes resources need. The fixed
//! form keeps only the note.
//!
//! Where the `helm` binary is installed, preflight's rendering of the fixture charts is
//! compared with `helm template`.

use std::path::{Path, PathBuf};
use std::process::Command;

type Row = (String, String, String, u64);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// (rule, severity, file, line) of every finding.
fn findings(name: &str) -> Vec<Row> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("check")
        .arg(fixture(name))
        .args(["--format", "json"])
        .output()
        .expect("run preflight");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut v: Vec<Row> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
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

/// The lookup template: its manifests are left out, with a note at the `if` that depends
/// on the live cluster. Never an error.
const LOOKUP_NOTE: (&str, &str, &str, u64) = (
    "skipped-file",
    "note",
    "charts/web/templates/session-secret.yaml",
    8,
);

#[test]
fn broken_charts_are_reported_at_their_values_and_template_lines() {
    assert_eq!(
        findings("helm-broken"),
        owned(&[
            // prod-web, rendered by the app-of-apps chart from values-prod.yaml, names a
            // value file charts/web does not have: reported at the values line.
            (
                "missing-source-path",
                "error",
                "charts/apps/values-prod.yaml",
                8
            ),
            // `{{- end }` closes nothing.
            (
                "helm-template-syntax",
                "error",
                "charts/tools/templates/configmap.yaml",
                8
            ),
            // The Namespaces chart Terraform installs renders `payments` and `search`, not
            // `analytics`.
            ("unmanaged-namespace", "error", "envs/dev/main.tf", 28),
            LOOKUP_NOTE,
        ])
    );
}

#[test]
fn fixed_charts_leave_only_the_lookup_note() {
    assert_eq!(findings("helm-fixed"), owned(&[LOOKUP_NOTE]));
}

#[test]
fn the_rendered_application_points_at_its_template() {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("check")
        .arg(fixture("helm-broken"))
        .args(["--format", "json"])
        .output()
        .expect("run preflight");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "missing-source-path")
        .expect("missing-source-path");
    assert!(f["message"].as_str().unwrap().contains("`prod-web`"), "{f}");
    let label = &f["labels"][0];
    assert_eq!(label["file"], "charts/apps/templates/applications.yaml");
    assert_eq!(label["line"], 7);
}

/// Documents of a rendered stream, `# Source:` comments and empty documents dropped, as
/// JSON values (so formatting differences do not count).
fn documents(text: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for doc in text.split("\n---") {
        let body: String = doc
            .lines()
            .filter(|l| !l.starts_with("# Source:") && l.trim() != "---")
            .collect::<Vec<_>>()
            .join("\n");
        if body.trim().is_empty() {
            continue;
        }
        let v = preflight::model::helm::funcs::from_text_yaml(&body);
        out.push(preflight::model::helm::funcs::to_json(&v));
    }
    out.sort_by_key(|v| v.to_string());
    out
}

#[test]
fn rendering_matches_helm_template() {
    let helm = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("helm"))
            .find(|p| p.is_file())
    });
    let Some(helm) = helm else {
        eprintln!("skipped: no `helm` binary on the PATH to compare `helm template` with");
        return;
    };
    let root = fixture("helm-fixed");
    let excludes = preflight::discover::Excludes::new(&[]).expect("excludes");
    let repo = preflight::repo::Repository::load(
        &root,
        &preflight::repo::LoadOptions {
            excludes: &excludes,
            max_file_bytes: 10 << 20,
        },
    );
    // (chart, values file, release, namespace); the web chart uses `lookup` and random
    // values, which `helm template` fills differently on every run.
    let cases = [
        (
            "charts/apps",
            Some("charts/apps/values-dev.yaml"),
            "root-dev",
            "argocd",
        ),
        (
            "charts/apps",
            Some("charts/apps/values-prod.yaml"),
            "root-prod",
            "argocd",
        ),
        ("charts/platform", None, "platform", "cert-manager"),
        ("charts/namespaces", None, "ns", "default"),
    ];
    for (dir, values_file, release, namespace) in cases {
        let chart = preflight::model::helm::chart_at(&repo, dir).expect("chart");
        let mut values = preflight::model::helm::chart_defaults(&repo, &chart);
        let mut cmd = Command::new(&helm);
        cmd.args(["template", release])
            .arg(root.join(dir))
            .args(["--namespace", namespace]);
        if let Some(vf) = values_file {
            let text = std::fs::read_to_string(root.join(vf)).expect("values");
            let layer = preflight::model::helm::funcs::from_text_yaml(&text);
            preflight::model::helm::value::merge(&mut values, &layer);
            cmd.arg("-f").arg(root.join(vf));
        }
        let helm_out = cmd.output().expect("run helm");
        assert!(
            helm_out.status.success(),
            "helm template {dir}: {}",
            String::from_utf8_lossy(&helm_out.stderr)
        );
        let release = preflight::model::helm::Release {
            name: release.to_string(),
            namespace: Some(namespace.to_string()),
        };
        let mut ours = String::new();
        for &file in &chart.templates {
            let text =
                preflight::model::helm::render_text(&repo, &chart, values.clone(), &release, file)
                    .unwrap_or_else(|e| panic!("{dir}: {e}"));
            ours.push_str("\n---\n");
            ours.push_str(&text);
        }
        assert_eq!(
            documents(&ours),
            documents(&String::from_utf8_lossy(&helm_out.stdout)),
            "{dir} with {values_file:?}"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Rendered ClusterIssuers exist for the Applications of their cluster: without the
/// platform Application in production, the issuer the rendered web Ingress names is missing
/// there, reported at the values line that chose the issuer.
#[test]
fn rendered_issuers_satisfy_rendered_ingresses_of_their_cluster() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("helm-fixed"), dir.path());
    let prod = dir.path().join("charts/apps/values-prod.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(
        &prod,
        text.replace(
            "  platform:\n    enabled: true",
            "  platform:\n    enabled: false",
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .expect("run preflight");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "note")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(
            "undeployed-issuer".to_string(),
            "charts/web/values.yaml".to_string(),
            6
        )],
        "{report}"
    );
    let msg = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "undeployed-issuer")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("prod.eks.example.com"), "{msg}");
}
