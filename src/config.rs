//! `preflight.toml`: rule selection and severities, excludes, per-rule options, and the
//! settings the models need (Terraform passes, GitOps repository URLs, IAM, teardown).
//!
//! Unknown keys and bad values are errors that name the file and line.

use crate::diagnostic::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const FILE_NAME: &str = "preflight.toml";
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A `[rules.RULE]` table with the position of every key and value.
pub type RuleTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Globs (relative to the repository root) of files never read.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Files larger than this are skipped with a note.
    pub max_file_bytes: Option<u64>,
    /// Per-rule settings, keyed by rule id.
    #[serde(default)]
    pub rules: BTreeMap<Spanned<String>, Spanned<RuleTable>>,
    #[serde(default)]
    pub terraform: TerraformConfig,
    #[serde(default)]
    pub gitops: GitopsConfig,
    #[serde(default)]
    pub iam: IamConfig,
    #[serde(default)]
    pub teardown: TeardownConfig,
    /// Where the configuration was read from (not a key).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The configuration's text, for positions in later errors.
    #[serde(skip)]
    text: String,
    /// Whether the file sits inside the checked repository (the repository's own
    /// `preflight.toml`, or a `--config` that names a file of it). Such a file is as
    /// untrusted as the rest of the pull request: it may only name files inside the
    /// repository, and its `[iam] live = true` does not make credentialed calls on CI.
    #[serde(skip)]
    pub in_repository: bool,
}

/// Largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The environment variable a CI workflow sets to let a checked-in `[iam] live = true` run
/// the live check (as `--aws` does).
pub const LIVE_ENV: &str = "PREFLIGHT_AWS";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerraformConfig {
    /// Staged applies of the same root: pass name → variable overrides.
    #[serde(default)]
    pub passes: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Extra `-var-file`s, relative to the repository root.
    #[serde(default)]
    pub var_files: Vec<String>,
    /// Extra `-var` values.
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    /// `-backend-config` per root folder: a file (relative to the repository root) or a
    /// table of settings, as `terraform init -backend-config` takes them.
    #[serde(default)]
    pub backend_config: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitopsConfig {
    /// Repository URLs that mean "this repository" in Application sources.
    #[serde(default)]
    pub repo_urls: Vec<String>,
    /// Objects that exist outside the repository: kind → names.
    #[serde(default)]
    pub provided: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamConfig {
    /// The documented CI policy, relative to the repository root.
    pub ci_policy: Option<String>,
    /// The CI role's name, for the live drift check.
    pub ci_role: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
    /// Run the live drift check without `--aws`.
    #[serde(default)]
    pub live: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeardownConfig {
    /// Globs the teardown scripts discover resources by.
    #[serde(default)]
    pub name_patterns: Vec<String>,
    /// Tags every created resource must carry.
    #[serde(default)]
    pub required_tags: Vec<String>,
}

/// A configuration error: message, file and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// The kind of value a rule option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Bool,
    Integer,
    String,
    StringList,
}

impl OptionKind {
    /// The kind as the rule pages and `preflight rules --format json` name it.
    pub fn name(self) -> &'static str {
        match self {
            OptionKind::Bool => "bool",
            OptionKind::Integer => "integer",
            OptionKind::String => "string",
            OptionKind::StringList => "stringlist",
        }
    }
}

/// An option a rule accepts in its `[rules.RULE]` table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub doc: &'static str,
}

/// The settings of one rule after validation.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub options: BTreeMap<String, toml::Value>,
}

impl Config {
    /// Read and parse a configuration file.
    ///
    /// `repo_root` (canonical) is the checked repository's root: when the file is inside it
    /// (after resolving links), it is the repository's and confined to it
    /// ([`Config::in_repository`]); a link from inside the repository to a file outside it
    /// is refused. Files are opened without blocking and read up to 1 MiB.
    pub fn load(path: &Path, repo_root: Option<&Path>) -> Result<Config, ConfigError> {
        let cannot = |e: String| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            message: format!("cannot read: {e}"),
        };
        let real = path.canonicalize().map_err(|e| cannot(e.to_string()))?;
        let lexical_inside = repo_root.is_some_and(|r| {
            path.starts_with(r)
                || path
                    .parent()
                    .and_then(|p| p.canonicalize().ok())
                    .is_some_and(|p| p.starts_with(r))
        });
        let in_repository = repo_root.is_some_and(|r| real.starts_with(r));
        if lexical_inside && !in_repository {
            return Err(cannot(format!(
                "it is a link to {}, outside the repository",
                real.display()
            )));
        }
        let text = crate::safe_fs::read_regular_text(&real, MAX_CONFIG_BYTES)
            .map_err(|e| cannot(e.to_string()))?;
        let mut config = Config::parse(&text, path)?;
        config.in_repository = in_repository;
        if in_repository {
            config.check_confined()?;
        }
        Ok(config)
    }

    /// A configuration inside the repository names only files inside it: no absolute
    /// path, no `..` that climbs above the root. (Links are refused when the file is read.)
    fn check_confined(&self) -> Result<(), ConfigError> {
        for f in &self.terraform.var_files {
            if !crate::safe_fs::is_confined_rel(f) {
                let at = self
                    .text
                    .find(&format!("\"{f}\""))
                    .or_else(|| self.text.find(&format!("'{f}'")))
                    .or_else(|| self.text.find("var_files"));
                let path = self
                    .path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(FILE_NAME));
                return Err(ConfigError {
                    line: at.map_or(1, |o| self.text[..o].matches('\n').count() + 1),
                    path,
                    message: format!(
                        "[terraform] var_files `{f}` is outside the repository; a configuration \
                         inside the repository may only name files inside it (pass files from \
                         elsewhere with --var-file)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether `[iam] live = true` may run the live check without `--aws`: always for a
    /// configuration outside the repository (the user's own); for the repository's, only
    /// off CI (`CI` unset or empty) or when the workflow sets `PREFLIGHT_AWS=1`.
    pub fn live_allowed(&self) -> bool {
        if !self.iam.live {
            return false;
        }
        if !self.in_repository {
            return true;
        }
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let opted_in = std::env::var(LIVE_ENV).is_ok_and(|v| v == "1" || v == "true");
        opted_in || !(set("CI") || set("GITHUB_ACTIONS"))
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err_at = |offset: Option<usize>, message: String| ConfigError {
            path: path.to_path_buf(),
            line: offset.map_or(1, |o| text[..o.min(text.len())].matches('\n').count() + 1),
            message,
        };
        let mut config: Config = toml::from_str(text)
            .map_err(|e| err_at(e.span().map(|s| s.start), e.message().to_string()))?;
        config.path = Some(path.to_path_buf());
        config.text = text.to_string();
        Ok(config)
    }

    /// Validate `[rules.*]` against the known rules and their options.
    pub fn rule_settings(
        &self,
        rule_exists: impl Fn(&str) -> Option<&'static [OptionSpec]>,
    ) -> Result<BTreeMap<String, RuleSettings>, ConfigError> {
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(FILE_NAME));
        let text = &self.text;
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let err = |offset: usize, message: String| ConfigError {
            path: path.clone(),
            line: line_of(offset),
            message,
        };
        let mut out = BTreeMap::new();
        for (id, table) in &self.rules {
            let Some(specs) = rule_exists(id.get_ref()) else {
                let known: Vec<&str> = crate::rules::all().iter().map(|r| r.meta().id).collect();
                return Err(err(
                    id.span().start,
                    format!(
                        "unknown rule `{}`{} (see `preflight rules`)",
                        id.get_ref(),
                        crate::suggest::did_you_mean(id.get_ref(), known)
                    ),
                ));
            };
            let mut settings = RuleSettings::default();
            for (key, value) in table.get_ref() {
                let at = value.span().start;
                match (key.get_ref().as_str(), value.get_ref()) {
                    ("enabled", toml::Value::Boolean(b)) => settings.enabled = Some(*b),
                    ("enabled", _) => return Err(err(at, "`enabled` takes true or false".into())),
                    ("severity", toml::Value::String(s)) => match Severity::parse(s) {
                        Some(sev) => settings.severity = Some(sev),
                        None => {
                            return Err(err(
                                at,
                                format!("severity `{s}` is not one of error, warning, note"),
                            ));
                        }
                    },
                    ("severity", _) => {
                        return Err(err(
                            at,
                            "`severity` takes \"error\", \"warning\" or \"note\"".into(),
                        ));
                    }
                    (name, v) => {
                        let Some(spec) = specs.iter().find(|s| s.name == name) else {
                            let known: Vec<_> = ["enabled", "severity"]
                                .into_iter()
                                .chain(specs.iter().map(|s| s.name))
                                .collect();
                            return Err(err(
                                key.span().start,
                                format!(
                                    "unknown key `{name}` for rule `{}`; known keys: {}",
                                    id.get_ref(),
                                    known.join(", ")
                                ),
                            ));
                        };
                        let ok = match spec.kind {
                            OptionKind::Bool => v.is_bool(),
                            OptionKind::Integer => v.is_integer(),
                            OptionKind::String => v.is_str(),
                            OptionKind::StringList => {
                                v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str()))
                            }
                        };
                        if !ok {
                            return Err(err(
                                at,
                                format!("`{name}` takes {:?}", spec.kind).to_lowercase(),
                            ));
                        }
                        settings.options.insert(name.to_string(), v.clone());
                    }
                }
            }
            out.insert(id.get_ref().clone(), settings);
        }
        Ok(out)
    }

    /// Check what the types alone cannot: every `[terraform] var_files` entry is a file
    /// inside `root` (Terraform makes a missing var file an error), and every
    /// `[gitops.provided]` kind is one the model asks about.
    pub fn validate(&self, root: &Path, providable_kinds: &[&str]) -> Result<(), ConfigError> {
        #[derive(Deserialize, Default)]
        struct Spans {
            #[serde(default)]
            terraform: TfSpans,
            #[serde(default)]
            gitops: GitopsSpans,
        }
        #[derive(Deserialize, Default)]
        struct TfSpans {
            #[serde(default)]
            var_files: Vec<Spanned<String>>,
        }
        #[derive(Deserialize, Default)]
        struct GitopsSpans {
            #[serde(default)]
            provided: BTreeMap<Spanned<String>, toml::Value>,
        }
        let path = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(FILE_NAME));
        let text = &self.text;
        let spans: Spans = toml::from_str(text).unwrap_or_default();
        let err = |offset: usize, message: String| ConfigError {
            path: path.clone(),
            line: text[..offset.min(text.len())].matches('\n').count() + 1,
            message,
        };
        // A configuration inside the repository (the checked-in one) may only name files
        // inside it, by path: a link that leads out is refused when the file is read (a
        // note), never followed. One kept outside the repository is the user's own and may
        // name anything.
        let config_inside = path
            .canonicalize()
            .map(|c| c.starts_with(root))
            .unwrap_or(true);
        for f in &spans.terraform.var_files {
            let rel = f.get_ref();
            let leaves = std::path::Path::new(rel).is_absolute()
                || crate::model::gitops::deploy_normalize_path(rel).is_none();
            if config_inside && leaves {
                return Err(err(
                    f.span().start,
                    format!("[terraform] var_files: `{rel}` leaves the repository root"),
                ));
            }
            let abs = root.join(rel);
            let is_link = std::fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink());
            if is_link && config_inside {
                continue;
            }
            if !abs.is_file() {
                return Err(err(
                    f.span().start,
                    format!(
                        "[terraform] var_files: `{rel}` is not a file under the repository root {}",
                        root.display()
                    ),
                ));
            }
            if let Err(e) = std::fs::File::open(&abs) {
                return Err(err(
                    f.span().start,
                    format!("[terraform] var_files: cannot read `{rel}`: {e}"),
                ));
            }
        }
        for kind in spans.gitops.provided.keys() {
            let k = kind.get_ref();
            if !providable_kinds.contains(&k.as_str()) {
                return Err(err(
                    kind.span().start,
                    format!(
                        "[gitops.provided]: unknown kind `{k}`{}; known kinds: {}",
                        crate::suggest::did_you_mean(k, providable_kinds.iter().copied()),
                        providable_kinds.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("preflight.toml"))
    }

    #[test]
    fn unknown_top_level_key_names_the_line() {
        let err = parse("exclude = []\n\nexlcude = [\"x\"]\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("exlcude"), "{}", err.message);
    }

    #[test]
    fn unknown_section_key_is_an_error() {
        let err = parse("[terraform]\npasses = {}\nvar_file = []\n").unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn a_mistyped_provided_kind_names_the_line_and_the_closest_kind() {
        let c = parse("[gitops.provided]\nNamespace = [\"a\"]\nClusterissuer = [\"x\"]\n").unwrap();
        let kinds = crate::model::gitops::PROVIDABLE_KINDS;
        let err = c.validate(Path::new("/nonexistent"), kinds).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            err.message.contains("did you mean `ClusterIssuer`?"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_missing_var_file_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("ok.tfvars"), "a = 1\n").unwrap();
        let c =
            parse("[terraform]\nvar_files = [\n  \"ok.tfvars\",\n  \"gone.tfvars\",\n]\n").unwrap();
        let err = c.validate(&root, &[]).unwrap_err();
        assert_eq!(err.line, 4, "{}", err.message);
        assert!(err.message.contains("gone.tfvars"), "{}", err.message);
        let c = parse("[terraform]\nvar_files = [\"ok.tfvars\"]\n").unwrap();
        assert!(c.validate(&root, &[]).is_ok());
    }

    #[test]
    fn passes_and_gitops_parse() {
        let c = parse(
            "[terraform.passes]\npass1 = { enable_k8s_resources = false }\npass2 = { enable_k8s_resources = true }\n[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n[gitops.provided]\nClusterIssuer = [\"letsencrypt-prod\"]\n",
        )
        .unwrap();
        assert_eq!(c.terraform.passes.len(), 2);
        assert_eq!(c.gitops.provided["ClusterIssuer"], ["letsencrypt-prod"]);
    }
}
