//! Hostile and odd input: each case must end with findings or notes that name the file —
//! never a panic, a hang or unbounded memory. Every run is the real binary under a time
//! limit and an address-space limit.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn yaml_alias_bomb_is_loaded_without_expanding() {
    // "Billion laughs": 9 levels of 9 aliases each is 9^9 (387 million) leaves if expanded.
    let mut y = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        y.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    // The same bomb inside an Application's inline Helm values, which models read.
    let app = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: bomb\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://charts.example.com\n    chart: bomb\n    targetRevision: 1.0.0\n    helm:\n      valuesObject:\n{}  destination:\n    server: https://kubernetes.default.svc\n    namespace: bomb\n",
        y.lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>()
    );
    let (_d, run) = tree(&[
        ("bomb.yaml", y.as_bytes()),
        ("gitops/argocd/apps/dev/bomb.yaml", app.as_bytes()),
    ]);
    assert!(
        !run.findings
            .iter()
            .any(|f| f["rule"] == "parse-error" && f["file"] == "bomb.yaml"),
        "{:?}",
        run.triples()
    );
    assert!(run.elapsed < Duration::from_secs(20));
}

#[test]
fn deep_yaml_nesting_is_reported_or_loaded() {
    let depth = 10_000;
    let flow = format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
    let mut block = String::new();
    for i in 0..depth {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    let (_d, run) = tree(&[
        ("flow.yaml", flow.as_bytes()),
        ("block.yaml", block.as_bytes()),
    ]);
    // Either loaded (the arena is not recursive) or a parse error at the file; never a crash.
    for f in run.probe_findings() {
        assert!(f["file"] == "flow.yaml" || f["file"] == "block.yaml", "{f}");
    }
}

/// Terraform accepts any nesting (`terraform validate` passes at 10,000 levels): past what
/// preflight reads, the file is a note, not an error.
#[test]
fn deep_hcl_nesting_is_a_note_not_a_stack_overflow() {
    let depth = 10_000;
    let text = format!(
        "locals {{\n  x = {}1{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let parens = format!(
        "locals {{\n  y = {}1{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let objects = format!(
        "locals {{\n  z = {}{}\n}}\n",
        "{ a = ".repeat(depth),
        "}".repeat(depth)
    );
    let blocks = format!("{}{}", "a {\n".repeat(depth), "}\n".repeat(depth));
    let (_d, run) = tree(&[
        ("lists/main.tf", text.as_bytes()),
        ("parens/main.tf", parens.as_bytes()),
        ("objects/main.tf", objects.as_bytes()),
        ("blocks/main.tf", blocks.as_bytes()),
    ]);
    for file in [
        "lists/main.tf",
        "parens/main.tf",
        "objects/main.tf",
        "blocks/main.tf",
    ] {
        let f = run.expect_rule_on("skipped-file", file);
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("deeper than preflight reads"),
            "{f}"
        );
    }
}

#[test]
fn deep_json_nesting_is_a_parse_error() {
    let depth = 10_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let (_d, run) = tree(&[
        ("docs/policies/deep.json", text.as_bytes()),
        ("docs/policies/objects.json", objects.as_bytes()),
    ]);
    run.expect_rule_on("parse-error", "docs/policies/deep.json");
    run.expect_rule_on("parse-error", "docs/policies/objects.json");
}

#[test]
fn a_file_over_the_configured_size_limit_is_skipped_with_a_note() {
    let big = format!("locals {{\n{}}}\n", "  a = 1\n".repeat(500));
    let (_d, run) = tree(&[
        ("preflight.toml", b"max_file_bytes = 1000\n"),
        ("envs/dev/main.tf", big.as_bytes()),
        ("envs/dev/small.tf", b"locals {\n  b = 2\n}\n"),
    ]);
    let f = run.expect_rule_on("skipped-file", "envs/dev/main.tf");
    assert_eq!(f["severity"], "note");
    assert!(f["message"].as_str().unwrap().contains("1000"), "{f}");
    assert!(
        !run.findings
            .iter()
            .any(|f| f["file"] == "envs/dev/small.tf"),
        "{:?}",
        run.triples()
    );
}

#[test]
fn a_file_over_the_default_10_mib_limit_is_skipped_with_a_note() {
    let mut big = Vec::with_capacity(10 * 1024 * 1024 + 64);
    while big.len() <= 10 * 1024 * 1024 {
        big.extend_from_slice(b"key: value\n");
    }
    let (_d, run) = tree(&[("huge.yaml", &big)]);
    run.expect_rule_on("skipped-file", "huge.yaml");
}

#[test]
fn invalid_utf8_is_a_parse_error_at_the_first_bad_byte() {
    let (_d, run) = tree(&[
        ("envs/dev/main.tf", b"locals {\n  a = \"caf\xe9\"\n}\n"),
        ("values.yaml", b"a: 1\nb: \xff\xfe\n"),
    ]);
    let f = run.expect_rule_on("parse-error", "envs/dev/main.tf");
    assert_eq!(f["line"], 2);
    let f = run.expect_rule_on("parse-error", "values.yaml");
    assert_eq!(f["line"], 2);
}

#[test]
fn a_utf8_bom_parses_and_positions_stay_right() {
    let (_d, run) = tree(&[
        ("ok/main.tf", "\u{feff}locals {\n  a = 1\n}\n".as_bytes()),
        ("ok.yaml", "\u{feff}a: 1\nb: 2\n".as_bytes()),
        (
            "ok.json",
            "\u{feff}{\"Version\": \"2012-10-17\"}\n".as_bytes(),
        ),
        (
            "bad/main.tf",
            "\u{feff}locals {\n  a = 1\n  b = \n}\n".as_bytes(),
        ),
    ]);
    for ok in ["ok/main.tf", "ok.yaml", "ok.json"] {
        assert!(
            !run.findings.iter().any(|f| f["file"] == ok),
            "{ok}: {:?}",
            run.triples()
        );
    }
    let f = run.expect_rule_on("parse-error", "bad/main.tf");
    // The error is at the end of line 3 or the start of line 4, as without the BOM.
    let line = f["line"].as_u64().unwrap();
    assert!(line == 3 || line == 4, "{f}");
    let (_d2, plain) = tree(&[("bad/main.tf", b"locals {\n  a = 1\n  b = \n}\n")]);
    let g = plain.expect_rule_on("parse-error", "bad/main.tf");
    assert_eq!((&f["line"], &f["column"]), (&g["line"], &g["column"]));
}

#[test]
fn crlf_line_endings_keep_positions_right() {
    let (_d, run) = tree(&[
        ("ok/main.tf", b"locals {\r\n  a = 1\r\n}\r\n"),
        ("ok.yaml", b"a: 1\r\nb:\r\n  - x\r\n"),
        ("bad/main.tf", b"locals {\r\n  a = 1\r\n  b = \"x\r\n}\r\n"),
        ("bad.yaml", b"a: 1\r\nb: [x\r\nc: 2\r\n"),
    ]);
    for ok in ["ok/main.tf", "ok.yaml"] {
        assert!(
            !run.findings.iter().any(|f| f["file"] == ok),
            "{ok}: {:?}",
            run.triples()
        );
    }
    let f = run.expect_rule_on("parse-error", "bad/main.tf");
    let (_d2, lf) = tree(&[("bad/main.tf", b"locals {\n  a = 1\n  b = \"x\n}\n")]);
    let g = lf.expect_rule_on("parse-error", "bad/main.tf");
    assert_eq!((&f["line"], &f["column"]), (&g["line"], &g["column"]));
    run.expect_rule_on("parse-error", "bad.yaml");
}

#[test]
fn a_binary_file_named_tf_is_a_parse_error() {
    let mut bytes = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
    bytes.extend((0..4096u32).map(|i| (i * 31 % 256) as u8));
    let (_d, run) = tree(&[("envs/dev/main.tf", &bytes)]);
    let f = run.expect_rule_on("parse-error", "envs/dev/main.tf");
    assert!(
        f["message"].as_str().unwrap().contains("does not parse"),
        "{f}"
    );
}

#[test]
fn empty_files_are_fine_or_reported() {
    let (_d, run) = tree(&[
        ("envs/dev/main.tf", b""),
        ("envs/dev/terraform.tfvars", b""),
        ("empty.yaml", b""),
        ("empty.json", b""),
    ]);
    // Empty Terraform and YAML are valid; empty JSON is not a document.
    for f in run.probe_findings() {
        assert_eq!(f["file"], "empty.json", "{:?}", run.triples());
    }
    run.expect_rule_on("parse-error", "empty.json");
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("envs/dev/main.tf", b"locals {}\n")]);
    let d = dir.path().join("envs/dev");
    std::os::unix::fs::symlink(d.join("b.tf"), d.join("a.tf")).unwrap();
    std::os::unix::fs::symlink(d.join("a.tf"), d.join("b.tf")).unwrap();
    // A folder link back to its parent: walking it would never end.
    std::os::unix::fs::symlink(dir.path(), d.join("up")).unwrap();
    let run = check(dir.path());
    run.expect_rule_on("skipped-file", "envs/dev/a.tf");
    run.expect_rule_on("skipped-file", "envs/dev/b.tf");
}

#[test]
fn a_module_that_calls_itself_is_reported_and_not_followed() {
    let (_d, run) = tree(&[(
        "modules/me/main.tf",
        b"variable \"n\" {\n  default = 1\n}\n\nmodule \"again\" {\n  source = \"./\"\n  n      = var.n + 1\n}\n\noutput \"n\" {\n  value = module.again.n\n}\n",
    )]);
    let f = run.expect_rule_on("module-source", "modules/me/main.tf");
    assert_eq!(f["line"], 6, "{f}");
}

#[test]
fn a_module_source_that_escapes_the_repository_is_reported() {
    let (_d, run) = tree(&[(
        "envs/dev/main.tf",
        b"module \"outside\" {\n  source = \"../../../../etc\"\n}\n",
    )]);
    let f = run
        .findings
        .iter()
        .find(|f| f["rule"] == "module-source" && f["file"] == "envs/dev/main.tf" && f["line"] == 2)
        .unwrap_or_else(|| panic!("{:?}", run.triples()));
    assert!(f["message"].as_str().unwrap().contains("outside"), "{f}");
}

fn app_of_apps_loop() -> (tempfile::TempDir, Run) {
    let app = |name: &str, path: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/platform.git\n    targetRevision: main\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n"
        )
    };
    let a = app("a", "gitops/b");
    let b = app("b", "gitops/a");
    tree(&[
        (
            "preflight.toml",
            b"[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n",
        ),
        ("gitops/a/app.yaml", a.as_bytes()),
        ("gitops/b/app.yaml", b.as_bytes()),
    ])
}

#[test]
fn an_app_of_apps_loop_ends() {
    // Each Application deploys the other: the model must stop, and the run must end.
    let (_d, run) = app_of_apps_loop();
    assert!(run.code == 0 || run.code == 1);
}

/// `app-of-apps-loop` tells the user that `a` and `b` deploy each other.
#[test]
fn an_app_of_apps_loop_is_reported_at_both_applications() {
    let (_d, run) = app_of_apps_loop();
    for file in ["gitops/a/app.yaml", "gitops/b/app.yaml"] {
        assert!(
            run.findings
                .iter()
                .any(|f| f["file"] == file && f["message"].as_str().unwrap_or("").contains("loop")),
            "{file}: {:?}",
            run.triples()
        );
    }
}

/// Chart templates built to exhaust the renderer: an alias bomb in values printed with
/// `toYaml`, a string doubled until it is huge, includes that recurse, ranges that multiply,
/// and deep nesting. Each is bounded and left out with a note; nothing crashes.
#[test]
fn hostile_chart_templates_are_bounded() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: evil\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: evil\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/evil\n";
    let deep = format!(
        "{}x{}",
        "{{ if true }}".repeat(5000),
        "{{ end }}".repeat(5000)
    );
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let (_d, run) = tree(&[
        (
            "preflight.toml",
            b"[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
        ),
        ("apps/evil.yaml", app.as_bytes()),
        ("charts/evil/Chart.yaml", b"apiVersion: v2\nname: evil\nversion: 0.1.0\n"),
        ("charts/evil/values.yaml", bomb.as_bytes()),
        ("charts/evil/templates/bomb.yaml", b"x: {{ toYaml .Values.a11 | nindent 2 }}\n"),
        (
            "charts/evil/templates/double.yaml",
            b"{{- $s := \"ab\" }}{{- range until 64 }}{{- $s = printf \"%s%s\" $s $s }}{{- end }}\nx: {{ $s }}\n",
        ),
        (
            "charts/evil/templates/loop.yaml",
            b"{{- define \"l\" }}{{ include \"l\" . }}{{ include \"l\" . }}{{ end }}{{ include \"l\" . }}\n",
        ),
        (
            "charts/evil/templates/ranges.yaml",
            b"{{- range until 100000 }}{{ range until 100000 }}{{ range until 100000 }}x{{ end }}{{ end }}{{ end }}\n",
        ),
        // Not installed: only parsed (too deep: a syntax error, not a stack overflow).
        ("charts/deep/Chart.yaml", b"apiVersion: v2\nname: deep\nversion: 0.1.0\n"),
        ("charts/deep/templates/deep.yaml", deep.as_bytes()),
        ("charts/deep/templates/parens.yaml", parens.as_bytes()),
    ]);
    assert!(run.elapsed < TIME_LIMIT);
    run.expect_sentinel();
    let mut got: Vec<(String, String)> = run
        .probe_findings()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("helm-template-syntax", "charts/deep/templates/deep.yaml"),
        ("helm-template-syntax", "charts/deep/templates/parens.yaml"),
        ("skipped-file", "charts/evil/templates/bomb.yaml"),
        ("skipped-file", "charts/evil/templates/double.yaml"),
        ("skipped-file", "charts/evil/templates/loop.yaml"),
        ("skipped-file", "charts/evil/templates/ranges.yaml"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{:?}", run.findings);
}
