//! What a team adopting preflight runs into first, through the binary: honest exit codes,
//! CI paths, the command-line conventions of other linters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("PRE_COMMIT")
        .output()
        .expect("runs")
}

fn preflight(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs")
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)))
}

// 1. The `aws` feature: what the binary has, and how to get it.

#[test]
fn version_names_the_features_built_in() {
    let out = preflight(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let want = if cfg!(feature = "aws") {
        "(features: aws)"
    } else {
        "(features: none)"
    };
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("preflight {} ", env!("CARGO_PKG_VERSION")))
            && text.contains(want),
        "{text}"
    );
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_on_an_offline_build_says_the_exact_command() {
    let out = preflight(&["check", "testdata/parse-errors", "--aws"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--features aws"), "{err}");
    assert!(!err.contains("default features"), "{err}");
}

#[cfg(not(feature = "aws"))]
#[test]
fn live_true_on_an_offline_build_warns_with_the_exact_command() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "docs/ci.json",
                "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}\n",
            ),
            (
                "preflight.toml",
                "[iam]\nci_policy = \"docs/ci.json\"\nci_role = \"ci\"\nlive = true\n",
            ),
        ],
    );
    let out = preflight(&[
        "check",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--select",
        "ci-role-drift",
    ]);
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["file"].as_str(), f["line"].as_u64()),
        (Some("ci-role-drift"), Some("docs/ci.json"), Some(1))
    );
    assert_eq!(f["severity"], "warning");
    let help = f["help"].as_str().unwrap();
    assert!(
        help.contains("--features aws") && !help.contains("the default"),
        "{help}"
    );
}

// 2. A subfolder root inside a git work tree: GitHub and SARIF paths from the work tree top.

#[test]
fn a_subfolder_root_reports_paths_from_the_work_tree_top() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    write(
        &top,
        &[
            ("README.md", "other projects\n"),
            ("platform/preflight.toml", ""),
            ("platform/envs/dev/main.tf", "resource \"x\" \"y\" {\n"),
        ],
    );
    git(&top, &["init", "-q", "-b", "main"]);
    git(&top, &["add", "-A"]);
    git(&top, &["commit", "-qm", "base"]);
    let platform = top.join("platform");

    let out = run_in(&top, &["check", "platform", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = json(&out);
    let schema_text = std::fs::read_to_string(fixture("schemas/sarif-schema-2.1.0.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    let run = &log["runs"][0];
    let uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(uri, "platform/envs/dev/main.tf");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file://")
            && base
                .trim_end_matches('/')
                .ends_with(top.file_name().unwrap().to_str().unwrap()),
        "{base}"
    );
    // Every rule has its page.
    for r in run["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(
            r["helpUri"]
                .as_str()
                .unwrap()
                .ends_with(&format!("rules/{}.md", r["id"].as_str().unwrap()))
        );
    }

    let out = run_in(&platform, &["check", "--format", "github"]);
    assert!(
        stdout(&out).contains("::error file=platform/envs/dev/main.tf,line=1"),
        "{}",
        stdout(&out)
    );

    // Human and JSON stay relative to the root, and JSON says so.
    let out = run_in(&platform, &["check", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["findings"][0]["file"], "envs/dev/main.tf");
    assert_eq!(v["base"]["kind"], "repository-root");
    assert_eq!(v["base"]["worktree_prefix"], "platform");
    let parse_error = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "parse-error")
        .unwrap();
    assert!(
        parse_error["url"]
            .as_str()
            .unwrap()
            .ends_with("rules/parse-error.md")
    );
}

// 3. Silent false greens.

#[test]
fn checking_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = preflight(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("checked nothing"), "{}", stderr(&out));
    write(
        dir.path(),
        &[
            ("notes/readme.txt", "nothing to check\n"),
            ("main.tf", "locals {}\n"),
        ],
    );
    let out = preflight(&["check", dir.path().join("notes").to_str().unwrap()]);
    assert!(stderr(&out).contains("checked nothing"), "{}", stderr(&out));
    let out = preflight(&["check", dir.path().to_str().unwrap()]);
    assert!(
        !stderr(&out).contains("checked nothing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_var_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("main.tf", "variable \"a\" {}\n"), ("ok.tfvars", "a = 1\n")],
    );
    let d = dir.path().to_str().unwrap();
    let ok = dir.path().join("ok.tfvars");
    let out = preflight(&["check", d, "--var-file", ok.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = preflight(&["check", d, "--var-file", "/nonexistent/dev.tfvars"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--var-file /nonexistent/dev.tfvars"),
        "{}",
        stderr(&out)
    );

    write(
        dir.path(),
        &[(
            "preflight.toml",
            "[terraform]\nvar_files = [\"ok.tfvars\", \"secrets.tfvars\"]\n",
        )],
    );
    let out = preflight(&["check", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("preflight.toml:2") && err.contains("secrets.tfvars"),
        "{err}"
    );
}

#[test]
fn a_mistyped_provided_kind_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "locals {}\n"),
            (
                "preflight.toml",
                "[gitops.provided]\nNamespace = [\"monitoring\"]\nClusterissuer = [\"letsencrypt-prod\"]\n",
            ),
        ],
    );
    let out = preflight(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("preflight.toml:3"), "{err}");
    assert!(err.contains("did you mean `ClusterIssuer`?"), "{err}");
}

// 4. Outside git, the root is where the named paths are, not where preflight runs.

#[test]
fn outside_git_the_root_is_the_common_ancestor_of_the_named_paths() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().canonicalize().unwrap();
    write(
        &scratch,
        &[
            ("other-project/main.tf", "resource \"x\" \"y\" {\n"),
            (
                "proj/envs/dev/main.tf",
                "module \"m\" {\n  source = \"../../modules/m\"\n}\n",
            ),
            ("proj/modules/m/main.tf", "locals {}\n"),
        ],
    );
    let out = run_in(&scratch, &["check", "proj/envs/dev", "proj/modules"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let summary = text.lines().last().unwrap();
    assert!(
        summary.contains("in 2 files of root proj, walked (not a git work tree)"),
        "{summary}"
    );
    // From an unrelated folder, the same root.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run_in(
        elsewhere.path(),
        &[
            "check",
            scratch.join("proj/envs/dev").to_str().unwrap(),
            scratch.join("proj/modules").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("of root {}", scratch.join("proj").display())));
    // One folder alone: its module may sit above it, which an inferred root cannot tell.
    let out = run_in(&scratch, &["check", "proj/envs/dev", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(
        (
            f["rule"].as_str(),
            f["severity"].as_str(),
            f["file"].as_str(),
            f["line"].as_u64()
        ),
        (
            Some("module-source"),
            Some("note"),
            Some("main.tf"),
            Some(2)
        )
    );
    assert!(
        f["message"].as_str().unwrap().contains("was inferred"),
        "{f}"
    );
    // With a marker the same layout is an error.
    write(&scratch, &[("proj/envs/dev/preflight.toml", "")]);
    let out = run_in(&scratch, &["check", "proj/envs/dev", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["findings"][0]["severity"], "error");
}

// 6. --changed says what is wrong in one line.

#[test]
fn changed_outside_git_or_with_a_bad_ref_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("main.tf", "locals {}\n")]);
    let d = dir.path().to_str().unwrap();
    let out = preflight(&["check", d, "--changed"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not in a git work tree"), "{err}");

    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    let out = preflight(&["check", d, "--changed", "origin/nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("`origin/nope` is not a branch, tag or commit"),
        "{err}"
    );
    assert!(!err.contains("git diff"), "{err}");
}

// 7. Fixable findings are marked everywhere; --fix --diff keeps the check's exit code.

#[test]
fn fixable_findings_are_marked_and_diff_keeps_the_exit_code() {
    let broken = "testdata/platform-broken";
    let out = preflight(&["check", broken, "--select", "ungated-data-source"]);
    assert!(
        stdout(&out).contains("error[ungated-data-source] [fixable]"),
        "{}",
        stdout(&out)
    );
    let v = json(&preflight(&[
        "check",
        broken,
        "--select",
        "ungated-data-source",
        "--format",
        "json",
    ]));
    let f = &v["findings"][0];
    assert_eq!(f["fix"]["applicability"], "safe", "{f}");
    assert!(
        f["fix"]["title"].as_str().unwrap().contains("in its count"),
        "{f}"
    );
    let edit = &f["fix"]["edits"][0];
    assert_eq!(edit["file"], "envs/dev/main.tf");
    assert!(
        edit["replacement"]
            .as_str()
            .unwrap()
            .contains("enable_k8s_resources"),
        "{edit}"
    );
    let log = json(&preflight(&[
        "check",
        broken,
        "--select",
        "ungated-data-source",
        "--format",
        "sarif",
    ]));
    let fix = &log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0];
    assert!(
        fix["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("envs/dev/main.tf")
    );
    assert!(fix["replacements"][0]["insertedContent"]["text"].is_string());
    let compact = stdout(&preflight(&[
        "check",
        broken,
        "--select",
        "ungated-data-source",
        "--format",
        "compact",
    ]));
    assert!(
        compact.lines().all(|l| l.ends_with(" [fixable]")),
        "{compact}"
    );

    let out = preflight(&["check", broken, "--fix", "--diff"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("--- "), "{}", stdout(&out));
    // Not written.
    assert!(
        std::fs::read_to_string(fixture("platform-broken/envs/dev/main.tf"))
            .unwrap()
            .contains("count = var.eks_config.enabled ? 1 : 0")
    );
}

// 8. Rendering.

#[test]
fn findings_name_their_severity_and_notes_look_like_notes() {
    let out = preflight(&["check", "testdata/platform-broken"]);
    let text = stdout(&out);
    assert!(text.contains("\nerror[secret-without-value]\n"), "{text}");
    assert!(
        text.contains("\nerror[undeployed-issuer] [fixable]\n"),
        "{text}"
    );
    let note = text
        .split("note[unknown-target-revision]")
        .nth(1)
        .expect("a note");
    assert!(note.trim_start().starts_with("i "), "{note}");
    // Related locations keep the `>` mark, with no "Advice:" heading.
    assert!(text.contains("  > modules/eks/main.tf: creates"), "{text}");
    assert!(!text.contains("Advice:"), "{text}");
}

#[test]
fn a_label_on_a_long_block_shows_its_first_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let policy = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n{}\n  ]\n}}\n",
        (0..40)
            .map(|i| format!("    {{\"Sid\": \"S{i}\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b{i}/*\"}}"))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    write(
        dir.path(),
        &[
            ("docs/ci.json", &policy),
            ("preflight.toml", "[iam]\nci_policy = \"docs/ci.json\"\n"),
            (
                "main.tf",
                "resource \"aws_sqs_queue\" \"q\" {\n  name = \"jobs\"\n}\n",
            ),
        ],
    );
    let out = preflight(&[
        "check",
        dir.path().to_str().unwrap(),
        "--select",
        "ci-policy-gap",
    ]);
    let text = stdout(&out);
    assert!(text.contains("error[ci-policy-gap]"), "{text}");
    assert!(text.contains("docs/ci.json"), "{text}");
    assert!(
        !text.contains("\"S20\""),
        "the whole policy is printed:\n{text}"
    );
}

#[test]
fn output_file_with_the_human_format_keeps_the_terminal_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    let out = preflight(&[
        "check",
        "testdata/parse-errors",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.contains("error[parse-error]") && file.contains("preflight: 2 errors"));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = preflight(&[
        "check",
        "testdata/parse-errors",
        "-q",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn graph_lists_findings_that_fall_on_no_node() {
    let graph = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["graph", "testdata/platform-broken"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = stdout(&graph);
    let json = json(&preflight(&[
        "check",
        "testdata/platform-broken",
        "--format",
        "json",
    ]));
    let listed = text
        .split("Findings on nothing drawn above")
        .nth(1)
        .expect("the list");
    // teardown-coverage findings sit on resources the picture does not draw.
    let teardown = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "teardown-coverage")
        .count();
    assert!(teardown > 0);
    assert_eq!(
        listed.matches("⚠ teardown-coverage").count(),
        teardown,
        "{listed}"
    );
}

// 9. Docs say exactly when a rule fires.

#[test]
fn provider_same_apply_docs_match_its_single_pass_silence() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "main.tf",
            "resource \"aws_eks_cluster\" \"this\" {\n  name = \"c\"\n  role_arn = \"r\"\n  vpc_config {\n    subnet_ids = []\n  }\n}\n\
             provider \"kubernetes\" {\n  host = aws_eks_cluster.this.endpoint\n}\n\
             resource \"kubernetes_namespace_v1\" \"apps\" {\n  metadata {\n    name = \"apps\"\n  }\n}\n",
        )],
    );
    let out = preflight(&[
        "check",
        dir.path().to_str().unwrap(),
        "--select",
        "provider-same-apply",
        "--format",
        "compact",
    ]);
    assert_eq!(stdout(&out), "", "a single-pass root without phase terms");
    let page = stdout(&preflight(&["explain", "provider-same-apply"]));
    assert!(
        page.contains("A\nplain single-pass root with no phase terms gets nothing from this rule"),
        "{page}"
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `provider-same-apply`"))
        .unwrap();
    assert!(
        row.contains("[terraform.passes]") && row.contains("single-pass"),
        "{row}"
    );
}

// Conventions.

#[test]
fn quiet_prints_findings_only() {
    let out = preflight(&["check", "testdata/parse-errors", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("error[parse-error]"));
    assert!(!text.contains("preflight: 2 errors"), "{text}");
    let out = preflight(&[
        "check",
        "testdata/parse-errors",
        "--quiet",
        "--format",
        "github",
    ]);
    // Two parse errors and the note that the rest of the broken .tf was still read.
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
}

#[test]
fn color_always_and_never_override_the_terminal_check() {
    let out = preflight(&["check", "testdata/parse-errors", "--color", "always"]);
    assert!(stdout(&out).contains('\u{1b}'), "NO_COLOR is for auto only");
    let out = preflight(&["check", "testdata/parse-errors", "--color", "never"]);
    assert!(!stdout(&out).contains('\u{1b}'));
    let out = preflight(&["check", "testdata/parse-errors", "--color", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn select_and_ignore_choose_rules_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("main.tf", "resource \"x\" \"y\" {\n"),
            (
                "k8s/a.yaml",
                "a: 1\n# preflight:ignore duplicate-key -- kept on purpose\na: 2\n",
            ),
        ],
    );
    let d = dir.path().to_str().unwrap();
    let rules_of = |extra: &[&str]| {
        let mut args = vec!["check", d, "--format", "json"];
        args.extend_from_slice(extra);
        let v = json(&preflight(&args));
        let mut r: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(rules_of(&[]), ["parse-error", "skipped-file"]);
    assert_eq!(rules_of(&["--ignore", "parse-error"]), ["skipped-file"]);
    // The suppression of a rule that did not run is not reported as unused.
    assert_eq!(
        rules_of(&["--select", "parse-error,unused-suppression"]),
        ["parse-error"]
    );
    let out = preflight(&["check", d, "--select", "parse-eror"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `parse-error`?"),
        "{}",
        stderr(&out)
    );
    let out = preflight(&["explain", "parse-eror"]);
    assert!(
        stderr(&out).contains("did you mean `parse-error`?"),
        "{}",
        stderr(&out)
    );
    write(
        dir.path(),
        &[("preflight.toml", "[rules.parse-eror]\nenabled = false\n")],
    );
    let out = preflight(&["check", d]);
    assert!(
        stderr(&out).contains("did you mean `parse-error`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn compact_is_one_line_per_finding() {
    let out = preflight(&["check", "testdata/parse-errors", "--format", "compact"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "envs/dev/main.tf:6:1: note skipped-file: envs/dev/main.tf was read in part: 1 top-level construct that does not parse was skipped, `resource \"aws_s3_bucket\" \"state\"` (line 6): what the unread text declares is unknown, so `undefined-reference` and `unknown-module-argument` are not run for the module in `envs/dev`; every other check reads the rest of the file\n\
         envs/dev/main.tf:9:3: error parse-error: envs/dev/main.tf does not parse\n\
         gitops/apps/dev-backstage.yaml:17:1: error parse-error: gitops/apps/dev-backstage.yaml does not parse\n"
    );
    assert!(stderr(&out).starts_with("preflight: 2 errors"));
}

#[test]
fn rules_json_comes_from_the_registry() {
    let out = preflight(&["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let human = stdout(&preflight(&["rules"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let human_ids: Vec<&str> = human
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, human_ids);
    for r in list.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&r["severity"].as_str().unwrap()));
        assert!(
            r["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/rules/{id}.md"))
        );
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("rules/{id}.md"))
                .is_file()
        );
    }
}

#[test]
fn init_writes_a_configuration_from_what_it_infers() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("platform");
    copy_dir(&fixture("platform-broken"), &repo);
    std::fs::remove_file(repo.join("preflight.toml")).unwrap();
    let r = repo.to_str().unwrap();
    let out = preflight(&["init", r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(repo.join("preflight.toml")).unwrap();
    assert!(
        text.contains("pass1 = { enable_k8s_resources = false }"),
        "{text}"
    );
    assert!(
        text.contains("pass2 = { enable_k8s_resources = true }"),
        "{text}"
    );
    assert!(
        text.contains("ci_policy = \"docs/policies/github-actions-terraform-full.json\""),
        "{text}"
    );
    assert!(text.contains("# [teardown]"), "{text}");
    // The written file is a valid configuration, and init does not overwrite it.
    let out = preflight(&["check", r, "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = preflight(&["init", r]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
}

#[test]
fn completions_and_man_page_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = preflight(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(
            text.contains("preflight") && text.contains("select"),
            "{shell}: {text}"
        );
    }
    let out = preflight(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with(".ie") || text.contains(".TH preflight"),
        "{text}"
    );
    assert!(text.contains("completions"));
}

#[test]
fn the_license_file_matches_cargo_toml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"Apache-2.0\""));
    let license = std::fs::read_to_string(root.join("LICENSE")).unwrap();
    assert!(license.contains("Apache License\n                        Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
}
