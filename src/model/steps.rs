//! Bootstrap steps: what the repository's scripts and Makefiles do around `terraform
//! apply`, read as text and never run. A reset or bootstrap script that runs
//! `kubectl apply -k base/` before `terraform apply` creates the namespaces of `base/` before
//! Terraform needs them; one that runs `terraform apply -var enable_k8s=false` and then
//! `=true` applies the root in two passes.
//!
//! Each script (or each Makefile target's recipe) is one ordered list of commands. Shell
//! variables assigned in the script (`base=$root/base`, `export X=…`, `${X:-default}`) are
//! substituted; a path that still holds an unknown variable or a command substitution is
//! left unresolved, never guessed. An absolute path outside the repository (a copy of it
//! made by the script, `/workshop/manifests/base`) is matched by its trailing folders
//! against the repository's own folders.

use crate::repo::Repository;
use crate::source::{FileId, FileKind, Span};
use std::collections::{HashMap, HashSet};

/// Longest script line or command read, in bytes; longer ones are passed over.
const MAX_COMMAND: usize = 16 * 1024;
/// Most commands read from one file.
const MAX_COMMANDS: usize = 20_000;

/// One command of a script that matters to a deploy.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// `kubectl apply|create -f PATH` / `-k DIR`: the repository files it applies (resolved),
    /// or the path as written when it cannot be resolved.
    KubectlApply {
        files: Vec<FileId>,
        unresolved: Vec<String>,
    },
    /// `kubectl create namespace NAME`.
    CreateNamespace(String),
    /// `terraform [-chdir=DIR] apply|plan` with its `-var NAME=VALUE` settings, in order;
    /// `dir` is the repository folder when it resolves.
    Terraform {
        command: String,
        dir: Option<String>,
        vars: Vec<(String, String)>,
        /// `-var-file=FILE`s that resolve to repository files, in order.
        var_files: Vec<String>,
        /// `TF_VAR_NAME` values in the command's environment (exported earlier in the
        /// script or set before the command), as (NAME, VALUE): they lose to
        /// `terraform.tfvars`, `*.auto.tfvars`, `-var-file` and `-var`.
        env: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The script, and the unit within it (a Makefile target; 0 for a plain script).
    pub file: FileId,
    pub unit: u32,
    /// Order within the unit.
    pub order: u32,
    /// The command's text in the script.
    pub span: Span,
    pub kind: StepKind,
}

/// Every bootstrap step of the repository.
#[derive(Debug, Default)]
pub struct Steps {
    pub steps: Vec<Step>,
}

/// Where a namespace is created outside Terraform, as a step of a script.
#[derive(Debug, Clone)]
pub struct NamespaceStep {
    /// The kubectl command.
    pub step: Span,
    /// The manifest that defines the namespace (for `kubectl apply`), if any.
    pub manifest: Option<FileId>,
    /// Whether a `terraform apply` follows in the same script (or Makefile target): the
    /// namespace exists before that apply. `false`: the script applies it, but preflight
    /// cannot tell when relative to Terraform.
    pub before_apply: bool,
}

impl Steps {
    /// Read every script and Makefile of the repository.
    pub fn build(repo: &Repository) -> Steps {
        let mut steps = Vec::new();
        for f in &repo.files {
            if f.kind != FileKind::Script {
                continue;
            }
            let makefile = is_makefile(&f.rel_path);
            let (units, globals) = units(&f.text, makefile);
            // `export X = …` in a Makefile puts X in every recipe's environment.
            let make_exports: HashSet<String> = if makefile {
                f.text
                    .lines()
                    .filter_map(|l| l.trim_start().strip_prefix("export "))
                    .filter_map(|l| {
                        let k = l.split(['=', ':', '?', '+']).next()?.trim();
                        is_name(k).then(|| k.to_string())
                    })
                    .collect()
            } else {
                HashSet::new()
            };
            let dir = f.rel_path.rsplit_once('/').map_or("", |(d, _)| d);
            // Make variables are global; recursive ones may refer to each other.
            let mut make_vars: HashMap<String, String> = HashMap::new();
            for _ in 0..4 {
                for (k, v) in &globals {
                    if let Some(v) = expand(v, &make_vars, true) {
                        make_vars.insert(k.clone(), v);
                    }
                }
            }
            for (unit, cmds) in units.into_iter().enumerate() {
                let mut vars = make_vars.clone();
                let mut exported: HashSet<String> = make_exports.clone();
                let mut order = 0u32;
                for (range, text) in cmds.into_iter().take(MAX_COMMANDS) {
                    let words = split_words(&text);
                    if words.is_empty() {
                        continue;
                    }
                    if let Some(kind) =
                        classify(repo, dir, &words, &mut vars, &mut exported, makefile)
                    {
                        steps.push(Step {
                            file: f.id,
                            unit: unit as u32,
                            order,
                            span: f.span(range),
                            kind,
                        });
                        order += 1;
                    }
                }
            }
        }
        Steps { steps }
    }

    /// The namespaces scripts create with kubectl, with the step and the manifest. `ns_of`
    /// names the Namespace objects a manifest file defines.
    pub fn namespaces<'a>(
        &self,
        ns_of: impl Fn(FileId) -> Vec<String> + 'a,
    ) -> HashMap<String, Vec<NamespaceStep>> {
        let mut out: HashMap<String, Vec<NamespaceStep>> = HashMap::new();
        // The order of the last `terraform apply` of each unit.
        let mut last_apply: HashMap<(FileId, u32), u32> = HashMap::new();
        for t in &self.steps {
            if matches!(&t.kind, StepKind::Terraform { command, .. } if command == "apply") {
                let last = last_apply.entry((t.file, t.unit)).or_insert(t.order);
                *last = (*last).max(t.order);
            }
        }
        for s in &self.steps {
            let before_apply = last_apply
                .get(&(s.file, s.unit))
                .is_some_and(|&last| last > s.order);
            match &s.kind {
                StepKind::CreateNamespace(n) => {
                    out.entry(n.clone()).or_default().push(NamespaceStep {
                        step: s.span,
                        manifest: None,
                        before_apply,
                    })
                }
                StepKind::KubectlApply { files, .. } => {
                    for &f in files {
                        for n in ns_of(f) {
                            out.entry(n).or_default().push(NamespaceStep {
                                step: s.span,
                                manifest: Some(f),
                                before_apply,
                            });
                        }
                    }
                }
                StepKind::Terraform { .. } => {}
            }
        }
        out
    }
}

fn is_makefile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "Makefile" | "makefile" | "GNUmakefile") || name.ends_with(".mk")
}

/// The commands of a file, grouped in units (one for a script; one per target for a
/// Makefile), each with its byte range. Continuation lines are joined; comments dropped;
/// `a && b; c | d` gives `a`, `b`, `c`, `d`.
type Unit = Vec<(std::ops::Range<usize>, String)>;

/// Also returns a Makefile's variable assignments.
fn units(text: &str, makefile: bool) -> (Vec<Unit>, Vec<(String, String)>) {
    let mut units: Vec<Unit> = vec![Vec::new()];
    let mut globals = Vec::new();
    let mut offset = 0usize;
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.len() > MAX_COMMAND {
            pending = None;
            continue;
        }
        if makefile && pending.is_none() {
            if line.starts_with('\t') {
                // a recipe line of the current target
            } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                // A rule or an assignment: a new target starts a new unit.
                if line.contains(':') && !line.contains(":=") && !line.contains('=') {
                    units.push(Vec::new());
                }
                if let Some(kv) = make_assignment(line) {
                    globals.push(kv);
                }
                continue;
            } else {
                continue;
            }
        }
        let (mut begin, mut acc) = pending.take().unwrap_or((start, String::new()));
        if acc.is_empty() {
            begin = start;
        }
        let body = if makefile {
            line.trim_start_matches('\t')
                .trim_start_matches(['@', '-', '+'])
        } else {
            line
        };
        if let Some(cont) = body.strip_suffix('\\') {
            acc.push_str(cont);
            acc.push(' ');
            if acc.len() <= MAX_COMMAND {
                pending = Some((begin, acc));
            }
            continue;
        }
        acc.push_str(body);
        let cmd = strip_comment(&acc);
        let end = start + line.len();
        for part in split_commands(cmd) {
            let part = part.trim();
            if !part.is_empty()
                && let Some(u) = units.last_mut()
            {
                u.push((begin..end, part.to_string()));
            }
        }
    }
    (units, globals)
}

/// `NAME = value`, `NAME := value`, `NAME ?= value` in a Makefile.
fn make_assignment(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once('=')?;
    let k = k.trim_end_matches([':', '?', '+', ' ', '\t']).trim();
    let k = k.strip_prefix("export ").unwrap_or(k).trim();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| (k.to_string(), v.trim().to_string()))
}

/// The text before an unquoted `#` that starts a word.
fn strip_comment(s: &str) -> &str {
    let (mut single, mut double) = (false, false);
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && (i == 0 || b[i - 1].is_ascii_whitespace()) => {
                return &s[..i];
            }
            _ => {}
        }
    }
    s
}

/// Split on unquoted `&&`, `||`, `;`, `|` and `&`.
fn split_commands(s: &str) -> Vec<&str> {
    let (mut single, mut double) = (false, false);
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b';' | b'|' | b'&' if !single && !double => {
                out.push(&s[start..i]);
                while i + 1 < b.len() && matches!(b[i + 1], b'|' | b'&') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Shell words, quotes removed (no expansion yet: `$` stays as written).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let (mut single, mut double) = (false, false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => {
                single = !single;
                has = true;
            }
            '"' if !single => {
                double = !double;
                has = true;
            }
            '\\' if !single => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !single && !double => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                has = false;
            }
            c => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `$X`, `${X}`, `${X:-default}` and (in Makefiles) `$(X)` substituted from `vars`; `None`
/// when something cannot be (an unknown variable, a command substitution).
fn expand(word: &str, vars: &HashMap<String, String>, makefile: bool) -> Option<String> {
    let word = if makefile {
        word.replace("$$", "\u{0}")
    } else {
        word.to_string()
    };
    let mut out = String::new();
    let mut rest = word.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, default, len) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            let body = &inner[..end];
            let (n, d) = match body.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            (n.to_string(), d.map(str::to_string), end + 2)
        } else if let Some(inner) = after.strip_prefix('(') {
            if !makefile || inner.starts_with('(') {
                return None; // $(command) or $((arithmetic))
            }
            let end = inner.find(')')?;
            (inner[..end].to_string(), None, end + 2)
        } else {
            let n: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if n.is_empty() {
                return None;
            }
            let l = n.len();
            (n, None, l)
        };
        match vars.get(&name).cloned().or(default) {
            Some(v) => out.push_str(&v),
            None => return None,
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    if out.contains('`') {
        return None;
    }
    Some(out.replace('\u{0}', "$"))
}

/// A path as a script names it → the repository path it refers to.
fn resolve_path(repo: &Repository, dir: &str, p: &str) -> Option<String> {
    let p = p.trim_end_matches('/');
    if p.is_empty() || p.contains("://") {
        return None;
    }
    if let Some(abs) = p.strip_prefix('/') {
        // A copy of the repository elsewhere: the longest trailing folders that exist here.
        let parts: Vec<&str> = abs.split('/').filter(|s| !s.is_empty()).collect();
        for i in 0..parts.len() {
            let cand = parts[i..].join("/");
            if repo.exists(&cand) {
                return Some(cand);
            }
        }
        return None;
    }
    let from_dir = if dir.is_empty() {
        crate::model::gitops::deploy::normalize_path(p)
    } else {
        crate::model::gitops::deploy::normalize_path(&format!("{dir}/{p}"))
    };
    [from_dir, crate::model::gitops::deploy::normalize_path(p)]
        .into_iter()
        .flatten()
        .find(|c| !c.is_empty() && repo.exists(c))
}

/// The manifest files `kubectl apply -f PATH` (a file or folder; `recursive` for `-R`) or
/// `-k DIR` (a kustomization) reads.
fn applied_files(repo: &Repository, path: &str, kustomize: bool, recursive: bool) -> Vec<FileId> {
    let mut out = Vec::new();
    if let Some(f) = repo.file_by_path(path) {
        out.push(f.id);
        return out;
    }
    if kustomize {
        kustomize_files(repo, path, &mut Vec::new(), &mut out);
        return out;
    }
    let prefix = format!("{path}/");
    for f in &repo.files {
        if let Some(rest) = f.rel_path.strip_prefix(&prefix)
            && (recursive || !rest.contains('/'))
            && matches!(f.kind, FileKind::Yaml | FileKind::Json)
        {
            out.push(f.id);
        }
    }
    out
}

/// The resources a kustomization lists, followed into folders (bounded, loop-safe).
fn kustomize_files(repo: &Repository, dir: &str, stack: &mut Vec<String>, out: &mut Vec<FileId>) {
    if stack.len() > 32 || stack.iter().any(|d| d == dir) {
        return;
    }
    let Some(k) = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .find_map(|n| repo.file_by_path(&format!("{dir}/{n}")))
    else {
        return;
    };
    let crate::parse::Syntax::Yaml(docs) = repo.syntax(k.id) else {
        return;
    };
    stack.push(dir.to_string());
    for doc in docs {
        for key in ["resources", "bases", "components"] {
            for item in doc.root().get(key).into_iter().flat_map(|v| v.items()) {
                let Some(e) = item.as_string() else { continue };
                let Some(p) = crate::model::gitops::deploy::normalize_path(&format!("{dir}/{e}"))
                else {
                    continue;
                };
                if let Some(f) = repo.file_by_path(&p) {
                    out.push(f.id);
                } else if repo.exists(&p) {
                    kustomize_files(repo, &p, stack, out);
                }
            }
        }
    }
    stack.pop();
}

impl Step {
    /// The variable settings a `terraform` step makes, in Terraform's precedence, later
    /// winning: its `TF_VAR_` environment (except the names `set_by_tfvars` says the root's
    /// `terraform.tfvars`/`*.auto.tfvars` set: those win over the environment), then its
    /// `-var-file`s' literal values, then its `-var`s. Values are the settings' text
    /// (`true`, `false`, `"eu-west-1"` unquoted).
    pub fn settings(
        &self,
        repo: &Repository,
        set_by_tfvars: impl Fn(&str) -> bool,
    ) -> Vec<(String, String)> {
        let StepKind::Terraform {
            vars,
            var_files,
            env,
            ..
        } = &self.kind
        else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| !set_by_tfvars(k))
            .cloned()
            .collect();
        for path in var_files {
            let Some(file) = repo.file_by_path(path) else {
                continue;
            };
            if let Some(body) = crate::parse::hcl_body(repo.syntax(file.id)) {
                use crate::model::terraform::expr::{EmptyScope, Value, eval};
                for a in body.attributes() {
                    // A var file holds constants: evaluated as Terraform reads it.
                    let text = match eval(&a.value, &EmptyScope) {
                        Value::Bool(b) => b.to_string(),
                        Value::String(t) => t,
                        Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    out.push((a.key.as_str().to_string(), text));
                }
            }
        }
        out.extend(vars.iter().cloned());
        // The last setting of a name wins.
        let mut seen = HashSet::new();
        let mut kept: Vec<(String, String)> = out
            .into_iter()
            .rev()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect();
        kept.reverse();
        kept
    }
}

/// What one command does, if it matters; records assignments in `vars` and the names
/// `export` puts in the environment in `exported`.
fn classify(
    repo: &Repository,
    dir: &str,
    words: &[String],
    vars: &mut HashMap<String, String>,
    exported: &mut HashSet<String>,
    makefile: bool,
) -> Option<StepKind> {
    let mut w: &[String] = words;
    let mut export = false;
    // Assignments before a command are in that command's environment only.
    let mut prefix: Vec<(String, Option<String>)> = Vec::new();
    // Leading `export`/`local`/`readonly`, assignments, and `sudo`/`env`/`time`.
    while let Some(first) = w.first() {
        let bare = first.as_str();
        if matches!(
            bare,
            "export"
                | "local"
                | "readonly"
                | "declare"
                | "sudo"
                | "env"
                | "time"
                | "exec"
                | "command"
        ) {
            export |= bare == "export";
            w = &w[1..];
            continue;
        }
        if let Some((k, v)) = bare.split_once('=')
            && is_name(k)
        {
            let v = expand(v, vars, makefile);
            prefix.push((k.to_string(), v));
            w = &w[1..];
            continue;
        }
        if export && is_name(bare) {
            // `export NAME` of a variable assigned earlier.
            exported.insert(bare.to_string());
            w = &w[1..];
            continue;
        }
        break;
    }
    // A command held in a variable (`$(TF) apply`, `$TERRAFORM plan`): its words.
    let expanded: Vec<String>;
    if let Some(first) = w.first()
        && first.starts_with('$')
        && let Some(text) = expand(first, vars, makefile)
    {
        expanded = split_words(&text)
            .into_iter()
            .chain(w[1..].iter().cloned())
            .collect();
        w = &expanded;
    }
    let Some((cmd, args)) = w.split_first() else {
        // A plain assignment (or `export NAME=…`): it holds for the rest of the script.
        for (k, v) in prefix {
            if export {
                exported.insert(k.clone());
            }
            match v {
                Some(v) => vars.insert(k, v),
                None => vars.remove(&k),
            };
        }
        return None;
    };
    let cmd = cmd.rsplit('/').next().unwrap_or(cmd);
    // `NAME=VALUE cmd`: the command sees NAME, the script after it does not.
    let mut scoped = vars.clone();
    let mut env_names = exported.clone();
    for (k, v) in &prefix {
        env_names.insert(k.clone());
        match v {
            Some(v) => scoped.insert(k.clone(), v.clone()),
            None => scoped.remove(k),
        };
    }
    match cmd {
        "kubectl" | "oc" => kubectl(repo, dir, args, &scoped, makefile),
        "terraform" | "tofu" => Some(terraform(repo, dir, args, &scoped, &env_names, makefile)),
        _ => None,
    }
}

fn is_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kubectl(
    repo: &Repository,
    dir: &str,
    args: &[String],
    vars: &HashMap<String, String>,
    makefile: bool,
) -> Option<StepKind> {
    let verb_pos = args.iter().position(|a| !a.starts_with('-'))?;
    let verb = args[verb_pos].as_str();
    if verb == "create"
        && let Some(what) = args.get(verb_pos + 1)
        && matches!(what.as_str(), "namespace" | "ns")
    {
        let name = args.get(verb_pos + 2)?;
        return expand(name, vars, makefile).map(StepKind::CreateNamespace);
    }
    if !matches!(verb, "apply" | "create" | "replace") {
        return None;
    }
    let recursive = args.iter().any(|a| a == "-R" || a == "--recursive");
    let mut files = Vec::new();
    let mut unresolved = Vec::new();
    let mut i = verb_pos + 1;
    while i < args.len() {
        let a = args[i].as_str();
        let (kustomize, value) = match a {
            "-f" | "--filename" => (false, args.get(i + 1).map(String::as_str)),
            "-k" | "--kustomize" => (true, args.get(i + 1).map(String::as_str)),
            _ if a.starts_with("--filename=") => (false, a.split_once('=').map(|x| x.1)),
            _ if a.starts_with("--kustomize=") => (true, a.split_once('=').map(|x| x.1)),
            _ => {
                i += 1;
                continue;
            }
        };
        i += if a.contains('=') { 1 } else { 2 };
        let Some(v) = value else { continue };
        if v == "-" {
            continue;
        }
        match expand(v, vars, makefile).and_then(|p| resolve_path(repo, dir, &p)) {
            Some(p) => files.extend(applied_files(repo, &p, kustomize, recursive)),
            None => unresolved.push(v.to_string()),
        }
    }
    (!files.is_empty() || !unresolved.is_empty())
        .then_some(StepKind::KubectlApply { files, unresolved })
}

fn terraform(
    repo: &Repository,
    dir: &str,
    args: &[String],
    vars: &HashMap<String, String>,
    env_names: &HashSet<String>,
    makefile: bool,
) -> StepKind {
    let mut chdir = None;
    let mut command = String::new();
    let mut tfvars = Vec::new();
    let mut var_files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if let Some(d) = a.strip_prefix("-chdir=") {
            chdir = expand(d, vars, makefile).and_then(|p| resolve_path(repo, dir, &p));
        } else if command.is_empty() && !a.starts_with('-') {
            command = a.to_string();
        } else if a == "-var" || a == "--var" {
            if let Some(v) = args.get(i + 1).and_then(|v| expand(v, vars, makefile))
                && let Some((k, v)) = v.split_once('=')
            {
                tfvars.push((k.to_string(), v.to_string()));
            }
            i += 1;
        } else if let Some(v) = a.strip_prefix("-var=").or_else(|| a.strip_prefix("--var="))
            && let Some(v) = expand(v, vars, makefile)
            && let Some((k, v)) = v.split_once('=')
        {
            tfvars.push((k.to_string(), v.to_string()));
        } else if a == "-var-file" || a == "--var-file" {
            var_files.extend(args.get(i + 1).and_then(|v| expand(v, vars, makefile)));
            i += 1;
        } else if let Some(v) = a
            .strip_prefix("-var-file=")
            .or_else(|| a.strip_prefix("--var-file="))
            && let Some(v) = expand(v, vars, makefile)
        {
            var_files.push(v);
        }
        i += 1;
    }
    // `-var-file` paths are relative to the `-chdir` folder (else the script's).
    let base = chdir.clone().unwrap_or_else(|| dir.to_string());
    let var_files = var_files
        .iter()
        .filter_map(|p| resolve_path(repo, &base, p))
        .filter(|p| repo.file_by_path(p).is_some())
        .collect();
    let mut env: Vec<(String, String)> = env_names
        .iter()
        .filter_map(|k| {
            let name = k.strip_prefix("TF_VAR_")?;
            Some((name.to_string(), vars.get(k)?.clone()))
        })
        .filter(|(n, _)| !n.is_empty())
        .collect();
    env.sort();
    StepKind::Terraform {
        command,
        dir: chdir,
        vars: tfvars,
        var_files,
        env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::load_repo as load;

    #[test]
    fn a_reset_script_applies_a_copied_base_before_terraform() {
        let (_d, repo) = load(&[
            (
                "lab/bin/reset",
                "#!/bin/bash\nset -e\nmanifests_path=\"/ws/manifests\"\nbase_path=\"$manifests_path/base-app\"\n# kubectl apply -k commented/out\nkubectl apply -k $base_path && echo ok\nkubectl create namespace tools\nterraform -chdir=\"$tf_dir\" apply \\\n  -var enable=true --auto-approve\n",
            ),
            (
                "manifests/base-app/kustomization.yaml",
                "resources:\n  - ui\n",
            ),
            (
                "manifests/base-app/ui/kustomization.yaml",
                "resources:\n  - namespace.yaml\n",
            ),
            (
                "manifests/base-app/ui/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ui\n",
            ),
        ]);
        let steps = Steps::build(&repo);
        assert_eq!(steps.steps.len(), 3, "{:?}", steps.steps);
        let StepKind::KubectlApply { files, unresolved } = &steps.steps[0].kind else {
            panic!("{:?}", steps.steps[0]);
        };
        assert!(unresolved.is_empty());
        assert_eq!(
            repo.file(files[0]).rel_path,
            "manifests/base-app/ui/namespace.yaml"
        );
        assert_eq!(
            steps.steps[2].kind,
            StepKind::Terraform {
                command: "apply".into(),
                dir: None,
                vars: vec![("enable".into(), "true".into())],
                var_files: vec![],
                env: vec![],
            }
        );
        let ns = steps.namespaces(|f| {
            if repo.file(f).rel_path.ends_with("namespace.yaml") {
                vec!["ui".to_string()]
            } else {
                Vec::new()
            }
        });
        assert!(ns["ui"][0].before_apply);
        assert!(ns["tools"][0].before_apply);
        assert_eq!(
            repo.file(ns["ui"][0].step.file)
                .line_col(ns["ui"][0].step.start as usize)
                .0,
            6
        );
    }

    #[test]
    fn makefile_targets_are_separate_units_and_unknown_paths_stay_unresolved() {
        let (_d, repo) = load(&[
            (
                "Makefile",
                "BASE := k8s/base\n\nbase:\n\tkubectl apply -k $(BASE)\n\ninfra:\n\tterraform -chdir=envs/dev apply\n\nother:\n\tkubectl apply -f $(shell ls)\n\tkubectl apply -f $$DIR\n",
            ),
            ("k8s/base/kustomization.yaml", "resources: [ns.yaml]\n"),
            ("k8s/base/ns.yaml", "kind: Namespace\nmetadata: {name: a}\n"),
            ("envs/dev/main.tf", ""),
        ]);
        let steps = Steps::build(&repo);
        let ns = steps.namespaces(|_| vec!["a".to_string()]);
        // `base` and `infra` are different targets: the order is not known.
        assert!(!ns["a"][0].before_apply);
        assert!(steps.steps.iter().any(|s| matches!(
            &s.kind,
            StepKind::Terraform { dir: Some(d), .. } if d == "envs/dev"
        )));
        let unresolved: Vec<_> = steps
            .steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::KubectlApply { unresolved, .. } => Some(unresolved.len()),
                _ => None,
            })
            .collect();
        assert_eq!(unresolved, [0, 1, 1]);
    }

    #[test]
    fn tf_var_exports_and_var_files_reach_the_terraform_step_that_sees_them() {
        let (_d, repo) = load(&[
            (
                "bootstrap.sh",
                "#!/bin/sh\nset -e\nexport TF_VAR_enable_k8s=false\nTF_VAR_region=eu-west-1 terraform -chdir=envs/dev apply -var-file=stage1.tfvars\nexport TF_VAR_enable_k8s=true\nterraform -chdir=envs/dev apply -var-file stage9.tfvars\nTF_VAR_plain=x\nterraform -chdir=envs/dev plan\n",
            ),
            ("envs/dev/main.tf", ""),
            ("envs/dev/stage1.tfvars", "enable_k8s = false\n"),
        ]);
        let steps = Steps::build(&repo);
        let tf: Vec<_> = steps
            .steps
            .iter()
            .map(|s| match &s.kind {
                StepKind::Terraform { env, var_files, .. } => (env.clone(), var_files.clone()),
                k => panic!("{k:?}"),
            })
            .collect();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            tf,
            [
                (
                    vec![pair("enable_k8s", "false"), pair("region", "eu-west-1")],
                    vec!["envs/dev/stage1.tfvars".to_string()]
                ),
                // A file that does not exist is not a var file the step reads.
                (vec![pair("enable_k8s", "true")], vec![]),
                // Not exported: not in terraform's environment; the prefix was the
                // earlier command's only.
                (vec![pair("enable_k8s", "true")], vec![]),
            ]
        );
        // The var file wins over the environment; terraform.tfvars wins over TF_VAR_.
        assert_eq!(
            steps.steps[0].settings(&repo, |_| false),
            [pair("region", "eu-west-1"), pair("enable_k8s", "false")]
        );
        assert_eq!(
            steps.steps[1].settings(&repo, |n| n == "enable_k8s"),
            Vec::<(String, String)>::new()
        );
    }
}
