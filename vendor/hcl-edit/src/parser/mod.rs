//! An HCL parser which keeps track of whitespace, comments and span information.

mod error;
mod expr;
mod nesting;
mod number;
mod pratt;
mod repr;
mod state;
mod string;
mod structure;
mod template;
#[cfg(test)]
mod tests;
mod trivia;

pub use self::error::{Error, Location};
use self::expr::root_expr;
use self::structure::body;
use self::template::template;
use crate::expr::Expression;
use crate::structure::{Body, Structure};
use crate::template::Template;
use crate::{Decorate, SetSpan, Span};
use std::ops::Range;

mod prelude {
    pub(super) use winnow::error::{ContextError, StrContext, StrContextValue};
    pub(super) use winnow::stream::Stream;
    pub(super) use winnow::{dispatch, ModalParser, ModalResult, Parser};

    pub(super) type Input<'a> =
        winnow::stream::Stateful<winnow::stream::LocatingSlice<&'a str>, NestingState>;

    use super::nesting::NestingState;

    /// Creates a new parser input from `s`.
    pub(super) fn new_input(s: &str) -> Input<'_> {
        Input {
            input: winnow::stream::LocatingSlice::new(s),
            state: NestingState::default(),
        }
    }
}

use self::prelude::*;

/// Parse an input into a [`Body`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL body.
pub fn parse_body(input: &str) -> Result<Body, Error> {
    let mut body = parse_complete(input, body)?;
    body.despan(input);
    Ok(body)
}

/// Parse an input into a [`Body`] whose whitespace and comments stay spans of the input
/// rather than owned copies of it (preflight patch). Encoding such a body writes the
/// default decoration where a span is; reading the decoration's text needs the input.
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL body.
pub fn parse_body_spanned(input: &str) -> Result<Body, Error> {
    parse_complete(input, body)
}

/// Parse the structures of `input` from `range.start` to `range.end` into a [`Body`] as
/// [`parse_body_spanned`] does, each span an offset of `input` (preflight patch): the located
/// stream is built over the whole input and advanced to `range.start`, and the structures
/// are parsed one after the other, as the whole input's body parser does, until one ends
/// with its line ending exactly at `range.end`. The parser sees the same text there as when
/// parsing the whole input (the input goes on past the range, nothing ends where the range
/// ends), so when the whole parse stands at the top level at `range.start` its structures
/// are these, and it stands at the top level at `range.end` too. Pieces of an input parsed so
/// and joined with [`join_bodies`] give the whole input's body; when the range reaches the
/// end of `input`, the whole input's body parser runs on it as on the rest of the input.
///
/// `None` when the structures from `range.start` do not parse, or do not end exactly at
/// `range.end` (a structure runs past it, or text that is no structure comes before it), or
/// the range is not one of `input` (out of bounds, or not on `char` boundaries). No error is
/// given: the parse of the whole input tells where it fails.
pub fn parse_body_spanned_range(input: &str, range: Range<usize>) -> Option<Body> {
    input.get(range.clone())?;
    let mut stream = new_input(input);
    // Advancing moves the located stream's input, not its start: offsets stay of `input`.
    let _ = stream.next_slice(range.start);
    if range.end == input.len() {
        return body.parse(stream).ok();
    }
    body_until(&mut stream, range.end).ok()
}

/// The structures from the stream's position on, parsed as [`body`] parses them (the
/// decoration before each, the spaces and comment after it, its line ending), until one's
/// line ending ends exactly at `end` (preflight patch). Fails where `body` would stop before
/// `end`, and when a structure's line ending ends past `end`.
fn body_until(input: &mut Input<'_>, end: usize) -> ModalResult<Body> {
    use self::state::BodyParseState;
    use self::trivia::{line_comment, sp, ws};
    use std::cell::RefCell;
    use winnow::ascii::line_ending;
    use winnow::combinator::{alt, eof, fail, opt};
    use winnow::stream::Location;

    let start = input.current_token_start();
    let state = RefCell::new(BodyParseState::default());
    while input.current_token_start() < end {
        (
            ws.span().map(|span| state.borrow_mut().on_ws(span)),
            structure::structure(&state),
            (sp, opt(line_comment))
                .span()
                .map(|span| state.borrow_mut().on_ws(span)),
            alt((
                line_ending.map(|_| state.borrow_mut().on_line_ending()),
                eof.map(|_| state.borrow_mut().on_eof()),
            )),
        )
            .parse_next(input)?;
    }
    if input.current_token_start() != end {
        return fail.parse_next(input);
    }
    let mut body = state.into_inner().into_body();
    body.set_span(start..end);
    Ok(body)
}

/// Join the bodies of consecutive pieces of an input, each parsed by
/// [`parse_body_spanned_range`], the last one reaching the input's end, into the body the
/// whole input's parse gives (preflight patch): the structures in order, the span from the
/// first piece's start to the last piece's end, and the last piece's decoration (the
/// whitespace and comments after the last structure) and trailing-newline preference.
///
/// `None` when there are no pieces; when the pieces do not follow one another (each piece's
/// span ending where the next one's starts); or when a top-level attribute key repeats across
/// pieces (the whole parse rejects a redefined attribute, which each piece alone cannot see).
pub fn join_bodies(pieces: Vec<Body>) -> Option<Body> {
    for pair in pieces.windows(2) {
        if pair[0].span()?.end != pair[1].span()?.start {
            return None;
        }
    }
    let mut keys = std::collections::HashSet::new();
    for piece in &pieces {
        for attr in piece.attributes() {
            if !keys.insert(attr.key.as_str()) {
                return None;
            }
        }
    }
    let start = pieces.first()?.span()?.start;
    let last = pieces.last()?;
    let end = last.span()?.end;
    let decor = last.decor().clone();
    let prefer_oneline = last.prefer_oneline();
    let omit_trailing_newline = last.prefer_omit_trailing_newline();
    let mut structures: Vec<Structure> = Vec::with_capacity(pieces.iter().map(Body::len).sum());
    for piece in pieces {
        structures.extend(piece);
    }
    let mut joined = Body::from_vec_unchecked(structures);
    joined.set_span(start..end);
    *joined.decor_mut() = decor;
    joined.set_prefer_oneline(prefer_oneline);
    joined.set_prefer_omit_trailing_newline(omit_trailing_newline);
    Some(joined)
}

/// Parse an input into an [`Expression`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL expression.
pub fn parse_expr(input: &str) -> Result<Expression, Error> {
    let mut expr = parse_complete(input, root_expr)?;
    expr.despan(input);
    Ok(expr)
}

/// Parse an input into a [`Template`].
///
/// # Errors
///
/// Returns an error if the input does not resemble a valid HCL template.
pub fn parse_template(input: &str) -> Result<Template, Error> {
    let mut template = parse_complete(input, template)?;
    template.despan(input);
    Ok(template)
}

/// `v` without spare capacity (preflight patch): a parsed tree is read, rarely grown, and a
/// vector collected by pushing keeps up to half its allocation unused, its first allocation
/// room for four elements (a block has one or two labels, an expression a few traversal
/// operators).
pub(super) fn shrunk<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

fn parse_complete<'a, P, O>(input: &'a str, mut parser: P) -> Result<O, Error>
where
    P: ModalParser<Input<'a>, O, ContextError>,
{
    let input = new_input(input);

    parser
        .parse(input)
        .map_err(|err| Error::from_parse_error(&err))
}
