//! `skipped-file`: a file preflight did not check (too large, unreadable, a template).

use crate::diagnostic::{Finding, Severity};
use crate::parse::Syntax;
use crate::rules::{Context, Rule, RuleMeta};

pub struct SkippedFile;

static META: RuleMeta = RuleMeta {
    id: "skipped-file",
    default_severity: Severity::Note,
    summary: "A file was not checked: over the size limit, unreadable, or a template rather than YAML",
    doc: include_str!("../../../rules/skipped-file.md"),
    options: &[],
};

impl Rule for SkippedFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let has_failure = repo.syntax.iter().any(|s| matches!(s, Syntax::Failed(_)));
        let templates = |id| {
            if has_failure {
                cx.session.terraform_templates().get(&id).copied()
            } else {
                None
            }
        };
        repo.iter()
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
            })
            .collect()
    }
}

fn kind_name(kind: crate::source::FileKind) -> &'static str {
    match kind {
        crate::source::FileKind::Json => "JSON",
        crate::source::FileKind::Yaml => "YAML",
        _ => "HCL",
    }
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
        expect(&found, &[("parse-error", "broken.tfvars", 1)]);
    }
}
