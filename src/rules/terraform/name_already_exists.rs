//! `name-already-exists`: an object the apply creates under a fixed name already exists in
//! AWS and the root's state does not hold it, so the create fails (live check: `--aws`).

use crate::config::{OptionKind, OptionSpec};
use crate::diagnostic::{Finding, Severity};
use crate::model::live::{self, NamedObject, StateSource};
use crate::rules::{Context, Rule};

/// Most names asked about in one check (each call is bounded by its own timeout).
pub const MAX_PROBES: usize = 500;

pub const ID: &str = NameAlreadyExists::ID;

crate::rules::declare_rule! {
    pub struct NameAlreadyExists {
        id: "name-already-exists",
        severity: Severity::Error,
        summary: "An object the apply creates under a fixed name already exists in AWS outside the root's state (live, with --aws)",
        fix: None,
        options: &[
            OptionSpec {
                name: "timeout_seconds",
                kind: OptionKind::Integer,
                doc: "bound on each AWS call, retries included (default 10)",
            },
            OptionSpec {
                name: "max_attempts",
                kind: OptionKind::Integer,
                doc: "attempts per AWS call; throttling is retried with backoff (default 4)",
            },
        ],
        reads: Terraform,
    }
}

impl Rule for NameAlreadyExists {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        if !s.inputs.aws {
            return Vec::new();
        }
        let an = s.terraform_analysis();
        let mut out = Vec::new();
        let mut roots = Vec::new();
        for root_pos in 0..an.roots.len() {
            let (named, unnamed) = live::fixed_names(s, an, root_pos);
            for u in &unnamed {
                out.push(cx.note(
                    an.span(s, u.at, None),
                    format!(
                        "cannot tell whether `{}` collides with an existing object: its name is not known before apply ({})",
                        an.address(s.terraform(), u.at),
                        u.reason
                    ),
                ));
            }
            if named.is_empty() {
                continue;
            }
            let source = live::state_source(s, an, root_pos, &live::workspace());
            roots.push((root_pos, named, source));
        }
        if !roots.is_empty() {
            out.extend(live_findings(cx, roots));
        }
        out
    }
}

type RootWork = (usize, Vec<NamedObject>, Result<StateSource, String>);

#[cfg(not(feature = "aws"))]
fn live_findings(_cx: &Context<'_>, _roots: Vec<RootWork>) -> Vec<Finding> {
    // `--aws` on a build without AWS support stops before any rule runs.
    Vec::new()
}

/// A root's folder as messages name it.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
fn root_label(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
}

/// `terraform import` quoting for a POSIX shell: single quotes when the address has keys.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:=@+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(feature = "aws")]
fn live_findings(cx: &Context<'_>, roots: Vec<RootWork>) -> Vec<Finding> {
    use crate::model::iam::live::Settings;
    use crate::model::live::ImportId;
    use crate::model::live::aws::{Client, Probe};

    let s = cx.session;
    let an = s.terraform_analysis();
    let tf = s.terraform();
    let int = |name: &str| cx.settings.options.get(name).and_then(|v| v.as_integer());
    let mut settings = Settings::default();
    if let Some(t) = int("timeout_seconds").filter(|t| *t > 0) {
        settings.timeout = std::time::Duration::from_secs(t as u64);
    }
    if let Some(n) = int("max_attempts").filter(|n| *n > 0) {
        settings.max_attempts = n.min(20) as u32;
    }
    let mut out = Vec::new();
    let anchor = |root_pos: usize, named: &[NamedObject]| {
        live::state_anchor(s, an, root_pos)
            .or_else(|| named.first().map(|n| an.span(s, n.at, None)))
    };
    let client = match Client::connect(&settings) {
        Ok(c) => c,
        Err(e) => {
            for (root_pos, named, _) in &roots {
                if named.is_empty() {
                    continue;
                }
                if let Some(span) = anchor(*root_pos, named) {
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Warning,
                            span,
                            format!(
                                "could not verify whether the {} object(s) `{}` creates under fixed names already exist: {}",
                                named.len(),
                                root_label(&an.module(tf, an.roots[*root_pos]).dir),
                                e.message()
                            ),
                        )
                        .with_help("run with AWS credentials that may call sts:GetCallerIdentity and the read calls listed in rules/name-already-exists.md"),
                    );
                }
            }
            return out;
        }
    };
    s.verbose(format!(
        "{ID}: asking AWS as {} (account {})",
        client.caller.arn, client.caller.account
    ));
    let table = live::table();
    let mut probes = 0usize;
    for (root_pos, named, source) in roots {
        if named.is_empty() {
            continue;
        }
        let root_name = root_label(&an.module(tf, an.roots[root_pos]).dir);
        let Some(span) = anchor(root_pos, &named) else {
            continue;
        };
        let cannot = |why: String| {
            Finding::new(
                ID,
                Severity::Note,
                span,
                format!(
                    "could not verify whether the {} object(s) root `{root_name}` creates under fixed names already exist: {why}; without its state an existing object cannot be told from one Terraform manages",
                    named.len()
                ),
            )
            .with_help("give preflight read access to the state: `backend \"s3\"` with its bucket and key (in the block, a `*.tfbackend` file, or `[terraform] backend_config` in preflight.toml) and s3:GetObject on it")
        };
        let bytes = match &source {
            Err(why) => {
                out.push(cannot(format!("its state cannot be located: {why}")));
                continue;
            }
            Ok(StateSource::Local(rel)) => {
                match live::read_in_repo(&s.repo.root, rel, live::MAX_STATE_BYTES) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        out.push(cannot(format!("its state `{rel}` cannot be read: {e}")));
                        continue;
                    }
                }
            }
            Ok(StateSource::S3 {
                bucket,
                key,
                region,
                path_style,
            }) => match client.read_state(bucket, key, region.as_deref(), *path_style) {
                Ok(b) => b,
                Err(e) => {
                    out.push(cannot(format!(
                        "its state s3://{bucket}/{key} cannot be read: {}",
                        e.message()
                    )));
                    continue;
                }
            },
        };
        let never_applied = bytes.is_none();
        let held: std::collections::HashSet<String> = match bytes {
            None => {
                s.verbose(format!(
                    "{ID}: no state object at {} yet: root `{root_name}` holds nothing",
                    source
                        .as_ref()
                        .map(StateSource::describe)
                        .unwrap_or_default()
                ));
                Default::default()
            }
            Some(b) => match live::parse_state(&b) {
                Ok(h) => h,
                Err(e) => {
                    out.push(cannot(e));
                    continue;
                }
            },
        };
        let mut state_name = source
            .as_ref()
            .map(StateSource::describe)
            .unwrap_or_default();
        if never_applied {
            state_name.push_str(", which does not exist yet");
        }
        let adopted = live::adoptions(s, an, root_pos);
        for obj in &named {
            if adopted.holds(&held, &obj.address) {
                continue;
            }
            let Some(check) = table.get(&obj.resource_type) else {
                continue;
            };
            let at = an.span(s, obj.at, None);
            probes += 1;
            if probes > MAX_PROBES {
                out.push(cx.note(
                    at,
                    format!(
                        "not checked whether `{}` ({}) already exists: a check asks AWS about at most {MAX_PROBES} names",
                        obj.name, obj.address
                    ),
                ));
                continue;
            }
            let probe = match client.probe(check, obj) {
                Ok(p) => p,
                Err(e) => {
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Warning,
                            at,
                            format!(
                                "could not verify whether the {} `{}` ({}) already exists: {}",
                                check.what,
                                obj.name,
                                obj.address,
                                e.message()
                            ),
                        )
                        .with_help(format!(
                            "run with AWS credentials that may call {} (read-only)",
                            check.call
                        ))
                        .with_address(format!("{}:{}", obj.address, obj.name)),
                    );
                    continue;
                }
            };
            let Probe::Exists { arn, deleted } = probe else {
                continue;
            };
            let id = match check.import_id {
                ImportId::Name => obj.name.clone(),
                ImportId::Arn => arn.clone(),
            };
            let import = format!(
                "terraform import {} {}",
                shell_word(&obj.address),
                shell_word(&id)
            );
            let f = match deleted {
                Some(date) => cx
                    .finding(
                        at,
                        format!(
                            "the {} `{}` ({arn}) is scheduled for deletion on {date}: creating `{}` fails until it is restored or deleted for good",
                            check.what, obj.name, obj.address
                        ),
                    )
                    .with_help(format!(
                        "restore it (`aws secretsmanager restore-secret --secret-id {}`) and then `{import}`, or delete it for good first (`aws secretsmanager delete-secret --secret-id {} --force-delete-without-recovery`)",
                        shell_word(&arn),
                        shell_word(&arn)
                    )),
                None => cx
                    .finding(
                        at,
                        format!(
                            "the {} `{}` already exists ({arn}) but the state of root `{root_name}` ({state_name}) does not hold `{}`: the apply fails creating it",
                            check.what, obj.name, obj.address
                        ),
                    )
                    .with_help(format!(
                        "if it is the object this block means, adopt it: `{import}` (in {root_name}); if it is an orphan left by a teardown outside Terraform, delete it first"
                    )),
            };
            out.push(f.with_address(format!("{}:{}", obj.address, obj.name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_rule;

    /// Without `--aws` nothing is asked and nothing reported, whatever the root creates.
    #[test]
    fn offline_it_is_silent() {
        let found = check_rule(
            ID,
            &[(
                "envs/dev/main.tf",
                "resource \"aws_iam_role\" \"r\" {\n  name = \"taken\"\n}\nresource \"aws_iam_role\" \"u\" {\n  name = aws_iam_role.r.unique_id\n}\n",
            )],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn import_commands_are_shell_safe() {
        assert_eq!(shell_word("aws_iam_role.r"), "aws_iam_role.r");
        assert_eq!(
            shell_word("aws_iam_role.r[\"a b\"]"),
            "'aws_iam_role.r[\"a b\"]'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(
            shell_word("arn:aws:secretsmanager:us-east-1:1:secret:a/b-x"),
            "arn:aws:secretsmanager:us-east-1:1:secret:a/b-x"
        );
    }
}
