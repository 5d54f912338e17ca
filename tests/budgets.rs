//! A small file must not take the machine: each probe is a few lines that would take
//! gigabytes or minutes without the evaluation budgets, run under the time and memory
//! bounds of `support` beside the sentinel.

mod support;

use support::*;

fn locals(lines: &[String]) -> Vec<u8> {
    format!("locals {{\n{}}}\n", lines.concat()).into_bytes()
}

#[test]
fn doubling_locals_end_in_a_note() {
    // 22 lines; each doubles the last. Followed, the last is 2^21 copies of a0.
    let mut l = vec!["  a0 = { k = \"0123456789abcdef0123456789abcdef\" }\n".to_string()];
    for i in 1..22 {
        l.push(format!(
            "  a{i} = merge({{ l = local.a{p} }}, {{ r = local.a{p} }})\n",
            p = i - 1
        ));
    }
    let (_d, run) = tree(&[("envs/dev/main.tf", &locals(&l))]);
    let f = run.expect_rule_on("evaluation-budget", "envs/dev/main.tf");
    assert_eq!(f["severity"], "note");
    assert!(
        f["message"].as_str().unwrap().contains("cannot tell"),
        "{f}"
    );
}

#[test]
fn a_thousand_copies_of_a_16_mb_string_end_in_a_note() {
    let l = vec![
        "  big    = join(\"\", [for i in range(1000000) : \"0123456789abcdef\"])\n".to_string(),
        "  copies = [for i in range(1000) : local.big]\n".to_string(),
        "  joined = join(\",\", local.copies)\n".to_string(),
    ];
    let (_d, run) = tree(&[("envs/dev/main.tf", &locals(&l))]);
    run.expect_rule_on("evaluation-budget", "envs/dev/main.tf");
}

#[test]
fn hashing_a_large_string_many_times_is_charged_by_its_bytes() {
    let l = vec![
        "  big    = join(\"\", [for i in range(625000) : \"0123456789abcdef\"])\n".to_string(),
        "  hashes = [for i in range(500000) : sha256(local.big)]\n".to_string(),
    ];
    let (_d, run) = tree(&[("envs/dev/main.tf", &locals(&l))]);
    let f = run.expect_rule_on("evaluation-budget", "envs/dev/main.tf");
    assert_eq!(f["line"], 3, "{f}");
}

#[test]
fn a_template_that_renders_itself_is_an_error_not_a_loop() {
    let (_d, run) = tree(&[
        (
            "envs/dev/main.tf",
            b"resource \"aws_s3_bucket\" \"b\" {\n  bucket = templatefile(\"${path.module}/name.tpl\", {})\n}\n",
        ),
        (
            "envs/dev/name.tpl",
            b"${templatefile(\"name.tpl\", {})}${templatefile(\"name.tpl\", {})}",
        ),
    ]);
    // Terraform refuses a template function inside a template; followed, the two calls
    // per level would expand 2^256 times.
    assert!(run.elapsed.as_secs() < 5, "{:?}", run.elapsed);
}

#[test]
fn a_module_fan_out_is_bounded() {
    // Ten calls per module, twelve deep.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for d in 0..12 {
        let calls: String = (0..10)
            .map(|i| {
                format!(
                    "module \"m{i}\" {{\n  source = \"../l{}\"\n  n = {i}\n}}\n",
                    d + 1
                )
            })
            .collect();
        files.push((
            format!("modules/l{d}/main.tf"),
            format!("variable \"n\" {{\n  default = 0\n}}\n\n{calls}").into_bytes(),
        ));
    }
    files.push((
        "modules/l12/main.tf".into(),
        b"variable \"n\" {\n  default = 0\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b-${var.n}\"\n}\n".to_vec(),
    ));
    files.push((
        "envs/dev/main.tf".into(),
        b"module \"top\" {\n  source = \"../../modules/l0\"\n}\n".to_vec(),
    ));
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_slice()))
        .collect();
    let (_d, run) = tree(&borrowed);
    let f = run
        .findings
        .iter()
        .find(|f| {
            f["rule"] == "evaluation-budget"
                && f["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("module instances")
        })
        .unwrap_or_else(|| panic!("{:?}", run.triples()));
    assert_eq!(f["severity"], "note");
}

#[test]
fn a_thousand_statements_against_800_resources_is_fast() {
    let mut st = Vec::new();
    for i in 0..1000 {
        st.push(format!(
            "{{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject{i}\", \"ec2:Describe*\", \"iam:Get{i}*\", \"s3:Put*\"], \"Resource\": [\"arn:aws:s3:::bucket-{i}-*\", \"arn:aws:iam::123456789012:role/r{i}*\"]}}"
        ));
    }
    let policy = format!(
        "{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}",
        st.join(",\n")
    );
    let mut tf = String::new();
    for i in 0..800 {
        tf.push_str(&format!(
            "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"bucket-{i}-x\"\n}}\n\nresource \"aws_iam_role\" \"r{i}\" {{\n  name               = \"role-{i}\"\n  assume_role_policy = \"{{}}\"\n}}\n\n"
        ));
    }
    let (_d, run) = tree(&[
        (
            "preflight.toml",
            b"[iam]\nci_policy = \"docs/ci.json\"\naccount_id = \"123456789012\"\n",
        ),
        ("docs/ci.json", policy.as_bytes()),
        ("envs/dev/main.tf", tf.as_bytes()),
    ]);
    let gaps = run
        .findings
        .iter()
        .filter(|f| f["rule"] == "ci-policy-gap")
        .count();
    assert_eq!(gaps, 1600, "{:?}", &run.triples()[..5]);
    // Indexed by action prefix and resource prefix: seconds, not a minute (debug build,
    // busy machine).
    assert!(run.elapsed.as_secs() < 20, "{:?}", run.elapsed);
}

fn duplicate_keys(n: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let yaml: String = (0..n).map(|i| format!("a: {i}\n")).collect();
    write(dir.path(), &[("dup.yaml", yaml.as_bytes())]);
    let d = dir.path().to_str().unwrap().to_string();
    (dir, d)
}

#[test]
fn forty_thousand_findings_in_one_file_render_in_linear_time() {
    let (dir, d) = duplicate_keys(40_000);
    let r = run(dir.path(), &["check", &d], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = r.text();
    assert!(
        text.contains("1 error, 39999 warnings") && text.contains(SENTINEL),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    assert!(r.elapsed.as_secs() < 25, "{:?}", r.elapsed);
}

#[test]
fn sarif_for_100_000_findings_is_streamed_in_bounded_memory() {
    let (dir, d) = duplicate_keys(100_001);
    // The whole log as one JSON value took about 1.6 GB for this many results.
    let r = run_within(
        dir.path(),
        &["check", &d, "--format", "sarif"],
        &[],
        1_500_000,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let results = r
        .stdout
        .windows(b"\"ruleId\"".len())
        .filter(|w| *w == b"\"ruleId\"")
        .count();
    // 100,000 duplicate keys and the sentinel.
    assert_eq!(results, 100_001);
    assert!(r.text().contains(SENTINEL));
    assert!(r.stdout.ends_with(b"}\n"));
}
