//! A pull request's checkout is untrusted input: it must not make preflight read or write
//! outside the repository, print what it must not, or run a program. Every probe runs the
//! real binary under the time and memory bounds of `support`, beside a sentinel that must
//! still be reported.

mod support;

use std::path::Path;
use support::*;

#[cfg(unix)]
fn link(target: impl AsRef<Path>, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, at).unwrap();
}

/// Every format's rendering of a check of `dir`.
fn all_formats(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Vec<(String, String)> {
    ["human", "json", "sarif", "github", "junit"]
        .iter()
        .map(|f| {
            let d = dir.to_str().unwrap();
            let mut args = vec!["check", d, "--format", f];
            args.extend_from_slice(extra);
            let r = run(dir, &args, env);
            assert!(r.code == 0 || r.code == 1, "{f}: {}", r.stderr);
            (f.to_string(), r.text() + &r.stderr)
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn links_out_of_the_repository_are_skipped_and_never_read() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    let outside = top.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // Outside files that would show up in snippets, values and parse errors if read.
    std::fs::write(
        outside.join("passwd"),
        "root:x:0:0:SECRET-OUTSIDE:/root:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        outside.join("values.tfvars"),
        "bucket = \"SECRET-OUTSIDE-VALUE\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(&repo).unwrap();
    write(
        &repo,
        &[(
            "envs/dev/main.tf",
            b"variable \"bucket\" {\n  type = string\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = var.bucket\n}\n",
        )],
    );
    let dev = repo.join("envs/dev");
    link(outside.join("passwd"), &dev.join("passwd.tf"));
    link(
        "../../../outside/values.tfvars",
        &dev.join("terraform.tfvars"),
    );
    link("/dev/zero", &dev.join("zero.tf"));
    link("/dev/stdin", &dev.join("stdin.yaml"));
    // A FIFO inside the repository, reached through a link: opening it must not block.
    let fifo = repo.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let have_fifo = made.is_ok_and(|s| s.success());
    if have_fifo {
        link("../../pipe", &dev.join("fifo.tf"));
    } else {
        eprintln!("mkfifo not available: the FIFO probe is skipped");
    }
    let run = check(&repo);
    for (file, target) in [
        ("envs/dev/passwd.tf", "outside"),
        ("envs/dev/terraform.tfvars", "outside"),
        ("envs/dev/zero.tf", "/dev/zero"),
    ] {
        let f = run.expect_rule_on("skipped-file", file);
        let m = f["message"].as_str().unwrap();
        assert!(
            m.contains(target) && m.contains("outside the repository"),
            "{f}"
        );
    }
    run.expect_rule_on("skipped-file", "envs/dev/stdin.yaml");
    if have_fifo {
        let f = run.expect_rule_on("skipped-file", "envs/dev/fifo.tf");
        assert!(f["message"].as_str().unwrap().contains("FIFO"), "{f}");
    }
    for (format, out) in all_formats(&repo, &[], &[]) {
        assert!(!out.contains("SECRET-OUTSIDE"), "{format} leaks:\n{out}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_linked_inside_the_repository_is_part_of_its_module() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "common/variables-common.tf",
                b"variable \"region\" {\n  type = string\n}\n",
            ),
            (
                "envs/dev/main.tf",
                b"output \"region\" {\n  value = var.region\n}\n",
            ),
            (
                "envs/prod/main.tf",
                b"output \"region\" {\n  value = var.region\n}\n",
            ),
        ],
    );
    for env in ["dev", "prod"] {
        link(
            "../../common/variables-common.tf",
            &dir.path().join(format!("envs/{env}/variables-common.tf")),
        );
    }
    let run = check(dir.path());
    let others: Vec<_> = run.probe_findings().collect();
    assert!(others.is_empty(), "{:?}", run.triples());
    // Without the links, the reference is undefined: the links are what declares it.
    for env in ["dev", "prod"] {
        std::fs::remove_file(dir.path().join(format!("envs/{env}/variables-common.tf"))).unwrap();
    }
    let run = check(dir.path());
    run.expect_rule_on("undefined-reference", "envs/dev/main.tf");
}

#[cfg(unix)]
#[test]
fn fix_never_writes_through_a_link() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    // The namespace fix of `unmanaged-namespace` applies to this text.
    let text = "resource \"kubernetes_namespace_v1\" \"argocd\" {\n  metadata {\n    name = \"argocd\"\n  }\n}\n\nresource \"kubernetes_config_map_v1\" \"argocd_bootstrap\" {\n  metadata {\n    name      = \"argocd-bootstrap\"\n    namespace = \"argocd\"\n  }\n}\n";
    write(
        &repo,
        &[
            ("preflight.toml", b"exclude = [\"shared\"]\n"),
            ("shared/ns.tf", text.as_bytes()),
        ],
    );
    link("../../shared/ns.tf", &repo.join("envs/dev/main.tf"));
    let before = check(&repo);
    before.expect_rule_on("unmanaged-namespace", "envs/dev/main.tf");
    let r = run(&repo, &["check", ".", "--fix"], &[]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("not fixed") && r.stderr.contains("link"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("shared/ns.tf")).unwrap(),
        text
    );
    assert!(
        std::fs::symlink_metadata(repo.join("envs/dev/main.tf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn the_repositorys_config_names_only_files_inside_it() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        top.path().join("outside.tfvars"),
        "a = \"SECRET-OUTSIDE\"\n",
    )
    .unwrap();
    for bad in [
        "../outside.tfvars",
        "/etc/passwd",
        "envs/../../outside.tfvars",
    ] {
        write(
            &repo,
            &[(
                "preflight.toml",
                format!("exclude = []\n\n[terraform]\nvar_files = [\"{bad}\"]\n").as_bytes(),
            )],
        );
        let r = run(&repo, &["check", ".", "--format", "json"], &[]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("preflight.toml:4") && r.stderr.contains("outside the repository"),
            "{bad}: {}",
            r.stderr
        );
    }
    // The same file named on the command line, or by a configuration the user keeps
    // outside the repository, is read.
    write(&repo, &[("preflight.toml", b"")]);
    let outside = top.path().join("outside.tfvars");
    let r = check_with(
        &repo,
        &["--verbose", "--var-file", outside.to_str().unwrap()],
        &[],
    );
    assert!(!r.stderr.contains("not read"), "{}", r.stderr);
    let user_config = top.path().join("mine.toml");
    std::fs::write(
        &user_config,
        format!("[terraform]\nvar_files = [\"{}\"]\n", outside.display()),
    )
    .unwrap();
    let r = check_with(
        &repo,
        &["--verbose", "--config", user_config.to_str().unwrap()],
        &[],
    );
    assert!(!r.stderr.contains("not read"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn a_var_file_the_config_names_through_a_link_out_is_not_read() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        top.path().join("outside.tfvars"),
        "a = \"SECRET-OUTSIDE\"\n",
    )
    .unwrap();
    write(
        &repo,
        &[(
            "preflight.toml",
            b"[terraform]\nvar_files = [\"vars/extra.tfvars.txt\"]\n",
        )],
    );
    link("../../outside.tfvars", &repo.join("vars/extra.tfvars.txt"));
    let r = check_with(&repo, &["--verbose"], &[]);
    assert!(
        r.stderr.contains("not read") && r.stderr.contains("outside the repository"),
        "{}",
        r.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_config_linked_out_of_the_repository_is_refused() {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(top.path().join("token"), "SECRET-OUTSIDE = [\n").unwrap();
    link(top.path().join("token"), &repo.join("preflight.toml"));
    let r = run(&repo, &["check", ".", "--format", "json"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("outside the repository"), "{}", r.stderr);
    assert!(!r.stderr.contains("SECRET-OUTSIDE"), "{}", r.stderr);
}

fn live_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "preflight.toml",
                b"[iam]\nci_policy = \"docs/ci.json\"\nci_role = \"ci\"\nlive = true\n",
            ),
            (
                "docs/ci.json",
                b"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    { \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\" }\n  ]\n}\n",
            ),
        ],
    );
    dir
}

#[test]
fn a_checked_in_live_setting_makes_no_aws_call_on_ci() {
    let dir = live_repo();
    // On CI, without --aws or PREFLIGHT_AWS=1, the live check does not run at all.
    for ci in [("CI", "true"), ("GITHUB_ACTIONS", "true")] {
        let r = check_with(dir.path(), &[], &[ci]);
        assert!(
            !r.findings.iter().any(|f| f["rule"] == "ci-role-drift"),
            "{ci:?}: {:?}",
            r.triples()
        );
    }
    // Off CI, or with the workflow's opt-in, it runs (here: a build without AWS support or
    // without credentials says it could not verify).
    for env in [&[][..], &[("CI", "true"), ("PREFLIGHT_AWS", "1")][..]] {
        let r = check_with(dir.path(), &[], env);
        r.expect_rule_on("ci-role-drift", "docs/ci.json");
    }
}

#[test]
fn changed_refuses_a_ref_that_git_would_take_as_an_option() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("main.tf", b"locals {}\n")]);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs")
    };
    if git(&["init", "-q"]).status.code() != Some(0) {
        eprintln!("git not available: skipped");
        return;
    }
    git(&["-c", "user.email=a@b", "-c", "user.name=a", "add", "."]);
    git(&[
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-qm",
        "x",
    ]);
    let written = dir.path().join("written");
    for reference in [
        format!("--output={}", written.display()),
        "-p".to_string(),
        "HEAD\n--output=x".to_string(),
        "no-such-ref".to_string(),
    ] {
        let arg = format!("--changed={reference}");
        let r = run(dir.path(), &["check", ".", &arg], &[]);
        assert_eq!(r.code, 2, "{reference:?}: {}", r.stderr);
        assert!(r.stderr.contains("--changed"), "{}", r.stderr);
        assert!(!written.exists(), "{reference:?} made git write a file");
    }
    let r = run(dir.path(), &["check", ".", "--changed=HEAD"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_checkouts_git_config_runs_no_program() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("main.tf", b"locals {}\n")]);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs")
    };
    if git(&["init", "-q"]).status.code() != Some(0) {
        eprintln!("git not available: skipped");
        return;
    }
    std::fs::write(
        dir.path().join(".gitattributes"),
        "*.tf filter=evil diff=evil\n",
    )
    .unwrap();
    git(&["-c", "user.email=a@b", "-c", "user.name=a", "add", "."]);
    git(&[
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-qm",
        "x",
    ]);
    let marker = dir.path().join("ran");
    let cmd = |what: &str| format!("touch {}-{what}; cat", marker.display());
    let hooks = dir.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for (k, v) in [
        ("filter.evil.clean", cmd("clean")),
        ("filter.evil.smudge", cmd("smudge")),
        ("filter.evil.process", cmd("process")),
        ("filter.evil.required", "true".into()),
        ("diff.evil.textconv", cmd("textconv")),
        ("diff.evil.command", cmd("command")),
        ("diff.external", cmd("external")),
        ("core.fsmonitor", cmd("fsmonitor")),
        ("core.pager", cmd("pager")),
        ("core.hooksPath", hooks.display().to_string()),
    ] {
        git(&["config", k, &v]);
    }
    for hook in [
        "post-index-change",
        "reference-transaction",
        "post-checkout",
    ] {
        std::fs::write(hooks.join(hook), format!("#!/bin/sh\n{}\n", cmd(hook))).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(hooks.join(hook), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
    }
    // A changed tracked file: comparing it with the index is where a clean filter runs.
    std::fs::write(dir.path().join("main.tf"), "locals {\n  a = 1\n}\n").unwrap();
    for args in [&["check", "."][..], &["check", ".", "--changed=HEAD"][..]] {
        let r = run(dir.path(), args, &[]);
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
    }
    let ran: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ran-"))
        .collect();
    assert!(ran.is_empty(), "git ran the checkout's programs: {ran:?}");
    // The same configuration does run them for a plain git diff (the probe is real).
    git(&["diff", "--name-only", "HEAD"]);
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("ran-")),
        "the probe's configuration runs nothing even in plain git"
    );
}

const SECRETS: [&str; 4] = [
    "TOPSECRET42",
    "OUTSECRET77",
    "PLAINSECRET99",
    "QkFTRTY0U0VDUkVU",
];

fn sensitive_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("preflight.toml", b"[teardown]\nname_patterns = [\"other-*\"]\n"),
            (
                "envs/dev/main.tf",
                b"variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"app-${var.token}\"\n}\n\nmodule \"m\" {\n  source = \"../../modules/m\"\n}\n\nresource \"aws_s3_bucket\" \"c\" {\n  bucket = module.m.name\n}\n\nlocals {\n  t = \"${var.token}-low\"\n}\n\nresource \"aws_s3_bucket\" \"d\" {\n  bucket = lower(local.t)\n}\n",
            ),
            ("envs/dev/terraform.tfvars", b"token = \"TOPSECRET42\"\n"),
            (
                "envs/dev/k8s.tf",
                b"resource \"kubernetes_secret_v1\" \"s\" {\n  data = { password = \"TFSECRET55\" }\n  metadata { namespace = \"nowhere\" }\n}\n",
            ),
            (
                "modules/m/main.tf",
                b"output \"name\" {\n  value     = \"OUTSECRET77\"\n  sensitive = true\n}\n",
            ),
            (
                "k8s/secret.yaml",
                b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: PLAINSECRET99\n  password: PLAINSECRET99\ndata:\n  key: QkFTRTY0U0VDUkVU\n",
            ),
        ],
    );
    dir
}

#[test]
fn sensitive_values_and_secret_data_are_never_printed() {
    let dir = sensitive_repo();
    let run = check(dir.path());
    // The findings are still there, with the value redacted.
    let f = run.expect_rule_on("teardown-coverage", "envs/dev/main.tf");
    // `app-${var.token}` is sensitive as a whole, as Terraform marks it.
    assert!(
        f["message"].as_str().unwrap().contains("`(sensitive)`"),
        "{f}"
    );
    assert!(
        run.findings.iter().any(|f| f["rule"] == "teardown-coverage"
            && f["message"].as_str().unwrap().contains("`(sensitive)`")),
        "{:?}",
        run.triples()
    );
    run.expect_rule_on("duplicate-key", "k8s/secret.yaml");
    run.expect_rule_on("unmanaged-namespace", "envs/dev/k8s.tf");
    // A value derived from a sensitive one is sensitive too (Terraform's mark follows it).
    assert!(
        run.findings.iter().any(|f| f["rule"] == "teardown-coverage"
            && f["line"] == 23
            && f["message"].as_str().unwrap().contains("`(sensitive)`")),
        "{:?}",
        run.triples()
    );
    let mut outputs = all_formats(dir.path(), &[], &[]);
    let d = dir.path().to_str().unwrap();
    let g = support::run(dir.path(), &["graph", d], &[]);
    outputs.push(("graph".into(), g.text() + &g.stderr));
    let baseline = dir.path().join("baseline.json");
    let b = support::run(
        dir.path(),
        &["check", d, "--write-baseline", baseline.to_str().unwrap()],
        &[],
    );
    assert_eq!(b.code, 0, "{}", b.stderr);
    outputs.push((
        "baseline".into(),
        std::fs::read_to_string(&baseline).unwrap(),
    ));
    let v = support::run(dir.path(), &["check", d, "--verbose"], &[]);
    outputs.push(("verbose".into(), v.text() + &v.stderr));
    for (format, out) in &outputs {
        for secret in SECRETS {
            assert!(!out.contains(secret), "{format} prints {secret}:\n{out}");
        }
    }
    let human = &outputs[0].1;
    assert!(human.contains("password: (sensitive)"), "{human}");
    assert!(human.contains("data = (sensitive)"), "{human}");
}

#[test]
fn control_characters_from_the_repository_are_escaped() {
    let (dir, run) = tree(&[
        ("preflight.toml", b"[teardown]\nname_patterns = [\"other-*\"]\n"),
        (
            "envs/dev/main.tf",
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\x1b]0;owned\x07\x1b[2J\u{202e}y\"\n}\n".as_bytes(),
        ),
        ("k8s/\x1b[31mred.yaml", b"a: 1\na: 2\n"),
    ]);
    run.expect_rule_on("teardown-coverage", "envs/dev/main.tf");
    for (format, out) in all_formats(dir.path(), &[], &[]) {
        if format == "json" || format == "sarif" || format == "junit" {
            continue; // Escaped by their own syntax.
        }
        assert!(
            !out.contains('\x1b') && !out.contains('\x07') && !out.contains('\u{202e}'),
            "{format}:\n{}",
            out.escape_debug()
        );
        assert!(out.contains("\\x1b"), "{format}:\n{out}");
    }
}

#[test]
fn junit_output_is_well_formed_xml_whatever_the_text() {
    let (dir, _) = tree(&[
        ("preflight.toml", b"[teardown]\nname_patterns = [\"other-*\"]\n"),
        (
            "envs/dev/main.tf",
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"a\x01\x0b\u{fffe}\u{ffff}<&>\\\"']]>b\"\n}\n".as_bytes(),
        ),
    ]);
    let d = dir.path().to_str().unwrap();
    let r = run(dir.path(), &["check", d, "--format", "junit"], &[]);
    let xml = r.text();
    assert!(xml.contains("teardown-coverage"), "{xml}");
    for c in xml.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}';
        assert!(ok, "XML 1.0 forbids {:?}:\n{}", c, xml.escape_debug());
    }
    // A real XML parser, when one is on the machine.
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(xml.as_bytes())?;
            c.wait_with_output()
        });
    match parsed {
        Ok(o) => assert!(
            o.status.success(),
            "{}\n{xml}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("python3 not available ({e}): the XML parser check is skipped"),
    }
}

#[test]
fn a_label_past_column_65535_is_shown_in_a_window() {
    let pad = "a".repeat(70_000);
    let tf = format!("output \"x\" {{ value = {{ a = \"{pad}\", b = local.missing }} }}\n");
    let json = format!(
        "{{\"Version\": \"2012-10-17\", \"Pad\": \"{pad}\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}}], \"Statement\": []}}"
    );
    let yaml = format!("{{a: \"{pad}\", b: 1, b: 2}}\n");
    let (dir, run) = tree(&[
        ("long/main.tf", tf.as_bytes()),
        ("docs/policies/min.json", json.as_bytes()),
        ("k8s/min.yaml", yaml.as_bytes()),
    ]);
    let f = run.expect_rule_on("undefined-reference", "long/main.tf");
    assert!(f["column"].as_u64().unwrap() > 65_535, "{f}");
    run.expect_rule_on("duplicate-key", "k8s/min.yaml");
    let d = dir.path().to_str().unwrap();
    let human = support::run(dir.path(), &["check", d], &[]);
    assert_eq!(human.code, 1, "{}", human.stderr);
    let out = human.text();
    assert!(
        out.len() < 20_000,
        "the snippet is not windowed: {} bytes",
        out.len()
    );
    let col = f["column"].as_u64().unwrap();
    assert!(
        out.contains(&format!("long/main.tf:1:{col}")),
        "the header keeps the file's column:\n{out}"
    );
    assert!(out.contains("local.missing"), "{out}");
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..400 {
        files.push((
            format!("envs/e{i}/main.tf"),
            format!(
                "data \"aws_eks_cluster\" \"c\" {{\n  name = aws_eks_cluster.k.name\n}}\n\nresource \"aws_eks_cluster\" \"k\" {{\n  name = \"k{i}\"\n}}\n\noutput \"x\" {{\n  value = local.missing{i}\n}}\n"
            )
            .into_bytes(),
        ));
    }
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_slice()))
        .collect();
    write(dir.path(), &borrowed);
    let d = dir.path().to_str().unwrap();
    for args in [
        &["graph", d][..],
        &["check", d][..],
        &["check", d, "--format", "sarif"][..],
        &["check", d, "--fix", "--diff"][..],
        &["explain", "ungated-data-source"][..],
        &["rules"][..],
    ] {
        // The reader closes the pipe before preflight writes anything.
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
