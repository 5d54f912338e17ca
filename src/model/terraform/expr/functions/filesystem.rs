//! Filesystem functions. Files are read only below `Scope::repo_root()`;
//! relative paths are resolved against `Scope::module_dir()` (so a scope
//! should resolve `path.module` to `"."` or to the absolute module path).

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::super::eval::MAX_STRING_LEN;
use super::strings::render_template;
use super::{EvalError, Evaluator, Unknown, Value, obj_arg, str_arg};

type R = Result<Value, EvalError>;

/// Largest file the file functions read.
const MAX_FILE_SIZE: u64 = MAX_STRING_LEN as u64;

/// Lexically normalise a path (resolve `.` and `..` without touching the disk).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where a file-function path points: `Ok(path)` inside the repository, or
/// `Err(undecidable value)` when preflight must not or cannot look.
fn locate(ev: &Evaluator<'_>, path: &str) -> Result<PathBuf, Value> {
    let Some(root) = ev.scope.repo_root() else {
        return Err(Value::undecidable(
            "file functions are not evaluated without a repository root",
        ));
    };
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        match ev.scope.module_dir() {
            Some(dir) => dir.join(p),
            None => {
                return Err(Value::undecidable(
                    "file functions are not evaluated without a module directory",
                ));
            }
        }
    };
    let root_norm = root.canonicalize().unwrap_or_else(|_| normalize(root));
    let lexical = normalize(&joined);
    let candidate = joined.canonicalize().unwrap_or(lexical);
    if !candidate.starts_with(&root_norm) {
        return Err(Value::undecidable(format!(
            "file {path:?} is outside the repository and is not read"
        )));
    }
    Ok(candidate)
}

/// Read a file for the file functions: `Ok(Ok(bytes))`, `Ok(Err(unknown))`
/// when not allowed, `Err` when Terraform would fail (no such file).
pub(super) fn read_file_bytes(
    ev: &Evaluator<'_>,
    path: &str,
) -> Result<Result<Vec<u8>, Value>, EvalError> {
    let full = match locate(ev, path) {
        Ok(p) => p,
        Err(v) => return Ok(Err(v)),
    };
    // Opened without blocking: a FIFO or device is not a regular file and is not read.
    use crate::safe_fs::{Refusal, read_regular};
    match read_regular(&full, MAX_FILE_SIZE) {
        Ok(bytes) => Ok(Ok(bytes)),
        Err(Refusal::NotRegular(_)) => {
            Err(EvalError::new(format!("{path:?} is not a regular file")))
        }
        Err(Refusal::TooLarge(_)) => Ok(Err(Value::undecidable(format!(
            "file {path:?} is too large to evaluate"
        )))),
        Err(_) if std::fs::symlink_metadata(&full).is_err() => {
            Err(EvalError::new(format!("no file exists at {path:?}")))
        }
        Err(e) => Ok(Err(Value::undecidable(format!(
            "file {path:?} could not be read: it {e}"
        )))),
    }
}

fn read_text(ev: &Evaluator<'_>, path: &str) -> Result<Result<String, Value>, EvalError> {
    Ok(match read_file_bytes(ev, path)? {
        Ok(bytes) => Ok(String::from_utf8(bytes).map_err(|_| {
            EvalError::new(format!(
                "contents of {path:?} are not valid UTF-8; use the filebase64 function instead"
            ))
        })?),
        Err(v) => Err(v),
    })
}

pub(super) fn file(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    Ok(match read_text(ev, &path)? {
        Ok(text) => Value::String(text),
        Err(v) => v,
    })
}

pub(super) fn filebase64(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    Ok(match read_file_bytes(ev, &path)? {
        Ok(bytes) => Value::String(STANDARD.encode(bytes)),
        Err(v) => v,
    })
}

pub(super) fn fileexists(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    Ok(match locate(ev, &path) {
        Ok(full) => match std::fs::metadata(&full) {
            Ok(meta) if meta.is_file() => Value::Bool(true),
            Ok(_) => {
                return Err(EvalError::new(format!(
                    "{path:?} is not a regular file, but {}",
                    if meta_is_dir(&full) {
                        "a directory"
                    } else {
                        "something else"
                    }
                )));
            }
            Err(_) => Value::Bool(false),
        },
        Err(v) => v,
    })
}

fn meta_is_dir(p: &Path) -> bool {
    p.is_dir()
}

pub(super) fn templatefile(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if let Some(u) = a[0].first_unknown() {
        return Ok(Value::Unknown(u.clone()));
    }
    if let Some(u) = Unknown::combine_shallow([&a[1]]) {
        return Ok(Value::Unknown(u));
    }
    let path = str_arg(&a, 0)?;
    let vars = obj_arg(&a, 1)?.clone();
    match read_text(ev, &path)? {
        Ok(text) => render_template(ev, &text, &vars),
        Err(v) => Ok(v),
    }
}

pub(super) fn abspath(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    let p = Path::new(&path);
    if p.is_absolute() {
        Ok(Value::String(normalize(p).to_string_lossy().into_owned()))
    } else {
        Ok(Value::undecidable(
            "abspath() of a relative path depends on the working directory",
        ))
    }
}

/// Go's `filepath.Dir`.
pub(super) fn dirname(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    let dir = match path.rfind('/') {
        None => ".".to_string(),
        Some(i) => {
            let d = &path[..=i];
            let cleaned = clean(d);
            if cleaned.is_empty() {
                ".".to_string()
            } else {
                cleaned
            }
        }
    };
    Ok(Value::String(dir))
}

/// Go's `filepath.Base`.
pub(super) fn basename(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let path = str_arg(&a, 0)?;
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::String(
        trimmed.rsplit('/').next().unwrap_or(trimmed).to_string(),
    ))
}

/// Go's `path.Clean` for slash-separated paths.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::expr::eval::{EmptyScope, Scope};

    struct DirScope {
        root: PathBuf,
        module: PathBuf,
    }

    impl Scope for DirScope {
        fn resolve(&self, _: &str, _: &[&str]) -> Option<(Value, usize)> {
            None
        }
        fn module_dir(&self) -> Option<&Path> {
            Some(&self.module)
        }
        fn repo_root(&self) -> Option<&Path> {
            Some(&self.root)
        }
    }

    #[test]
    fn paths() {
        let mut ev = Evaluator::new(&EmptyScope);
        let s = |v: &str| vec![Value::from(v)];
        assert_eq!(
            dirname(&mut ev, s("foo/bar/baz.txt")).unwrap(),
            Value::from("foo/bar")
        );
        assert_eq!(dirname(&mut ev, s("baz.txt")).unwrap(), Value::from("."));
        assert_eq!(dirname(&mut ev, s("/x")).unwrap(), Value::from("/"));
        assert_eq!(
            basename(&mut ev, s("foo/bar/baz.txt")).unwrap(),
            Value::from("baz.txt")
        );
        assert_eq!(
            basename(&mut ev, s("foo/bar/")).unwrap(),
            Value::from("bar")
        );
        assert!(abspath(&mut ev, s("x")).unwrap().is_unknown());
        assert!(file(&mut ev, s("x")).unwrap().is_unknown());
    }

    #[test]
    fn reads_only_inside_repo() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let module = root.join("mod");
        std::fs::create_dir_all(&module).unwrap();
        std::fs::write(module.join("a.txt"), "hello").unwrap();
        std::fs::write(
            module.join("t.tpl"),
            "Hi ${name}%{ for x in xs }-${x}%{ endfor }",
        )
        .unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        let scope = DirScope { root, module };
        let mut ev = Evaluator::new(&scope);
        let s = |v: &str| vec![Value::from(v)];
        assert_eq!(file(&mut ev, s("./a.txt")).unwrap(), Value::from("hello"));
        assert_eq!(fileexists(&mut ev, s("a.txt")).unwrap(), Value::Bool(true));
        assert_eq!(fileexists(&mut ev, s("b.txt")).unwrap(), Value::Bool(false));
        assert!(file(&mut ev, s("b.txt")).is_err());
        assert!(file(&mut ev, s("../../secret.txt")).unwrap().is_unknown());
        assert!(
            fileexists(&mut ev, s("../../secret.txt"))
                .unwrap()
                .is_unknown()
        );
        assert_eq!(
            filebase64(&mut ev, s("a.txt")).unwrap(),
            Value::from("aGVsbG8=")
        );
        let vars = Value::from_json(&serde_json::json!({"name": "bob", "xs": ["a", "b"]}));
        assert_eq!(
            templatefile(&mut ev, vec!["t.tpl".into(), vars]).unwrap(),
            Value::from("Hi bob-a-b")
        );
    }

    #[test]
    fn a_template_that_renders_itself_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::write(
            root.join("me.tpl"),
            "${templatefile(\"me.tpl\", {})}${templatefile(\"me.tpl\", {})}",
        )
        .unwrap();
        let scope = DirScope {
            root: root.clone(),
            module: root,
        };
        let mut ev = Evaluator::new(&scope);
        let started = std::time::Instant::now();
        let e = templatefile(
            &mut ev,
            vec!["me.tpl".into(), Value::Object(Default::default())],
        )
        .unwrap_err();
        assert!(e.message.contains("recursively"), "{}", e.message);
        assert!(started.elapsed().as_secs() < 5);
    }
}
