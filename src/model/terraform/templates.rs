//! Which repository files Terraform reads as templates.
//!
//! A file named by the first argument of `templatefile()` is a Terraform template: it holds
//! `${…}` interpolations and `%{ if }`/`%{ for }` directives and is valid YAML or JSON only
//! after Terraform renders it, so it is never checked raw. (A file read by `file()` is
//! passed on as written — into `yamldecode()`, a Helm `values` list — so it stays an
//! ordinary file, unless the text goes through `templatestring()`.)
//!
//! Paths resolve as Terraform resolves them: relative to the module's folder (the working
//! directory for a root module; `path.module` for any module), `..` lexically. Parts of the
//! path that do not evaluate here (`${var.name}`, `${each.key}`) match any name within one
//! path segment; a path that starts with such a part matches any file ending in the rest.

use super::TerraformModel;
use super::expr::{Scope, Value, eval};
use crate::repo::Repository;
use crate::source::{FileId, FileKind, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, FuncCall};
use hcl_edit::template::Element;
use hcl_edit::visit::{Visit, visit_func_call};
use std::collections::HashMap;

/// Stands for a part of a path that does not evaluate.
const ANY: char = '\u{0}';

/// Every repository file that a `templatefile()` call of the repository names, with the
/// first call naming it (the argument's span).
pub fn template_files(repo: &Repository, model: &TerraformModel) -> HashMap<FileId, Span> {
    let mut patterns: Vec<(regex::Regex, Span)> = Vec::new();
    for module in &model.modules {
        let is_root = module.id.is_some_and(|id| model.is_root(id));
        for &file in &module.files {
            let Some(body) = crate::parse::hcl_body(repo.syntax(file)) else {
                continue;
            };
            let mut calls = TemplateCalls::default();
            calls.visit_body(body);
            for (arg, range) in calls.paths {
                let Some(path) = path_pattern(&arg, is_root) else {
                    continue;
                };
                let Some(re) = to_regex(&module.dir, &path) else {
                    continue;
                };
                let span = range.map_or(repo.file(file).span(0..0), |r| repo.file(file).span(r));
                patterns.push((re, span));
            }
        }
    }
    let mut out = HashMap::new();
    if patterns.is_empty() {
        return out;
    }
    for file in &repo.files {
        // Only files that are not Terraform configuration can be templates here.
        if matches!(file.kind, FileKind::Terraform | FileKind::TerraformVars) {
            continue;
        }
        if let Some((_, span)) = patterns.iter().find(|(re, _)| re.is_match(&file.rel_path)) {
            out.insert(file.id, *span);
        }
    }
    out
}

/// The path arguments of `templatefile()` calls, and of `file()` calls inside
/// `templatestring()`.
#[derive(Default)]
struct TemplateCalls {
    paths: Vec<(Expression, Option<std::ops::Range<usize>>)>,
    in_templatestring: usize,
}

impl Visit for TemplateCalls {
    fn visit_func_call(&mut self, call: &FuncCall) {
        let name = call.name.name.as_str();
        let namespaced = !call.name.namespace.is_empty();
        let reads_template = !namespaced
            && (name == "templatefile" || (name == "file" && self.in_templatestring > 0));
        if reads_template && let Some(arg) = call.args.iter().next() {
            self.paths.push((arg.clone(), arg.span()));
        }
        let nested = !namespaced && name == "templatestring";
        if nested {
            self.in_templatestring += 1;
        }
        visit_func_call(self, call);
        if nested {
            self.in_templatestring -= 1;
        }
    }
}

/// `path.module` is the module's own folder, written "." as Terraform does; `path.root` and
/// `path.cwd` are the same folder for a root module and unknown in a called one.
struct PathScope {
    is_root: bool,
}

impl Scope for PathScope {
    fn resolve(&self, root: &str, attrs: &[&str]) -> Option<(Value, usize)> {
        match (root, attrs.first().copied()) {
            ("path", Some("module")) => Some((Value::from("."), 1)),
            ("path", Some("root" | "cwd")) if self.is_root => Some((Value::from("."), 1)),
            _ => None,
        }
    }
}

/// The path an argument names, relative to its module's folder, with [`ANY`] for the parts
/// that do not evaluate. `None` when nothing of it is known.
fn path_pattern(arg: &Expression, is_root: bool) -> Option<String> {
    let scope = PathScope { is_root };
    if let Value::String(s) = eval(arg, &scope) {
        return Some(s);
    }
    let Expression::StringTemplate(template) = arg else {
        return None;
    };
    let mut out = String::new();
    for element in template.iter() {
        match element {
            Element::Literal(lit) => out.push_str(lit.value()),
            Element::Interpolation(i) => match eval(&i.expr, &scope) {
                Value::String(s) => out.push_str(&s),
                Value::Number(n) => out.push_str(&super::expr::format_number(n)),
                _ => out.push(ANY),
            },
            Element::Directive(_) => out.push(ANY),
        }
    }
    out.chars().any(|c| c != ANY && c != '/').then_some(out)
}

/// A regex over repository paths for a module-relative path pattern.
fn to_regex(module_dir: &str, path: &str) -> Option<regex::Regex> {
    if path.starts_with('/') {
        return None;
    }
    let anywhere = path.starts_with(ANY);
    let joined = if anywhere || module_dir.is_empty() {
        path.to_string()
    } else {
        format!("{module_dir}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                // `None`: the path leaves the repository.
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let normal = parts.join("/");
    let mut re = String::from(if anywhere { "(^|/)" } else { "^" });
    for (i, piece) in normal.split(ANY).enumerate() {
        if i > 0 {
            re.push_str("[^/]*");
        }
        re.push_str(&regex::escape(piece));
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn pattern(src: &str, root: bool) -> Option<String> {
        path_pattern(&Expression::from_str(src).unwrap(), root)
    }

    #[test]
    fn path_module_and_unknown_parts() {
        assert_eq!(
            pattern("\"${path.module}/values/a.yaml\"", true).as_deref(),
            Some("./values/a.yaml")
        );
        assert_eq!(
            pattern("\"${path.module}/values/${each.key}.yaml\"", false).as_deref(),
            Some("./values/\u{0}.yaml")
        );
        assert_eq!(pattern("var.file", true), None);
        assert_eq!(
            pattern("\"${path.root}/x.yaml\"", false).as_deref(),
            Some("\u{0}/x.yaml")
        );
    }

    #[test]
    fn regexes_resolve_against_the_module_folder() {
        let re = to_regex("infra/tf", "./values/\u{0}.yaml").unwrap();
        assert!(re.is_match("infra/tf/values/carts.yaml"));
        assert!(!re.is_match("infra/tf/values/sub/carts.yaml"));
        let up = to_regex("infra/tf", "../shared/a.yaml").unwrap();
        assert!(up.is_match("infra/shared/a.yaml"));
        let anywhere = to_regex("infra/tf", "\u{0}/x.yaml").unwrap();
        assert!(anywhere.is_match("a/b/x.yaml"));
        assert!(!anywhere.is_match("a/b/yx.yaml"));
        assert!(to_regex("", "../../etc/passwd").is_none());
    }
}
