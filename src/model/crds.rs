//! Who installs the CustomResourceDefinitions of an API group, and when relative to a
//! Terraform plan: the Helm releases and CRD manifests Terraform applies (this root, in which
//! pass; other roots), the ArgoCD Applications that deploy a chart known to ship them or the
//! CRD manifests themselves, and CRDs written in the repository that nothing deploys.
//!
//! Chart knowledge comes from `rules/charts.toml` ([`super::kube`]). What the model cannot see
//! into (a registry module, a chart not in the table, a Helm release whose chart does not
//! evaluate, an opaque Application source) is listed as [`CrdSources::unseen`].

use super::gitops::{GitopsModel, SourceKind};
use super::kube;
use super::terraform::BlockKind;
use super::terraform::analysis::{Analysis, BlockAt, Count};
use super::terraform::module::ModuleSource;
use crate::model::workspace::Workspace;
use crate::source::Span;

/// When an installer in the same root runs, relative to the pass being planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// Applied by an earlier pass: the CRD exists when this pass plans.
    EarlierPass(String),
    /// Applied by the same apply: the CRD does not exist yet at plan.
    SameApply,
    /// Applied only by a later pass.
    LaterPass(String),
    /// Its instance count cannot be evaluated.
    Unknown(String),
}

#[derive(Clone, Debug)]
pub enum Place {
    /// A block of the root being planned.
    ThisRoot(When),
    /// A block of another Terraform root (applied before or after: the repository does not
    /// say).
    OtherRoot(String),
    /// An ArgoCD Application: synced once ArgoCD runs, after Terraform created the cluster.
    Application(String),
    /// A CRD manifest in the repository that no Application or Terraform block applies.
    Undeployed,
}

#[derive(Clone, Debug)]
pub struct Installer {
    pub place: Place,
    pub span: Span,
    /// For messages: "`helm_release.cert_manager` (chart `cert-manager`)".
    pub what: String,
}

#[derive(Clone, Debug, Default)]
pub struct CrdSources {
    pub installers: Vec<Installer>,
    /// Things that might install the CRD but cannot be seen into: (span, what).
    pub unseen: Vec<(Span, String)>,
    /// An earlier pass of this root installs ArgoCD (the `argo-cd` chart): its
    /// Applications may have synced before this pass plans.
    pub argocd_earlier: Option<(Span, String)>,
}

/// The group a CRD object declares (`spec.group`).
fn tf_crd_group(m: &super::terraform::expr::Value) -> Option<String> {
    let o = m.as_object()?;
    if o.get("kind")?.as_str()? != "CustomResourceDefinition" {
        return None;
    }
    o.get("spec")?
        .as_object()?
        .get("group")?
        .as_str()
        .map(str::to_string)
}

/// The chart a `helm_release` installs, in a pass: its `chart` argument (a name, `repo/name`,
/// an OCI URL or a local path).
fn helm_chart(an: &Analysis, s: &Workspace, pass: usize, at: BlockAt) -> Result<String, String> {
    let block = an.hcl(s, at).ok_or("the block cannot be read")?;
    let a = block
        .body
        .get_attribute("chart")
        .ok_or("`chart` is not set")?;
    match an.eval(s, pass, at.inst, &a.value) {
        super::terraform::expr::Value::String(c) => Ok(c),
        v => Err(match v.first_unknown() {
            Some(u) => super::terraform::analysis::unknown_text(u),
            None => format!("`chart` is a {}", v.type_name()),
        }),
    }
}

fn when(an: &Analysis, s: &Workspace, pass: usize, at: BlockAt) -> Option<When> {
    let name = |p: usize| an.passes[p].name.clone().unwrap_or_default();
    for q in 0..pass {
        if an.count(s, q, at).is_active() {
            return Some(When::EarlierPass(name(q)));
        }
    }
    match an.count(s, pass, at) {
        Count::Known(n) if n > 0 => return Some(When::SameApply),
        Count::Unknown(u) => {
            return Some(When::Unknown(super::terraform::analysis::unknown_text(&u)));
        }
        _ => {}
    }
    (pass + 1..an.passes.len())
        .find(|&q| an.count(s, q, at).is_active())
        .map(|q| When::LaterPass(name(q)))
}

/// Whether an opaque name plausibly relates to an API group (`cert-manager` and
/// `cert-manager.io`; `karpenter` and `karpenter.k8s.aws`).
fn name_hints_group(name: &str, group: &str) -> bool {
    const GENERIC: &[&str] = &[
        "io", "com", "sh", "dev", "org", "net", "k8s", "aws", "x-k8s",
    ];
    let name = name.to_lowercase();
    group
        .split('.')
        .filter(|l| l.len() > 2 && !GENERIC.contains(l))
        .any(|l| name.contains(l) || l.contains(name.as_str()))
}

/// Every source of the CRDs of `group` the repository shows, for a plan of the root
/// instance `root` (an instance of `an`) in `pass`.
pub fn crd_sources(
    s: &Workspace,
    an: &Analysis,
    root: usize,
    pass: usize,
    group: &str,
) -> CrdSources {
    let tf = s.terraform();
    let mut out = CrdSources::default();
    // Terraform: this root in its passes.
    let manifests = an.manifest_objects(s);
    for at in an.blocks_of_root(tf, root) {
        let tb = &an.module(tf, at.inst).blocks[at.block];
        match (tb.kind, tb.type_name.as_str()) {
            (BlockKind::Resource, "helm_release") => {
                let Some(w) = when(an, s, pass, at) else {
                    continue;
                };
                let chart_pass = match &w {
                    When::EarlierPass(n) | When::LaterPass(n) => an
                        .passes
                        .iter()
                        .position(|p| p.name.as_deref() == Some(n.as_str()))
                        .unwrap_or(pass),
                    _ => pass,
                };
                let dir = &an.module(tf, at.inst).dir;
                if let When::EarlierPass(p) = &w
                    && helm_chart(an, s, chart_pass, at)
                        .is_ok_and(|c| super::gitops::chart_basename(&c) == "argo-cd")
                {
                    out.argocd_earlier = Some((
                        tb.header,
                        format!(
                            "`{}` installs ArgoCD in the earlier pass `{p}`",
                            an.address(tf, at)
                        ),
                    ));
                }
                match helm_chart(an, s, chart_pass, at) {
                    Ok(chart) if local_chart_groups(s, dir, &chart).is_some() => {
                        if let Some((rel, gs)) = local_chart_groups(s, dir, &chart)
                            && gs.iter().any(|g| g == group)
                        {
                            out.installers.push(Installer {
                                place: Place::ThisRoot(w),
                                span: tb.header,
                                what: format!(
                                    "`{}` (the local chart `{rel}`, whose CRDs define it)",
                                    an.address(tf, at)
                                ),
                            });
                        }
                    }
                    Ok(chart) => match kube::chart(&chart) {
                        Some(f) if f.crd_groups.iter().any(|g| g == group) => {
                            out.installers.push(Installer {
                                place: Place::ThisRoot(w),
                                span: tb.header,
                                what: format!("`{}` (chart `{chart}`)", an.address(tf, at)),
                            })
                        }
                        Some(_) => {}
                        None => out.unseen.push((
                            tb.header,
                            format!("`{}` installs the chart `{chart}`, which preflight has no facts about", an.address(tf, at)),
                        )),
                    },
                    Err(why) => out.unseen.push((
                        tb.header,
                        format!("the chart of `{}` cannot be evaluated: {why}", an.address(tf, at)),
                    )),
                }
            }
            (BlockKind::Module, _) => {
                let m = an.module(tf, at.inst);
                if let Some(call) = m.calls.iter().find(|c| c.block == at.block)
                    && let ModuleSource::External(src) = &call.source
                {
                    out.unseen.push((
                        tb.header,
                        format!(
                            "`{}` comes from `{src}`, which preflight does not read",
                            an.address(tf, at)
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    for m in manifests
        .iter()
        .filter(|m| an.insts[m.at.inst].root == root)
    {
        if tf_crd_group(&m.manifest).as_deref() != Some(group) {
            continue;
        }
        let Some(w) = when(an, s, pass, m.at) else {
            continue;
        };
        if out
            .installers
            .iter()
            .any(|i| i.span == an.span(s, m.at, None))
        {
            continue;
        }
        out.installers.push(Installer {
            place: Place::ThisRoot(w),
            span: an.span(s, m.at, None),
            what: format!("`{}` (the CRD manifest)", an.address(tf, m.at)),
        });
    }
    // Terraform: other roots of the repository.
    let all = s.terraform_analysis_all();
    let this_module = an.insts[root].module;
    for &other in &all.roots {
        if all.insts[other].module == this_module {
            continue;
        }
        let dir = &tf.module(all.insts[other].module).dir;
        for at in all.blocks_of_root(tf, other) {
            let tb = &all.module(tf, at.inst).blocks[at.block];
            if tb.kind != BlockKind::Resource || tb.type_name != "helm_release" {
                continue;
            }
            let ships = (0..all.passes.len()).any(|p| {
                helm_chart(all, s, p, at).is_ok_and(|c| {
                    kube::chart(&c).is_some_and(|f| f.crd_groups.iter().any(|g| g == group))
                })
            });
            if ships {
                out.installers.push(Installer {
                    place: Place::OtherRoot(dir.clone()),
                    span: tb.header,
                    what: format!("`{}` of the root `{dir}`", all.address(tf, at)),
                });
            }
        }
    }
    for m in all.manifest_objects(s) {
        let r = all.insts[m.at.inst].root;
        if all.insts[r].module == this_module || tf_crd_group(&m.manifest).as_deref() != Some(group)
        {
            continue;
        }
        let dir = tf.module(all.insts[r].module).dir.clone();
        out.installers.push(Installer {
            place: Place::OtherRoot(dir.clone()),
            span: all.span(s, m.at, None),
            what: format!("`{}` of the root `{dir}`", all.address(tf, m.at)),
        });
    }
    // ArgoCD.
    gitops_sources(s, s.gitops(), group, &mut out);
    out.installers
        .dedup_by(|a, b| a.span == b.span && a.what == b.what);
    out
}

fn gitops_sources(s: &Workspace, g: &GitopsModel, group: &str, out: &mut CrdSources) {
    let mut deployed_crds = std::collections::HashSet::new();
    for app in &g.apps {
        for (i, src) in app.sources.iter().enumerate() {
            if src.kind == SourceKind::RemoteChart
                && let Some(chart) = &src.chart
            {
                match kube::chart(&chart.value) {
                    Some(f) if f.crd_groups.iter().any(|x| x == group) => {
                        out.installers.push(Installer {
                            place: Place::Application(app.name.clone()),
                            span: chart.span,
                            what: format!("the Application `{}` (chart `{}`)", app.name, chart.value),
                        })
                    }
                    Some(_) => {}
                    None if name_hints_group(&chart.value, group) => out.unseen.push((
                        chart.span,
                        format!("the Application `{}` installs the chart `{}`, which preflight has no facts about", app.name, chart.value),
                    )),
                    None => {}
                }
            }
            for o in app.opaque.iter().filter(|o| o.source == i) {
                if src.kind != SourceKind::RemoteChart && name_hints_group(&o.name, group) {
                    out.unseen.push((
                        o.span,
                        format!("the Application `{}` deploys {}", app.name, o.what),
                    ));
                }
            }
        }
        for &obj in &app.objects {
            let o = g.object(obj);
            if o.kind == "CustomResourceDefinition" && crd_object_group(s, g, obj) == Some(group) {
                deployed_crds.insert(obj);
                out.installers.push(Installer {
                    place: Place::Application(app.name.clone()),
                    span: o.name_span,
                    what: format!("the Application `{}` (the CRD `{}`)", app.name, o.name),
                });
            }
        }
    }
    for (id, o) in g.objects.iter().enumerate() {
        if o.kind == "CustomResourceDefinition"
            && !deployed_crds.contains(&id)
            && crd_object_group(s, g, id) == Some(group)
        {
            out.installers.push(Installer {
                place: Place::Undeployed,
                span: o.name_span,
                what: format!("the CRD `{}`", o.name),
            });
        }
    }
}

/// The CRD groups a local chart (a `chart` path to a folder of this repository holding a
/// `Chart.yaml`) defines in its files, with the chart's folder; `None` when `chart` is not
/// a local chart.
fn local_chart_groups(
    s: &Workspace,
    module_dir: &str,
    chart: &str,
) -> Option<(String, Vec<String>)> {
    if !(chart.starts_with("./") || chart.starts_with("../") || chart.starts_with('/')) {
        return None;
    }
    let rel = if let Some(abs) = chart.strip_prefix('/') {
        let root = s.repo.root.to_string_lossy();
        let r = abs.strip_prefix(root.trim_start_matches('/'))?;
        super::terraform::module::join_within("", r)?
    } else {
        super::terraform::module::join_within(module_dir, chart)?
    };
    let chart_yaml = if rel.is_empty() {
        "Chart.yaml".to_string()
    } else {
        format!("{rel}/Chart.yaml")
    };
    if !s.repo.exists(&chart_yaml) {
        return None;
    }
    let g = s.gitops();
    let prefix = format!("{rel}/");
    let mut groups = Vec::new();
    for (id, o) in g.objects.iter().enumerate() {
        if o.kind != "CustomResourceDefinition" {
            continue;
        }
        let Some(file) = (match o.node.doc {
            super::gitops::DocRef::File(f, _) => Some(f),
            _ => None,
        }) else {
            continue;
        };
        if s.repo.file(file).rel_path.starts_with(&prefix)
            && let Some(gr) = crd_object_group(s, g, id)
        {
            groups.push(gr.to_string());
        }
    }
    Some((rel, groups))
}

fn crd_object_group<'a>(s: &'a Workspace, g: &'a GitopsModel, obj: usize) -> Option<&'a str> {
    let node = g.yaml(&s.repo, g.object(obj).node)?;
    node.str_at(&["spec", "group"])
}

#[cfg(test)]
mod tests {
    use super::name_hints_group;

    #[test]
    fn names_hint_at_their_groups() {
        assert!(name_hints_group("cert-manager", "cert-manager.io"));
        assert!(name_hints_group("karpenter-crds", "karpenter.sh"));
        assert!(!name_hints_group("web", "cert-manager.io"));
        assert!(!name_hints_group("aws-stuff", "elbv2.k8s.aws"));
    }
}
