//! Hash functions over strings and files, and `uuidv5`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::filesystem::read_file_bytes;
use super::{EvalError, Evaluator, Value, str_arg};

type R = Result<Value, EvalError>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

pub(super) fn md5(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(hex(&digest::<Md5>(
        str_arg(&a, 0)?.as_bytes(),
    ))))
}

pub(super) fn sha1(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(hex(&digest::<Sha1>(
        str_arg(&a, 0)?.as_bytes(),
    ))))
}

pub(super) fn sha256(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(hex(&digest::<Sha256>(
        str_arg(&a, 0)?.as_bytes(),
    ))))
}

pub(super) fn sha512(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(hex(&digest::<Sha512>(
        str_arg(&a, 0)?.as_bytes(),
    ))))
}

pub(super) fn base64sha256(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(
        STANDARD.encode(digest::<Sha256>(str_arg(&a, 0)?.as_bytes())),
    ))
}

pub(super) fn base64sha512(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(
        STANDARD.encode(digest::<Sha512>(str_arg(&a, 0)?.as_bytes())),
    ))
}

/// Read the file named by argument 0 and apply `f`; unreadable-by-policy
/// paths give an Undecidable value.
fn with_file(ev: &Evaluator<'_>, a: &[Value], f: impl FnOnce(&[u8]) -> String) -> R {
    let path = str_arg(a, 0)?;
    match read_file_bytes(ev, &path)? {
        Ok(bytes) => Ok(Value::String(f(&bytes))),
        Err(unknown) => Ok(unknown),
    }
}

pub(super) fn filemd5(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| hex(&digest::<Md5>(b)))
}

pub(super) fn filesha1(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| hex(&digest::<Sha1>(b)))
}

pub(super) fn filesha256(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| hex(&digest::<Sha256>(b)))
}

pub(super) fn filesha512(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| hex(&digest::<Sha512>(b)))
}

pub(super) fn filebase64sha256(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| STANDARD.encode(digest::<Sha256>(b)))
}

pub(super) fn filebase64sha512(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    with_file(ev, &a, |b| STANDARD.encode(digest::<Sha512>(b)))
}

fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hexdigits: String = s.chars().filter(|c| *c != '-').collect();
    if hexdigits.len() != 32 || s.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hexdigits.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// RFC 4122 name-based UUID (version 5, SHA-1).
pub(super) fn uuidv5(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let ns = str_arg(&a, 0)?;
    let name = str_arg(&a, 1)?;
    let ns_uuid = match ns.as_str() {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
        other => other,
    };
    let ns_bytes = parse_uuid(ns_uuid).ok_or_else(|| {
        EvalError::new(format!(
            "uuidv5() doesn't support namespace {}",
            Value::String(ns.clone())
        ))
    })?;
    let mut h = Sha1::new();
    h.update(ns_bytes);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let x = hex(&u);
    Ok(Value::String(format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::expr::eval::EmptyScope;

    fn run(f: fn(&mut Evaluator<'_>, Vec<Value>) -> R, args: Vec<Value>) -> Value {
        let mut ev = Evaluator::new(&EmptyScope);
        f(&mut ev, args).unwrap()
    }

    #[test]
    fn hashes() {
        assert_eq!(
            run(md5, vec!["hello world".into()]),
            Value::from("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(
            run(sha1, vec!["hello world".into()]),
            Value::from("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            run(sha256, vec!["hello world".into()]),
            Value::from("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            run(uuidv5, vec!["dns".into(), "www.terraform.io".into()]),
            Value::from("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
    }
}
