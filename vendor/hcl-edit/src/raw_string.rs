use crate::encode::EncodeState;
use crate::repr::CompactSpan; // preflight patch
use hcl_primitives::InternalString;
use std::borrow::Cow;
use std::fmt::Write;
use std::ops::{self, Range};

/// Opaque string storage for raw HCL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawString(RawStringInner);

#[derive(Debug, Clone, PartialEq, Eq)]
// preflight patch: 16 bytes, was 24: the span in 8 bytes and an explicit string (rare in a
// parsed tree: parsing leaves spans, only `despan` and constructed values make text) boxed.
enum RawStringInner {
    Empty,
    Spanned(CompactSpan),
    Explicit(Box<InternalString>),
}

impl RawString {
    /// An empty string (preflight patch: for `Decor`'s references to its inline parts).
    pub(crate) const EMPTY: RawString = RawString(RawStringInner::Empty);

    /// A span of the input whose position is not kept (preflight patch): what `Decor`
    /// returns a reference to for a part it stores inline as a span. It reads as the empty
    /// string and encodes as the default decoration, as any spanned string does.
    pub(crate) const SPANNED: RawString = RawString(RawStringInner::Spanned(CompactSpan::NONE));

    /// The span of a spanned string, an empty range for an empty one, and `None` for text or
    /// a span too large to store (preflight patch: what `Decor` can store inline).
    pub(crate) fn inline_span(&self) -> Option<Range<usize>> {
        match &self.0 {
            RawStringInner::Empty => Some(0..0),
            RawStringInner::Spanned(span) => span.get(),
            RawStringInner::Explicit(_) => None,
        }
    }

    pub(crate) fn from_span(span: Range<usize>) -> Self {
        if span.is_empty() {
            RawString(RawStringInner::Empty)
        } else {
            RawString(RawStringInner::Spanned(CompactSpan::new(span))) // preflight patch
        }
    }

    pub(crate) fn span(&self) -> Option<Range<usize>> {
        match &self.0 {
            RawStringInner::Empty | RawStringInner::Explicit(_) => None,
            RawStringInner::Spanned(span) => span.get(), // preflight patch
        }
    }

    /// Returns the `RawString` as a `&str`.
    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            RawStringInner::Empty | RawStringInner::Spanned(_) => "",
            RawStringInner::Explicit(s) => s.as_str(),
        }
    }

    pub(crate) fn encode_with_default(
        &self,
        buf: &mut EncodeState,
        default: &str,
    ) -> std::fmt::Result {
        if let RawStringInner::Spanned(_) = self.0 {
            buf.write_str(default)
        } else {
            buf.write_str(self.as_str())
        }
    }

    pub(crate) fn despan(&mut self, input: &str) {
        match &self.0 {
            RawStringInner::Empty | RawStringInner::Explicit(_) => {}
            // preflight patch: a span too large to store (see `CompactSpan`) despans to empty.
            RawStringInner::Spanned(span) => match span.get() {
                Some(span) => {
                    *self = RawString::from(input.get(span.clone()).unwrap_or_else(|| {
                        panic!("span {span:?} should be in input:\n```\n{input}\n```")
                    }));
                }
                None => *self = RawString::default(),
            },
        }
    }
}

impl Default for RawString {
    fn default() -> Self {
        RawString(RawStringInner::Empty)
    }
}

impl ops::Deref for RawString {
    type Target = str;

    #[inline]
    fn deref(&self) -> &Self::Target {
        self.as_str()
    }
}

impl From<&str> for RawString {
    #[inline]
    fn from(s: &str) -> Self {
        if s.is_empty() {
            RawString(RawStringInner::Empty)
        } else {
            RawString::from(InternalString::from(s))
        }
    }
}

impl<'a> From<Cow<'a, str>> for RawString {
    #[inline]
    fn from(s: Cow<'a, str>) -> Self {
        if s.is_empty() {
            RawString(RawStringInner::Empty)
        } else {
            RawString::from(InternalString::from(s))
        }
    }
}

impl From<String> for RawString {
    #[inline]
    fn from(s: String) -> Self {
        if s.is_empty() {
            RawString(RawStringInner::Empty)
        } else {
            RawString::from(InternalString::from(s))
        }
    }
}

impl From<InternalString> for RawString {
    #[inline]
    fn from(inner: InternalString) -> Self {
        RawString(RawStringInner::Explicit(Box::new(inner))) // preflight patch
    }
}

impl From<RawString> for Cow<'_, str> {
    #[inline]
    fn from(s: RawString) -> Self {
        match s.0 {
            RawStringInner::Empty | RawStringInner::Spanned(_) => Cow::Borrowed(""),
            RawStringInner::Explicit(s) => (*s).into(), // preflight patch
        }
    }
}

impl<'a> From<&'a RawString> for Cow<'a, str> {
    #[inline]
    fn from(s: &'a RawString) -> Self {
        match &s.0 {
            RawStringInner::Empty | RawStringInner::Spanned(_) => Cow::Borrowed(""),
            RawStringInner::Explicit(s) => (&**s).into(), // preflight patch
        }
    }
}
