//! The workspace: what one check works on — the repository read, its configuration, the
//! scope named, the inputs given (variables, pass, live checks), the run's log — and the
//! models built from it, each on first use and shared by every rule. It is built from
//! explicit inputs (`Workspace::new`); nothing here knows the engine, a rule or a report.

use crate::config::Config;
use crate::model::terraform::analysis::Analysis;
use crate::model::terraform::{ModuleId, TerraformModel};
use crate::repo::Repository;
use crate::suppress::Suppression;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

thread_local! {
    /// Set while work that promised to ask only for the Terraform models runs on this
    /// thread (see [`reading_terraform_only`]).
    static TERRAFORM_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, which promises to ask only for the Terraform models (the modules, the steps
/// and the analysis): a full check may then run it while the other models are being built
/// (see [`Workspace::prepare`]). In debug builds, asking for another model inside `f`
/// panics, so the tests hold every such promise to its word.
pub fn reading_terraform_only<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TERRAFORM_ONLY.set(self.0);
        }
    }
    let _restore = Restore(TERRAFORM_ONLY.replace(true));
    f()
}

/// In debug builds: panic when `model` is asked for by work that promised to ask only for
/// the Terraform models.
fn not_terraform(model: &str) {
    debug_assert!(
        !TERRAFORM_ONLY.get(),
        "the {model} model was asked for by work that promised to read only the Terraform models"
    );
}

/// The values a check evaluates with, as given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<(String, String)>,
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
    /// `--pass NAME`: check one declared pass only.
    pub pass: Option<String>,
    /// `--aws`: run the live AWS checks.
    pub aws: bool,
    /// `--verbose`: the run's log is printed.
    pub verbose: bool,
}

/// Everything a rule can see during one check: the repository, its configuration, what
/// is in scope, and the models, each built on first use and shared.
pub struct Workspace {
    pub repo: Repository,
    pub config: Config,
    /// What the check was asked to evaluate with: variables, the pass, live checks.
    pub inputs: Inputs,
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
    /// The part of the GitOps model built before the Terraform analysis is (by
    /// [`Workspace::prepare`]), until the model takes it.
    gitops_index: std::sync::Mutex<Option<crate::model::gitops::Indexed>>,
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

impl Workspace {
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
        not_terraform("environments");
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
        not_terraform("identity names");
        self.identity_names
            .get_or_init(|| crate::model::identities::names(self, self.terraform_analysis_all()))
    }

    /// Every string literal the Applications deploy, built once.
    pub fn gitops_literals(&self) -> &[crate::model::identities::Literal] {
        not_terraform("GitOps literals");
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
        not_terraform("Terraform templates");
        self.templates.get_or_init(|| {
            crate::model::terraform::templates::template_files(&self.repo, self.terraform())
        })
    }

    /// Whether a cluster group is in scope: one of its Applications is defined in, deploys
    /// or reads values from a file in scope.
    pub fn gitops_group_in_scope(&self, group: crate::model::gitops::GroupId) -> bool {
        not_terraform("GitOps");
        self.gitops_touched
            .get_or_init(|| {
                self.gitops()
                    .touched_groups(|f| self.in_scope(&self.repo.file(f).rel_path))
            })
            .contains(&group)
    }

    /// The GitOps model (Applications, what they deploy, cluster groups), built once.
    pub fn gitops(&self) -> &crate::model::gitops::GitopsModel {
        not_terraform("GitOps");
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
            // The index `prepare` built ahead, or built now.
            let indexed = self
                .gitops_index
                .lock()
                .ok()
                .and_then(|mut ahead| ahead.take())
                .unwrap_or_else(|| {
                    crate::model::gitops::GitopsModel::index(&self.repo, &self.config.gitops)
                });
            indexed.finish(&self.repo, provided_by_terraform, &applied, rendered)
        })
    }

    /// Build the part of the GitOps model that needs nothing from Terraform, for the
    /// model to take when it is built (nothing when it is built already).
    fn index_gitops(&self) {
        if let Ok(mut ahead) = self.gitops_index.lock()
            && ahead.is_none()
            && self.gitops.get().is_none()
        {
            *ahead = Some(crate::model::gitops::GitopsModel::index(
                &self.repo,
                &self.config.gitops,
            ));
        }
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

    /// Build the models a full check uses, up front and side by side, so that the rules'
    /// workers do not queue one after another on a model another worker is building. The
    /// GitOps model waits for the Terraform analysis (it asks what Terraform creates), all
    /// but its index of the files' objects, built beside the steps; what needs only the
    /// analysis is built beside it, and `beside` runs there too once those
    /// are built: work that asks only for the Terraform models (see
    /// [`reading_terraform_only`]), which are all built by then, fills the core the
    /// GitOps model leaves idle while it resolves Applications one after another.
    pub fn prepare(&self, beside: impl FnOnce() + Send) {
        use crate::timing::time;
        rayon::join(
            || {
                time("model terraform roots", || self.terraform_roots());
            },
            || {
                rayon::join(
                    || {
                        time("model steps", || self.steps());
                    },
                    // The GitOps model's first part needs no Terraform: it is built here,
                    // beside the models the analysis waits for.
                    || self.index_gitops(),
                );
            },
        );
        time("model terraform analysis", || self.terraform_analysis_all());
        rayon::join(
            || {
                time("model gitops", || self.gitops());
                rayon::join(
                    || {
                        time("model gitops literals", || self.gitops_literals());
                    },
                    || {
                        time("model environments", || self.environments());
                        // The walk of every deployed tree several rules share: built here,
                        // so that no rule's worker waits on another building it.
                        time("model gitops references", || {
                            self.gitops().refs(&self.repo);
                        });
                    },
                );
            },
            || {
                rayon::join(
                    || {
                        time("model identity names", || self.identity_names());
                    },
                    || {
                        time("model redactor", || self.redactor());
                        time("model terraform templates", || self.terraform_templates());
                    },
                );
                beside();
            },
        );
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
        not_terraform("redactor");
        self.redactor.get_or_init(|| crate::redact::collect(self))
    }

    pub fn verbose(&self, msg: impl Into<String>) {
        if let Ok(mut log) = self.log.lock() {
            log.push(msg.into());
        }
    }
}

impl Workspace {
    /// A workspace over a loaded repository. `scope` holds the named paths relative to the
    /// root (`""`: everything); `root_inferred` says the root is only the common folder of
    /// the named paths.
    pub fn new(
        repo: Repository,
        config: Config,
        inputs: Inputs,
        scope: Vec<String>,
        root_inferred: bool,
    ) -> Workspace {
        let suppressions = crate::suppress::collect(&repo);
        let listed_by = match repo.listing {
            crate::discover::Listing::Git => "git (tracked and untracked-not-ignored files)",
            crate::discover::Listing::Walk => "a walk of the folder (not a git work tree)",
        };
        let log = vec![format!(
            "repository root {}: {} files read, listed by {listed_by}",
            repo.root.display(),
            repo.files.len()
        )];
        Workspace {
            repo,
            config,
            inputs,
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
            gitops_index: Default::default(),
            terraform_analysis: OnceLock::new(),
            terraform_analysis_all: OnceLock::new(),
            redactor: OnceLock::new(),
        }
    }

    /// A workspace over a folder for the model's own tests: its `preflight.toml` (if any),
    /// the named paths under it (none: everything), default inputs.
    #[cfg(test)]
    pub fn for_tests(root: &std::path::Path, named: &[&str]) -> Workspace {
        let root = root.canonicalize().expect("root");
        let config =
            Config::load(&root.join(crate::config::FILE_NAME), Some(&root)).unwrap_or_default();
        let excludes = crate::discover::Excludes::new(&config.exclude).expect("excludes");
        let repo = Repository::load(
            &root,
            &crate::repo::LoadOptions {
                excludes: &excludes,
                max_file_bytes: config.max_file_bytes(),
            },
        );
        let scope = if named.is_empty() {
            vec![String::new()]
        } else {
            named.iter().map(|s| s.to_string()).collect()
        };
        Workspace::new(repo, config, Inputs::default(), scope, false)
    }
}

#[cfg(test)]
mod tests {
    use super::{Workspace, reading_terraform_only};

    /// Work that promised to read only the Terraform models may ask for them, not for
    /// another model (debug builds check the promise; the engine runs such work while the
    /// other models are still being built).
    #[test]
    fn a_promise_to_read_only_terraform_is_held_to_its_word() {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_tree(dir.path(), &[("envs/dev/main.tf", "locals {}\n")]);
        let s = Workspace::for_tests(dir.path(), &[]);
        let roots = reading_terraform_only(|| {
            s.terraform_analysis();
            s.steps();
            s.terraform_roots().len()
        });
        assert_eq!(roots, 1);
        // After the promised work, anything may be asked for again.
        s.gitops();
        let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reading_terraform_only(|| {
                s.identity_names();
            })
        }));
        assert_eq!(asked.is_err(), cfg!(debug_assertions));
        // The promise ends with the work, even one that panicked.
        s.environments();
    }

    /// Naming a module file checks the roots that call it; a root's modules are in scope.
    #[test]
    fn scope_follows_roots_into_modules_and_back() {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_tree(
            dir.path(),
            &[
                (
                    "envs/dev/main.tf",
                    "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
                ),
                (
                    "envs/prod/main.tf",
                    "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
                ),
                ("envs/sandbox/main.tf", "locals {}\n"),
                ("modules/app/main.tf", "resource \"x\" \"y\" {\n"),
                ("modules/lonely/main.tf", "locals {}\n"),
            ],
        );
        let open = |paths: &[&str]| Workspace::for_tests(dir.path(), paths);
        let s = open(&["modules/app/main.tf"]);
        let roots: Vec<_> = s
            .terraform_roots()
            .iter()
            .map(|r| s.terraform().module(*r).dir.clone())
            .collect();
        assert_eq!(roots, ["envs/dev", "envs/prod"]);
        let s = open(&["envs/dev"]);
        assert!(s.file_in_scope("modules/app/main.tf"));
        assert!(!s.file_in_scope("envs/prod/main.tf"));
        let s = open(&["modules/lonely"]);
        let roots: Vec<_> = s
            .terraform_roots()
            .iter()
            .map(|r| s.terraform().module(*r).dir.clone())
            .collect();
        assert_eq!(roots, ["modules/lonely"]);
    }
}
