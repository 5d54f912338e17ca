//! Whole-module evaluation: a root (locals, variables, outputs, tfvars) calling a module,
//! both from the input split at NUL bytes, evaluated in full: every local, variable and
//! output of every module instance in every pass (`Analysis::over_budget` asks them all),
//! the sensitive values, and every rule. Evaluation must end without a panic, within the
//! budgets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::engine::{self, CheckOptions};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).into_owned();
    let files = [
        ("envs/dev/main.tf", next()),
        ("envs/dev/terraform.tfvars", next()),
        ("modules/m/main.tf", next()),
        ("modules/m/name.tpl", next()),
        (
            "envs/dev/calls.tf",
            "module \"m\" {\n  source = \"../../modules/m\"\n}\n\nmodule \"each\" {\n  source   = \"../../modules/m\"\n  for_each = toset([\"a\", \"b\"])\n}\n".to_string(),
        ),
    ];
    let dir = tempfile::Builder::new()
        .prefix("pf-fuzz")
        .tempdir_in(std::env::var_os("PF_FUZZ_TMP").unwrap_or_else(|| "/tmp".into()))
        .expect("temp dir");
    std::fs::write(
        dir.path().join("preflight.toml"),
        "[terraform.passes]\npass1 = { enabled = false }\npass2 = { enabled = true }\n",
    )
    .unwrap();
    for (p, text) in &files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let session = engine::open(CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        ..Default::default()
    })
    .expect("opens");
    let an = session.terraform_analysis();
    let _ = an.over_budget(&session);
    let _ = an.sensitive_strings(&session);
    let _ = preflight::redact::collect(&session);
    let _ = engine::check(CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        ..Default::default()
    })
    .expect("check runs");
});
