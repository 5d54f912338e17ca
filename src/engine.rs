//! The check pipeline: discover → load → (models, lazily) → rules → suppressions → sort.

use crate::config::{Config, RuleSettings};
use crate::diagnostic::{Finding, Severity};
use crate::discover::{self, Excludes};
use crate::model::terraform::TerraformModel;
use crate::repo::{LoadOptions, Repository};
use crate::rules::{self, Context};
use crate::suppress::{self, Suppression};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
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
    /// `--aws`: run the live AWS checks.
    pub aws: bool,
    pub verbose: bool,
}

/// An error that prevented checking (exit code 2).
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything a rule can see during one check.
pub struct Session {
    pub repo: Repository,
    pub config: Config,
    pub options: CheckOptions,
    /// The named paths relative to the repository root ("" = everything).
    pub scope: Vec<String>,
    pub suppressions: Vec<Suppression>,
    /// Diagnostics about the run itself, printed with `--verbose`.
    pub log: std::sync::Mutex<Vec<String>>,
    terraform: OnceLock<TerraformModel>,
}

impl Session {
    /// Whether a repository path is under one of the named paths.
    pub fn in_scope(&self, rel: &str) -> bool {
        self.scope.iter().any(|s| {
            s.is_empty()
                || rel == s
                || (rel.starts_with(s.as_str()) && rel.as_bytes().get(s.len()) == Some(&b'/'))
        })
    }

    /// The Terraform model, built on first use and shared by every rule.
    pub fn terraform(&self) -> &TerraformModel {
        self.terraform
            .get_or_init(|| TerraformModel::build(&self.repo))
    }

    pub fn verbose(&self, msg: impl Into<String>) {
        if let Ok(mut log) = self.log.lock() {
            log.push(msg.into());
        }
    }
}

pub struct Outcome {
    pub session: Session,
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

/// Build the session: find the root, read the configuration, load the files.
pub fn open(options: CheckOptions) -> Result<Session, EngineError> {
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
    let config_path = match &options.config {
        Some(c) => Some(if c.is_absolute() {
            c.clone()
        } else {
            cwd.join(c)
        }),
        None => Some(root.join(crate::config::FILE_NAME)).filter(|p| p.is_file()),
    };
    let config = match &config_path {
        Some(p) => Config::load(p).map_err(|e| EngineError(format!("configuration error: {e}")))?,
        None => Config::default(),
    };
    let mut excludes = config.exclude.clone();
    excludes.extend(options.excludes.iter().cloned());
    let excludes = Excludes::new(&excludes).map_err(EngineError)?;
    let scope = paths
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
    let repo = Repository::load(
        &root,
        &LoadOptions {
            excludes: &excludes,
            max_file_bytes: config.max_file_bytes(),
        },
    );
    let suppressions = suppress::collect(&repo);
    Ok(Session {
        repo,
        config,
        options,
        scope,
        suppressions,
        log: Default::default(),
        terraform: OnceLock::new(),
    })
}

/// Run every enabled rule and apply suppressions.
pub fn check(options: CheckOptions) -> Result<Outcome, EngineError> {
    let started = Instant::now();
    let session = open(options)?;
    check_live_settings(&session)?;
    let settings = session
        .config
        .rule_settings(|id| rules::find(id).map(|r| r.meta().options))
        .map_err(|e| EngineError(format!("configuration error: {e}")))?;
    let findings = run_rules(&session, &settings);
    Ok(Outcome {
        session,
        findings,
        elapsed: started.elapsed(),
    })
}

/// The live IAM check needs a build with AWS support and `[iam] ci_role` and `ci_policy`.
fn check_live_settings(session: &Session) -> Result<(), EngineError> {
    let iam = &session.config.iam;
    if let Some(p) = &iam.ci_policy
        && session.repo.file_by_path(p).is_none()
    {
        return Err(EngineError(format!(
            "configuration error: [iam] ci_policy `{p}` is not a JSON file of the repository"
        )));
    }
    if !session.options.aws {
        return Ok(());
    }
    if !cfg!(feature = "aws") {
        return Err(EngineError(
            "--aws: this preflight was built without AWS support (cargo feature `aws`); \
             install a build with it (`cargo install --path .`, the default features) or drop --aws"
                .into(),
        ));
    }
    if iam.ci_role.is_none() || iam.ci_policy.is_none() {
        return Err(EngineError(
            "--aws needs `ci_role` (the CI role's name) and `ci_policy` (the documented policy) in the [iam] section of preflight.toml".into(),
        ));
    }
    Ok(())
}

fn run_rules(session: &Session, settings: &BTreeMap<String, RuleSettings>) -> Vec<Finding> {
    let default = RuleSettings::default();
    let enabled: Vec<_> = rules::all()
        .into_iter()
        .filter(|r| {
            settings
                .get(r.meta().id)
                .and_then(|s| s.enabled)
                .unwrap_or(true)
        })
        .collect();
    let mut findings: Vec<Finding> = enabled
        .par_iter()
        .flat_map_iter(|rule| {
            let meta = rule.meta();
            if meta.id == rules::engine::unused_suppression::ID {
                return Vec::new();
            }
            let cx = Context {
                session,
                meta,
                settings: settings.get(meta.id).unwrap_or(&default),
            };
            rule.check(&cx)
        })
        .collect();
    let used = suppress::apply(&session.repo, &mut findings, &session.suppressions);
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
fn sort_and_dedup(session: &Session, findings: &mut Vec<Finding>) {
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

/// The path of a file relative to the repository root.
pub fn rel(session: &Session, path: &Path) -> String {
    path.strip_prefix(&session.repo.root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.to_string_lossy().into_owned())
}
