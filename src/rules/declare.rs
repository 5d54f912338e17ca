//! How a rule declares itself: [`declare_rule!`] writes the unit struct and its
//! [`RuleMeta`](crate::diagnostic::RuleMeta) (id, default severity, summary, the page
//! `rules/ID.md` embedded by id, options, fix kind); the rule file keeps only its
//! `impl Rule for X { fn check(..) }`. [`declare_domain!`] lists a domain's rules once.

/// Declare a rule:
///
/// ```ignore
/// crate::rules::declare_rule! {
///     /// What the struct is.
///     pub struct MissingSourcePath {
///         id: "missing-source-path",
///         severity: Severity::Error,
///         summary: "An Application source path does not exist",
///         fix: None,
///         options: &[],
///     }
/// }
/// ```
///
/// `fix` is a [`FixKind`](crate::diagnostic::FixKind) variant; `options` may be left out
/// (none besides `enabled` and `severity`); `reads` is a [`Reads`](crate::diagnostic::Reads)
/// variant, `Everything` when left out (`reads: Terraform,` lets a full check run the rule
/// beside the building of the other models). The struct gets `X::ID`; the metadata is the
/// file's `META` and what [`Declared::meta`](crate::rules::Declared::meta) returns.
macro_rules! declare_rule {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            severity: $severity:expr,
            summary: $summary:expr,
            fix: $fix:ident,
            $(options: $options:expr,)?
            $(reads: $reads:ident,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name;

        impl $name {
            /// The rule's id.
            pub const ID: &'static str = $id;
        }

        /// The rule's metadata.
        static META: $crate::diagnostic::RuleMeta = $crate::diagnostic::RuleMeta {
            id: $id,
            default_severity: $severity,
            summary: $summary,
            doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md")),
            options: $crate::rules::declare::or_none!($($options)?),
            fix: $crate::diagnostic::FixKind::$fix,
            reads: $crate::rules::declare::reads_or_everything!($($reads)?),
        };

        impl $crate::rules::Declared for $name {
            fn meta(&self) -> &'static $crate::diagnostic::RuleMeta {
                &META
            }
        }
    };
}

/// The rule options given, or none.
macro_rules! or_none {
    () => {
        &[]
    };
    ($options:expr) => {
        $options
    };
}

/// The models a rule reads: those named, or any.
macro_rules! reads_or_everything {
    () => {
        $crate::diagnostic::Reads::Everything
    };
    ($reads:ident) => {
        $crate::diagnostic::Reads::$reads
    };
}

/// A domain's rules, once, in the order they were added. Each bracketed group is a
/// release: the registry lists every domain's first group, then every domain's second
/// group, and so on, so a rule added later is appended and no rule's index (SARIF's rule
/// index) moves. A new rule goes in a new last group of its domain (an empty group
/// `[]` keeps a domain's later rules in their release).
///
/// ```ignore
/// crate::rules::declare_domain! {
///     [a::A, b::B],
///     [],
///     [c::C],
/// }
/// ```
macro_rules! declare_domain {
    ($([$($rule:path),* $(,)?]),+ $(,)?) => {
        /// This domain's rules, by release (see `declare_domain!`).
        pub static RULES: &[&[&'static dyn $crate::rules::Rule]] = &[$(&[$(&$rule),*]),+];
    };
}

pub(crate) use declare_domain;
pub(crate) use declare_rule;
pub(crate) use or_none;
pub(crate) use reads_or_everything;
