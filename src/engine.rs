//! The check pipeline: discover → load → (models, lazily) → rules → suppressions → sort.

use crate::config::{Config, RuleSettings};
use crate::diagnostic::{Finding, Severity};
use crate::discover::{self, Excludes};
use crate::model::workspace::{Inputs, Workspace};
use crate::repo::{LoadOptions, Repository};
use crate::rules::{self, Context};
use crate::suppress;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What the user asked for on the command line.
#[derive(Debug, Default, Clone)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub excludes: Vec<String>,
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<(String, String)>,
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
    /// `--pass NAME`: check one declared pass only.
    pub pass: Option<String>,
    /// `--changed [REF]`: only what the files changed since REF touch (`Some("")`: the
    /// default base).
    pub changed: Option<String>,
    /// `--aws`: run the live AWS checks.
    pub aws: bool,
    pub verbose: bool,
    /// `--select RULE,...`: run only these rules (empty: every enabled rule).
    pub select: Vec<String>,
    /// `--ignore RULE,...`: never run these rules.
    pub ignore: Vec<String>,
}

/// An error that prevented checking (exit code 2).
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Outcome {
    pub session: Workspace,
    /// Every rule preflight has, in its stable order (SARIF's rule index).
    pub catalogue: Vec<&'static crate::diagnostic::RuleMeta>,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Build the workspace: find the root, read the configuration, load the files.
pub fn open(options: CheckOptions) -> Result<Workspace, EngineError> {
    let cwd = std::env::current_dir()
        .map_err(|e| EngineError(format!("cannot read the current directory: {e}")))?;
    let mut paths = Vec::new();
    for p in if options.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        options.paths.clone()
    } {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(&p)
        };
        let abs = abs
            .canonicalize()
            .map_err(|e| EngineError(format!("{}: {e}", p.display())))?;
        paths.push(abs);
    }
    let root = discover::find_root(&paths, &cwd);
    let root = root.canonicalize().unwrap_or(root);
    let root_inferred =
        !root.join(".git").exists() && !root.join(crate::config::FILE_NAME).is_file();
    let config_path = match &options.config {
        Some(c) => Some(if c.is_absolute() {
            c.clone()
        } else {
            cwd.join(c)
        }),
        None => Some(root.join(crate::config::FILE_NAME)).filter(|p| p.symlink_metadata().is_ok()),
    };
    let config = match &config_path {
        Some(p) => Config::load(p, Some(&root))
            .map_err(|e| EngineError(format!("configuration error: {e}")))?,
        None => Config::default(),
    };
    config
        .validate(&root, crate::model::gitops::PROVIDABLE_KINDS)
        .map_err(|e| EngineError(format!("configuration error: {e}")))?;
    // Terraform stops on a var file it cannot read; so does the check.
    for f in &options.var_files {
        let abs = if f.is_absolute() {
            f.clone()
        } else {
            cwd.join(f)
        };
        let problem = match std::fs::metadata(&abs) {
            Ok(m) if m.is_file() => std::fs::File::open(&abs).err().map(|e| e.to_string()),
            Ok(_) => Some("not a file".to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(p) = problem {
            return Err(EngineError(format!("--var-file {}: {p}", f.display())));
        }
    }
    check_rule_names(&options)?;
    // Inferred passes are always named pass1 and pass2.
    if let Some(pass) = &options.pass
        && !config.terraform.passes.contains_key(pass)
        && !(config.terraform.passes.is_empty() && matches!(pass.as_str(), "pass1" | "pass2"))
    {
        let declared: Vec<&str> = config.terraform.passes.keys().map(String::as_str).collect();
        return Err(EngineError(if declared.is_empty() {
            format!(
                "unknown pass `{pass}`: preflight.toml declares no [terraform.passes], and passes inferred from the repository are named pass1, pass2"
            )
        } else {
            format!(
                "unknown pass `{pass}`: preflight.toml declares {}",
                declared.join(", ")
            )
        }));
    }
    let mut excludes = config.exclude.clone();
    excludes.extend(options.excludes.iter().cloned());
    let excludes = Excludes::new(&excludes).map_err(EngineError)?;
    let mut scope = paths
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .map_err(|_| {
                    EngineError(format!(
                        "{} is outside the repository root {}",
                        p.display(),
                        root.display()
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(reference) = &options.changed {
        let reference = Some(reference.as_str()).filter(|r| !r.is_empty());
        let changed = crate::changed::changed_files(&root, reference)
            .map_err(|e| EngineError(format!("--changed: {e}")))?;
        // Only the changed files under the named paths.
        let named = std::mem::take(&mut scope);
        let under = |f: &str| {
            named
                .iter()
                .any(|s| s.is_empty() || f == s || f.starts_with(&format!("{s}/")))
        };
        scope = changed.into_iter().filter(|f| under(f)).collect();
    }
    let loading = Instant::now();
    let repo = Repository::load(
        &root,
        &LoadOptions {
            excludes: &excludes,
            max_file_bytes: config.max_file_bytes(),
        },
    );
    crate::timing::report_phase("load", loading.elapsed());
    let inputs = Inputs {
        vars: options.vars.clone(),
        var_files: options.var_files.clone(),
        pass: options.pass.clone(),
        aws: options.aws,
        verbose: options.verbose,
    };
    Ok(Workspace::new(repo, config, inputs, scope, root_inferred))
}

/// `--select` and `--ignore` name rules that exist.
fn check_rule_names(options: &CheckOptions) -> Result<(), EngineError> {
    let known: Vec<&str> = rules::all().iter().map(|r| r.meta().id).collect();
    for (flag, names) in [("--select", &options.select), ("--ignore", &options.ignore)] {
        for name in names {
            if !known.contains(&name.as_str()) {
                return Err(EngineError(format!(
                    "{flag}: unknown rule `{name}`{} (`preflight rules` lists them)",
                    crate::suggest::did_you_mean(name, known.iter().copied())
                )));
            }
        }
    }
    Ok(())
}

/// Run every enabled rule and apply suppressions.
pub fn check(options: CheckOptions) -> Result<Outcome, EngineError> {
    let started = Instant::now();
    let session = open(options.clone())?;
    check_live_settings(&session)?;
    let settings = session
        .config
        .rule_settings(|id| rules::find(id).map(|r| r.meta().options))
        .map_err(|e| EngineError(format!("configuration error: {e}")))?;
    let enabled = enabled_rules(&options, &settings);
    let full = options.select.is_empty();
    // A full check asks for every model: built up front, in parallel, and the rules that
    // read only the Terraform models run beside the GitOps model once those are built. A
    // check of chosen rules builds only what they ask for, on first use.
    let (early, late): (Vec<_>, Vec<_>) = enabled
        .iter()
        .copied()
        .enumerate()
        .partition(|(_, r)| full && r.meta().reads == crate::diagnostic::Reads::Terraform);
    let mut found = Vec::new();
    if full {
        let preparing = Instant::now();
        session.prepare(|| found = check_rules(&session, &early, &settings));
        crate::timing::report_phase("models", preparing.elapsed());
    }
    let checking = Instant::now();
    found.extend(check_rules(&session, &late, &settings));
    let mut findings = finish_rules(&session, &enabled, found, &settings);
    crate::timing::report_phase("rules", checking.elapsed());
    // No output format, baseline or fix text ever holds a sensitive value.
    let redactor = session.redactor();
    for f in &mut findings {
        redactor.finding(f);
    }
    Ok(Outcome {
        session,
        catalogue: rules::all().iter().map(|r| r.meta()).collect(),
        findings,
        elapsed: started.elapsed(),
    })
}

/// `--aws` needs a build with AWS support; a configured `[iam] ci_policy` must be a file.
fn check_live_settings(session: &Workspace) -> Result<(), EngineError> {
    let iam = &session.config.iam;
    if let Some(p) = &iam.ci_policy
        && session.repo.file_by_path(p).is_none()
    {
        return Err(EngineError(format!(
            "configuration error: [iam] ci_policy `{p}` is not a JSON file of the repository"
        )));
    }
    if !session.inputs.aws {
        return Ok(());
    }
    if !cfg!(feature = "aws") {
        return Err(EngineError(
            "--aws: this preflight was built without AWS support (cargo feature `aws`); \
             rebuild it with the feature (`cargo install --locked --features aws --path PREFLIGHT_CHECKOUT`; \
             `preflight --version` lists the features a binary has) or drop --aws"
                .into(),
        ));
    }
    // Without `[iam] ci_role`/`ci_policy` the drift check says what to configure (a note)
    // and the other live checks still run.
    Ok(())
}

/// The rules a check runs, in registry order: those chosen and enabled.
fn enabled_rules(
    options: &CheckOptions,
    settings: &BTreeMap<String, RuleSettings>,
) -> Vec<&'static dyn rules::Rule> {
    let chosen = |id: &str| {
        (options.select.is_empty() || options.select.iter().any(|s| s == id))
            && !options.ignore.iter().any(|s| s == id)
    };
    rules::all()
        .into_iter()
        .filter(|r| {
            chosen(r.meta().id)
                && settings
                    .get(r.meta().id)
                    .and_then(|s| s.enabled)
                    .unwrap_or(true)
        })
        .collect()
}

/// Run rules side by side: each one's findings, with its place in the registry order.
fn check_rules(
    session: &Workspace,
    chosen: &[(usize, &'static dyn rules::Rule)],
    settings: &BTreeMap<String, RuleSettings>,
) -> Vec<(usize, Vec<Finding>)> {
    let default = RuleSettings::default();
    chosen
        .par_iter()
        .map(|&(at, rule)| {
            let meta = rule.meta();
            if meta.id == rules::engine::unused_suppression::ID {
                return (at, Vec::new());
            }
            let cx = Context {
                session,
                meta,
                settings: settings.get(meta.id).unwrap_or(&default),
            };
            let started = Instant::now();
            let found = match meta.reads {
                crate::diagnostic::Reads::Terraform => {
                    crate::model::workspace::reading_terraform_only(|| rule.check(&cx))
                }
                crate::diagnostic::Reads::Everything => rule.check(&cx),
            };
            crate::timing::report(&format!("rule {}", meta.id), started.elapsed());
            (at, found)
        })
        .collect()
}

/// The findings of every rule run, in registry order, with suppressions applied, the
/// unused ones reported, sorted and without duplicates.
fn finish_rules(
    session: &Workspace,
    enabled: &[&'static dyn rules::Rule],
    mut found: Vec<(usize, Vec<Finding>)>,
    settings: &BTreeMap<String, RuleSettings>,
) -> Vec<Finding> {
    let default = RuleSettings::default();
    found.sort_by_key(|(at, _)| *at);
    let mut findings: Vec<Finding> = found.into_iter().flat_map(|(_, f)| f).collect();
    let mut used = suppress::apply(&session.repo, &mut findings, &session.suppressions);
    // A suppression of a rule that did not run this time may well be needed: only the run
    // of that rule could tell.
    let ran: HashSet<&str> = enabled.iter().map(|r| r.meta().id).collect();
    for (u, s) in used.iter_mut().zip(&session.suppressions) {
        if s.rules
            .iter()
            .any(|r| rules::find(r).is_some() && !ran.contains(r.as_str()))
        {
            *u = true;
        }
    }
    if let Some(rule) = enabled
        .iter()
        .find(|r| r.meta().id == rules::engine::unused_suppression::ID)
    {
        let cx = Context {
            session,
            meta: rule.meta(),
            settings: settings.get(rule.meta().id).unwrap_or(&default),
        };
        findings.extend(rules::engine::unused_suppression::report(&cx, &used));
    }
    sort_and_dedup(session, &mut findings);
    findings
}

/// Findings in file, line, rule order; exact duplicates (one message reached twice, e.g. a
/// module called from two roots) reported once.
fn sort_and_dedup(session: &Workspace, findings: &mut Vec<Finding>) {
    let key = |f: &Finding| {
        (
            session.repo.file(f.span.file).rel_path.clone(),
            f.span.start,
            f.rule,
            f.message.clone(),
        )
    };
    findings.sort_by_cached_key(key);
    findings.dedup_by(|a, b| a.rule == b.rule && a.span == b.span && a.message == b.message);
}

#[cfg(test)]
mod tests {
    use super::CheckOptions;

    /// A full check runs the rules that read only Terraform beside the models, and merges
    /// their findings in registry order: it finds exactly what a check of every rule by
    /// name (which builds each model on first use and runs every rule after) finds.
    #[test]
    fn rules_run_beside_the_models_find_what_they_find_after_them() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/platform-broken");
        let full = crate::testing::check_dir(CheckOptions {
            paths: vec![root.clone()],
            ..CheckOptions::default()
        });
        let by_name = crate::testing::check_dir(CheckOptions {
            paths: vec![root],
            select: crate::rules::all()
                .iter()
                .map(|r| r.meta().id.to_string())
                .collect(),
            ..CheckOptions::default()
        });
        let key = |r: &crate::testing::Reported| {
            (
                r.rule,
                r.file.clone(),
                r.line,
                r.message.clone(),
                r.help.clone(),
            )
        };
        assert!(
            full.iter().any(|r| crate::rules::find(r.rule)
                .is_some_and(|x| x.meta().reads == crate::diagnostic::Reads::Terraform)),
            "the example has findings of rules that read only Terraform"
        );
        assert_eq!(
            full.iter().map(key).collect::<Vec<_>>(),
            by_name.iter().map(key).collect::<Vec<_>>()
        );
    }

    /// Parse errors in modules a named root reaches are reported.
    #[test]
    fn findings_in_modules_a_named_root_reaches_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_tree(
            dir.path(),
            &[
                (
                    "envs/dev/main.tf",
                    "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
                ),
                ("envs/prod/main.tf", "locals {}\n"),
                ("modules/app/main.tf", "resource \"x\" \"y\" {\n"),
            ],
        );
        let found = crate::testing::check_dir(CheckOptions {
            paths: vec![dir.path().join("envs/dev")],
            ..Default::default()
        });
        crate::testing::expect(
            &found,
            &[
                ("parse-error", "modules/app/main.tf", 1),
                ("skipped-file", "modules/app/main.tf", 1),
            ],
        );
    }
}
