//! Every output format on the findings of a tree built from the input (a Terraform root
//! with sensitive values, a module, a Secret and an Application, an IAM policy), split at
//! NUL bytes: human (with and without colour), JSON, SARIF, GitHub, JUnit, the graph and
//! the fix diff. JSON and SARIF must parse, JUnit must hold only characters XML allows,
//! the human report without colour no raw escape character, and no output a value the
//! redactor knows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight::engine::{self, CheckOptions};
use preflight::report::{self, Format};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).into_owned();
    let files = [
        ("envs/dev/main.tf", next()),
        ("modules/m/main.tf", next()),
        ("k8s/secret.yaml", next()),
        ("gitops/argocd/apps/dev/app.yaml", next()),
        ("docs/policies/ci.json", next()),
        ("envs/dev/terraform.tfvars", next()),
        (
            "envs/dev/fixed.tf",
            "variable \"token\" {\n  type      = string\n  sensitive = true\n  default   = \"FUZZSECRET\"\n}\n\nmodule \"m\" {\n  source = \"../../modules/m\"\n}\n".to_string(),
        ),
    ];
    let dir = tempfile::Builder::new()
        .prefix("pf-fuzz")
        .tempdir_in(std::env::var_os("PF_FUZZ_TMP").unwrap_or_else(|| "/tmp".into()))
        .expect("temp dir");
    std::fs::write(
        dir.path().join("preflight.toml"),
        "[teardown]\nname_patterns = [\"fuzz-*\"]\n",
    )
    .unwrap();
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
    let redactor = outcome.session.redactor();
    let mut rendered = Vec::new();
    for (format, color) in [
        (Format::Human, false),
        (Format::Human, true),
        (Format::Json, false),
        (Format::Sarif, false),
        (Format::Github, false),
        (Format::Junit, false),
    ] {
        let mut out = Vec::new();
        let options = report::RenderOptions {
            color,
            quiet: false,
        };
        report::render(&outcome, format, options, &mut out).expect("renders");
        let text = String::from_utf8(out).expect("UTF-8 output");
        match format {
            Format::Json | Format::Sarif => {
                serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON");
            }
            Format::Junit => assert!(
                text.chars().all(|c| matches!(c, '\t' | '\n' | '\r')
                    || ('\u{20}'..='\u{d7ff}').contains(&c)
                    || ('\u{e000}'..='\u{fffd}').contains(&c)
                    || c >= '\u{10000}'),
                "JUnit holds a character XML forbids"
            ),
            Format::Human if !color => {
                assert!(!text.contains('\u{1b}'), "raw escape in the human report")
            }
            _ => {}
        }
        rendered.push(text);
    }
    let g = preflight::graph::build(&outcome);
    for f in [
        preflight::graph::GraphFormat::Mermaid,
        preflight::graph::GraphFormat::Dot,
    ] {
        rendered.push(redactor.text(&preflight::graph::render(&g, f)).into_owned());
    }
    let plan = preflight::fix::plan(&outcome.session.repo, &outcome.findings);
    rendered.push(redactor.text(&preflight::fix::diff(&plan)).into_owned());
    // The input's own text may hold the word (an unparsed file's snippet shows it); only
    // the value that reaches output through `var.token` is checked.
    if !data
        .windows(b"FUZZSECRET".len())
        .any(|w| w == b"FUZZSECRET")
    {
        for text in &rendered {
            assert!(!text.contains("FUZZSECRET"), "a sensitive value is printed");
        }
    }
});
