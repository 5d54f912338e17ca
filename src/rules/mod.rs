//! Rules: one file per rule, grouped by domain. A rule asks the models questions and
//! reports findings; it never parses text itself.

pub mod engine;
pub mod gitops;
pub mod helm;
pub mod iam;
pub mod identity;
pub mod syntax;
pub mod terraform;
pub mod validity;

use crate::config::RuleSettings;
use crate::diagnostic::{Finding, Severity};
use crate::model::workspace::Workspace;
use crate::source::Span;

pub use crate::diagnostic::RuleMeta;

pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_>) -> Vec<Finding>;
}

/// Every rule preflight has, in a stable order: the deploy-ordering rules first, then
/// GitOps, Terraform validity, and the rules about files and suppressions; rules added
/// later follow, so a rule's index in SARIF output does not change.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &terraform::ungated_data_source::UngatedDataSource,
        &terraform::unmanaged_namespace::UnmanagedNamespace,
        &terraform::gate_mismatch::GateMismatch,
        &terraform::provider_same_apply::ProviderSameApply,
        &terraform::apply_time_count::ApplyTimeCount,
        &terraform::crd_before_plan::CrdBeforePlan,
        &terraform::replace_needle_missing::ReplaceNeedleMissing,
        &gitops::undeployed_issuer::UndeployedIssuer,
        &gitops::missing_source_path::MissingSourcePath,
        &gitops::unknown_target_revision::UnknownTargetRevision,
        &gitops::undeployed_secret_store::UndeployedSecretStore,
        &gitops::secret_without_value::SecretWithoutValue,
        &gitops::duplicate_key::DuplicateKey,
        &gitops::app_of_apps_loop::AppOfAppsLoop,
        &gitops::sync_option_hazard::SyncOptionHazard,
        &gitops::missing_service_account::MissingServiceAccount,
        &helm::helm_template_syntax::HelmTemplateSyntax,
        &helm::helm_values_nil::HelmValuesNil,
        &iam::ci_role_drift::CiRoleDrift,
        &iam::ci_policy_gap::CiPolicyGap,
        &iam::teardown_coverage::TeardownCoverage,
        &identity::hardcoded_identity::HardcodedIdentity,
        &identity::unknown_domain_filter::UnknownDomainFilter,
        &identity::unmanaged_secret::UnmanagedSecret,
        &identity::policy_resource_gap::PolicyResourceGap,
        &identity::duplicate_physical_name::DuplicatePhysicalName,
        &identity::duplicate_access_entry::DuplicateAccessEntry,
        &validity::unknown_module_argument::UnknownModuleArgument,
        &validity::undefined_reference::UndefinedReference,
        &validity::reserved_name::ReservedName,
        &validity::constant_condition::ConstantCondition,
        &validity::bad_function_call::BadFunctionCall,
        &validity::duplicate_declaration::DuplicateDeclaration,
        &validity::module_source::ModuleSourceRule,
        &engine::parse_error::ParseError,
        &engine::skipped_file::SkippedFile,
        &engine::suppression_without_reason::SuppressionWithoutReason,
        &engine::unused_suppression::UnusedSuppression,
        // Added after the first release: appended, so earlier rules keep their SARIF index.
        &validity::invalid_reference::InvalidReferenceRule,
        &validity::missing_instance_key::MissingInstanceKey,
        &validity::invalid_config_address::InvalidConfigAddress,
        &validity::unknown_argument::UnknownArgument,
        &validity::reference_cycle::ReferenceCycle,
        &engine::evaluation_budget::EvaluationBudget,
        // Live checks that only run with --aws.
        &terraform::name_already_exists::NameAlreadyExists,
    ]
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().into_iter().find(|r| r.meta().id == id)
}

/// What a rule sees while it runs: the session (repository, configuration, models) and its
/// own settings.
pub struct Context<'a> {
    pub session: &'a Workspace,
    pub meta: &'static RuleMeta,
    pub settings: &'a RuleSettings,
}

impl<'a> Context<'a> {
    /// The rule's severity after configuration.
    pub fn severity(&self) -> Severity {
        self.settings.severity.unwrap_or(self.meta.default_severity)
    }

    /// A finding of this rule at its configured severity.
    pub fn finding(&self, span: Span, message: impl Into<String>) -> Finding {
        Finding::new(self.meta.id, self.severity(), span, message)
    }

    /// A note of this rule: something the model could not decide.
    pub fn note(&self, span: Span, message: impl Into<String>) -> Finding {
        Finding::new(self.meta.id, Severity::Note, span, message)
    }

    pub fn option_strings(&self, name: &str) -> Vec<String> {
        self.settings
            .options
            .get(name)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_documented() {
        let mut ids: Vec<_> = all().iter().map(|r| r.meta().id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for rule in all() {
            let m = rule.meta();
            assert!(
                m.doc.starts_with(&format!("# {}", m.id)),
                "rules/{}.md must start with its id",
                m.id
            );
            for section in [
                "## What it does",
                "## Why it breaks deploys",
                "## Example",
                "## Fix",
            ] {
                assert!(
                    m.doc.contains(section),
                    "rules/{}.md lacks `{section}`",
                    m.id
                );
            }
            assert!(
                !m.summary.is_empty() && !m.summary.ends_with('.'),
                "{}: summary",
                m.id
            );
        }
    }
}
