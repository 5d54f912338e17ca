//! `skipped-file`: a file preflight did not check (too large, unreadable, a template).

use crate::diagnostic::{Finding, Severity};
use crate::rules::syntax::{ParseFailure, Syntax};
use crate::rules::{Context, Rule};
use crate::source::{FileKind, SourceFile};

crate::rules::declare_rule! {
    pub struct SkippedFile {
        id: "skipped-file",
        severity: Severity::Note,
        summary: "A file was not checked: over the size limit, unreadable, or a template rather than YAML",
        fix: None,
    }
}

impl Rule for SkippedFile {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        // Asked only for files that do not parse, so the Terraform model is not built for
        // a repository where everything parses.
        let templates = |id| cx.session.terraform_templates().get(&id).copied();
        let mut out = unrendered_templates(cx);
        out.extend(repo.iter()
            .filter(|(f, _)| cx.session.file_in_scope(&f.rel_path))
            .filter_map(|(file, syntax)| {
                let message = match syntax {
                    Syntax::Skipped(reason) => format!("{} was not checked: it {reason}", file.rel_path),
                    Syntax::Encrypted(tool) => {
                        return Some(
                            cx.finding(
                                file.span(0..0),
                                format!("{} is encrypted ({tool}), not checked", file.rel_path),
                            )
                            .with_help("nothing to do: preflight does not decrypt; the deploy reads the decrypted text"),
                        );
                    }
                    Syntax::Failed(e) if matches!(file.kind, FileKind::Terraform | FileKind::TerraformVars) => {
                        return Some(unread_terraform(cx, file, e));
                    }
                    Syntax::Failed(_) if let Some(call) = templates(file.id) => {
                        let at = repo.file(call.file);
                        return Some(
                            cx.finding(
                                file.span(0..0),
                                format!(
                                    "{} is a Terraform template, not checked: `templatefile()` renders it first, and raw it is not valid {}",
                                    file.rel_path,
                                    kind_name(file.kind)
                                ),
                            )
                            .with_label(call, format!("read by templatefile() in {}", at.rel_path))
                            .with_help("nothing to do: the rendered text is what the deploy reads; exclude the file in preflight.toml to silence this note"),
                        );
                    }
                    Syntax::Failed(e) if e.template => format!(
                        "{} is a template, not checked: it holds template markers and is not valid YAML ({})",
                        file.rel_path, e.message
                    ),
                    _ => return None,
                };
                Some(
                    cx.finding(file.span(0..0), message)
                        .with_help("exclude the file in preflight.toml (`exclude = [...]`) to silence this note, or raise `max_file_bytes` if it is large but real"),
                )
            }));
        out
    }
}

/// What of a Terraform file that does not parse was not read, and which checks that needs
/// every declaration of its module are therefore not run (`parse-error` reports the error).
fn unread_terraform(cx: &Context<'_>, file: &SourceFile, e: &ParseFailure) -> Finding {
    let dir = crate::model::terraform::module::parent_dir(&file.rel_path);
    let module = if dir.is_empty() {
        "the root folder".to_string()
    } else {
        format!("`{dir}`")
    };
    let skipped = if file.kind == FileKind::TerraformVars {
        format!(
            "the values set in the unread text are not known, so what depends on them in {module} is checked as if they were not set"
        )
    } else {
        format!(
            "what the unread text declares is unknown, so `undefined-reference` and `unknown-module-argument` are not run for the module in {module}; every other check reads the rest of the file"
        )
    };
    let (span, message) = match &e.recovered {
        Some(r) if !r.unread.is_empty() => {
            let first = r.unread[0].clone();
            let heads: Vec<String> = r
                .unread
                .iter()
                .map(|u| {
                    let (line, _) = file.line_col(u.start);
                    let head = file.line_text(line).trim_end_matches('{').trim();
                    format!("`{head}` (line {line})")
                })
                .collect();
            (
                file.span(first.start..first.start),
                format!(
                    "{} was read in part: {} top-level construct{} that do{} not parse {} skipped, {}: {}",
                    file.rel_path,
                    r.unread.len(),
                    if r.unread.len() == 1 { "" } else { "s" },
                    if r.unread.len() == 1 { "es" } else { "" },
                    if r.unread.len() == 1 { "was" } else { "were" },
                    heads.join(", "),
                    skipped
                ),
            )
        }
        _ => (
            file.span(0..0),
            format!(
                "{} was not read: it does not parse and no part of it could be read on its own; {}",
                file.rel_path,
                skipped.replace(
                    "reads the rest of the file",
                    "reads the module's other files"
                )
            ),
        ),
    };
    cx.finding(span, message).with_help(
        "fix the parse error (`parse-error`); the skipped checks run again once the file parses",
    )
}

fn kind_name(kind: crate::source::FileKind) -> &'static str {
    match kind {
        crate::source::FileKind::Json => "JSON",
        crate::source::FileKind::Yaml => "YAML",
        _ => "HCL",
    }
}

/// Chart templates whose manifests the GitOps model left out: their output depends on what
/// preflight cannot evaluate, or their render fails in a way no other rule reports. One
/// note per template and reason, naming the Applications.
fn unrendered_templates(cx: &Context<'_>) -> Vec<Finding> {
    use crate::model::helm::Outcome;
    use crate::model::helm::render::FailureKind;
    use std::collections::BTreeMap;
    let model = cx.session.gitops();
    let repo = &cx.session.repo;
    // (template, reason) → (span, Applications)
    let mut by_file: BTreeMap<(u32, String), (crate::source::Span, Vec<String>)> = BTreeMap::new();
    for r in &model.renders {
        for rf in &r.files {
            let (span, reason) = match &rf.outcome {
                Outcome::CannotTell { span, reason } => (*span, reason.clone()),
                Outcome::Failed(f)
                    if !matches!(f.kind, FailureKind::NilValue { .. } | FailureKind::Required) =>
                {
                    (f.span, format!("its render fails here: {}", f.message))
                }
                _ => continue,
            };
            if !cx.session.file_in_scope(&repo.file(rf.file).rel_path) {
                continue;
            }
            let e = by_file
                .entry((rf.file.0, reason))
                .or_insert_with(|| (span, Vec::new()));
            let name = format!("`{}`", model.app(r.app).name);
            if !e.1.contains(&name) {
                e.1.push(name);
            }
        }
    }
    by_file
        .into_iter()
        .map(|((file, reason), (span, apps))| {
            let path = &repo.file(crate::source::FileId(file)).rel_path;
            let who = if apps.len() > 3 {
                format!("{} and {} more", apps[..3].join(", "), apps.len() - 3)
            } else {
                apps.join(", ")
            };
            cx.finding(
                span,
                format!(
                    "{path} was not rendered for Application {who}: {reason}; its manifests are left out of the checks"
                ),
            )
            .with_span_label("cannot be evaluated before the deploy")
            .with_help("nothing to fix unless the template's manifests matter to other checks; `helm template` with the same values shows what it renders")
            .with_address(path.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn template_skeletons_are_notes() {
        let findings = check_rule(
            "skipped-file",
            &[(
                "skeletons/app/values.yaml",
                "name: {{ cookiecutter.name }}\nitems: [\n",
            )],
        );
        expect(
            &findings,
            &[("skipped-file", "skeletons/app/values.yaml", 1)],
        );
        assert_eq!(findings[0].severity, crate::diagnostic::Severity::Note);
    }

    #[test]
    fn ordinary_files_are_not_reported() {
        let findings = check_rule(
            "skipped-file",
            &[("a.yaml", "a: 1\n"), ("b.tf", "locals {}\n")],
        );
        expect(&findings, &[]);
    }
}

#[cfg(test)]
mod encrypted_tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_tree, expect};

    const SOPS_YAML: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\nstringData:\n    password: ENC[AES256_GCM,data:cGFzcw==,iv:aXY=,tag:dGFn,type:str]\nsops:\n    kms: []\n    age:\n        - recipient: age1xyz\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n    version: 3.8.1\n";
    const SOPS_JSON: &str = "{\n  \"password\": \"ENC[AES256_GCM,data:cGFzcw==,type:str]\",\n  \"sops\": {\n    \"mac\": \"ENC[AES256_GCM,data:bWFj,type:str]\",\n    \"lastmodified\": \"2024-01-01T00:00:00Z\",\n    \"version\": \"3.8.1\"\n  }\n}\n";

    #[test]
    fn encrypted_files_are_one_note_each_never_a_parse_error() {
        let found = check_tree(
            &[
                (
                    "envs/dev/secrets.auto.tfvars",
                    "\u{0}GITCRYPT\u{0}\u{1}\u{7f}x",
                ),
                ("gitops/secrets/db.yaml", SOPS_YAML),
                ("gitops/secrets/db.json", SOPS_JSON),
                (
                    "gitops/secrets/vault.yml",
                    "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n",
                ),
            ],
            &[],
            Default::default(),
        );
        expect(
            &found,
            &[
                ("skipped-file", "envs/dev/secrets.auto.tfvars", 1),
                ("skipped-file", "gitops/secrets/db.yaml", 1),
                ("skipped-file", "gitops/secrets/db.json", 1),
                ("skipped-file", "gitops/secrets/vault.yml", 1),
            ],
        );
        for f in &found {
            assert_eq!(f.severity, Severity::Note);
            assert!(f.message.contains("encrypted"), "{}", f.message);
            assert!(f.message.ends_with("not checked"), "{}", f.message);
        }
    }

    #[test]
    fn a_sops_key_that_is_not_sops_metadata_is_an_ordinary_file() {
        let found = check_tree(
            &[
                ("values.yaml", "sops:\n  enabled: true\n  mac: false\n"),
                ("broken.tfvars", "\u{0}GITCRYPX\u{0}"),
            ],
            &[],
            Default::default(),
        );
        expect(
            &found,
            &[
                ("parse-error", "broken.tfvars", 1),
                ("skipped-file", "broken.tfvars", 1),
            ],
        );
    }
}

#[cfg(test)]
mod partial_tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_tree, expect};

    const MAIN_OK: &str = "variable \"name\" {}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = var.name\n}\n\noutput \"size\" {\n  value = lenght(var.name)\n}\n";
    const MAIN_BROKEN: &str = "variable \"name\" {}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"${var.name\n}\n\noutput \"size\" {\n  value = lenght(var.name)\n}\n";
    const OTHER: &str = "output \"region\" {\n  value = var.regoin\n}\n";

    fn errors_and_notes(main: &str) -> Vec<crate::testing::Reported> {
        check_tree(
            &[("envs/dev/main.tf", main), ("envs/dev/outputs.tf", OTHER)],
            &[],
            Default::default(),
        )
    }

    #[test]
    fn a_file_that_does_not_parse_is_checked_in_part_and_a_note_says_what_was_skipped() {
        let found = errors_and_notes(MAIN_BROKEN);
        expect(
            &found,
            &[
                ("parse-error", "envs/dev/main.tf", 7),
                ("skipped-file", "envs/dev/main.tf", 3),
                // Read from the part of the file that parses.
                ("bad-function-call", "envs/dev/main.tf", 8),
            ],
        );
        let note = found.iter().find(|r| r.rule == "skipped-file").unwrap();
        assert_eq!(note.severity, Severity::Note);
        assert!(
            note.message
                .contains("`resource \"aws_s3_bucket\" \"logs\"` (line 3)")
                && note.message.contains("`undefined-reference`"),
            "{}",
            note.message
        );
    }

    #[test]
    fn suppressions_in_the_part_that_was_read_apply() {
        let main = MAIN_BROKEN.replace(
            "output \"size\" {",
            "# preflight:ignore bad-function-call -- kept to show the suppression\noutput \"size\" {",
        );
        let found = errors_and_notes(&main);
        expect(
            &found,
            &[
                ("parse-error", "envs/dev/main.tf", 8),
                ("skipped-file", "envs/dev/main.tf", 3),
            ],
        );
    }

    #[test]
    fn once_the_file_parses_every_check_runs_and_no_note_is_given() {
        let found = errors_and_notes(MAIN_OK);
        expect(
            &found,
            &[
                ("bad-function-call", "envs/dev/main.tf", 8),
                ("undefined-reference", "envs/dev/outputs.tf", 2),
            ],
        );
    }
}
