//! `unknown-domain-filter`: an ExternalDNS `domainFilters` entry (in values files, Helm
//! parameters of an Application, or a `set` of a Terraform `helm_release`) that is no
//! hosted zone the environment's Terraform manages or looks up, nor inside or above one:
//! ExternalDNS then manages no zone and no record is ever created.

use crate::diagnostic::{Finding, Severity};
use crate::model::identities::{IdKind, Named, Names, literal_envs};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::manifest_kind;
use crate::model::terraform::expr::Value;
use crate::rules::{Context, Rule};
use crate::source::Span;

crate::rules::declare_rule! {
    pub struct UnknownDomainFilter {
        id: "unknown-domain-filter",
        severity: Severity::Warning,
        summary: "An ExternalDNS domain filter that is no hosted zone the environment manages or looks up",
        fix: None,
    }
}

fn norm(d: &str) -> String {
    d.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether ExternalDNS with this filter manages the zone: the filter is the zone, a name
/// inside it, or a parent of it.
fn covers(filter: &str, zone: &str) -> bool {
    let (f, z) = (norm(filter), norm(zone));
    f == z || f.ends_with(&format!(".{z}")) || z.ends_with(&format!(".{f}"))
}

/// Whether a Helm parameter or `set` name is a `domainFilters` entry.
fn is_filter_name(name: &str) -> bool {
    let n = name.split('[').next().unwrap_or(name);
    n == "domainFilters" || n.ends_with(".domainFilters")
}

enum Verdict<'a> {
    Known,
    Unknown(Vec<&'a Named>),
    CannotTell(String),
    /// The environment names no zone: nothing to compare with.
    NoZones,
}

fn verdict<'a>(index: &'a Names, roots: &[usize], filter: &str) -> Verdict<'a> {
    let zones: Vec<&Named> = index
        .named
        .iter()
        .filter(|n| n.kind == IdKind::HostedZone && roots.contains(&n.root) && !n.count.is_zero())
        .collect();
    if zones.iter().any(|z| covers(filter, &z.name)) {
        return Verdict::Known;
    }
    if let Some(u) = index.unknown_in(IdKind::HostedZone, roots) {
        return Verdict::CannotTell(u.reason.clone());
    }
    if zones.is_empty() {
        return Verdict::NoZones;
    }
    Verdict::Unknown(zones)
}

impl Rule for UnknownDomainFilter {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis_all();
        let envs = s.environments();
        let index = s.identity_names();
        let tf = s.terraform();
        let mut out = Vec::new();
        let mut report = |span: Span, filter: &str, env: &str, v: Verdict<'_>, address: String| {
            match v {
                Verdict::Known | Verdict::NoZones => {}
                Verdict::CannotTell(why) => out.push(
                    cx.note(
                        span,
                        format!(
                            "cannot tell whether the domain filter `{filter}` is a hosted zone of the {env} environment: {why}"
                        ),
                    )
                    .with_address(address),
                ),
                Verdict::Unknown(zones) => {
                    let mut names: Vec<String> =
                        zones.iter().map(|z| norm(&z.name)).collect();
                    names.sort();
                    names.dedup();
                    let shown: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    let z = zones[0];
                    out.push(
                        cx.finding(
                            span,
                            format!(
                                "the ExternalDNS domain filter `{filter}` is no hosted zone the {env} environment manages or looks up ({}), nor inside one: ExternalDNS manages no zone and creates no record",
                                shown.join(", ")
                            ),
                        )
                        .with_span_label("matches no hosted zone")
                        .with_label(an.span(s, z.at, None), format!("the zone `{}`", norm(&z.name)))
                        .with_help(format!(
                            "use `{}` (or a name inside it, such as the environment's subdomain)",
                            names[0]
                        ))
                        .with_address(address),
                    );
                }
            }
        };
        for lit in s.gitops_literals() {
            let is_filter =
                lit.key() == "domainFilters" || (lit.parameter && is_filter_name(lit.last()));
            if !is_filter || lit.value.contains("{{") || lit.value.contains("${") {
                continue;
            }
            if !lit.in_scope(s) {
                continue;
            }
            if let Some(env) = literal_envs(envs, lit).into_iter().next() {
                let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
                let v = verdict(index, &roots, &lit.value);
                report(lit.span, &lit.value, env, v, lit.value.clone());
            }
        }
        // Filters Terraform passes to the chart (`set { name = "domainFilters[0]" }`).
        for &root in &an.roots {
            let env = envs.of_root(root);
            let roots: Vec<usize> = match env {
                Some(e) => envs.roots_of(e).map(|r| r.inst).collect(),
                None => vec![root],
            };
            let env_text = env.unwrap_or("root's");
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource || tb.type_name != "helm_release" {
                    continue;
                }
                let q = an.block(s, at);
                if !q.readable() {
                    continue;
                }
                for &pass in &an.selected {
                    if an.count(s, pass, at).is_zero() {
                        continue;
                    }
                    for set in q.nested("set") {
                        let (Some(n), Some(v)) = (set.arg("name"), set.arg("value")) else {
                            continue;
                        };
                        let Value::String(name) = n.value(pass) else {
                            continue;
                        };
                        if !is_filter_name(&name) {
                            continue;
                        }
                        let Value::String(filter) = v.value(pass) else {
                            continue;
                        };
                        let span = v.span();
                        if !s.file_in_scope(&s.repo.file(span.file).rel_path) {
                            continue;
                        }
                        let v = verdict(index, &roots, &filter);
                        report(span, &filter, env_text, v, an.address(tf, at));
                    }
                    break;
                }
            }
        }
        out.extend(overridden_values(cx));
        out
    }
}

/// The keys of a Helm parameter name (`a.b\\.c[0]` → `a`, `b.c`).
fn param_keys(name: &str) -> Vec<String> {
    name.replace("\\.", "\u{0}")
        .split('.')
        .map(|p| {
            let p = p.replace('\u{0}', ".");
            p.split('[').next().unwrap_or("").to_string()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Helm parameters of Applications Terraform creates (`kubernetes_manifest`,
/// `kubectl_manifest`) that override a key one of the Application's values files already
/// sets: Helm applies parameters last, so the values file's setting is silently lost.
fn overridden_values(cx: &Context<'_>) -> Vec<Finding> {
    let s = cx.session;
    let an = s.terraform_analysis();
    let tf = s.terraform();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in an.manifest_objects(s) {
        if m.count.is_zero() || manifest_kind(&m.manifest).as_deref() != Some("Application") {
            continue;
        }
        let Some(spec) = m
            .manifest
            .as_object()
            .and_then(|o| o.get("spec"))
            .and_then(|v| v.as_object())
        else {
            continue;
        };
        let mut sources: Vec<&Value> = Vec::new();
        if let Some(src) = spec.get("source") {
            sources.push(src);
        }
        if let Some(Value::List(l)) = spec.get("sources") {
            sources.extend(l.iter());
        }
        for src in sources {
            let Some(helm) = src
                .as_object()
                .and_then(|o| o.get("helm"))
                .and_then(|h| h.as_object())
            else {
                continue;
            };
            let path = src
                .as_object()
                .and_then(|o| o.get("path"))
                .and_then(|p| p.as_str());
            let files: Vec<String> = match helm.get("valueFiles") {
                Some(Value::List(l)) => l
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_owned)
                    .collect(),
                _ => continue,
            };
            let Some(Value::List(params)) = helm.get("parameters") else {
                continue;
            };
            for vf in &files {
                let rel = match vf.strip_prefix('$') {
                    Some(r) => r.split_once('/').map(|(_, rest)| rest.to_string()),
                    None => path.and_then(|p| crate::model::terraform::module::join_within(p, vf)),
                };
                let Some(file) = rel.as_deref().and_then(|r| s.repo.file_by_path(r)) else {
                    continue;
                };
                for p in params.iter() {
                    let Some(name) = p
                        .as_object()
                        .and_then(|o| o.get("name"))
                        .and_then(|n| n.as_str())
                    else {
                        continue;
                    };
                    let keys = param_keys(name);
                    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                    let Some(set) = crate::model::helm::values_file_sets(&s.repo, file.id, &refs)
                    else {
                        continue;
                    };
                    if !seen.insert((m.at, name.to_string(), file.id)) {
                        continue;
                    }
                    let span = an.span(s, m.at, None);
                    if !s.file_in_scope(&s.repo.file(span.file).rel_path) {
                        continue;
                    }
                    out.push(
                        Finding::new(
                            META.id,
                            Severity::Warning,
                            span,
                            format!(
                                "`{}` creates an Application whose Helm parameter `{name}` overrides `{}` that its values file `{}` already sets: Helm applies parameters last, so the values file's setting is silently lost",
                                an.address(tf, m.at),
                                keys.join("."),
                                file.rel_path
                            ),
                        )
                        .with_label(set, "set here, then overridden")
                        .with_help(format!(
                            "set `{}` in one place only: drop the parameter, or remove the key from {}",
                            keys.join("."),
                            file.rel_path
                        ))
                        .with_address(an.address(tf, m.at)),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_rule, expect};

    #[test]
    fn zone_matching() {
        assert!(covers("dev.goldenpathidp.io", "goldenpathidp.io."));
        assert!(covers("goldenpathidp.io", "dev.goldenpathidp.io"));
        assert!(!covers("goldenpath.io", "goldenpathidp.io"));
        assert!(is_filter_name("domainFilters[0]"));
        assert!(is_filter_name("external-dns.domainFilters[1]"));
    }

    const CONFIG: &str = "[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n";

    const DNS_ROOT: &str = r#"variable "environment" {
  type    = string
  default = "dev"
}

variable "zone" {
  type    = string
  default = "goldenpathidp.io"
}

data "aws_route53_zone" "primary" {
  name = var.zone
}

resource "helm_release" "external_dns" {
  name  = "external-dns"
  chart = "external-dns"
  set {
    name  = "domainFilters[0]"
    value = "dev.goldenpath.io"
  }
}
"#;

    const APP: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-external-dns
spec:
  destination:
    server: https://kubernetes.default.svc
  sources:
    - repoURL: https://kubernetes-sigs.github.io/external-dns
      chart: external-dns
      targetRevision: 1.14.3
      helm:
        valueFiles:
          - $values/gitops/helm/external-dns/values/dev.yaml
        parameters:
          - name: domainFilters[1]
            value: goldenpathidp.io
    - repoURL: https://github.com/acme/platform.git
      targetRevision: main
      ref: values
"#;

    fn run(root: &str, values: &str) -> Vec<crate::testing::Reported> {
        check_rule(
            "unknown-domain-filter",
            &[
                ("preflight.toml", CONFIG),
                ("envs/dev-dns/main.tf", root),
                ("gitops/argocd/apps/dev/external-dns.yaml", APP),
                ("gitops/helm/external-dns/values/dev.yaml", values),
            ],
        )
    }

    #[test]
    fn filters_that_are_no_zone() {
        let found = run(
            DNS_ROOT,
            "domainFilters:\n  - dev.goldenpathidp.io\n  - goldenpath.dev\n",
        );
        expect(
            &found,
            &[
                ("unknown-domain-filter", "envs/dev-dns/main.tf", 20),
                (
                    "unknown-domain-filter",
                    "gitops/helm/external-dns/values/dev.yaml",
                    3,
                ),
            ],
        );
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        assert!(
            found[0].help.contains("goldenpathidp.io"),
            "{}",
            found[0].help
        );
    }

    #[test]
    fn a_terraform_parameter_overriding_the_values_file() {
        let main = r#"resource "kubernetes_manifest" "external_dns" {
  manifest = {
    apiVersion = "argoproj.io/v1alpha1"
    kind       = "Application"
    metadata   = { name = "external-dns", namespace = "argocd" }
    spec = {
      destination = { server = "https://kubernetes.default.svc", namespace = "external-dns" }
      source = {
        repoURL        = "https://github.com/acme/platform.git"
        targetRevision = "main"
        path           = "charts/external-dns"
        helm = {
          valueFiles = ["values/dev.yaml"]
          parameters = [{ name = "domainFilters[0]", value = "dev.goldenpathidp.io" }]
        }
      }
    }
  }
}
"#;
        let found = check_rule(
            "unknown-domain-filter",
            &[
                ("envs/dev/main.tf", main),
                (
                    "charts/external-dns/values/dev.yaml",
                    "txtOwnerId: dev\ndomainFilters:\n  - goldenpathidp.io\n",
                ),
            ],
        );
        expect(&found, &[("unknown-domain-filter", "envs/dev/main.tf", 1)]);
        assert!(
            found[0].message.contains("domainFilters"),
            "{}",
            found[0].message
        );
        let found = check_rule(
            "unknown-domain-filter",
            &[
                ("envs/dev/main.tf", main),
                ("charts/external-dns/values/dev.yaml", "txtOwnerId: dev\n"),
            ],
        );
        expect(&found, &[]);
    }

    #[test]
    fn unknown_zone_is_a_note_and_no_zone_is_silent() {
        let unknown = DNS_ROOT.replace("  default = \"goldenpathidp.io\"\n", "");
        let found = run(&unknown, "domainFilters:\n  - goldenpath.dev\n");
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|f| f.severity == Severity::Note),
            "{found:?}"
        );
        let none = DNS_ROOT.replace("data \"aws_route53_zone\"", "data \"aws_route53_zones\"");
        expect(&run(&none, "domainFilters:\n  - goldenpath.dev\n"), &[]);
    }
}
