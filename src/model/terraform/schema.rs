//! What the providers preflight knows accept: for each resource and data source type, its
//! arguments (required, optional, computed only, deprecated) and nested blocks (nesting
//! mode, how many), generated from `terraform providers schema -json` by
//! `scripts/gen-provider-schemas.sh` into `data/provider-schemas/NAME.schema.z` (zlib-
//! compressed text; the format is described in `scripts/provider-schema-compact.py`).
//!
//! A type the data does not cover is not known, never guessed. The build inflates the data
//! into the binary with the index of its types (`build.rs`, `schema_index.rs`): a type is
//! found by a binary search, and its entries are parsed only when that type is asked for.

use super::{BlockKind, ModuleId, TerraformModel, TfModule};
use crate::repo::Repository;
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// One provider's inflated data: its local name, its text, and its types' index (kind byte,
/// type name, byte range of the entries; sorted by kind byte, then name).
type Data = (
    &'static str,
    &'static str,
    &'static [(u8, &'static str, usize, usize)],
);

/// The generated data, by provider local name: every `data/provider-schemas/*.schema.z`,
/// inflated and indexed by `build.rs`.
const DATA: &[Data] = include!(concat!(env!("OUT_DIR"), "/provider_schemas.rs"));

/// The kind byte of a type's line in the data.
fn kind_byte(kind: SchemaKind) -> u8 {
    match kind {
        SchemaKind::Resource => b'R',
        SchemaKind::Data => b'D',
    }
}

/// Resource or data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaKind {
    Resource,
    Data,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrSchema {
    pub required: bool,
    /// Set by the provider only: configuring it is an error.
    pub computed_only: bool,
    pub deprecated: bool,
    /// A list or set of objects, which Terraform also accepts written as blocks.
    pub as_blocks: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub struct BlockType {
    pub nesting: Nesting,
    pub min_items: u32,
    /// 0: no limit.
    pub max_items: u32,
    pub deprecated: bool,
    pub body: BlockSchema,
}

/// The arguments and nested blocks of a resource, data source or nested block.
#[derive(Clone, Debug, Default)]
pub struct BlockSchema {
    pub attributes: BTreeMap<String, AttrSchema>,
    pub blocks: BTreeMap<String, BlockType>,
}

/// One provider's generated data.
pub struct ProviderSchema {
    /// The local name the data is for (`aws`).
    pub name: &'static str,
    /// e.g. `registry.terraform.io/hashicorp/aws`.
    pub source: String,
    /// The provider version it was generated from, e.g. `5.100.0`.
    pub version: String,
    text: &'static str,
    /// Each type's kind byte, name and the byte range of its entries in `text`, sorted.
    index: &'static [(u8, &'static str, usize, usize)],
    /// The types parsed so far, by their place in `index`.
    parsed: Mutex<HashMap<usize, Arc<BlockSchema>>>,
}

impl ProviderSchema {
    fn load(&(name, text, index): &Data) -> Option<ProviderSchema> {
        let header = text.lines().next()?.strip_prefix("# ")?;
        let (source, version) = header.split_once(' ')?;
        Some(ProviderSchema {
            name,
            source: source.to_string(),
            version: version.trim().to_string(),
            text,
            index,
            parsed: Mutex::new(HashMap::new()),
        })
    }

    /// The schema of a resource or data source type, when the data has it.
    pub fn get(&self, kind: SchemaKind, ty: &str) -> Option<Arc<BlockSchema>> {
        let k = kind_byte(kind);
        let at = self
            .index
            .binary_search_by(|&(kb, name, _, _)| (kb, name).cmp(&(k, ty)))
            .ok()?;
        if let Ok(cache) = self.parsed.lock()
            && let Some(s) = cache.get(&at)
        {
            return Some(s.clone());
        }
        let (_, _, from, to) = self.index[at];
        let parsed = Arc::new(parse_entries(&self.text[from..to]));
        if let Ok(mut cache) = self.parsed.lock() {
            cache.insert(at, parsed.clone());
        }
        Some(parsed)
    }

    /// The type names of one kind the data has.
    pub fn types(&self, kind: SchemaKind) -> impl Iterator<Item = &str> {
        let k = kind_byte(kind);
        self.index.iter().filter(move |e| e.0 == k).map(|e| e.1)
    }

    /// The major version the data is from (`5` for `5.100.0`).
    pub fn major(&self) -> Option<u64> {
        self.version.split('.').next()?.parse().ok()
    }
}

/// Parse the indented entries of one type into its schema.
fn parse_entries(text: &str) -> BlockSchema {
    // A stack of blocks being filled, by depth (depth 1 is the type's own body).
    let mut stack: Vec<(String, BlockType)> = Vec::new();
    let mut root = BlockSchema::default();
    fn close(stack: &mut Vec<(String, BlockType)>, root: &mut BlockSchema, depth: usize) {
        while stack.len() >= depth {
            let Some((name, done)) = stack.pop() else {
                break;
            };
            let parent = stack.last_mut().map_or(&mut *root, |(_, b)| &mut b.body);
            parent.blocks.insert(name, done);
        }
    }
    for line in text.lines() {
        let depth = line.len() - line.trim_start_matches(' ').len();
        let entry = line.trim();
        if depth == 0 || entry.is_empty() {
            continue;
        }
        close(&mut stack, &mut root, depth);
        let target = stack.last_mut().map_or(&mut root, |(_, b)| &mut b.body);
        let mut parts = entry.split(' ');
        let name = parts.next().unwrap_or("");
        if let Some(block) = name.strip_prefix('+') {
            let nesting = match parts.next() {
                Some("single") => Nesting::Single,
                Some("group") => Nesting::Group,
                Some("set") => Nesting::Set,
                Some("map") => Nesting::Map,
                _ => Nesting::List,
            };
            let min_items = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let max_items = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let deprecated = parts.next() == Some("d");
            stack.push((
                block.to_string(),
                BlockType {
                    nesting,
                    min_items,
                    max_items,
                    deprecated,
                    body: BlockSchema::default(),
                },
            ));
        } else {
            let flags = parts.next().unwrap_or("");
            target.attributes.insert(
                name.to_string(),
                AttrSchema {
                    required: flags.contains('r'),
                    computed_only: flags.starts_with('c'),
                    deprecated: flags.contains('d'),
                    as_blocks: flags.contains('b'),
                },
            );
        }
    }
    close(&mut stack, &mut root, 1);
    root
}

/// Every provider the data covers, loaded on first use.
pub fn providers() -> &'static [ProviderSchema] {
    static ALL: OnceLock<Vec<ProviderSchema>> = OnceLock::new();
    ALL.get_or_init(|| DATA.iter().filter_map(ProviderSchema::load).collect())
}

/// The names of the providers the data covers, without loading it.
pub fn provider_names() -> impl Iterator<Item = &'static str> {
    DATA.iter().map(|d| d.0)
}

/// The data for a provider local name.
pub fn provider(name: &str) -> Option<&'static ProviderSchema> {
    if !provider_names().any(|n| n == name) {
        return None;
    }
    providers().iter().find(|p| p.name == name)
}

/// The provider local name a resource type implies: the part before the first `_`.
pub fn implied_provider(ty: &str) -> &str {
    ty.split_once('_').map_or(ty, |(p, _)| p)
}

/// A version range `[low, high)` that a set of constraints admits, as far as preflight
/// reads constraints (`=`, `!=` ignored, `>`, `>=`, `<`, `<=`, `~>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRange {
    /// Inclusive lower bound; `None`: any version.
    pub low: Option<Version>,
    /// Exclusive upper bound (an inclusive one is bumped to the next patch).
    pub high: Option<Version>,
}

pub type Version = (u64, u64, u64);

fn parse_version(s: &str) -> Option<(Version, usize)> {
    let s = s.trim().trim_start_matches('v');
    let core = s.split(['-', '+']).next()?;
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut v = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        v[i] = p.parse().ok()?;
    }
    Some(((v[0], v[1], v[2]), parts.len()))
}

impl VersionRange {
    pub fn any() -> VersionRange {
        VersionRange {
            low: None,
            high: None,
        }
    }

    /// Narrow the range by one constraint string (`"~> 5.0, != 5.3.1"`); `None` when a
    /// part cannot be read.
    pub fn constrain(&mut self, constraints: &str) -> Option<()> {
        for part in constraints.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| part.strip_prefix(op).map(|r| (*op, r)))
                .unwrap_or(("=", part));
            let (v, n) = parse_version(rest)?;
            let next_patch = (v.0, v.1, v.2 + 1);
            match op {
                "=" => {
                    self.raise(v);
                    self.lower(next_patch);
                }
                ">=" => self.raise(v),
                ">" => self.raise(next_patch),
                "<" => self.lower(v),
                "<=" => self.lower(next_patch),
                "~>" => {
                    self.raise(v);
                    match n {
                        1 => {}
                        2 => self.lower((v.0 + 1, 0, 0)),
                        _ => self.lower((v.0, v.1 + 1, 0)),
                    }
                }
                _ => {}
            }
        }
        Some(())
    }

    fn raise(&mut self, v: Version) {
        if self.low.is_none_or(|l| v > l) {
            self.low = Some(v);
        }
    }

    fn lower(&mut self, v: Version) {
        if self.high.is_none_or(|h| v < h) {
            self.high = Some(v);
        }
    }

    /// Whether every version in the range is within major `major` and below `bound`.
    pub fn within(&self, major: u64, bound: Version) -> bool {
        let Some(low) = self.low else {
            return false;
        };
        let Some(high) = self.high else {
            return false;
        };
        low >= (major, 0, 0) && high <= bound
    }
}

/// Whether the data for `provider` covers every version `range` admits. Within a major
/// version providers only add arguments and relax requirements, so data from the newest
/// release a range admits is right for all of it. The AWS data comes from 5.100.0, the last
/// 5.x release, so it covers `~> 5.0`.
pub fn covers(provider: &ProviderSchema, range: &VersionRange) -> bool {
    let Some((v, _)) = parse_version(&provider.version) else {
        return false;
    };
    let last_of_major = LAST_OF_MAJOR.contains(&(provider.source.as_str(), v));
    let bound = if last_of_major {
        (v.0 + 1, 0, 0)
    } else {
        (v.0, v.1, v.2 + 1)
    };
    range.within(v.0, bound)
}

/// Releases known to be the last of their major version.
const LAST_OF_MAJOR: &[(&str, Version)] = &[("registry.terraform.io/hashicorp/aws", (5, 100, 0))];

/// A `required_providers` entry: local name, source (normalised to
/// `registry.terraform.io/NAMESPACE/TYPE`) and version constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub name: String,
    pub source: String,
    pub version: Option<String>,
}

/// A provider source as Terraform normalises it: `hashicorp/aws` →
/// `registry.terraform.io/hashicorp/aws`, `aws` → `registry.terraform.io/hashicorp/aws`.
pub fn normalise_source(source: &str) -> String {
    let s = source.trim().to_ascii_lowercase();
    match s.matches('/').count() {
        0 if s == "terraform" => "terraform.io/builtin/terraform".to_string(),
        0 => format!("registry.terraform.io/hashicorp/{s}"),
        1 => format!("registry.terraform.io/{s}"),
        _ => s,
    }
}

/// The `required_providers` entries of a module's `terraform` blocks (a bare
/// `aws = "~> 5.0"` string is the pre-0.13 version-only form).
pub fn requirements(
    repo: &Repository,
    model: &TerraformModel,
    module: &TfModule,
) -> Vec<Requirement> {
    let mut out = Vec::new();
    for b in module.blocks_of(BlockKind::Terraform) {
        let Some(block) = model.hcl_block(repo, b.at) else {
            continue;
        };
        for rp in block
            .body
            .blocks()
            .filter(|x| x.ident.as_str() == "required_providers")
        {
            for attr in rp.body.attributes() {
                let name = attr.key.as_str().to_string();
                let (source, version) = match &attr.value {
                    Expression::Object(obj) => {
                        let field = |k: &str| {
                            obj.iter().find_map(|(key, v)| {
                                let key_name = match key {
                                    ObjectKey::Ident(i) => i.as_str().to_string(),
                                    ObjectKey::Expression(e) => e.as_str()?.to_string(),
                                };
                                (key_name == k).then(|| v.expr().as_str().map(str::to_owned))?
                            })
                        };
                        (field("source"), field("version"))
                    }
                    e => (None, e.as_str().map(str::to_owned)),
                };
                let source = normalise_source(source.as_deref().unwrap_or(&name));
                out.push(Requirement {
                    name,
                    source,
                    version,
                });
            }
        }
    }
    out
}

/// Whether the generated data is right for every configuration that includes `module`:
/// each root that reaches it constrains the provider to versions the data covers. The
/// answer names the constraints found, for the note when it is no.
pub struct Coverage {
    pub covered: bool,
    /// The constraints read, `"~> 5.0"`, or why none applies.
    pub constraints: Vec<String>,
}

pub fn coverage(
    repo: &Repository,
    model: &TerraformModel,
    module: ModuleId,
    provider: &ProviderSchema,
) -> Coverage {
    let roots: Vec<ModuleId> = model
        .roots()
        .filter(|r| model.reachable(*r).contains(&module))
        .collect();
    let roots = if roots.is_empty() {
        vec![module]
    } else {
        roots
    };
    let mut constraints = Vec::new();
    let mut covered = true;
    for root in roots {
        let mut range = VersionRange::any();
        let mut readable = true;
        for m in model.reachable(root) {
            for req in requirements(repo, model, model.module(m)) {
                if req.source != provider.source {
                    continue;
                }
                if let Some(v) = &req.version {
                    readable &= range.constrain(v).is_some();
                    if !constraints.contains(v) {
                        constraints.push(v.clone());
                    }
                }
            }
        }
        covered &= readable && covers(provider, &range);
    }
    Coverage {
        covered,
        constraints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table the build wrote is the index of the text it wrote.
    #[test]
    fn the_built_index_is_the_index_of_the_data() {
        for &(name, text, index) in DATA {
            assert_eq!(super::super::schema_index::index(text), index, "{name}");
            assert!(index.len() > 1000, "{name}: {} types", index.len());
        }
        let aws = provider("aws").unwrap();
        let bucket = aws.get(SchemaKind::Resource, "aws_s3_bucket").unwrap();
        assert!(bucket.attributes.contains_key("bucket"));
        assert!(aws.get(SchemaKind::Data, "aws_s3_bucket").is_some());
        assert!(aws.get(SchemaKind::Resource, "aws_no_such_thing").is_none());
    }

    #[test]
    fn every_data_file_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/provider-schemas");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".schema.z").map(str::to_owned))
            .collect();
        files.sort();
        let mut listed: Vec<String> = provider_names().map(str::to_owned).collect();
        listed.sort();
        assert_eq!(files, listed);
        let versions = std::fs::read_to_string(format!("{dir}/VERSIONS")).unwrap();
        for p in providers() {
            assert!(
                versions
                    .lines()
                    .any(|l| l.starts_with(&format!("{} {} {} ", p.name, p.source, p.version))),
                "VERSIONS lacks {} {}",
                p.name,
                p.version
            );
        }
    }

    #[test]
    fn aws_data_has_arguments_blocks_and_flags() {
        let aws = provider("aws").unwrap();
        assert_eq!(aws.source, "registry.terraform.io/hashicorp/aws");
        let bucket = aws.get(SchemaKind::Resource, "aws_s3_bucket").unwrap();
        assert!(bucket.attributes.contains_key("bucket"));
        assert!(bucket.attributes["arn"].computed_only);
        assert!(bucket.attributes["acl"].deprecated);
        let role = aws.get(SchemaKind::Resource, "aws_iam_role").unwrap();
        assert!(role.attributes["assume_role_policy"].required);
        let sg = aws.get(SchemaKind::Resource, "aws_security_group").unwrap();
        assert!(sg.attributes["ingress"].as_blocks);
        let eks = aws.get(SchemaKind::Resource, "aws_eks_cluster").unwrap();
        let vpc = &eks.blocks["vpc_config"];
        assert_eq!((vpc.min_items, vpc.max_items), (1, 1));
        assert!(vpc.body.attributes["subnet_ids"].required);
        let doc = aws
            .get(SchemaKind::Data, "aws_iam_policy_document")
            .unwrap();
        assert!(
            doc.blocks["statement"]
                .body
                .blocks
                .contains_key("principals")
        );
        assert!(aws.get(SchemaKind::Data, "aws_s3_bucket").is_some());
        assert!(aws.get(SchemaKind::Resource, "aws_no_such_thing").is_none());
        assert_eq!(implied_provider("kubernetes_namespace_v1"), "kubernetes");
        assert!(provider("kubernetes").is_none());
    }

    #[test]
    fn nested_entries_close_at_the_right_depth() {
        let s = parse_entries(" a r\n +b list 1 0\n  c o\n  +d set 0 0\n   e c\n  f o\n g o\n");
        assert_eq!(s.attributes.len(), 2);
        let b = &s.blocks["b"];
        assert_eq!(b.min_items, 1);
        assert_eq!(b.body.attributes.keys().collect::<Vec<_>>(), ["c", "f"]);
        assert!(b.body.blocks["d"].body.attributes["e"].computed_only);
    }

    #[test]
    fn version_ranges() {
        let aws = provider("aws").unwrap();
        let range = |c: &[&str]| {
            let mut r = VersionRange::any();
            for c in c {
                r.constrain(c).unwrap();
            }
            r
        };
        assert!(covers(aws, &range(&["~> 5.0"])));
        assert!(covers(aws, &range(&[">= 5.30, < 6.0.0"])));
        assert!(covers(aws, &range(&["~> 5.31.0"])));
        assert!(covers(aws, &range(&["5.82.2"])));
        assert!(covers(aws, &range(&[">= 4.0", "~> 5.10"])));
        assert!(!covers(aws, &range(&[">= 5.0"])));
        assert!(!covers(aws, &range(&["~> 4.0"])));
        assert!(!covers(aws, &range(&["~> 6.0"])));
        assert!(!covers(aws, &range(&[">= 4.0, < 6.0"])));
        assert!(!covers(aws, &VersionRange::any()));
        assert!(VersionRange::any().constrain("~> banana").is_none());
    }
}
