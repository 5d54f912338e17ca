//! What a root's apply will create under fixed physical names, and what its Terraform
//! state already holds: the offline half of the live existence check.
//!
//! - [`table`]: the reviewed type → read call → "exists" mapping (`rules/live-existence.toml`).
//! - [`fixed_names`]: every instance a root creates under a name known before apply, per
//!   pass, with its exact Terraform address.
//! - [`state_source`] / [`parse_state`]: where the root's state is (backend `s3`, a local
//!   `terraform.tfstate` inside the repository) and the addresses it holds. State is only
//!   ever read: never written, locked or refreshed.
//!
//! The AWS calls are in [`aws`] (feature `aws`).

#[cfg(feature = "aws")]
pub mod aws;

use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, Iter};
use crate::model::terraform::expr::{Value, quote_string};
use crate::model::workspace::Workspace;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

/// Largest state object read (bytes).
pub const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

/// What `terraform import` takes as the ID of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportId {
    Name,
    Arn,
}

/// One row of `rules/live-existence.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistenceCheck {
    /// The argument holding the physical name.
    pub name: String,
    /// The read-only operation, `service:Operation`.
    pub call: String,
    /// Error codes that mean the object does not exist.
    pub absent: Vec<String>,
    pub import_id: ImportId,
    /// How messages name the object.
    pub what: String,
}

/// The reviewed mapping, by Terraform resource type.
pub fn table() -> &'static BTreeMap<String, ExistenceCheck> {
    static TABLE: OnceLock<BTreeMap<String, ExistenceCheck>> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str(include_str!("../../../rules/live-existence.toml"))
            .expect("rules/live-existence.toml is valid (tested)")
    })
}

/// One resource instance the root creates under a name known before apply.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedObject {
    pub at: BlockAt,
    pub resource_type: String,
    /// The instance's full address: `module.iam.aws_iam_role.this["ci"]`.
    pub address: String,
    pub name: String,
    /// `aws_iam_policy`'s `path` ("/" when not set).
    pub path: String,
    /// The region of the block's provider configuration, when it evaluates.
    pub region: Option<String>,
}

/// A block of a table type whose name cannot be known before apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Unnamed {
    pub at: BlockAt,
    pub reason: String,
}

/// The objects a root creates under fixed names, in the selected passes (one entry per
/// address and name), and the blocks whose names cannot be evaluated.
pub fn fixed_names(
    s: &Workspace,
    an: &Analysis,
    root_pos: usize,
) -> (Vec<NamedObject>, Vec<Unnamed>) {
    let tf = s.terraform();
    let table = table();
    let root = an.roots[root_pos];
    let mut named: Vec<NamedObject> = Vec::new();
    let mut unnamed: Vec<Unnamed> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let blocks: Vec<BlockAt> = an.blocks_of_root(tf, root).collect();
    for &pass in &an.selected {
        for &at in &blocks {
            let tb = &an.module(tf, at.inst).blocks[at.block];
            if tb.kind != BlockKind::Resource {
                continue;
            }
            let Some(check) = table.get(&tb.type_name) else {
                continue;
            };
            let Some(block) = an.hcl(s, at) else {
                continue;
            };
            let Some(name_attr) = block.body.get_attribute(&check.name) else {
                // No fixed name (generated or `name_prefix`): it cannot collide.
                continue;
            };
            let mut reason = |r: String| {
                if !unnamed.iter().any(|u| u.at == at) {
                    unnamed.push(Unnamed { at, reason: r });
                }
            };
            if let Some(call) = repeated_call(s, an, at.inst) {
                reason(format!(
                    "it is in module call `{call}`, which has count or for_each, and instances of module calls are not enumerated"
                ));
                continue;
            }
            match an.inst_count(s, pass, at.inst) {
                Count::Known(0) => continue,
                Count::Known(_) => {}
                c @ Count::Unknown(_) => {
                    reason(format!("its module's instances: {}", c.reason()));
                    continue;
                }
            }
            let iters = match an.iters(s, pass, at) {
                Ok(v) => v,
                Err(u) => {
                    reason(format!(
                        "its instances cannot be enumerated: {}",
                        crate::model::terraform::analysis::unknown_text(&u)
                    ));
                    continue;
                }
            };
            let base = an.address(tf, at);
            for iter in iters {
                let key = match &iter {
                    Iter::None => String::new(),
                    Iter::Count(i) => format!("[{i}]"),
                    Iter::Each(k, _) => match k.as_str() {
                        Some(k) => format!("[{}]", quote_string(k)),
                        None => {
                            reason("a for_each key is not a string".into());
                            continue;
                        }
                    },
                };
                let value = an.eval_iter(s, pass, at.inst, iter.clone(), &name_attr.value);
                let name = match value {
                    Value::String(n) if !n.is_empty() => n,
                    Value::Null => continue,
                    Value::Unknown(u) => {
                        reason(format!(
                            "`{}`: {}",
                            check.name,
                            crate::model::terraform::analysis::unknown_text(&u)
                        ));
                        continue;
                    }
                    _ => continue,
                };
                let address = format!("{base}{key}");
                if !seen.insert((address.clone(), name.clone())) {
                    continue;
                }
                let path = block
                    .body
                    .get_attribute("path")
                    .map(|a| an.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "/".to_string());
                let region = an.provider_of(s, at).and_then(|p| {
                    let pb = an.hcl(s, p)?;
                    let a = pb.body.get_attribute("region")?;
                    an.eval(s, pass, p.inst, &a.value)
                        .as_str()
                        .map(str::to_owned)
                });
                named.push(NamedObject {
                    at,
                    resource_type: tb.type_name.clone(),
                    address,
                    name,
                    path,
                    region,
                });
            }
        }
    }
    // A block named in one pass is not "unnamed" because another pass cannot tell.
    unnamed.retain(|u| !named.iter().any(|n| n.at == u.at));
    (named, unnamed)
}

/// The first module call above an instance that has `count` or `for_each`.
fn repeated_call(s: &Workspace, an: &Analysis, mut inst: usize) -> Option<String> {
    let tf = s.terraform();
    while let Some((parent, block)) = an.insts[inst].parent {
        let at = BlockAt {
            inst: parent,
            block,
        };
        if let Some(b) = an.hcl(s, at)
            && (b.body.get_attribute("count").is_some()
                || b.body.get_attribute("for_each").is_some())
        {
            return Some(an.address(tf, at));
        }
        inst = parent;
    }
    None
}

/// What the configuration itself adopts into state on apply: `moved` blocks (state at
/// `from` becomes `to`) and `import` blocks (the object is imported, not created).
#[derive(Debug, Default, Clone)]
pub struct Adoptions {
    /// (from, to), full addresses.
    pub moved: Vec<(String, String)>,
    /// Full addresses `import` blocks import to.
    pub imported: HashSet<String>,
}

impl Adoptions {
    /// Whether the apply will not create `address`: the state holds it, directly or under
    /// a `moved` block's old address, or an `import` block adopts it.
    pub fn holds(&self, held: &HashSet<String>, address: &str) -> bool {
        if held.contains(address) || self.imported.contains(address) {
            return true;
        }
        self.moved.iter().any(|(from, to)| {
            address
                .strip_prefix(to.as_str())
                .filter(|rest| rest.is_empty() || rest.starts_with('[') || rest.starts_with('.'))
                .is_some_and(|rest| held.contains(&format!("{from}{rest}")))
        })
    }
}

/// The `moved` and `import` blocks of a root's instances.
pub fn adoptions(s: &Workspace, an: &Analysis, root_pos: usize) -> Adoptions {
    use crate::model::terraform::expr::canonical_text;
    let tf = s.terraform();
    let mut out = Adoptions::default();
    for at in an.blocks_of_root(tf, an.roots[root_pos]) {
        let kind = an.module(tf, at.inst).blocks[at.block].kind;
        if !matches!(kind, BlockKind::Moved | BlockKind::Import) {
            continue;
        }
        let Some(block) = an.hcl(s, at) else {
            continue;
        };
        let prefix = &an.insts[at.inst].prefix;
        let text = |k: &str| {
            block
                .body
                .get_attribute(k)
                .map(|a| format!("{prefix}{}", canonical_text(&a.value)))
        };
        match kind {
            BlockKind::Moved => {
                if let (Some(from), Some(to)) = (text("from"), text("to")) {
                    out.moved.push((from, to));
                }
            }
            _ => {
                if let Some(to) = text("to") {
                    out.imported.insert(to);
                }
            }
        }
    }
    out
}

/// Where a root's state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSource {
    /// `backend "s3"`: read with s3:GetObject.
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
        /// `use_path_style` / `force_path_style`.
        path_style: bool,
    },
    /// A local state file inside the repository (relative path).
    Local(String),
}

impl StateSource {
    pub fn describe(&self) -> String {
        match self {
            StateSource::S3 { bucket, key, .. } => format!("s3://{bucket}/{key}"),
            StateSource::Local(p) => p.clone(),
        }
    }
}

/// The anchor for findings about a root's state: its `terraform` block's header when it
/// has one, else the root's first block.
pub fn state_anchor(s: &Workspace, an: &Analysis, root_pos: usize) -> Option<crate::source::Span> {
    let tf = s.terraform();
    let inst = an.roots[root_pos];
    let module = an.module(tf, inst);
    module
        .blocks
        .iter()
        .find(|b| b.kind == BlockKind::Terraform)
        .or_else(|| module.blocks.first())
        .map(|b| b.header)
}

/// The workspace Terraform would use (`TF_WORKSPACE`, else `default`).
pub fn workspace() -> String {
    std::env::var("TF_WORKSPACE")
        .ok()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Where the root's state is, or why it cannot be known. `workspace` as Terraform's.
pub fn state_source(
    s: &Workspace,
    an: &Analysis,
    root_pos: usize,
    workspace: &str,
) -> Result<StateSource, String> {
    let tf = s.terraform();
    let inst = an.roots[root_pos];
    let module = an.module(tf, inst);
    let dir = module.dir.clone();
    let mut backend: Option<(String, BTreeMap<String, Value>)> = None;
    for (i, b) in module.blocks.iter().enumerate() {
        if b.kind != BlockKind::Terraform {
            continue;
        }
        let Some(block) = an.hcl(s, BlockAt { inst, block: i }) else {
            continue;
        };
        for nested in block.body.blocks() {
            if nested.ident.as_str() != "backend" && nested.ident.as_str() != "cloud" {
                continue;
            }
            let kind = if nested.ident.as_str() == "cloud" {
                "cloud".to_string()
            } else {
                nested
                    .labels
                    .first()
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_default()
            };
            let mut settings = BTreeMap::new();
            for a in nested.body.attributes() {
                let v = an.eval(s, 0, inst, &a.value);
                settings.insert(a.key.as_str().to_string(), v);
            }
            backend = Some((kind, settings));
        }
    }
    let Some((kind, mut settings)) = backend else {
        return local_state(s, &dir, "terraform.tfstate", workspace);
    };
    match kind.as_str() {
        "s3" => {}
        "local" => {
            let path = settings
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("terraform.tfstate")
                .to_string();
            return local_state(s, &dir, &path, workspace);
        }
        other => {
            return Err(format!(
                "its backend is `{other}`, which preflight does not read (it reads `s3` and local state)"
            ));
        }
    }
    // -backend-config: `[terraform] backend_config` for this root, else one `*.tfbackend`
    // file in the root's folder.
    let (extra, from) = backend_config(s, &dir)?;
    for (k, v) in extra {
        settings.insert(k, v);
    }
    let get = |k: &str| settings.get(k).and_then(Value::as_str).map(str::to_owned);
    let from = from.map(|f| format!(" (with {f})")).unwrap_or_default();
    let Some(bucket) = get("bucket") else {
        return Err(format!(
            "its backend \"s3\" has no known `bucket`{from}: pass it with `[terraform] backend_config` in preflight.toml"
        ));
    };
    let Some(key) = get("key") else {
        return Err(format!(
            "its backend \"s3\" has no known `key`{from}: pass it with `[terraform] backend_config` in preflight.toml"
        ));
    };
    let key = if workspace == "default" {
        key
    } else {
        let prefix = get("workspace_key_prefix").unwrap_or_else(|| "env:".to_string());
        format!("{prefix}/{workspace}/{key}")
    };
    let truthy = |k: &str| matches!(settings.get(k), Some(Value::Bool(true)));
    Ok(StateSource::S3 {
        bucket,
        key,
        region: get("region"),
        path_style: truthy("use_path_style") || truthy("force_path_style"),
    })
}

fn local_state(
    s: &Workspace,
    dir: &str,
    path: &str,
    workspace: &str,
) -> Result<StateSource, String> {
    let rel_file = if workspace == "default" {
        path.to_string()
    } else {
        format!("terraform.tfstate.d/{workspace}/{path}")
    };
    let Some(rel) = crate::model::terraform::module::join_within(dir, &rel_file) else {
        return Err(format!(
            "its local state `{rel_file}` is outside the repository"
        ));
    };
    if !s.repo.exists(&rel) {
        return Err(format!(
            "it has no remote backend and no `{rel}` in the repository (its state is elsewhere)"
        ));
    }
    Ok(StateSource::Local(rel))
}

/// The `-backend-config` values for a root: from `[terraform] backend_config` (a file or
/// a table of values per root folder), else from the only `*.tfbackend` file in the folder.
/// Returns the values and where they came from.
#[allow(clippy::type_complexity)]
fn backend_config(
    s: &Workspace,
    dir: &str,
) -> Result<(BTreeMap<String, Value>, Option<String>), String> {
    let configured = s
        .config
        .terraform
        .backend_config
        .get(dir)
        .or_else(|| s.config.terraform.backend_config.get(&format!("{dir}/")));
    let file = match configured {
        Some(toml::Value::Table(t)) => {
            let mut out = BTreeMap::new();
            for (k, v) in t {
                let v = match v {
                    toml::Value::String(x) => Value::String(x.clone()),
                    toml::Value::Boolean(b) => Value::Bool(*b),
                    _ => continue,
                };
                out.insert(k.clone(), v);
            }
            return Ok((out, Some("[terraform] backend_config".into())));
        }
        Some(toml::Value::String(f)) => f.clone(),
        Some(_) => {
            return Err(format!(
                "`[terraform] backend_config` for `{dir}` is neither a file nor a table"
            ));
        }
        None => {
            let found: Vec<&str> = s
                .repo
                .files_in_dir(dir)
                .filter(|p| p.ends_with(".tfbackend"))
                .collect();
            match found.as_slice() {
                [] => return Ok((BTreeMap::new(), None)),
                [one] => one.to_string(),
                many => {
                    return Err(format!(
                        "its folder has {} `.tfbackend` files ({}) and which one the apply passes is not known: name it in `[terraform] backend_config` in preflight.toml",
                        many.len(),
                        many.join(", ")
                    ));
                }
            }
        }
    };
    let text = read_in_repo(&s.repo.root, &file, 1024 * 1024)
        .map_err(|e| format!("its backend configuration `{file}` cannot be read: {e}"))?;
    let text = String::from_utf8(text)
        .map_err(|_| format!("its backend configuration `{file}` is not UTF-8"))?;
    let body: hcl_edit::structure::Body = text
        .parse()
        .map_err(|_| format!("its backend configuration `{file}` is not HCL"))?;
    let mut out = BTreeMap::new();
    for a in body.attributes() {
        let v = crate::model::terraform::expr::eval(
            &a.value,
            &crate::model::terraform::expr::EmptyScope,
        );
        out.insert(a.key.as_str().to_string(), v);
    }
    Ok((out, Some(file)))
}

/// Read a file of the repository, refusing anything that resolves outside its root, is
/// not a regular file, or is larger than `limit` bytes.
pub fn read_in_repo(root: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let root = root
        .canonicalize()
        .map_err(|e| format!("the repository root: {e}"))?;
    let full = root.join(rel).canonicalize().map_err(|e| format!("{e}"))?;
    if !full.starts_with(&root) {
        return Err("it resolves outside the repository".into());
    }
    let meta = std::fs::metadata(&full).map_err(|e| format!("{e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > limit {
        return Err(format!("it is larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    std::fs::File::open(&full)
        .map_err(|e| format!("{e}"))?
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{e}"))?;
    Ok(out)
}

/// The managed resource instance addresses a state holds.
pub fn parse_state(bytes: &[u8]) -> Result<HashSet<String>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the state is not JSON: {e}"))?;
    let version = v.get("version").and_then(|x| x.as_u64()).unwrap_or(0);
    if version != 4 {
        return Err(format!(
            "the state has format version {version}; preflight reads version 4 (Terraform 0.12 and later)"
        ));
    }
    let mut out = HashSet::new();
    for r in v
        .get("resources")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
    {
        if r.get("mode").and_then(|m| m.as_str()) != Some("managed") {
            continue;
        }
        let (Some(ty), Some(name)) = (
            r.get("type").and_then(|x| x.as_str()),
            r.get("name").and_then(|x| x.as_str()),
        ) else {
            continue;
        };
        let module = r
            .get("module")
            .and_then(|m| m.as_str())
            .map(|m| format!("{m}."))
            .unwrap_or_default();
        let base = format!("{module}{ty}.{name}");
        for i in r
            .get("instances")
            .and_then(|i| i.as_array())
            .into_iter()
            .flatten()
        {
            let key = match i.get("index_key") {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::Number(n)) => format!("[{n}]"),
                Some(serde_json::Value::String(k)) => format!("[{}]", quote_string(k)),
                Some(_) => continue,
            };
            out.insert(format!("{base}{key}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_names_the_issue_types() {
        let t = table();
        for ty in [
            "aws_iam_role",
            "aws_iam_policy",
            "aws_iam_instance_profile",
            "aws_secretsmanager_secret",
            "aws_ecr_repository",
            "aws_s3_bucket",
            "aws_cloudwatch_log_group",
            "aws_kms_alias",
        ] {
            assert!(t.contains_key(ty), "{ty}");
        }
        for (ty, c) in t {
            let (_, op) = c.call.split_once(':').expect("service:Operation");
            assert!(
                ["Get", "List", "Describe"]
                    .iter()
                    .any(|p| op.starts_with(p)),
                "{ty}: {} is not read-only",
                c.call
            );
        }
    }

    #[test]
    fn state_addresses_include_modules_and_keys() {
        let state = br#"{"version": 4, "resources": [
          {"mode": "managed", "type": "aws_iam_role", "name": "ci", "instances": [{"attributes": {}}]},
          {"module": "module.iam", "mode": "managed", "type": "aws_iam_role", "name": "this",
           "instances": [{"index_key": "a"}, {"index_key": "b\"c"}]},
          {"mode": "managed", "type": "aws_s3_bucket", "name": "logs", "instances": [{"index_key": 0}]},
          {"mode": "data", "type": "aws_iam_role", "name": "ci", "instances": [{}]}
        ]}"#;
        let got = parse_state(state).unwrap();
        let mut got: Vec<_> = got.into_iter().collect();
        got.sort();
        assert_eq!(
            got,
            [
                "aws_iam_role.ci",
                "aws_s3_bucket.logs[0]",
                "module.iam.aws_iam_role.this[\"a\"]",
                "module.iam.aws_iam_role.this[\"b\\\"c\"]",
            ]
        );
        assert!(
            parse_state(b"{\"version\": 3}")
                .unwrap_err()
                .contains("version 3")
        );
        assert!(parse_state(b"not json").is_err());
    }

    fn session(files: &[(&str, &str)]) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_tree(dir.path(), files);
        let s = Workspace::for_tests(dir.path(), &[]);
        (dir, s)
    }

    fn root_pos(s: &Workspace, dir: &str) -> usize {
        let an = s.terraform_analysis();
        let tf = s.terraform();
        (0..an.roots.len())
            .find(|&i| an.module(tf, an.roots[i]).dir == dir)
            .unwrap_or_else(|| panic!("no root {dir}"))
    }

    #[test]
    fn fixed_names_are_evaluated_per_pass_and_instance() {
        let (_d, s) = session(&[
            (
                "preflight.toml",
                "[terraform.passes]\npass1 = { enable = false }\npass2 = { enable = true }\n",
            ),
            (
                "envs/dev/main.tf",
                r#"variable "enable" {
  default = false
}
variable "env" {
  default = "dev"
}
resource "aws_iam_role" "base" {
  name = "app-${var.env}"
}
resource "aws_iam_role" "gated" {
  count = var.enable ? 1 : 0
  name  = "gated"
}
resource "aws_iam_policy" "each" {
  for_each = toset(["a", "b"])
  name     = "p-${each.key}"
  path     = "/ci/"
}
resource "aws_iam_role" "prefixed" {
  name_prefix = "x"
}
resource "aws_iam_role" "later" {
  name = aws_iam_role.base.unique_id
}
resource "aws_sqs_queue" "q" {
  name = "q"
}
module "m" {
  source = "../../modules/m"
}
"#,
            ),
            (
                "modules/m/main.tf",
                "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"bkt\"\n}\n",
            ),
        ]);
        let an = s.terraform_analysis();
        let (named, unnamed) = fixed_names(&s, an, root_pos(&s, "envs/dev"));
        let mut got: Vec<(String, String, String)> = named
            .iter()
            .map(|n| (n.address.clone(), n.name.clone(), n.path.clone()))
            .collect();
        got.sort();
        let want: Vec<(String, String, String)> = [
            ("aws_iam_policy.each[\"a\"]", "p-a", "/ci/"),
            ("aws_iam_policy.each[\"b\"]", "p-b", "/ci/"),
            ("aws_iam_role.base", "app-dev", "/"),
            ("aws_iam_role.gated[0]", "gated", "/"),
            ("module.m.aws_s3_bucket.b", "bkt", "/"),
        ]
        .iter()
        .map(|(a, n, p)| (a.to_string(), n.to_string(), p.to_string()))
        .collect();
        assert_eq!(got, want);
        let tf = s.terraform();
        let unnamed: Vec<String> = unnamed.iter().map(|u| an.address(tf, u.at)).collect();
        assert_eq!(unnamed, ["aws_iam_role.later"]);
    }

    const S3_BACKEND: &str = r#"terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "dev/terraform.tfstate"
    region = "eu-west-2"
  }
}
resource "aws_iam_role" "r" {
  name = "r"
}
"#;

    #[test]
    fn the_state_is_found_as_terraform_init_finds_it() {
        let partial = "terraform {\n  backend \"s3\" {}\n}\n";
        let (_d, s) = session(&[
            (
                "preflight.toml",
                "[terraform.backend_config]\n\"envs/conf\" = { bucket = \"b\", key = \"k\", use_path_style = true }\n",
            ),
            ("envs/full/main.tf", S3_BACKEND),
            ("envs/partial/main.tf", partial),
            (
                "envs/partial/dev.s3.tfbackend",
                "bucket = \"from-file\"\nkey = \"partial.tfstate\"\n",
            ),
            ("envs/two/main.tf", partial),
            ("envs/two/a.tfbackend", "bucket = \"a\"\n"),
            ("envs/two/b.tfbackend", "bucket = \"b\"\n"),
            ("envs/none/main.tf", partial),
            ("envs/conf/main.tf", partial),
            (
                "envs/gcs/main.tf",
                "terraform {\n  backend \"gcs\" {\n    bucket = \"x\"\n  }\n}\n",
            ),
            (
                "envs/local/main.tf",
                "resource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n}\n",
            ),
            ("envs/local/terraform.tfstate", "{}"),
            (
                "envs/nostate/main.tf",
                "resource \"aws_iam_role\" \"r\" {\n  name = \"r\"\n}\n",
            ),
        ]);
        let an = s.terraform_analysis();
        let at = |dir: &str, ws: &str| state_source(&s, an, root_pos(&s, dir), ws);
        let s3 = |bucket: &str, key: &str, region: Option<&str>, path_style: bool| {
            Ok(StateSource::S3 {
                bucket: bucket.into(),
                key: key.into(),
                region: region.map(str::to_owned),
                path_style,
            })
        };
        assert_eq!(
            at("envs/full", "default"),
            s3(
                "acme-tfstate",
                "dev/terraform.tfstate",
                Some("eu-west-2"),
                false
            )
        );
        assert_eq!(
            at("envs/full", "staging"),
            s3(
                "acme-tfstate",
                "env:/staging/dev/terraform.tfstate",
                Some("eu-west-2"),
                false
            )
        );
        assert_eq!(
            at("envs/partial", "default"),
            s3("from-file", "partial.tfstate", None, false)
        );
        assert!(
            at("envs/two", "default")
                .unwrap_err()
                .contains("backend_config")
        );
        assert!(
            at("envs/none", "default")
                .unwrap_err()
                .contains("no known `bucket`")
        );
        assert_eq!(at("envs/conf", "default"), s3("b", "k", None, true));
        assert!(at("envs/gcs", "default").unwrap_err().contains("`gcs`"));
        assert_eq!(
            at("envs/local", "default"),
            Ok(StateSource::Local("envs/local/terraform.tfstate".into()))
        );
        assert!(
            at("envs/nostate", "default")
                .unwrap_err()
                .contains("no remote backend")
        );
    }

    #[test]
    fn moved_and_import_blocks_adopt_into_state() {
        let (_d, s) = session(&[(
            "envs/dev/main.tf",
            r#"resource "aws_iam_role" "new" {
  name = "r"
}
moved {
  from = aws_iam_role.old
  to   = aws_iam_role.new
}
resource "aws_iam_role" "adopted" {
  name = "a"
}
import {
  to = aws_iam_role.adopted
  id = "a"
}
"#,
        )]);
        let an = s.terraform_analysis();
        let a = adoptions(&s, an, root_pos(&s, "envs/dev"));
        let held: HashSet<String> = ["aws_iam_role.old".to_string()].into();
        assert!(a.holds(&held, "aws_iam_role.new"));
        assert!(a.holds(&HashSet::new(), "aws_iam_role.adopted"));
        assert!(!a.holds(&HashSet::new(), "aws_iam_role.new"));
        assert!(!a.holds(&held, "aws_iam_role.newer"));
    }

    #[test]
    fn reads_stay_inside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        std::fs::write(dir.path().join("ok"), "yes").unwrap();
        assert_eq!(read_in_repo(dir.path(), "ok", 10).unwrap(), b"yes");
        assert!(read_in_repo(dir.path(), "ok", 1).is_err());
        assert!(read_in_repo(dir.path(), "../x", 10).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link"))
                .unwrap();
            assert!(
                read_in_repo(dir.path(), "link", 10)
                    .unwrap_err()
                    .contains("outside")
            );
        }
    }
}
