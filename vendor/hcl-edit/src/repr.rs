//! Representations of values within a HCL document.

use crate::encode::{Encode, EncodeState};
use crate::raw_string::RawString;
use std::borrow::Cow;
use std::fmt::{self, Write};
use std::num::NonZeroU32;
use std::ops::{Deref, DerefMut, Range};

/// Represents the whitespace and comments before (the "prefix") or after (the "suffix") a HCL value.
// preflight patch: 16 bytes, was 48 (two `Option<RawString>`); see `DecorRepr`.
#[derive(Clone, Default)]
pub struct Decor(DecorRepr);

/// How a [`Decor`] is stored (preflight patch). A prefix and a suffix that are each absent,
/// empty or a span of the input (all the parser makes) are stored inline, 8 bytes each; any
/// other pair (text: set by hand or by `despan`) is boxed.
#[derive(Clone)]
enum DecorRepr {
    Parts(DecorPart, DecorPart),
    Owned(Box<(Option<RawString>, Option<RawString>)>),
}

impl Default for DecorRepr {
    fn default() -> Self {
        DecorRepr::Parts(DecorPart::ABSENT, DecorPart::ABSENT)
    }
}

/// An absent, empty or spanned decor part (preflight patch). `start1` is the span's start
/// plus one, never zero (which gives `DecorRepr` its tag without a field of its own);
/// `u32::MAX` stands for absent and `start1 - 1 == end` for empty.
#[derive(Clone, Copy)]
struct DecorPart {
    start1: NonZeroU32,
    end: u32,
}

/// What a [`DecorPart`] holds.
enum DecorPartKind {
    Absent,
    Empty,
    Spanned(Range<usize>),
}

/// The strings a [`Decor`] part stored inline reads as.
static EMPTY_RAW: RawString = RawString::EMPTY;
static SPANNED_RAW: RawString = RawString::SPANNED;

impl DecorPart {
    const ABSENT: DecorPart = DecorPart {
        start1: NonZeroU32::MAX,
        end: 0,
    };
    const EMPTY: DecorPart = DecorPart {
        start1: NonZeroU32::MIN,
        end: 0,
    };

    /// The part for `raw`, if it can be stored inline.
    fn new(raw: &RawString) -> Option<DecorPart> {
        let span = raw.inline_span()?;
        if span.is_empty() {
            return Some(DecorPart::EMPTY);
        }
        let start1 = u32::try_from(span.start.checked_add(1)?).ok()?;
        let end = u32::try_from(span.end).ok()?;
        if start1 == u32::MAX {
            return None;
        }
        Some(DecorPart {
            start1: NonZeroU32::new(start1)?,
            end,
        })
    }

    fn kind(self) -> DecorPartKind {
        if self.start1 == NonZeroU32::MAX {
            return DecorPartKind::Absent;
        }
        let start = self.start1.get() - 1;
        if start >= self.end {
            DecorPartKind::Empty
        } else {
            DecorPartKind::Spanned(start as usize..self.end as usize)
        }
    }

    /// The part as the `Option<RawString>` it stands for.
    fn to_raw(self) -> Option<RawString> {
        match self.kind() {
            DecorPartKind::Absent => None,
            DecorPartKind::Empty => Some(RawString::default()),
            DecorPartKind::Spanned(span) => Some(RawString::from_span(span)),
        }
    }

    /// A string that reads and encodes as the part does (a spanned one without its
    /// position, which only `despan` needs).
    fn as_raw(self) -> Option<&'static RawString> {
        match self.kind() {
            DecorPartKind::Absent => None,
            DecorPartKind::Empty => Some(&EMPTY_RAW),
            DecorPartKind::Spanned(_) => Some(&SPANNED_RAW),
        }
    }
}

impl Decor {
    /// Creates a new `Decor` for a prefix and a suffix.
    pub fn new(prefix: impl Into<RawString>, suffix: impl Into<RawString>) -> Decor {
        let mut decor = Decor::default();
        decor.set_prefix(prefix);
        decor.set_suffix(suffix);
        decor
    }

    /// Sets the decor prefix.
    pub fn set_prefix(&mut self, prefix: impl Into<RawString>) {
        let prefix = prefix.into();
        match &mut self.0 {
            DecorRepr::Parts(part, suffix) => {
                if let Some(new) = DecorPart::new(&prefix) {
                    *part = new;
                } else {
                    let suffix = suffix.to_raw();
                    self.0 = DecorRepr::Owned(Box::new((Some(prefix), suffix)));
                }
            }
            DecorRepr::Owned(owned) => owned.0 = Some(prefix),
        }
    }

    /// Sets the decor suffix.
    pub fn set_suffix(&mut self, suffix: impl Into<RawString>) {
        let suffix = suffix.into();
        match &mut self.0 {
            DecorRepr::Parts(prefix, part) => {
                if let Some(new) = DecorPart::new(&suffix) {
                    *part = new;
                } else {
                    let prefix = prefix.to_raw();
                    self.0 = DecorRepr::Owned(Box::new((prefix, Some(suffix))));
                }
            }
            DecorRepr::Owned(owned) => owned.1 = Some(suffix),
        }
    }

    /// Returns a reference to the decor prefix, if one is present, `None` otherwise.
    pub fn prefix(&self) -> Option<&RawString> {
        match &self.0 {
            DecorRepr::Parts(prefix, _) => prefix.as_raw(),
            DecorRepr::Owned(owned) => owned.0.as_ref(),
        }
    }

    /// Returns a reference to the decor suffix, if one is present, `None` otherwise.
    pub fn suffix(&self) -> Option<&RawString> {
        match &self.0 {
            DecorRepr::Parts(_, suffix) => suffix.as_raw(),
            DecorRepr::Owned(owned) => owned.1.as_ref(),
        }
    }

    /// The span of the decor suffix, if it is a span of the input (preflight patch: the
    /// string [`Decor::suffix`] returns for an inline part does not keep it).
    pub(crate) fn suffix_span(&self) -> Option<Range<usize>> {
        match &self.0 {
            DecorRepr::Parts(_, suffix) => match suffix.kind() {
                DecorPartKind::Spanned(span) => Some(span),
                DecorPartKind::Absent | DecorPartKind::Empty => None,
            },
            DecorRepr::Owned(owned) => owned.1.as_ref().and_then(RawString::span),
        }
    }

    /// Clears the decor prefix and suffix.
    pub fn clear(&mut self) {
        self.0 = DecorRepr::default();
    }

    pub(crate) fn encode_prefix(&self, buf: &mut EncodeState, default: &str) -> fmt::Result {
        if let Some(prefix) = self.prefix() {
            prefix.encode_with_default(buf, default)
        } else {
            buf.write_str(default)
        }
    }

    pub(crate) fn encode_suffix(&self, buf: &mut EncodeState, default: &str) -> fmt::Result {
        if let Some(suffix) = self.suffix() {
            suffix.encode_with_default(buf, default)
        } else {
            buf.write_str(default)
        }
    }

    pub(crate) fn despan(&mut self, input: &str) {
        if let DecorRepr::Parts(prefix, suffix) = self.0 {
            let spanned = |part: DecorPart| matches!(part.kind(), DecorPartKind::Spanned(_));
            if !spanned(prefix) && !spanned(suffix) {
                return;
            }
            self.0 = DecorRepr::Owned(Box::new((prefix.to_raw(), suffix.to_raw())));
        }

        if let DecorRepr::Owned(owned) = &mut self.0 {
            if let Some(prefix) = &mut owned.0 {
                prefix.despan(input);
            }

            if let Some(suffix) = &mut owned.1 {
                suffix.despan(input);
            }
        }
    }

    /// The prefix and suffix as the strings they stand for, spans included.
    fn parts(&self) -> (Cow<'_, Option<RawString>>, Cow<'_, Option<RawString>>) {
        match &self.0 {
            DecorRepr::Parts(prefix, suffix) => {
                (Cow::Owned(prefix.to_raw()), Cow::Owned(suffix.to_raw()))
            }
            DecorRepr::Owned(owned) => (Cow::Borrowed(&owned.0), Cow::Borrowed(&owned.1)),
        }
    }
}

// preflight patch: as derived for the two `Option<RawString>` fields `Decor` had.
impl fmt::Debug for Decor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, suffix) = self.parts();
        f.debug_struct("Decor")
            .field("prefix", &*prefix)
            .field("suffix", &*suffix)
            .finish()
    }
}

impl PartialEq for Decor {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for Decor {}

impl<P, S> From<(P, S)> for Decor
where
    P: Into<RawString>,
    S: Into<RawString>,
{
    fn from((prefix, suffix): (P, S)) -> Self {
        Decor::new(prefix, suffix)
    }
}

/// A byte span stored in 8 bytes instead of the 24 of an `Option<Range<usize>>` (preflight
/// patch): two `u32` offsets, `start == u32::MAX` for none. A span with an offset that does
/// not fit (an input of 4 GiB or more) is stored as none, so [`Span::span`] returns `None`
/// for it: nothing panics and no wrong offset is reported.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CompactSpan {
    start: u32,
    end: u32,
}

impl CompactSpan {
    /// No span.
    pub(crate) const NONE: CompactSpan = CompactSpan {
        start: u32::MAX,
        end: u32::MAX,
    };

    /// The span `range`, or [`CompactSpan::NONE`] if an offset does not fit in a `u32`
    /// below `u32::MAX`.
    #[inline]
    pub(crate) fn new(range: Range<usize>) -> CompactSpan {
        match (u32::try_from(range.start), u32::try_from(range.end)) {
            (Ok(start), Ok(end)) if start != u32::MAX && end != u32::MAX => {
                CompactSpan { start, end }
            }
            _ => CompactSpan::NONE,
        }
    }

    /// The span as a range, `None` for [`CompactSpan::NONE`].
    #[inline]
    pub(crate) fn get(self) -> Option<Range<usize>> {
        if self.start == u32::MAX {
            None
        } else {
            Some(self.start as usize..self.end as usize)
        }
    }
}

impl Default for CompactSpan {
    fn default() -> Self {
        CompactSpan::NONE
    }
}

impl fmt::Debug for CompactSpan {
    // As the `Option<Range<usize>>` it stands for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// A trait for objects which carry span information.
pub trait Span {
    /// Obtains the span information. This only returns `Some` if the value was emitted by the
    /// parser.
    ///
    /// The returned range represents a zero-based start and end byte offset in the input from
    /// which this object was parsed.
    fn span(&self) -> Option<Range<usize>>;
}

impl<T> Span for Box<T>
where
    T: Span,
{
    fn span(&self) -> Option<Range<usize>> {
        (**self).span()
    }
}

pub(crate) trait SetSpan {
    fn set_span(&mut self, span: Range<usize>);
}

impl<T> SetSpan for Box<T>
where
    T: SetSpan,
{
    fn set_span(&mut self, span: Range<usize>) {
        (**self).set_span(span);
    }
}

/// A trait for objects which can be decorated with whitespace and comments.
pub trait Decorate {
    /// Returns a reference to the object's [`Decor`].
    fn decor(&self) -> &Decor;

    /// Returns a mutable reference to the object's [`Decor`].
    fn decor_mut(&mut self) -> &mut Decor;

    /// Decorate the object with `decor` in-place.
    fn decorate(&mut self, decor: impl Into<Decor>) {
        *self.decor_mut() = decor.into();
    }

    /// Decorate the object with `decor` and return the modified value.
    fn decorated(mut self, decor: impl Into<Decor>) -> Self
    where
        Self: Sized,
    {
        self.decorate(decor);
        self
    }
}

impl<T> Decorate for Box<T>
where
    T: Decorate,
{
    fn decor(&self) -> &Decor {
        (**self).decor()
    }

    fn decor_mut(&mut self) -> &mut Decor {
        (**self).decor_mut()
    }
}

/// A wrapper type for attaching span information to a value.
#[derive(Debug, Clone, Eq)]
pub struct Spanned<T> {
    value: T,
    span: CompactSpan, // preflight patch: 8 bytes, was `Option<Range<usize>>`
}

impl<T> Spanned<T> {
    /// Creates a new `Spanned<T>` from a `T`.
    pub fn new(value: T) -> Spanned<T> {
        Spanned {
            value,
            span: CompactSpan::NONE, // preflight patch
        }
    }

    /// Consumes the `Spanned<T>` and returns the wrapped value.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Returns a reference to the wrapped value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Returns a mutable reference to the wrapped value.
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Consumes the `Spanned<T>` and converts the inner value into another type.
    #[inline]
    pub fn value_into<U>(self) -> U
    where
        T: Into<U>,
    {
        self.value.into()
    }
}

impl<T> PartialEq for Spanned<T>
where
    T: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> AsRef<T> for Spanned<T> {
    #[inline]
    fn as_ref(&self) -> &T {
        self.value()
    }
}

impl<T> AsMut<T> for Spanned<T> {
    #[inline]
    fn as_mut(&mut self) -> &mut T {
        self.value_mut()
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.as_ref()
    }
}

impl<T> DerefMut for Spanned<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.as_mut()
    }
}

impl<T> From<T> for Spanned<T> {
    fn from(value: T) -> Self {
        Spanned::new(value)
    }
}

impl<T> Span for Spanned<T> {
    fn span(&self) -> Option<Range<usize>> {
        self.span.get() // preflight patch
    }
}

impl<T> SetSpan for Spanned<T> {
    fn set_span(&mut self, span: Range<usize>) {
        self.span = CompactSpan::new(span); // preflight patch
    }
}

impl<T> fmt::Display for Spanned<T>
where
    T: Encode,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut state = EncodeState::new(f);
        self.encode(&mut state)
    }
}

/// A wrapper type for attaching a [`Decor`] and span information to a value.
#[derive(Debug, Clone, Eq)]
pub struct Decorated<T> {
    value: T,
    decor: Decor,
    span: CompactSpan, // preflight patch: 8 bytes, was `Option<Range<usize>>`
}

impl<T> Decorated<T> {
    /// Creates a new `Decorated<T>` from a `T`.
    pub fn new(value: T) -> Decorated<T> {
        Decorated {
            value,
            decor: Decor::default(),
            span: CompactSpan::NONE, // preflight patch
        }
    }

    /// Consumes the `Decorated<T>` and returns the wrapped value.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Returns a reference to the wrapped value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Returns a mutable reference to the wrapped value.
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Consumes the `Decorated<T>` and converts the inner value into another type.
    #[inline]
    pub fn value_into<U>(self) -> U
    where
        T: Into<U>,
    {
        self.value.into()
    }
}

impl<T> PartialEq for Decorated<T>
where
    T: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> AsRef<T> for Decorated<T> {
    #[inline]
    fn as_ref(&self) -> &T {
        self.value()
    }
}

impl<T> AsMut<T> for Decorated<T> {
    #[inline]
    fn as_mut(&mut self) -> &mut T {
        self.value_mut()
    }
}

impl<T> Deref for Decorated<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.as_ref()
    }
}

impl<T> DerefMut for Decorated<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.as_mut()
    }
}

impl<T> From<T> for Decorated<T> {
    fn from(value: T) -> Self {
        Decorated::new(value)
    }
}

impl<T> Decorate for Decorated<T> {
    fn decor(&self) -> &Decor {
        &self.decor
    }

    fn decor_mut(&mut self) -> &mut Decor {
        &mut self.decor
    }
}

impl<T> Span for Decorated<T> {
    fn span(&self) -> Option<Range<usize>> {
        self.span.get() // preflight patch
    }
}

impl<T> SetSpan for Decorated<T> {
    fn set_span(&mut self, span: Range<usize>) {
        self.span = CompactSpan::new(span); // preflight patch
    }
}

impl<T> fmt::Display for Decorated<T>
where
    T: Encode,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut state = EncodeState::new(f);
        self.encode(&mut state)
    }
}

/// A wrapper type for a value together with its `ToString` representation with additional
/// [`Decor`] and span infromation attached.
#[derive(Debug, Clone, Eq)]
pub struct Formatted<T> {
    value: T,
    decor: Decor,
    repr: Option<RawString>,
    span: CompactSpan, // preflight patch: 8 bytes, was `Option<Range<usize>>`
}

impl<T> Formatted<T>
where
    T: ToString,
{
    /// Creates a new `Formatted<T>` from a `T`.
    pub fn new(value: T) -> Formatted<T> {
        Formatted {
            value,
            decor: Decor::default(),
            repr: None,
            span: CompactSpan::NONE, // preflight patch
        }
    }

    /// Returns the raw string representation of the value, if any.
    pub fn as_repr(&self) -> Option<&RawString> {
        self.repr.as_ref()
    }

    pub(crate) fn set_repr(&mut self, repr: impl Into<RawString>) {
        self.repr = Some(repr.into());
    }

    /// Formats the value using its `ToString` representation.
    pub fn format(&mut self) {
        self.set_repr(self.value.to_string());
    }
}

impl<T> Formatted<T> {
    /// Consumes the `Formatted<T>` and returns the wrapped value.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Returns a reference to the wrapped value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Returns a mutable reference to the wrapped value.
    pub fn value_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Consumes the `Formatted<T>` and converts the inner value into another type.
    #[inline]
    pub fn value_into<U>(self) -> U
    where
        T: Into<U>,
    {
        self.value.into()
    }
}

impl<T> PartialEq for Formatted<T>
where
    T: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> AsRef<T> for Formatted<T> {
    #[inline]
    fn as_ref(&self) -> &T {
        self.value()
    }
}

impl<T> AsMut<T> for Formatted<T> {
    #[inline]
    fn as_mut(&mut self) -> &mut T {
        self.value_mut()
    }
}

impl<T> Deref for Formatted<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.as_ref()
    }
}

impl<T> DerefMut for Formatted<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.as_mut()
    }
}

impl<T> From<T> for Formatted<T>
where
    T: ToString,
{
    fn from(value: T) -> Self {
        Formatted::new(value)
    }
}

impl<T> Decorate for Formatted<T> {
    fn decor(&self) -> &Decor {
        &self.decor
    }

    fn decor_mut(&mut self) -> &mut Decor {
        &mut self.decor
    }
}

impl<T> Span for Formatted<T> {
    fn span(&self) -> Option<Range<usize>> {
        self.span.get() // preflight patch
    }
}

impl<T> SetSpan for Formatted<T> {
    fn set_span(&mut self, span: Range<usize>) {
        self.span = CompactSpan::new(span); // preflight patch
    }
}

impl<T> fmt::Display for Formatted<T>
where
    T: Encode,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut state = EncodeState::new(f);
        self.encode(&mut state)
    }
}
