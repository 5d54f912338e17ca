//! The whole engine on a small tree built from the input: a Terraform root calling a
//! module, an ArgoCD Application and an IAM policy, split from the input at NUL bytes.
//! Every model and rule runs; the check must finish without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::engine::{self, CheckOptions};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).into_owned();
    let files = [
        ("envs/dev/main.tf", next()),
        ("modules/m/main.tf", next()),
        ("gitops/argocd/apps/dev/app.yaml", next()),
        ("docs/policies/ci.json", next()),
        ("envs/dev/terraform.tfvars", next()),
    ];
    let dir = tempfile::Builder::new()
        .prefix("pf-fuzz")
        .tempdir_in(std::env::var_os("PF_FUZZ_TMP").unwrap_or_else(|| "/tmp".into()))
        .expect("temp dir");
    std::fs::write(dir.path().join("preflight.toml"), "").unwrap();
    for (p, text) in &files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let outcome = engine::check(CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        ..Default::default()
    })
    .expect("check runs");
    for f in &outcome.findings {
        let file = outcome.session.repo.file(f.span.file);
        assert!(
            f.span.end as usize <= file.text.len(),
            "finding span out of its file"
        );
    }
});
