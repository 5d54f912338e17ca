//! Rules about Helm charts kept in the repository: template syntax, and what rendering a
//! chart with the values its installers pass would do. They ask the parsed templates and
//! the Helm model (`crate::model::helm`) and never render anything themselves.

pub mod helm_template_syntax;
pub mod helm_values_nil;

crate::rules::declare_domain! {
    [
        helm_template_syntax::HelmTemplateSyntax,
        helm_values_nil::HelmValuesNil,
    ],
}
