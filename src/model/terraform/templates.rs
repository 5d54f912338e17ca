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
    let mut seen = std::collections::HashSet::new();
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
                if !seen.insert(re.as_str().to_string()) {
                    continue;
                }
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

/// A `templatefile()` call whose YAML or JSON template, rendered with the values the call is
/// given, does not parse as what it is named.
#[derive(Debug, Clone)]
pub struct RenderedError {
    /// The call's path argument.
    pub call: Span,
    pub template: FileId,
    /// The parser's message, and the rendered line it stopped on (1-based) with its text.
    pub message: String,
    pub line: usize,
    pub line_text: String,
}

/// Render every `templatefile()` call of the roots in scope whose template is a YAML or
/// JSON file and whose arguments evaluate (in every selected pass; calls under `count`/`for_each`
/// or with values known only after apply do not evaluate and are not judged), and parse the
/// result as the deploy tools would.
pub fn rendered_yaml_errors(s: &crate::model::workspace::Workspace) -> Vec<RenderedError> {
    let repo = &s.repo;
    let tf = s.terraform();
    if s.terraform_templates().is_empty() {
        return Vec::new();
    }
    let an = s.terraform_analysis();
    let mut out: Vec<RenderedError> = Vec::new();
    for &root in &an.roots {
        for inst in an.instances_of(root) {
            let module = an.module(tf, inst);
            let is_root = module.id.is_some_and(|id| tf.is_root(id));
            for &file in &module.files {
                let Some(body) = crate::parse::hcl_body(repo.syntax(file)) else {
                    continue;
                };
                let mut calls = TemplateCalls::default();
                calls.visit_body(body);
                for call in calls.calls {
                    let Some(range) = call.args.iter().next().and_then(|a| a.span()) else {
                        continue;
                    };
                    let call_span = repo.file(file).span(range);
                    if out.iter().any(|e| e.call == call_span) {
                        continue;
                    }
                    let Some(template) = call
                        .args
                        .iter()
                        .next()
                        .and_then(|arg| path_pattern(arg, is_root))
                        .and_then(|p| to_regex(&module.dir, &p))
                        .and_then(|re| single_match(repo, &re))
                    else {
                        continue;
                    };
                    let kind = repo.file(template).kind;
                    if !matches!(kind, FileKind::Yaml | FileKind::Json) {
                        continue;
                    }
                    let expr = Expression::FuncCall(Box::new(call.clone()));
                    for &pass in &an.selected {
                        let Value::String(text) = an.eval(s, pass, inst, &expr) else {
                            continue;
                        };
                        let lines = crate::source::LineIndex::new(&text);
                        let failure = if kind == FileKind::Json {
                            serde_json::from_str::<serde_json::Value>(&text)
                                .err()
                                .map(|e| {
                                    let message = e.to_string();
                                    let message = match message.rfind(" at line ") {
                                        Some(i) => message[..i].to_string(),
                                        None => message,
                                    };
                                    (message, e.line().max(1))
                                })
                        } else {
                            crate::parse::yaml::parse_stream(template, &text)
                                .err()
                                .map(|e| (e.message, lines.line_col(&text, e.offset).0))
                        };
                        if let Some((message, line)) = failure {
                            out.push(RenderedError {
                                call: call_span,
                                template,
                                message,
                                line,
                                line_text: lines.line_text(&text, line).trim().to_string(),
                            });
                            break;
                        }
                    }
                }
            }
        }
    }
    out
}

/// The one YAML/JSON file of the repository a path regex names.
fn single_match(repo: &Repository, re: &regex::Regex) -> Option<FileId> {
    let mut found = repo
        .files
        .iter()
        .filter(|f| !matches!(f.kind, FileKind::Terraform | FileKind::TerraformVars))
        .filter(|f| re.is_match(&f.rel_path));
    let first = found.next()?;
    found.next().is_none().then_some(first.id)
}

/// The path arguments of `templatefile()` calls, and of `file()` calls inside
/// `templatestring()`.
#[derive(Default)]
struct TemplateCalls {
    paths: Vec<(Expression, Option<std::ops::Range<usize>>)>,
    /// The `templatefile()` calls themselves.
    calls: Vec<FuncCall>,
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
            if name == "templatefile" {
                self.calls.push(call.clone());
            }
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
    fn strip_markers_strip_one_line_as_terraform_does() {
        // Each rendered by `terraform console` (1.11) with `templatefile()`.
        let cases = [
            ("X  \n  %{~ if true }Y%{ endif }", "X  \nY"),
            ("X\n%{~ if true }Y%{ endif }", "XY"),
            ("X%{ if true ~}  \n  Y%{ endif }", "X  Y"),
            ("X%{ if true ~}\n\n  Y%{ endif }", "X\n  Y"),
            ("A\n%{ if true ~}\n   B\n%{ endif ~}\nC", "A\n   B\nC"),
            ("X${\"a\" ~}  \n  Y", "Xa  Y"),
            ("X  \n  ${~ \"a\"}Y", "X  \naY"),
            (
                "a:\n  %{~ for x in [\"p\",\"q\"] ~}\n  - ${x}\n  %{~ endfor ~}\nb",
                "a:\n  - p\n  - q\nb",
            ),
        ];
        for (template, rendered) in cases {
            let t = crate::parse::hcl::parse_template(template).unwrap();
            let v = crate::model::terraform::expr::eval_template_checked(
                &t,
                &Default::default(),
                &crate::model::terraform::expr::EmptyScope,
            )
            .unwrap();
            assert_eq!(v, Value::from(rendered), "{template:?}");
        }
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
