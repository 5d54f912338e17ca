//! The reviewed table of what Terraform's AWS provider needs per resource type
//! (`rules/terraform-iam-actions.toml`, embedded).

use super::Target;
use super::pattern::{UNKNOWN, UNKNOWN_TEXT};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const TABLE_TEXT: &str = include_str!("../../../rules/terraform-iam-actions.toml");

/// The lifecycle operations Terraform performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub arn: String,
    #[serde(default)]
    pub name_arg: Option<String>,
    #[serde(default)]
    pub create: Vec<String>,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub update: Vec<String>,
    #[serde(default)]
    pub delete: Vec<String>,
    #[serde(default)]
    pub any_resource: Vec<String>,
    #[serde(default)]
    pub local: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    #[serde(default)]
    pub resource: BTreeMap<String, Entry>,
    #[serde(default)]
    pub data: BTreeMap<String, Entry>,
}

/// The template variables an ARN may use besides `${arg.X}`.
pub const VARIABLES: &[&str] = &["partition", "region", "account", "name", "id"];

/// The embedded table, parsed once. A table that does not parse is a build defect caught
/// by the unit test; at run time it degrades to an empty table.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str(TABLE_TEXT).unwrap_or(Table {
            resource: BTreeMap::new(),
            data: BTreeMap::new(),
        })
    })
}

impl Table {
    /// The entry for a `resource` (`data == false`) or `data` block type.
    pub fn get(&self, type_name: &str, data: bool) -> Option<&Entry> {
        if data {
            self.data.get(type_name)
        } else {
            self.resource.get(type_name)
        }
    }
}

/// One permission Terraform needs: an action and the ARN it is authorized on
/// ([`UNKNOWN`] marks parts that are not known statically).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needed {
    pub operation: Operation,
    pub action: String,
    pub arn: String,
}

impl Entry {
    pub fn name_arg(&self) -> &str {
        self.name_arg.as_deref().unwrap_or("name")
    }

    pub fn actions(&self, op: Operation) -> &[String] {
        match op {
            Operation::Create => &self.create,
            Operation::Read => &self.read,
            Operation::Update => &self.update,
            Operation::Delete => &self.delete,
        }
    }

    /// Fill the ARN template. `arg` gives argument values (`None`: unknown).
    pub fn arn(&self, target: &Target, arg: &dyn Fn(&str) -> Option<String>) -> String {
        fill(&self.arn, target, self.name_arg(), arg)
    }

    /// Every permission needed for `ops`.
    pub fn needed(
        &self,
        ops: &[Operation],
        target: &Target,
        arg: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<Needed> {
        if self.local {
            return Vec::new();
        }
        let arn = self.arn(target, arg);
        let mut out = Vec::new();
        for &op in ops {
            for action in self.actions(op) {
                let arn = if self.any_resource.contains(action) {
                    "*".to_string()
                } else {
                    arn.clone()
                };
                out.push(Needed {
                    operation: op,
                    action: action.clone(),
                    arn,
                });
            }
        }
        out
    }
}

fn fill(
    template: &str,
    target: &Target,
    name_arg: &str,
    arg: &dyn Fn(&str) -> Option<String>,
) -> String {
    let unknown = UNKNOWN.to_string();
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i].replace('*', &unknown));
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let var = &after[..end];
        let value = match var {
            "partition" => Some(target.partition().to_string()),
            "region" => target.region.clone(),
            "account" => target.account_id.clone(),
            "name" => arg(name_arg),
            "id" => None,
            v => v.strip_prefix("arg.").and_then(arg),
        };
        match value {
            Some(v) => out.push_str(&v),
            // Names may be any text; the other parts are single ARN segments.
            None if var == "name" || var.starts_with("arg.") => out.push(UNKNOWN_TEXT),
            None => out.push_str(&unknown),
        }
        rest = &after[end + 1..];
    }
    out.push_str(&rest.replace('*', &unknown));
    // `*` alone means "any resource": keep it literal for the request.
    if template == "*" { "*".into() } else { out }
}

/// Show an ARN with unknown parts for people: `arn:aws:iam::<account>:role/x`.
pub fn display_arn(arn: &str) -> String {
    arn.replace([UNKNOWN, UNKNOWN_TEXT], "…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_entry_is_well_formed() {
        let table: Table =
            toml::from_str(TABLE_TEXT).expect("rules/terraform-iam-actions.toml parses");
        assert!(
            table.resource.len() + table.data.len() >= 60,
            "the table covers {} types",
            table.resource.len() + table.data.len()
        );
        let mut problems = Vec::new();
        for (kind, map) in [("resource", &table.resource), ("data", &table.data)] {
            for (ty, e) in map {
                let at = format!("[{kind}.{ty}]");
                if !ty.starts_with("aws_") {
                    problems.push(format!("{at}: not an aws_ type"));
                }
                let arn_ok = e.arn == "*" || e.arn.starts_with("arn:${partition}:");
                if !arn_ok {
                    problems.push(format!(
                        "{at}: arn must be `*` or start with arn:${{partition}}:"
                    ));
                }
                let service = e.arn.split(':').nth(2).unwrap_or("");
                let mut rest = e.arn.as_str();
                while let Some(i) = rest.find("${") {
                    let after = &rest[i + 2..];
                    let end = after.find('}').unwrap_or(after.len());
                    let var = &after[..end];
                    if !VARIABLES.contains(&var)
                        && var.strip_prefix("arg.").is_none_or(|a| a.is_empty())
                    {
                        problems.push(format!("{at}: unknown template variable `{var}`"));
                    }
                    rest = &after[end.min(after.len())..];
                }
                let all: Vec<&String> = Operation::ALL.iter().flat_map(|o| e.actions(*o)).collect();
                if !e.local && all.is_empty() {
                    problems.push(format!("{at}: no actions and not `local`"));
                }
                if !e.local && kind == "resource" && e.create.is_empty() {
                    problems.push(format!("{at}: no create actions"));
                }
                for a in &all {
                    let Some((svc, name)) = a.split_once(':') else {
                        problems.push(format!("{at}: `{a}` is not service:Action"));
                        continue;
                    };
                    let well_formed = !svc.is_empty()
                        && svc
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        && name.chars().all(|c| c.is_ascii_alphanumeric());
                    if !well_formed {
                        problems.push(format!("{at}: `{a}` is not service:Action"));
                    }
                    if e.arn != "*" && svc != service && !e.any_resource.contains(*a) {
                        problems.push(format!(
                            "{at}: `{a}` acts on a {svc} resource, not the {service} ARN"
                        ));
                    }
                }
                for a in &e.any_resource {
                    if !all.contains(&a) {
                        problems.push(format!(
                            "{at}: any_resource names `{a}`, which no operation lists"
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // The common EKS platform set.
        for ty in [
            "aws_vpc",
            "aws_subnet",
            "aws_route_table",
            "aws_nat_gateway",
            "aws_eip",
            "aws_security_group",
            "aws_eks_cluster",
            "aws_eks_node_group",
            "aws_eks_addon",
            "aws_eks_access_entry",
            "aws_iam_openid_connect_provider",
            "aws_iam_role",
            "aws_iam_policy",
            "aws_iam_role_policy_attachment",
            "aws_iam_instance_profile",
            "aws_secretsmanager_secret",
            "aws_kms_key",
            "aws_ecr_repository",
            "aws_s3_bucket",
            "aws_db_instance",
            "aws_route53_record",
            "aws_acm_certificate",
            "aws_cloudwatch_log_group",
        ] {
            assert!(table.resource.contains_key(ty), "{ty} missing");
        }
    }

    #[test]
    fn arn_templates_fill_known_parts_and_mark_the_rest() {
        let e = table().get("aws_secretsmanager_secret", false).unwrap();
        let target = Target {
            account_id: Some("123456789012".into()),
            region: None,
            partition: None,
        };
        let arn = e.arn(&target, &|a| {
            (a == "name").then(|| "goldenpath-dev-app".to_string())
        });
        assert_eq!(
            display_arn(&arn),
            "arn:aws:secretsmanager:…:123456789012:secret:goldenpath-dev-app-…"
        );
        let needed = e.needed(&[Operation::Create], &target, &|_| None);
        assert_eq!(needed[0].action, "secretsmanager:CreateSecret");
        let vpc = table().get("aws_vpc", false).unwrap();
        let n = vpc.needed(&[Operation::Read], &target, &|_| None);
        assert!(n.iter().all(|n| n.arn == "*"));
        assert!(
            table()
                .get("aws_iam_policy_document", true)
                .unwrap()
                .needed(&Operation::ALL, &target, &|_| None)
                .is_empty()
        );
    }
}
