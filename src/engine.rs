//! The check pipeline: discover → load → (models, lazily) → rules → suppressions → sort.

use crate::config::{Config, RuleSettings};
use crate::diagnostic::{Finding, Severity};
use crate::discover::{self, Excludes};
use crate::model::terraform::analysis::Analysis;
use crate::model::terraform::{ModuleId, TerraformModel};
use crate::repo::{LoadOptions, Repository};
use crate::rules::{self, Context};
use crate::suppress::{self, Suppression};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
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

/// Everything a rule can see during one check.
pub struct Session {
    pub repo: Repository,
    pub config: Config,
    pub options: CheckOptions,
    /// The named paths relative to the repository root ("" = everything).
    pub scope: Vec<String>,
    /// The root holds neither `.git` nor `preflight.toml`: it is only the common folder of
    /// the named paths, and the repository may well extend above it.
    pub root_inferred: bool,
    pub suppressions: Vec<Suppression>,
    /// Diagnostics about the run itself, printed with `--verbose`.
    pub log: std::sync::Mutex<Vec<String>>,
    /// The GitOps model, built on first use and shared by every rule.
    pub gitops: std::sync::OnceLock<crate::model::gitops::GitopsModel>,
    terraform: OnceLock<TerraformModel>,
    terraform_analysis: OnceLock<Analysis>,
    /// The analysis of every Terraform root (`None`: the same as `terraform_analysis`).
    terraform_analysis_all: OnceLock<Option<Analysis>>,
    tf_scope: OnceLock<TfScope>,
    templates: OnceLock<HashMap<crate::source::FileId, crate::source::Span>>,
    gitops_touched: OnceLock<HashSet<crate::model::gitops::GroupId>>,
    steps: OnceLock<crate::model::steps::Steps>,
    environments: OnceLock<crate::model::environments::Environments>,
    identity_names: OnceLock<crate::model::identities::Names>,
    gitops_literals: OnceLock<Vec<crate::model::identities::Literal>>,
    redactor: OnceLock<crate::redact::Redactor>,
}

/// The Terraform part of the scope: which roots to check and which module folders they
/// reach.
#[derive(Debug, Default)]
struct TfScope {
    roots: Vec<ModuleId>,
    dirs: HashSet<String>,
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

    /// The Terraform roots to check: roots under the named paths, and the roots that reach
    /// a named module or file (naming `modules/eks` or one of its files checks every root
    /// that calls it; a module no root calls is checked on its own).
    pub fn terraform_roots(&self) -> &[ModuleId] {
        &self.tf_scope().roots
    }

    /// Whether a file is in scope: under a named path, or in a module that a checked root
    /// reaches.
    pub fn file_in_scope(&self, rel: &str) -> bool {
        self.in_scope(rel)
            || self
                .tf_scope()
                .dirs
                .contains(crate::model::terraform::module::parent_dir(rel))
    }

    fn tf_scope(&self) -> &TfScope {
        self.tf_scope.get_or_init(|| {
            let model = self.terraform();
            let named: HashSet<ModuleId> = model
                .ids()
                .filter(|&id| {
                    let m = model.module(id);
                    self.in_scope(&m.dir)
                        || m.files
                            .iter()
                            .chain(&m.var_files)
                            .any(|f| self.in_scope(&self.repo.file(*f).rel_path))
                })
                .collect();
            let mut roots = Vec::new();
            let mut reached: HashSet<ModuleId> = HashSet::new();
            for root in model.roots() {
                let r = model.reachable(root);
                if r.iter().any(|m| named.contains(m)) {
                    roots.push(root);
                    reached.extend(r);
                }
            }
            let mut lone: Vec<ModuleId> = named
                .iter()
                .copied()
                .filter(|m| !reached.contains(m))
                .collect();
            lone.sort();
            for m in lone {
                roots.push(m);
                reached.extend(model.reachable(m));
            }
            let dirs = reached
                .iter()
                .map(|m| model.module(*m).dir.clone())
                .collect();
            TfScope { roots, dirs }
        })
    }

    /// The Terraform model, built on first use and shared by every rule.
    /// What the repository's scripts and Makefiles do around `terraform apply`.
    pub fn steps(&self) -> &crate::model::steps::Steps {
        self.steps
            .get_or_init(|| crate::model::steps::Steps::build(&self.repo))
    }

    /// The environments of every Terraform root and cluster group, built once.
    pub fn environments(&self) -> &crate::model::environments::Environments {
        self.environments.get_or_init(|| {
            crate::model::environments::Environments::build(
                self,
                self.terraform_analysis_all(),
                self.gitops(),
            )
        })
    }

    /// Every named object the repository's roots create or look up, built once.
    pub fn identity_names(&self) -> &crate::model::identities::Names {
        self.identity_names
            .get_or_init(|| crate::model::identities::names(self, self.terraform_analysis_all()))
    }

    /// Every string literal the Applications deploy, built once.
    pub fn gitops_literals(&self) -> &[crate::model::identities::Literal] {
        self.gitops_literals
            .get_or_init(|| crate::model::identities::gitops_literals(self, self.gitops()))
    }

    pub fn terraform(&self) -> &TerraformModel {
        self.terraform
            .get_or_init(|| TerraformModel::build(&self.repo))
    }

    /// The files Terraform reads as templates (`templatefile()`), each with the call's path
    /// argument that names it: they are valid only once rendered and are not checked raw.
    pub fn terraform_templates(&self) -> &HashMap<crate::source::FileId, crate::source::Span> {
        self.templates.get_or_init(|| {
            crate::model::terraform::templates::template_files(&self.repo, self.terraform())
        })
    }

    /// Whether a cluster group is in scope: one of its Applications is defined in, deploys
    /// or reads values from a file in scope.
    pub fn gitops_group_in_scope(&self, group: crate::model::gitops::GroupId) -> bool {
        self.gitops_touched
            .get_or_init(|| {
                self.gitops()
                    .touched_groups(|f| self.in_scope(&self.repo.file(f).rel_path))
            })
            .contains(&group)
    }

    /// The GitOps model (Applications, what they deploy, cluster groups), built once.
    pub fn gitops(&self) -> &crate::model::gitops::GitopsModel {
        self.gitops.get_or_init(|| {
            // Kubernetes objects Terraform creates. The analysis never asks for the GitOps
            // model, so building it here cannot recurse into this OnceLock.
            let analysis = self.terraform_analysis_all();
            // What the `helm_release`s of local charts render.
            let rendered = analysis.helm_release_manifests(self);
            let provided_by_terraform = analysis
                .manifest_objects(self)
                .into_iter()
                .filter(|m| !m.count.is_zero())
                .filter_map(|m| m.kind_and_name())
                .chain(rendered.iter().filter_map(|d| {
                    let r = d.root();
                    Some((
                        r.str_at(&["kind"])?.to_string(),
                        r.str_at(&["metadata", "name"])?.to_string(),
                    ))
                }))
                .collect();
            // ArgoCD Applications Terraform applies join the model, rendered.
            let applied: Vec<crate::model::gitops::TerraformApplied> = self
                .terraform_analysis_all()
                .applied_argocd_documents(self)
                .into_iter()
                .map(|d| crate::model::gitops::TerraformApplied {
                    text: d.text,
                    template: d.template,
                    attribute: d.attribute,
                })
                .collect();
            crate::model::gitops::GitopsModel::build_with(
                &self.repo,
                &self.config.gitops,
                provided_by_terraform,
                &applied,
                rendered,
            )
        })
    }

    /// The evaluated Terraform model (values, gates, passes, references, objects created),
    /// built on first use and shared by every rule.
    pub fn terraform_analysis(&self) -> &Analysis {
        self.terraform_analysis.get_or_init(|| {
            let an = Analysis::build(self);
            for p in &an.passes {
                if let Some(name) = &p.name {
                    let set: Vec<String> = p
                        .overrides
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect();
                    self.verbose(format!("pass `{name}` ({}): {}", set.join(", "), p.source));
                }
            }
            an
        })
    }

    /// The evaluated Terraform model of every root of the repository, whatever the scope:
    /// what Terraform creates elsewhere in the repository (Kubernetes objects, secrets)
    /// exists for the GitOps side even when only GitOps files are checked.
    pub fn terraform_analysis_all(&self) -> &Analysis {
        let all = self.terraform_analysis_all.get_or_init(|| {
            let model = self.terraform();
            let scoped: HashSet<ModuleId> = self.terraform_roots().iter().copied().collect();
            if model.roots().all(|r| scoped.contains(&r)) {
                None
            } else {
                Some(Analysis::build_for(self, model.roots().collect()))
            }
        });
        match all {
            Some(a) => a,
            None => self.terraform_analysis(),
        }
    }

    /// How many loaded files are in scope (0: the check looked at nothing).
    pub fn files_in_scope(&self) -> usize {
        self.repo
            .files
            .iter()
            .filter(|f| self.file_in_scope(&f.rel_path))
            .count()
    }

    /// What must not be printed (sensitive values, Secret data), built once.
    pub fn redactor(&self) -> &crate::redact::Redactor {
        self.redactor.get_or_init(|| crate::redact::collect(self))
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
    let repo = Repository::load(
        &root,
        &LoadOptions {
            excludes: &excludes,
            max_file_bytes: config.max_file_bytes(),
        },
    );
    let suppressions = suppress::collect(&repo);
    let listed_by = match repo.listing {
        discover::Listing::Git => "git (tracked and untracked-not-ignored files)",
        discover::Listing::Walk => "a walk of the folder (not a git work tree)",
    };
    let log = vec![format!(
        "repository root {}: {} files read, listed by {listed_by}",
        repo.root.display(),
        repo.files.len()
    )];
    Ok(Session {
        repo,
        config,
        options,
        scope,
        root_inferred,
        suppressions,
        log: std::sync::Mutex::new(log),
        terraform: OnceLock::new(),
        tf_scope: OnceLock::new(),
        templates: OnceLock::new(),
        gitops_touched: OnceLock::new(),
        steps: OnceLock::new(),
        environments: OnceLock::new(),
        identity_names: OnceLock::new(),
        gitops_literals: OnceLock::new(),
        gitops: Default::default(),
        terraform_analysis: OnceLock::new(),
        terraform_analysis_all: OnceLock::new(),
        redactor: OnceLock::new(),
    })
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
    let session = open(options)?;
    check_live_settings(&session)?;
    let settings = session
        .config
        .rule_settings(|id| rules::find(id).map(|r| r.meta().options))
        .map_err(|e| EngineError(format!("configuration error: {e}")))?;
    let mut findings = run_rules(&session, &settings);
    // No output format, baseline or fix text ever holds a sensitive value.
    let redactor = session.redactor();
    for f in &mut findings {
        redactor.finding(f);
    }
    Ok(Outcome {
        session,
        findings,
        elapsed: started.elapsed(),
    })
}

/// `--aws` needs a build with AWS support; a configured `[iam] ci_policy` must be a file.
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
             rebuild it with the feature (`cargo install --locked --features aws --path PREFLIGHT_CHECKOUT`; \
             `preflight --version` lists the features a binary has) or drop --aws"
                .into(),
        ));
    }
    // Without `[iam] ci_role`/`ci_policy` the drift check says what to configure (a note)
    // and the other live checks still run.
    Ok(())
}

fn run_rules(session: &Session, settings: &BTreeMap<String, RuleSettings>) -> Vec<Finding> {
    let default = RuleSettings::default();
    let options = &session.options;
    let chosen = |id: &str| {
        (options.select.is_empty() || options.select.iter().any(|s| s == id))
            && !options.ignore.iter().any(|s| s == id)
    };
    let enabled: Vec<_> = rules::all()
        .into_iter()
        .filter(|r| {
            chosen(r.meta().id)
                && settings
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
