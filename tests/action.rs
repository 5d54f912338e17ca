//! The GitHub Action's shell steps, run locally as the runner would run them (`bash -eo
//! pipefail`, `${{ … }}` expanded, `GITHUB_OUTPUT` between steps) against a fake `GITHUB_*`
//! environment. `uses:` steps (the cache) are simulated. Skips, saying why, when a tool the
//! steps need is missing.

use preflight::parse::yaml::parse_stream;
use preflight::source::FileId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

struct Step {
    id: Option<String>,
    env: Vec<(String, String)>,
    run: String,
}

fn steps() -> Vec<Step> {
    let text = std::fs::read_to_string(Path::new(MANIFEST).join("action.yml")).unwrap();
    let docs = parse_stream(FileId(0), &text).expect("action.yml parses");
    let root = docs[0].root();
    let mut out = Vec::new();
    for step in root.path(&["runs", "steps"]).expect("steps").items() {
        let Some(run) = step.str_at(&["run"]) else {
            assert!(step.str_at(&["uses"]).is_some(), "a step runs or uses");
            continue;
        };
        assert_eq!(step.str_at(&["shell"]), Some("bash"));
        let env = step
            .get("env")
            .map(|e| {
                e.entries()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap().to_string(),
                            v.as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Step {
            id: step.str_at(&["id"]).map(str::to_owned),
            env,
            run: run.to_string(),
        });
    }
    out
}

/// What `${{ … }}` expands to.
struct Context {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Context {
    fn expand(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("closed expression") + i;
            let expr = rest[i + 3..end].trim();
            out.push_str(&self.value(expr));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn value(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().expect(expr),
            ["github", name] => self.github.get(*name).cloned().expect(expr),
            ["steps", id, "outputs", name] => self
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("unexpected expression {expr}"),
        }
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn input_defaults() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(Path::new(MANIFEST).join("action.yml")).unwrap();
    let docs = parse_stream(FileId(0), &text).unwrap();
    docs[0]
        .root()
        .get("inputs")
        .unwrap()
        .entries()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.str_at(&["default"]).unwrap_or("").to_string(),
            )
        })
        .collect()
}

struct Runner {
    home: PathBuf,
    workspace: PathBuf,
    extra_env: Vec<(String, String)>,
}

struct StepResult {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Runner {
    /// Run every shell step in order; stops at the first failing one and returns each
    /// step's result.
    fn run(&self, ctx: &mut Context) -> Vec<StepResult> {
        self.run_first(ctx, usize::MAX)
    }

    fn run_first(&self, ctx: &mut Context, max: usize) -> Vec<StepResult> {
        let mut results = Vec::new();
        for (n, step) in steps().iter().enumerate().take(max) {
            let output_file = self.home.join(format!("github-output-{n}"));
            std::fs::write(&output_file, "").unwrap();
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
                .arg(ctx.expand(&step.run))
                .current_dir(&self.workspace)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &self.home)
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_ACTION_PATH", MANIFEST)
                .env("GITHUB_ACTION_REF", &ctx.github["action_ref"])
                .env("GITHUB_ACTION_REPOSITORY", &ctx.github["action_repository"])
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", self.home.join("github-path"))
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_TEMP", &self.home);
            for (k, v) in &step.env {
                cmd.env(k, ctx.expand(v));
            }
            for (k, v) in &self.extra_env {
                cmd.env(k, v);
            }
            let out = cmd.output().expect("bash runs");
            let written = std::fs::read_to_string(&output_file).unwrap();
            if let Some(id) = &step.id {
                let map = ctx.outputs.entry(id.clone()).or_default();
                for line in written.lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        map.insert(k.to_string(), v.to_string());
                    }
                }
            }
            let r = StepResult {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            let failed = r.code != 0;
            results.push(r);
            if failed {
                break;
            }
        }
        results
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

/// A checkout whose platform folder (with its own preflight.toml) has a parse error.
fn workspace(dir: &Path) -> PathBuf {
    let ws = dir.join("workspace");
    for (rel, text) in [
        ("README.md", "a monorepo\n"),
        ("platform/preflight.toml", ""),
        ("platform/envs/dev/main.tf", "resource \"x\" \"y\" {\n"),
    ] {
        let p = ws.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    git(&ws, &["init", "-q", "-b", "main"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "base"]);
    ws
}

fn context(action_ref: &str, inputs: &[(&str, &str)]) -> Context {
    let mut all = input_defaults();
    for (k, v) in inputs {
        all.insert(k.to_string(), v.to_string());
    }
    Context {
        inputs: all,
        github: [
            ("action_path", MANIFEST),
            ("action_ref", action_ref),
            ("action_repository", "acme/preflight"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        outputs: BTreeMap::new(),
    }
}

fn release_name() -> Option<String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "macos",
        _ => return None,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        _ => return None,
    };
    Some(format!("preflight-{os}-{arch}"))
}

fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = ["bash", "git", "find", "xargs", "curl", "tar", "sha256sum"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

fn check_results(results: &[StepResult], ws: &Path) {
    let check = results.last().unwrap();
    assert_eq!(
        check.code, 1,
        "the check step fails on the error: {}",
        check.stderr
    );
    assert!(
        check
            .stdout
            .contains("::error file=platform/envs/dev/main.tf,line=1"),
        "{}",
        check.stdout
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("preflight.sarif")).unwrap())
            .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "platform/envs/dev/main.tf"
    );
}

#[test]
fn the_action_downloads_the_release_binary_of_a_tag_and_checks_a_subfolder_root() {
    if let Some(m) = missing_tools() {
        eprintln!("skipping: the Action's steps need {m}");
        return;
    }
    let Some(name) = release_name() else {
        eprintln!("skipping: no release binary is built for this platform");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let ws = workspace(dir.path());
    // A fake release of v9.9.9: the binary under test, packaged as release.yml does.
    let releases = dir.path().join("releases");
    let stage = releases.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_preflight"), stage.join("preflight")).unwrap();
    let tag_dir = releases.join("v9.9.9");
    std::fs::create_dir_all(&tag_dir).unwrap();
    let tarball = tag_dir.join(format!("{name}.tar.gz"));
    assert!(
        Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(releases.join("stage"))
            .arg(&name)
            .status()
            .unwrap()
            .success()
    );
    let sum = Command::new("sha256sum")
        .arg(format!("{name}.tar.gz"))
        .current_dir(&tag_dir)
        .output()
        .unwrap();
    std::fs::write(tag_dir.join(format!("{name}.tar.gz.sha256")), &sum.stdout).unwrap();

    let runner = Runner {
        home: home.clone(),
        workspace: ws.clone(),
        extra_env: vec![(
            "PREFLIGHT_RELEASE_BASE_URL".into(),
            format!("file://{}", releases.display()),
        )],
    };
    let mut ctx = context("v9.9.9", &[("paths", "platform")]);
    let results = runner.run(&mut ctx);
    assert_eq!(results.len(), 3, "three shell steps ran");
    let install = &results[1];
    assert!(
        install.stdout.contains("downloaded the v9.9.9 release"),
        "{}\n{}",
        install.stdout,
        install.stderr
    );
    assert!(home.join(".preflight-action/bin/preflight").is_file());
    assert_eq!(ctx.outputs["build-id"]["features"], "");
    check_results(&results, &ws);

    // A tampered release is not used: the checksum is checked, and the fallback is a build
    // (refused here for want of cargo on the PATH: exit 3, on which the Action would install
    // a toolchain).
    if have_outside("/usr/bin:/bin", "cargo") {
        eprintln!("cargo is in /usr/bin: skipping the tampered-release case");
        return;
    }
    std::fs::remove_dir_all(home.join(".preflight-action")).unwrap();
    std::fs::write(tag_dir.join(format!("{name}.tar.gz.sha256")), "0000  x\n").unwrap();
    let out = install_script(&home, "v9.9.9", "", Some(&releases));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not match its .sha256"), "{err}");
    assert!(!home.join(".preflight-action/bin/preflight").exists());
}

/// Run scripts/install-preflight.sh as the Action's install step does, without cargo.
fn install_script(
    home: &Path,
    reference: &str,
    features: &str,
    releases: Option<&Path>,
) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(MANIFEST).join("scripts/install-preflight.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("PREFLIGHT_SRC", MANIFEST)
        .env("PREFLIGHT_DEST", home.join(".preflight-action"))
        .env("PREFLIGHT_REF", reference)
        .env("PREFLIGHT_REPO", "acme/preflight")
        .env("PREFLIGHT_FEATURES", features);
    if let Some(r) = releases {
        cmd.env(
            "PREFLIGHT_RELEASE_BASE_URL",
            format!("file://{}", r.display()),
        );
    }
    cmd.output().unwrap()
}

fn have_outside(path: &str, tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .env("PATH", path)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_action_reuses_a_cached_build_when_pinned_by_commit() {
    if let Some(m) = missing_tools() {
        eprintln!("skipping: the Action's steps need {m}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // What actions/cache restores.
    let bin = home.join(".preflight-action/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_preflight"), bin.join("preflight")).unwrap();
    let ws = workspace(dir.path());
    let runner = Runner {
        home,
        workspace: ws.clone(),
        extra_env: Vec::new(),
    };
    // Pinned by commit: github.action_ref is empty, yet the cache key is not.
    let mut ctx = context("", &[("paths", "platform")]);
    let results = runner.run(&mut ctx);
    assert_eq!(results.len(), 3);
    let key = &ctx.outputs["build-id"]["src-hash"];
    assert_eq!(key.len(), 16, "{key}");
    assert!(
        results[1].stdout.contains("using preflight"),
        "{}",
        results[1].stderr
    );
    check_results(&results, &ws);

    // fail-on: never passes the step; the SARIF is still written.
    std::fs::remove_file(ws.join("preflight.sarif")).unwrap();
    let results = runner.run(&mut context(
        "",
        &[("paths", "platform"), ("fail-on", "never")],
    ));
    assert_eq!(results.last().unwrap().code, 0);
    assert!(ws.join("preflight.sarif").is_file());
}

#[test]
fn aws_true_asks_for_a_build_with_the_feature() {
    if let Some(m) = missing_tools() {
        eprintln!("skipping: the Action's steps need {m}");
        return;
    }
    if cfg!(feature = "aws") {
        eprintln!("skipping: this binary has the aws feature, so a cached copy is enough");
        return;
    }
    if have_outside("/usr/bin:/bin", "cargo") {
        eprintln!("skipping: cargo is in /usr/bin, so the install would really build");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let bin = home.join(".preflight-action/bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A cached offline build does not satisfy aws: true.
    std::fs::copy(env!("CARGO_BIN_EXE_preflight"), bin.join("preflight")).unwrap();
    let ws = workspace(dir.path());
    let runner = Runner {
        home: home.clone(),
        workspace: ws,
        extra_env: Vec::new(),
    };
    let mut ctx = context("", &[("paths", "platform"), ("aws", "true")]);
    // The first step decides the features; the install step's script then refuses the
    // cached offline binary and, with no release and no cargo, exits 3 (the Action would
    // install a toolchain and build with --features aws).
    runner.run_first(&mut ctx, 1);
    assert_eq!(ctx.outputs["build-id"]["features"], "aws");
    let out = install_script(&home, "", "aws", None);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no cargo to build one"), "{err}");
    let action = std::fs::read_to_string(Path::new(MANIFEST).join("action.yml")).unwrap();
    assert!(action.contains("PREFLIGHT_FEATURES: ${{ steps.build-id.outputs.features }}"));
}
