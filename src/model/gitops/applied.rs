//! Applications that Terraform applies (`kubectl_manifest` / `kubernetes_manifest` of
//! `templatefile()`/`file()` output): their rendered text joins the model as documents whose
//! positions map back to the template (or to the Terraform attribute).

use super::{DocRef, GitopsModel};
use crate::parse::yaml::parse_mapped;
use crate::repo::Repository;
use crate::source::{FileId, Span};
use std::collections::HashSet;

/// A rendered Application document Terraform applies.
#[derive(Clone, Debug)]
pub struct TerraformApplied {
    pub text: String,
    /// The repository file it was rendered from.
    pub template: Option<FileId>,
    /// The Terraform attribute holding the manifest.
    pub attribute: Span,
}

/// Pairs for [`parse_mapped`]: lines of `rendered` equal to a template line map column by
/// column; other lines (interpolated) pin every character to the template line's start.
fn template_map(rendered: &str, tpl: &str) -> Vec<(usize, usize)> {
    let mut tpl_lines = Vec::new();
    let mut pos = 0;
    for l in tpl.split_inclusive('\n') {
        tpl_lines.push((pos, l.trim_end_matches(['\n', '\r'])));
        pos += l.len();
    }
    let head = |l: &str| -> Option<String> {
        let i = [l.find("${"), l.find("%{")].into_iter().flatten().min()?;
        Some(l[..i].to_string())
    };
    let mut out = Vec::new();
    let mut j = 0usize;
    let mut emb = 0usize;
    let mut last = 0usize;
    for line in rendered.split_inclusive('\n') {
        let r = line.trim_end_matches(['\n', '\r']);
        // Look a few template lines ahead (directives render to nothing).
        let mut hit = None;
        for (k, &(start, t)) in tpl_lines.iter().enumerate().skip(j).take(6) {
            if t == r {
                hit = Some((k, start, true));
                break;
            }
            if let Some(h) = head(t)
                && !h.trim().is_empty()
                && r.starts_with(&h)
            {
                hit = Some((k, start, false));
                break;
            }
        }
        match hit {
            Some((k, start, true)) => {
                out.push((emb, start));
                j = k + 1;
                last = start;
            }
            Some((k, start, false)) => {
                for c in 0..line.len() {
                    out.push((emb + c, start));
                }
                j = k + 1;
                last = start;
            }
            None => {
                for c in 0..line.len() {
                    out.push((emb + c, last));
                }
            }
        }
        emb += line.len();
    }
    out.push((emb, last));
    out
}

impl GitopsModel {
    /// Add the Applications Terraform applies; returns their documents with whether each is
    /// an ApplicationSet, and the template files they replace.
    pub(super) fn add_applied(
        &mut self,
        repo: &Repository,
        applied: &[TerraformApplied],
    ) -> (Vec<(DocRef, bool)>, HashSet<FileId>) {
        let mut found = Vec::new();
        let mut replaced = HashSet::new();
        for a in applied {
            let (file, map) = match a.template {
                Some(f) => (f, template_map(&a.text, &repo.file(f).text)),
                None => {
                    let start = a.attribute.start as usize;
                    (
                        a.attribute.file,
                        (0..=a.text.len()).map(|c| (c, start)).collect(),
                    )
                }
            };
            let Ok(docs) = parse_mapped(file, &a.text, map) else {
                continue;
            };
            let mut any = false;
            for d in docs {
                let root = d.root();
                let is_argo = root
                    .str_at(&["apiVersion"])
                    .is_some_and(|v| v.starts_with("argoproj.io/"));
                let kind = root.str_at(&["kind"]);
                let is_set = match kind {
                    Some("Application") => false,
                    Some("ApplicationSet") => true,
                    _ => continue,
                };
                if !is_argo {
                    continue;
                }
                let idx = self.embedded.len() as u32;
                self.embedded.push(d);
                found.push((DocRef::Embedded(idx), is_set));
                any = true;
            }
            if any && let Some(t) = a.template {
                replaced.insert(t);
            }
        }
        (found, replaced)
    }
}

#[cfg(test)]
mod tests {
    use super::template_map;

    #[test]
    fn rendered_lines_map_to_their_template_lines() {
        let tpl = "a: 1\nb: ${x}\nc: 3\n";
        let rendered = "a: 1\nb: hello\nc: 3\n";
        let m = template_map(rendered, tpl);
        let at = |o: usize| {
            let i = match m.binary_search_by_key(&o, |&(e, _)| e) {
                Ok(i) => i,
                Err(i) => i - 1,
            };
            m[i].1 + (o - m[i].0)
        };
        assert_eq!(at(0), 0);
        assert_eq!(at(5), 5); // "b" of line 2
        assert_eq!(at(9), 5); // inside the interpolated value: the line start
        assert_eq!(at(14), 13); // "c" of line 3
    }
}

#[cfg(test)]
mod terraform_applied {
    use crate::diagnostic::Severity;
    use crate::testing::{check_tree, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    const TEMPLATE: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ${name}\n  namespace: argocd\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: ${name}\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: ${path}\n";

    fn gitops_rules(files: &[(&str, &str)]) -> Vec<crate::testing::Reported> {
        check_tree(files, &[], Default::default())
            .into_iter()
            .filter(|r| r.rule == "missing-source-path" || r.rule == "undeployed-issuer")
            .collect()
    }

    #[test]
    fn a_rendered_application_is_checked_at_its_template_line() {
        let main = r#"variable "apps" {
  default = { web = "k8s/web", api = "k8s/api" }
}

resource "kubectl_manifest" "apps" {
  for_each  = var.apps
  yaml_body = templatefile("${path.module}/../../argocd/app.yaml", { name = each.key, path = each.value })
}
"#;
        let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt\n";
        let found = gitops_rules(&[
            CONFIG,
            ("envs/dev/main.tf", main),
            ("argocd/app.yaml", TEMPLATE),
            ("k8s/web/ingress.yaml", ingress),
        ]);
        // `api` renders a path that does not exist; `web` deploys an ingress naming an
        // issuer nothing deploys. The raw template (`path: ${path}`) is not checked itself.
        expect(
            &found,
            &[
                ("missing-source-path", "argocd/app.yaml", 13),
                ("undeployed-issuer", "k8s/web/ingress.yaml", 6),
            ],
        );
        assert!(found.iter().all(|f| f.severity == Severity::Error));
    }

    #[test]
    fn an_application_written_as_an_hcl_manifest() {
        let main = r#"resource "kubernetes_manifest" "app" {
  manifest = {
    apiVersion = "argoproj.io/v1alpha1"
    kind       = "Application"
    metadata   = { name = "web", namespace = "argocd" }
    spec = {
      destination = { server = "https://kubernetes.default.svc", namespace = "web" }
      source = {
        repoURL        = "https://github.com/acme/infra.git"
        targetRevision = "HEAD"
        path           = "k8s/missing"
      }
    }
  }
}
"#;
        let found = gitops_rules(&[CONFIG, ("main.tf", main)]);
        expect(&found, &[("missing-source-path", "main.tf", 2)]);
    }

    #[test]
    fn a_template_whose_values_do_not_evaluate_stays_raw() {
        let main = r#"variable "path" {
  type = string
}

resource "kubectl_manifest" "app" {
  yaml_body = templatefile("${path.module}/app.yaml", { name = "web", path = var.path })
}
"#;
        let found = gitops_rules(&[CONFIG, ("main.tf", main), ("app.yaml", TEMPLATE)]);
        // The raw template is in the model as before; `${path}` is not a path to check.
        assert!(
            found
                .iter()
                .all(|f| f.rule != "missing-source-path" || f.severity == Severity::Note),
            "{found:?}"
        );
    }
}
