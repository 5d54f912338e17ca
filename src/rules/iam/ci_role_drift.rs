//! `ci-role-drift`: the live CI role does not grant what the documented CI policy grants
//! (live check: `--aws` or `[iam] live = true`).

use crate::config::{OptionKind, OptionSpec};
use crate::diagnostic::{Finding, Severity};
use crate::model::iam::{self, Policy};
use crate::rules::{Context, Rule};
use crate::source::{SourceFile, Span};

pub const ID: &str = CiRoleDrift::ID;

crate::rules::declare_rule! {
    pub struct CiRoleDrift {
        id: "ci-role-drift",
        severity: Severity::Error,
        summary: "The live CI role lacks permissions the documented CI policy grants (live, with --aws)",
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
            OptionSpec {
                name: "page_size",
                kind: OptionKind::Integer,
                doc: "items per page of the list calls (default: the service's)",
            },
        ],
    }
}

impl Rule for CiRoleDrift {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        if !(s.inputs.aws || s.config.live_allowed()) {
            return Vec::new();
        }
        let (Some(path), Some(role)) = (&s.config.iam.ci_policy, &s.config.iam.ci_role) else {
            return unconfigured(cx);
        };
        let Some(file) = s.repo.file_by_path(path) else {
            return Vec::new();
        };
        let Some(documented) = iam::policy_in_file(&s.repo, file.id) else {
            return Vec::new();
        };
        let anchor = statement_key(file, &documented);
        live_findings(cx, file, &documented, role, anchor)
    }
}

/// `--aws` without `[iam] ci_role` or `ci_policy`: a note saying what to configure, at the
/// documented policy when it is set, else at the repository's first file.
fn unconfigured(cx: &Context<'_>) -> Vec<Finding> {
    let s = cx.session;
    if !s.inputs.aws {
        return Vec::new();
    }
    let iam = &s.config.iam;
    let missing: Vec<&str> = [
        ("`ci_role` (the CI role's name)", iam.ci_role.is_none()),
        (
            "`ci_policy` (the documented policy)",
            iam.ci_policy.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, m)| m.then_some(k))
    .collect();
    let file = iam
        .ci_policy
        .as_deref()
        .and_then(|p| s.repo.file_by_path(p))
        .or_else(|| s.repo.files.first());
    let Some(file) = file else {
        return Vec::new();
    };
    vec![
        cx.note(
            file.span(0..0),
            format!(
                "the live CI role was not compared: set {} in the [iam] section of preflight.toml",
                missing.join(" and ")
            ),
        )
        .with_help(
            "[iam]\nci_policy = \"docs/policies/ci.json\"\nci_role = \"github-actions-terraform\"",
        ),
    ]
}

/// Where findings about the whole document point: its `Statement` key, else its start.
fn statement_key(file: &SourceFile, doc: &Policy) -> Span {
    match file.text.find("\"Statement\"") {
        Some(i) => file.span(i..i + "\"Statement\"".len()),
        None => doc.span.unwrap_or_else(|| file.span(0..0)),
    }
}

#[cfg(not(feature = "aws"))]
fn live_findings(
    cx: &Context<'_>,
    _file: &SourceFile,
    _documented: &Policy,
    _role: &str,
    anchor: Span,
) -> Vec<Finding> {
    vec![
        Finding::new(
            cx.meta.id,
            Severity::Warning,
            anchor,
            "could not verify the live CI role: this preflight was built without AWS support",
        )
        .with_help(
            "rebuild preflight with the `aws` cargo feature to run the live check \
             (`cargo install --locked --features aws --path PREFLIGHT_CHECKOUT`; \
             `preflight --version` lists a binary's features)",
        ),
    ]
}

#[cfg(feature = "aws")]
fn live_findings(
    cx: &Context<'_>,
    file: &SourceFile,
    documented: &Policy,
    role: &str,
    anchor: Span,
) -> Vec<Finding> {
    use crate::model::iam::compare;
    use crate::model::iam::live::{self, Settings};
    use crate::model::iam::policy::Decision;

    let int = |name: &str| cx.settings.options.get(name).and_then(|v| v.as_integer());
    let mut settings = Settings::default();
    if let Some(t) = int("timeout_seconds").filter(|t| *t > 0) {
        settings.timeout = std::time::Duration::from_secs(t as u64);
    }
    if let Some(n) = int("max_attempts").filter(|n| *n > 0) {
        settings.max_attempts = n.min(20) as u32;
    }
    settings.page_size = int("page_size")
        .filter(|n| *n > 0)
        .map(|n| n.min(1000) as i32);

    cx.session.verbose(format!(
        "{ID}: reading role `{role}` from AWS (timeout {}s, {} attempts)",
        settings.timeout.as_secs(),
        settings.max_attempts
    ));
    let live = match live::fetch_role(role, &settings) {
        Ok(l) => l,
        Err(e) => {
            cx.session.verbose(format!("{ID}: {}", e.message()));
            return vec![
                Finding::new(
                    cx.meta.id,
                    Severity::Warning,
                    anchor,
                    format!(
                        "could not verify the live CI role `{role}` against {}: {}",
                        file.rel_path,
                        e.message()
                    ),
                )
                .with_help(
                    "run with AWS credentials that may call sts:GetCallerIdentity, iam:GetRole, \
                     iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion, \
                     iam:ListRolePolicies and iam:GetRolePolicy on the CI role",
                ),
            ];
        }
    };
    let mut out = vec![Finding::new(
        cx.meta.id,
        Severity::Note,
        anchor,
        format!(
            "compared with the live role {} ({} policies) in account {} as {}",
            if live.role_arn.is_empty() {
                role
            } else {
                &live.role_arn
            },
            live.policies.len(),
            live.caller.account,
            live.caller.arn
        ),
    )];
    for (acct, si) in compare::accounts_in(documented) {
        if !live.caller.account.is_empty() && acct != live.caller.account {
            let span = documented.statements[si].span.unwrap_or(anchor);
            out.push(
                Finding::new(
                    cx.meta.id,
                    Severity::Warning,
                    span,
                    format!(
                        "the documented policy names account {acct}, but the credentials are for account {}",
                        live.caller.account
                    ),
                )
                .with_help("check with credentials of the account the CI role lives in (AWS_PROFILE), or fix the account id in the document"),
            );
        }
    }
    let mut live_policies = Vec::new();
    let mut origins = Vec::new();
    for p in &live.policies {
        match Policy::from_json(&p.document) {
            Some(policy) => {
                live_policies.push(policy);
                origins.push(p.origin.clone());
            }
            None => out.push(Finding::new(
                cx.meta.id,
                Severity::Warning,
                anchor,
                format!(
                    "could not read the live {}: it has no `Statement`",
                    p.origin
                ),
            )),
        }
    }
    let (live_union, origin_of) = compare::union(&live_policies);
    let mut documented = documented.clone();
    documented.problems.clear();
    for d in compare::not_covered(&documented, &live_union) {
        let st = &documented.statements[d.statement];
        let item_span = st
            .actions
            .as_ref()
            .and_then(|a| a.items().get(d.action_index))
            .and_then(|i| i.span);
        let span = item_span.or(st.span).unwrap_or(anchor);
        let label = st.label(d.statement);
        match d.decision {
            Decision::Denied => {
                let mut f = cx
                    .finding(
                        span,
                        format!(
                            "the live role `{role}` does not allow `{}` on `{}`, which the documented policy grants",
                            d.action, d.resource
                        ),
                    )
                    .with_span_label(format!("granted by {label} of the document"))
                    .with_help(format!(
                        "apply {} to the role `{role}` (policy drift: Terraform will fail where it needs `{}`)",
                        file.rel_path, d.action
                    ))
                    .with_address(format!("{role}:{}:{}", d.action, d.resource));
                if let (Some(ss), Some(_)) = (st.span, item_span) {
                    f = f.with_label(ss, label);
                }
                out.push(f);
            }
            Decision::CannotTell(reason) => out.push(
                Finding::new(
                    cx.meta.id,
                    Severity::Note,
                    span,
                    format!(
                        "cannot tell whether the live role `{role}` allows `{}` on `{}`: {reason}",
                        d.action, d.resource
                    ),
                )
                .with_address(format!("{role}:{}:{}", d.action, d.resource)),
            ),
            Decision::Allowed => {}
        }
    }
    for d in compare::not_covered(&live_union, &documented) {
        if !matches!(d.decision, Decision::Denied) {
            continue;
        }
        let origin = origin_of
            .get(d.statement)
            .and_then(|i| origins.get(*i))
            .map_or("a live policy", String::as_str);
        out.push(
            Finding::new(
                cx.meta.id,
                Severity::Warning,
                anchor,
                format!(
                    "the live role `{role}` allows `{}` on `{}` ({origin}), which the documented policy does not",
                    d.action, d.resource
                ),
            )
            .with_help(format!(
                "add it to {} if CI needs it, or remove it from the role",
                file.rel_path
            ))
            .with_address(format!("{role}:extra:{}:{}", d.action, d.resource)),
        );
    }
    out
}
