//! The rules for what `terraform validate` rejects (`invalid-reference`,
//! `missing-instance-key`, `invalid-config-address`, `unknown-argument`) on the fixtures of
//! `testdata/validate`: preflight reports exactly the listed (rule, file, line, severity),
//! and, where `terraform` and an AWS provider mirror are on the machine, Terraform itself
//! agrees: it rejects every failing fixture with the diagnostic each finding quotes, and
//! accepts every passing one.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = "testdata/validate";
/// The Terraform validity rules, from the registry.
fn validity_rules() -> Vec<&'static str> {
    preflight::rules::domain("validity")
        .iter()
        .map(|r| r.meta().id)
        .collect()
}

/// What Terraform must do with a fixture.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tf {
    /// `init` or `validate` fails with every quoted diagnostic.
    Rejects,
    /// `init` and `validate` pass; `plan` fails with every quoted diagnostic.
    PlanRejects,
    /// `init` and `validate` pass.
    Accepts,
    /// `init`, `validate` and `plan` pass (no provider needing credentials).
    PlanAccepts,
    /// Not asked: what preflight reports depends on a version Terraform does not pick here.
    NotAsked,
}

struct Case {
    dir: &'static str,
    /// (rule, file relative to the fixture, line, severity)
    findings: &'static [(&'static str, &'static str, u64, &'static str)],
    terraform: Tf,
}

const CASES: &[Case] = &[
    Case {
        dir: "invalid-reference/fail",
        findings: &[
            ("invalid-reference", "main.tf", 10, "error"),
            ("invalid-reference", "main.tf", 14, "error"),
            ("invalid-reference", "main.tf", 19, "error"),
            ("invalid-reference", "main.tf", 26, "error"),
            ("invalid-reference", "main.tf", 33, "error"),
            ("invalid-reference", "main.tf", 33, "error"),
        ],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "invalid-reference/pass",
        findings: &[],
        terraform: Tf::Accepts,
    },
    Case {
        dir: "missing-instance-key/fail",
        findings: &[
            ("missing-instance-key", "main.tf", 17, "error"),
            ("missing-instance-key", "main.tf", 18, "error"),
            ("missing-instance-key", "main.tf", 19, "error"),
        ],
        terraform: Tf::Rejects,
    },
    Case {
        // Conditions are checked in a later pass than outputs: a fixture of its own.
        dir: "missing-instance-key/fail-condition",
        findings: &[("missing-instance-key", "main.tf", 10, "error")],
        terraform: Tf::Rejects,
    },
    Case {
        // Terraform reports this one only once the references above are fixed.
        dir: "missing-instance-key/fail-module",
        findings: &[("missing-instance-key", "main.tf", 7, "error")],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "missing-instance-key/pass",
        findings: &[],
        terraform: Tf::PlanAccepts,
    },
    Case {
        dir: "invalid-config-address/fail-syntax",
        findings: &[
            ("invalid-config-address", "main.tf", 4, "error"),
            ("invalid-config-address", "main.tf", 8, "error"),
            ("invalid-config-address", "main.tf", 14, "error"),
            ("invalid-config-address", "main.tf", 19, "error"),
        ],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "invalid-config-address/fail-moved",
        findings: &[
            ("invalid-config-address", "main.tf", 5, "error"),
            ("invalid-config-address", "main.tf", 9, "error"),
        ],
        terraform: Tf::PlanRejects,
    },
    Case {
        dir: "invalid-config-address/fail-import",
        findings: &[("invalid-config-address", "main.tf", 4, "error")],
        terraform: Tf::PlanRejects,
    },
    Case {
        // Into a module: validate already rejects it.
        dir: "invalid-config-address/fail-import-module",
        findings: &[("invalid-config-address", "main.tf", 6, "error")],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "invalid-config-address/fail-removed",
        findings: &[("invalid-config-address", "main.tf", 4, "error")],
        terraform: Tf::PlanRejects,
    },
    Case {
        // Terraform accepts a move to nothing (and plans to destroy the object): a warning.
        dir: "invalid-config-address/warn-moved",
        findings: &[("invalid-config-address", "main.tf", 5, "warning")],
        terraform: Tf::PlanAccepts,
    },
    Case {
        dir: "invalid-config-address/pass",
        findings: &[],
        terraform: Tf::PlanAccepts,
    },
    Case {
        dir: "unknown-argument/fail",
        findings: &[
            ("unknown-argument", "main.tf", 2, "error"),
            ("unknown-argument", "main.tf", 3, "error"),
            ("unknown-argument", "main.tf", 11, "error"),
            ("unknown-argument", "main.tf", 13, "error"),
            ("unknown-argument", "main.tf", 19, "error"),
            ("unknown-argument", "main.tf", 20, "error"),
            ("unknown-argument", "main.tf", 23, "error"),
            ("unknown-argument", "main.tf", 30, "error"),
        ],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "unknown-argument/fail-computed",
        findings: &[("unknown-argument", "main.tf", 3, "error")],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "unknown-argument/fail-type",
        findings: &[
            ("unknown-argument", "main.tf", 1, "error"),
            ("unknown-argument", "main.tf", 5, "error"),
        ],
        terraform: Tf::Rejects,
    },
    Case {
        dir: "unknown-argument/pass",
        findings: &[],
        terraform: Tf::Accepts,
    },
    Case {
        // No version constraint: a newer provider may have the argument.
        dir: "unknown-argument/note-unpinned",
        findings: &[("unknown-argument", "main.tf", 2, "note")],
        terraform: Tf::NotAsked,
    },
];

struct Found {
    rule: String,
    file: String,
    line: u64,
    severity: String,
    message: String,
}

fn preflight(dir: &str) -> Vec<Found> {
    let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["check", &format!("{ROOT}/{dir}"), "--format", "json"])
        .args(["--fail-on", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules = validity_rules();
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            Found {
                rule: s("rule"),
                file: s("file"),
                line: f["line"].as_u64().unwrap_or_default(),
                severity: s("severity"),
                message: s("message"),
            }
        })
        .collect()
}

#[test]
fn preflight_reports_exactly_the_listed_findings() {
    for case in CASES {
        let found = preflight(case.dir);
        let mut got: Vec<(String, String, u64, String)> = found
            .iter()
            .map(|f| (f.rule.clone(), f.file.clone(), f.line, f.severity.clone()))
            .collect();
        let mut want: Vec<(String, String, u64, String)> = case
            .findings
            .iter()
            .map(|(r, f, l, s)| {
                (
                    r.to_string(),
                    format!("{}/{f}", case.dir),
                    *l,
                    s.to_string(),
                )
            })
            .collect();
        got.sort();
        want.sort();
        let messages: Vec<String> = found
            .iter()
            .map(|f| format!("{}:{} {}", f.file, f.line, f.message))
            .collect();
        assert_eq!(got, want, "{}:\n{}", case.dir, messages.join("\n"));
    }
}

#[test]
fn every_fixture_folder_is_a_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT);
    let mut rules: Vec<String> = std::fs::read_dir(&root)
        .expect(ROOT)
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    rules.sort();
    for rule in &rules {
        assert!(
            validity_rules().contains(&rule.as_str()),
            "{ROOT}/{rule} is not named after a validity rule"
        );
        let mut dirs: Vec<String> = std::fs::read_dir(root.join(rule))
            .expect(rule)
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| format!("{rule}/{}", e.file_name().to_string_lossy()))
            .collect();
        dirs.sort();
        for d in dirs {
            assert!(CASES.iter().any(|c| c.dir == d), "{d} is not in CASES");
        }
    }
}

/// Terraform's diagnostic quoted by a finding: its summary and the first sentence of its
/// detail (`"Invalid reference": A reference to …`, after any leading `` `text`: ``).
fn quoted(message: &str) -> (String, String) {
    let rest = match message.strip_prefix('`') {
        Some(m) => m.split_once("`").map_or(m, |(_, r)| r),
        None => message,
    };
    let start = rest.find('"').map_or(0, |i| i + 1);
    let rest = &rest[start..];
    let (summary, detail) = rest.split_once("\": ").unwrap_or((rest, ""));
    let sentence = match detail.find(". ") {
        Some(i) => &detail[..=i],
        None => detail,
    };
    (summary.to_string(), sentence.trim().to_string())
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The provider mirror: `PREFLIGHT_TF_MIRROR`, else `/opt/tf-plugins`.
fn mirror() -> Option<PathBuf> {
    let dir = std::env::var_os("PREFLIGHT_TF_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
    dir.join("registry.terraform.io/hashicorp/aws")
        .is_dir()
        .then_some(dir)
}

struct Run {
    ok: bool,
    output: String,
}

fn terraform(dir: &Path, config: &Path, args: &[&str]) -> Run {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_WORKSPACE")
        .output()
        .expect("terraform runs");
    Run {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The oracle: Terraform's own verdict on every fixture, offline (no backend, providers
/// from a filesystem mirror, plans only of configurations without provider credentials).
#[test]
fn terraform_agrees_with_every_fixture() {
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("terraform is not installed: skipping the terraform validate oracle");
        return;
    }
    let Some(mirror) = mirror() else {
        eprintln!(
            "no AWS provider mirror (/opt/tf-plugins or PREFLIGHT_TF_MIRROR): skipping the terraform validate oracle"
        );
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("terraform.rc");
    std::fs::write(
        &config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
            mirror.display().to_string()
        ),
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT);
    for case in CASES {
        if case.terraform == Tf::NotAsked {
            continue;
        }
        let dir = scratch.path().join(case.dir);
        copy_dir(&root.join(case.dir), &dir);
        let plan = matches!(case.terraform, Tf::PlanRejects | Tf::PlanAccepts);
        let init_args: &[&str] = if plan {
            &["init", "-input=false", "-no-color"]
        } else {
            &["init", "-backend=false", "-input=false", "-no-color"]
        };
        let mut runs = vec![terraform(&dir, &config, init_args)];
        if runs[0].ok {
            runs.push(terraform(&dir, &config, &["validate", "-no-color"]));
        }
        if plan && runs.iter().all(|r| r.ok) {
            runs.push(terraform(
                &dir,
                &config,
                &[
                    "plan",
                    "-input=false",
                    "-refresh=false",
                    "-lock=false",
                    "-no-color",
                ],
            ));
        }
        let all_ok = runs.iter().all(|r| r.ok);
        let output = squash(
            &runs
                .iter()
                .map(|r| r.output.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        match case.terraform {
            Tf::Accepts | Tf::PlanAccepts => {
                assert!(all_ok, "{}: terraform rejects it:\n{output}", case.dir)
            }
            Tf::Rejects | Tf::PlanRejects => {
                assert!(!all_ok, "{}: terraform accepts it", case.dir);
                if case.terraform == Tf::PlanRejects {
                    assert_eq!(runs.len(), 3, "{}: fails before plan:\n{output}", case.dir);
                }
                for f in preflight(case.dir).iter().filter(|f| f.severity == "error") {
                    let (summary, sentence) = quoted(&f.message);
                    assert!(
                        output.contains(&format!("Error: {summary}")),
                        "{}: terraform does not say \"{summary}\" ({}):\n{output}",
                        case.dir,
                        f.message
                    );
                    assert!(
                        output.contains(&squash(&sentence)),
                        "{}: terraform does not say \"{sentence}\":\n{output}",
                        case.dir
                    );
                }
            }
            Tf::NotAsked => {}
        }
    }
}

#[test]
fn quotes_are_read_from_messages() {
    assert_eq!(
        quoted(
            "`self.id` is not a valid reference: \"Invalid \"self\" reference\": The \"self\" object is not available in this context. This object can be used only"
        ),
        (
            "Invalid \"self\" reference".to_string(),
            "The \"self\" object is not available in this context.".to_string()
        )
    );
    assert_eq!(
        quoted("\"Unsupported argument\": An argument named \"x\" is not expected here."),
        (
            "Unsupported argument".to_string(),
            "An argument named \"x\" is not expected here.".to_string()
        )
    );
}

/// The fixtures are formatted as `terraform fmt` wants (it reads files only). Skipped when
/// no `terraform` binary is installed.
#[test]
fn fixtures_are_terraform_fmt_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT);
    match Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-no-color"])
        .arg(&dir)
        .output()
    {
        Err(_) => eprintln!("terraform is not installed: skipping the fmt check"),
        Ok(out) => assert!(
            out.status.success(),
            "terraform fmt -check failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `scripts/gen-provider-schemas.sh` regenerates the checked-in AWS data exactly (compared
/// decompressed: zlib builds may pack the same text differently). Needs `terraform`,
/// `python3` and the provider mirror; skipped, saying so, without them.
#[test]
fn provider_data_is_reproducible_from_its_script() {
    let (Ok(_), Ok(_), Some(mirror)) = (
        Command::new("terraform").arg("version").output(),
        Command::new("python3").arg("--version").output(),
        mirror(),
    ) else {
        eprintln!(
            "terraform, python3 or the AWS provider mirror is missing: skipping the provider data check"
        );
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("terraform.rc");
    std::fs::write(
        &config,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
            mirror.display().to_string()
        ),
    )
    .unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(manifest.join("scripts/gen-provider-schemas.sh"))
        .arg("aws")
        .env("TF_CLI_CONFIG_FILE", &config)
        .env("PREFLIGHT_SCHEMA_OUT", scratch.path())
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("script runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = |p: &Path| {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1], 'rb').read()))",
            ])
            .arg(p)
            .output()
            .expect("python3 runs");
        out.stdout
    };
    let fresh = text(&scratch.path().join("aws.schema.z"));
    let kept = text(&manifest.join("data/provider-schemas/aws.schema.z"));
    assert!(fresh.len() > 1_000_000, "{} bytes", fresh.len());
    assert!(
        fresh == kept,
        "data/provider-schemas/aws.schema.z differs from what the script generates"
    );
    let versions = std::fs::read_to_string(scratch.path().join("VERSIONS")).unwrap();
    let kept_versions =
        std::fs::read_to_string(manifest.join("data/provider-schemas/VERSIONS")).unwrap();
    let aws = |v: &str| v.lines().find(|l| l.starts_with("aws ")).map(str::to_owned);
    assert_eq!(aws(&versions), aws(&kept_versions));
}
