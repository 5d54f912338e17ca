//! `ci-role-drift` against real AWS APIs served locally: a moto server for the IAM/STS
//! behaviour, and tiny local HTTP servers for the failure modes moto cannot produce
//! (AccessDenied, throttling, a server that never answers).
//!
//! Every test runs the binary with a cleared environment, so no developer credentials or
//! profile leak in and tests do not race on process-wide variables. The moto tests skip
//! (saying why) when `moto_server` is not installed; `.ci/run` installs it.
#![cfg(feature = "aws")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
const KEY_ID: &str = "AKIATESTKEYID0000000";

const DOCUMENTED: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "IamForIrsa",
      "Effect": "Allow",
      "Action": [
        "iam:CreateRole",
        "iam:GetRole",
        "iam:CreatePolicy",
        "iam:GetPolicy"
      ],
      "Resource": "*"
    },
    {
      "Sid": "State",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::goldenpath-tfstate/*"
    }
  ]
}
"#;
/// Line of `"iam:CreatePolicy"` in [`DOCUMENTED`].
const CREATE_POLICY_LINE: usize = 10;

const DRIFTED: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:GetRole", "iam:GetPolicy"], "Resource": "*"},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::goldenpath-tfstate/*"}
]}"#;

fn repo(extra_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs/policies")).unwrap();
    std::fs::write(dir.path().join("docs/policies/ci.json"), DOCUMENTED).unwrap();
    std::fs::write(
        dir.path().join("preflight.toml"),
        format!(
            "[iam]\nci_policy = \"docs/policies/ci.json\"\nci_role = \"github-actions-terraform\"\n{extra_toml}"
        ),
    )
    .unwrap();
    dir
}

/// Run `preflight check --aws` on `dir` with only the given AWS environment.
fn run(dir: &Path, env: &[(&str, String)]) -> (Output, serde_json::Value, Duration) {
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let empty = home.join("empty");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_preflight"));
    cmd.args(["check", "--aws", "--verbose", "--format", "json"])
        .arg(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "the secret key leaked into the output"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out, v, elapsed)
}

fn creds(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_string()),
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
    ]
}

/// (severity, line, message) of the ci-role-drift findings.
fn drift(v: &serde_json::Value) -> Vec<(String, u64, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "ci-role-drift")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn of(found: &[(String, u64, String)], severity: &str) -> Vec<(u64, String)> {
    found
        .iter()
        .filter(|f| f.0 == severity)
        .map(|f| (f.1, f.2.clone()))
        .collect()
}

// ------------------------------------------------------------------ moto

struct Moto {
    child: Child,
    endpoint: String,
    python: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_moto() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PREFLIGHT_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for venv in ["target/ci-venv", ".ci/venv"] {
        let server = root.join(venv).join("bin/moto_server");
        if server.is_file() {
            return Some(server);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("moto_server"))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start moto, or `None` (with the reason printed) when it is not installed.
fn moto() -> Option<Moto> {
    let Some(server) = find_moto() else {
        eprintln!(
            "skipping: moto_server is not installed (`pip install 'moto[server]'`; .ci/run does it)"
        );
        return None;
    };
    let python = server.with_file_name("python");
    let port = free_port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let m = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        python,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(m)
}

impl Moto {
    /// Create the CI role with `--attach NAME=FILE` / `--inline NAME=FILE` policies.
    fn seed(&self, dir: &Path, policies: &[(&str, &str, &str)]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/seed_role.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script)
            .arg(&self.endpoint)
            .arg("github-actions-terraform")
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1");
        for (i, (flag, name, doc)) in policies.iter().enumerate() {
            let path = dir.join(format!(".policy-{i}.json"));
            std::fs::write(&path, doc).unwrap();
            cmd.arg(flag).arg(format!("{name}={}", path.display()));
        }
        let out = cmd.output().expect("python runs");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_role_missing_create_policy_is_the_seed_drift() {
    let Some(moto) = moto() else { return };
    let dir = repo("");
    moto.seed(dir.path(), &[("--attach", "ci-drifted", DRIFTED)]);
    let (out, v, _) = run(dir.path(), &creds(&moto.endpoint));
    let found = drift(&v);
    let errors = of(&found, "error");
    assert_eq!(errors.len(), 1, "{found:?}");
    assert_eq!(errors[0].0, CREATE_POLICY_LINE as u64);
    assert!(
        errors[0].1.contains("`iam:CreatePolicy`"),
        "{}",
        errors[0].1
    );
    assert!(of(&found, "warning").is_empty(), "{found:?}");
    let notes = of(&found, "note");
    assert!(
        notes.iter().any(|n| n.1.contains("account 123456789012")),
        "{found:?}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_matching_role_has_no_drift_even_split_across_pages_and_inline_policies() {
    let Some(moto) = moto() else { return };
    let dir = repo("[rules.ci-role-drift]\npage_size = 1\n");
    let iam = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:CreateRole", "iam:GetRole"], "Resource": "*"}]}"#;
    let iam2 = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "IAM:createpolicy", "Resource": "*"}]}"#;
    let get = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetPolicy", "Resource": ["*"]}]}"#;
    let state = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::goldenpath-tfstate/*"}]}"#;
    moto.seed(
        dir.path(),
        &[
            ("--attach", "ci-iam", iam),
            ("--attach", "ci-iam-2", iam2),
            ("--inline", "get", get),
            ("--inline", "state", state),
        ],
    );
    let (out, v, _) = run(dir.path(), &creds(&moto.endpoint));
    let found = drift(&v);
    assert!(of(&found, "error").is_empty(), "{found:?}");
    assert!(of(&found, "warning").is_empty(), "{found:?}");
    assert!(
        found.iter().any(|f| f.2.contains("(4 policies)")),
        "{found:?}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn permissions_beyond_the_document_are_warnings() {
    let Some(moto) = moto() else { return };
    let dir = repo("");
    let wider = r#"{"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["iam:CreateRole", "iam:GetRole", "iam:CreatePolicy", "iam:GetPolicy"], "Resource": "*"},
      {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::goldenpath-tfstate/*"},
      {"Effect": "Allow", "Action": "iam:DeleteRole", "Resource": "*"}
    ]}"#;
    moto.seed(dir.path(), &[("--attach", "ci-wide", wider)]);
    let (_, v, _) = run(dir.path(), &creds(&moto.endpoint));
    let found = drift(&v);
    assert!(of(&found, "error").is_empty(), "{found:?}");
    let warnings = of(&found, "warning");
    assert_eq!(warnings.len(), 1, "{found:?}");
    assert!(warnings[0].1.contains("`iam:DeleteRole`"), "{found:?}");
}

#[test]
fn a_missing_role_is_a_could_not_verify_warning() {
    let Some(moto) = moto() else { return };
    let dir = repo("");
    let (_, v, _) = run(dir.path(), &creds(&moto.endpoint));
    let found = drift(&v);
    let warnings = of(&found, "warning");
    assert_eq!(warnings.len(), 1, "{found:?}");
    assert!(warnings[0].1.contains("could not verify"), "{found:?}");
    assert!(warnings[0].1.contains("does not exist"), "{found:?}");
}

// ------------------------------------------------------------------ failure modes

fn could_not_verify(v: &serde_json::Value, why: &str) {
    let found = drift(v);
    assert_eq!(found.len(), 1, "{found:?}");
    let (severity, _, message) = &found[0];
    assert_eq!(severity, "warning");
    assert!(message.starts_with("could not verify"), "{message}");
    assert!(message.contains(why), "expected `{why}` in: {message}");
}

#[test]
fn connection_refused_is_a_warning() {
    let port = free_port(); // bound then released: nothing listens there
    let dir = repo("[rules.ci-role-drift]\ntimeout_seconds = 5\nmax_attempts = 2\n");
    let (out, v, elapsed) = run(dir.path(), &creds(&format!("http://127.0.0.1:{port}")));
    could_not_verify(&v, "could not be reached");
    assert_eq!(out.status.code(), Some(0));
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16).flatten() {
            keep.lock().unwrap().push(stream); // accept, never answer
        }
    });
    let dir = repo("[rules.ci-role-drift]\ntimeout_seconds = 2\n");
    let (_, v, elapsed) = run(dir.path(), &creds(&format!("http://127.0.0.1:{port}")));
    could_not_verify(&v, "did not answer in time");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn missing_credentials_are_a_warning() {
    let dir = repo("[rules.ci-role-drift]\ntimeout_seconds = 5\n");
    let port = free_port();
    let env = [("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))];
    let (_, v, elapsed) = run(dir.path(), &env);
    could_not_verify(&v, "no AWS credentials");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

/// A local stand-in for the STS/IAM query API: answers GetCallerIdentity, and each other
/// action from a script of responses (the last one repeats).
struct FakeAws {
    endpoint: String,
    calls: Arc<Mutex<Vec<String>>>,
}

fn xml_ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn xml_error(status: u16, code: &str, message: &str) -> (u16, String) {
    (
        status,
        format!(
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        ),
    )
}

fn default_response(action: &str) -> (u16, String) {
    match action {
        "GetCallerIdentity" => xml_ok(
            action,
            "<Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDATEST</UserId><Account>123456789012</Account>",
        ),
        "GetRole" => xml_ok(
            action,
            "<Role><Path>/</Path><RoleName>github-actions-terraform</RoleName><RoleId>AROATEST</RoleId><Arn>arn:aws:iam::123456789012:role/github-actions-terraform</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></Role>",
        ),
        "ListAttachedRolePolicies" => xml_ok(
            action,
            "<AttachedPolicies/><IsTruncated>false</IsTruncated>",
        ),
        "ListRolePolicies" => xml_ok(
            action,
            "<PolicyNames><member>all</member></PolicyNames><IsTruncated>false</IsTruncated>",
        ),
        "GetRolePolicy" => {
            let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22iam%3A%2A%22%2C%22s3%3AGetObject%22%2C%22s3%3APutObject%22%5D%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
            xml_ok(
                action,
                &format!(
                    "<RoleName>github-actions-terraform</RoleName><PolicyName>all</PolicyName><PolicyDocument>{doc}</PolicyDocument>"
                ),
            )
        }
        _ => xml_error(400, "InvalidAction", "not served"),
    }
}

impl FakeAws {
    /// `script(action, nth call of that action)` → Some(response) to override the default.
    fn start(script: impl Fn(&str, usize) -> Option<(u16, String)> + Send + 'static) -> FakeAws {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let served = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if served.fetch_add(1, Ordering::SeqCst) > 200 {
                    break;
                }
                let _ = handle(stream, &log, &script);
            }
        });
        FakeAws {
            endpoint: format!("http://127.0.0.1:{port}"),
            calls,
        }
    }

    fn count(&self, action: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|a| *a == action)
            .count()
    }
}

/// A response: HTTP status and XML body.
type Response = (u16, String);

fn handle(
    stream: TcpStream,
    log: &Mutex<Vec<String>>,
    script: &dyn Fn(&str, usize) -> Option<Response>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body);
    let action = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_string();
    let nth = {
        let mut log = log.lock().unwrap();
        let nth = log.iter().filter(|a| **a == action).count();
        log.push(action.clone());
        nth
    };
    let (status, xml) = script(&action, nth).unwrap_or_else(|| default_response(&action));
    let reason = if status == 200 { "OK" } else { "Error" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        xml.len()
    )?;
    stream.flush()
}

#[test]
fn access_denied_is_a_warning() {
    let fake = FakeAws::start(|action, _| {
        (action == "GetRole").then(|| {
            xml_error(
                403,
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole",
            )
        })
    });
    let dir = repo("");
    let (_, v, _) = run(dir.path(), &creds(&fake.endpoint));
    could_not_verify(&v, "AWS denied a read-only call: iam:GetRole: AccessDenied");
    assert_eq!(fake.count("GetRole"), 1, "AccessDenied is not retried");
}

#[test]
fn throttling_is_retried_with_backoff() {
    let fake = FakeAws::start(|action, nth| {
        (action == "GetRole" && nth < 2).then(|| xml_error(400, "Throttling", "Rate exceeded"))
    });
    let dir = repo("");
    let (_, v, _) = run(dir.path(), &creds(&fake.endpoint));
    let found = drift(&v);
    assert!(
        !found.iter().any(|f| f.2.contains("could not verify")),
        "{found:?}"
    );
    assert_eq!(fake.count("GetRole"), 3);
    // The fake role's inline policy (URL-encoded, as IAM sends it) allows everything the
    // document does, and more: no errors, warnings for the extra.
    assert!(of(&found, "error").is_empty(), "{found:?}");
}

#[test]
fn throttling_that_never_stops_is_a_warning() {
    let fake = FakeAws::start(|action, _| {
        (action == "GetRole").then(|| xml_error(400, "Throttling", "Rate exceeded"))
    });
    let dir = repo("[rules.ci-role-drift]\nmax_attempts = 3\n");
    let (_, v, _) = run(dir.path(), &creds(&fake.endpoint));
    could_not_verify(&v, "throttling");
    assert_eq!(fake.count("GetRole"), 3);
}

#[test]
fn a_document_for_another_account_is_a_warning() {
    let fake = FakeAws::start(|_, _| None);
    let dir = repo("");
    std::fs::write(
        dir.path().join("docs/policies/ci.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::999999999999:role/x"}]}"#,
    )
    .unwrap();
    let (_, v, _) = run(dir.path(), &creds(&fake.endpoint));
    let found = drift(&v);
    let warnings = of(&found, "warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.1.contains("account 999999999999") && w.1.contains("123456789012")),
        "{found:?}"
    );
}

// ------------------------------------------------------------------ name-already-exists

/// A root that creates roles and secrets under fixed names, its state in S3.
const NAMES_TF: &str = r#"terraform {
  backend "s3" {
    bucket = "acme-tfstate"
    key    = "dev/terraform.tfstate"
    region = "us-east-1"
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_iam_role" "external_dns" {
  name               = "goldenpath-dev-external-dns"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "managed" {
  name               = "goldenpath-dev-managed"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "fresh" {
  name               = "goldenpath-dev-fresh"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "generated" {
  name_prefix        = "goldenpath-dev-"
  assume_role_policy = "{}"
}

resource "aws_secretsmanager_secret" "db" {
  name = "goldenpath/dev/db"
}

resource "aws_secretsmanager_secret" "api" {
  for_each = toset(["web"])
  name     = "goldenpath/dev/api-${each.key}"
}
"#;
/// Lines of the blocks in [`NAMES_TF`].
const EXTERNAL_DNS_LINE: u64 = 13;
const DB_LINE: u64 = 33;
const API_LINE: u64 = 37;

/// A state that holds `aws_iam_role.managed` only.
const NAMES_STATE: &str = r#"{"version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "x",
  "outputs": {}, "resources": [
  {"mode": "managed", "type": "aws_iam_role", "name": "managed", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
   "instances": [{"schema_version": 0, "attributes": {"name": "goldenpath-dev-managed"}}]}
]}"#;

const SECRET_VALUE: &str = "not-a-real-secret-value";

fn names_repo(tf: &str, state: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("envs/dev")).unwrap();
    std::fs::write(dir.path().join("envs/dev/main.tf"), tf).unwrap();
    if let Some(state) = state {
        std::fs::write(dir.path().join("envs/dev/terraform.tfstate"), state).unwrap();
    }
    std::fs::write(dir.path().join("preflight.toml"), "").unwrap();
    dir
}

/// Run `preflight check --aws envs/dev` in `dir` with only the given AWS environment.
fn run_names(dir: &Path, env: &[(&str, String)]) -> (Output, serde_json::Value) {
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let empty = home.join("empty");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_preflight"));
    cmd.current_dir(dir)
        .args([
            "check",
            "--aws",
            "--verbose",
            "--format",
            "json",
            "envs/dev",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for leaked in [SECRET, SECRET_VALUE] {
        assert!(
            !stdout.contains(leaked) && !stderr.contains(leaked),
            "a secret leaked into the output"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out, v)
}

/// (severity, file, line, message, help) of the findings of a rule.
fn findings_of(v: &serde_json::Value, rule: &str) -> Vec<(String, String, u64, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
                f["help"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

impl Moto {
    fn seed_names(&self, dir: &Path, args: &[(&str, &str)]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/seed_names.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script)
            .arg(&self.endpoint)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1");
        for (i, (flag, value)) in args.iter().enumerate() {
            let value = if *flag == "--state" {
                let (target, text) = value.split_once('=').unwrap();
                let path = dir.join(format!(".state-{i}.json"));
                std::fs::write(&path, text).unwrap();
                format!("{target}={}", path.display())
            } else {
                value.to_string()
            };
            cmd.arg(flag).arg(value);
        }
        let out = cmd.output().expect("python runs");
        assert!(
            out.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn seed_collisions(moto: &Moto, dir: &Path, state: bool) {
    let state_arg = format!("acme-tfstate/dev/terraform.tfstate={NAMES_STATE}");
    let mut args = vec![
        ("--role", "goldenpath-dev-external-dns"),
        ("--role", "goldenpath-dev-managed"),
        ("--deleted-secret", "goldenpath/dev/db"),
        ("--secret", "goldenpath/dev/api-web"),
    ];
    if state {
        args.push(("--state", &state_arg));
    }
    moto.seed_names(dir, &args);
}

#[test]
fn objects_outside_the_state_are_reported_at_their_blocks() {
    let Some(moto) = moto() else { return };
    let dir = names_repo(NAMES_TF, None);
    seed_collisions(&moto, dir.path(), true);
    let (out, v) = run_names(dir.path(), &creds(&moto.endpoint));
    let found = findings_of(&v, "name-already-exists");
    let errors: Vec<_> = found.iter().filter(|f| f.0 == "error").collect();
    assert_eq!(errors.len(), 3, "{found:#?}");
    let at = |line: u64| {
        errors
            .iter()
            .find(|f| f.2 == line && f.1 == "envs/dev/main.tf")
            .unwrap_or_else(|| panic!("no error at line {line}: {found:#?}"))
    };
    let role = at(EXTERNAL_DNS_LINE);
    assert!(
        role.3
            .contains("arn:aws:iam::123456789012:role/goldenpath-dev-external-dns"),
        "{}",
        role.3
    );
    assert!(
        role.4
            .contains("terraform import aws_iam_role.external_dns goldenpath-dev-external-dns"),
        "{}",
        role.4
    );
    assert!(role.4.contains("delete it first"), "{}", role.4);
    let db = at(DB_LINE);
    assert!(db.3.contains("scheduled for deletion"), "{}", db.3);
    assert!(db.4.contains("restore-secret"), "{}", db.4);
    assert!(db.4.contains("--force-delete-without-recovery"), "{}", db.4);
    let api = at(API_LINE);
    assert!(!api.3.contains("scheduled"), "{}", api.3);
    assert!(
        api.4
            .contains("terraform import 'aws_secretsmanager_secret.api[\"web\"]' arn:aws:secretsmanager:us-east-1:123456789012:secret:goldenpath/dev/api-web-"),
        "{}",
        api.4
    );
    // The role the state holds, the role nobody created and the generated name: silent.
    assert!(
        !found
            .iter()
            .any(|f| f.3.contains("managed") || f.3.contains("fresh") || f.3.contains("generated")),
        "{found:#?}"
    );
    assert!(found.iter().all(|f| f.0 == "error"), "{found:#?}");
    // Without [iam] ci_role/ci_policy the drift check says what to configure.
    let drift = findings_of(&v, "ci-role-drift");
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0].0, "note");
    assert!(drift[0].3.contains("ci_role"), "{drift:#?}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn state_that_cannot_be_read_is_a_note_never_an_error() {
    let Some(moto) = moto() else { return };
    let dir = names_repo(NAMES_TF, None);
    seed_collisions(&moto, dir.path(), false); // no state bucket
    let (out, v) = run_names(dir.path(), &creds(&moto.endpoint));
    let found = findings_of(&v, "name-already-exists");
    assert_eq!(found.len(), 1, "{found:#?}");
    let (severity, file, line, message, _) = &found[0];
    assert_eq!(severity, "note");
    assert_eq!((file.as_str(), *line), ("envs/dev/main.tf", 1));
    assert!(message.starts_with("could not verify"), "{message}");
    assert!(
        message.contains("s3://acme-tfstate/dev/terraform.tfstate"),
        "{message}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn another_backend_is_a_note_naming_it() {
    let Some(moto) = moto() else { return };
    let tf = NAMES_TF.replace("backend \"s3\"", "backend \"gcs\"");
    let dir = names_repo(&tf, None);
    seed_collisions(&moto, dir.path(), true);
    let (_, v) = run_names(dir.path(), &creds(&moto.endpoint));
    let found = findings_of(&v, "name-already-exists");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "note");
    assert!(found[0].3.contains("`gcs`"), "{found:#?}");
}

#[test]
fn a_tfbackend_file_completes_a_partial_backend() {
    let Some(moto) = moto() else { return };
    let tf = NAMES_TF.replace(
        "    bucket = \"acme-tfstate\"\n    key    = \"dev/terraform.tfstate\"\n",
        "",
    );
    let dir = names_repo(&tf, None);
    std::fs::write(
        dir.path().join("envs/dev/dev.s3.tfbackend"),
        "bucket = \"acme-tfstate\"\nkey = \"dev/terraform.tfstate\"\n",
    )
    .unwrap();
    seed_collisions(&moto, dir.path(), true);
    let (_, v) = run_names(dir.path(), &creds(&moto.endpoint));
    let found = findings_of(&v, "name-already-exists");
    let lines: Vec<u64> = found
        .iter()
        .filter(|f| f.0 == "error")
        .map(|f| f.2)
        .collect();
    assert_eq!(lines.len(), 3, "{found:#?}");
    assert!(!found.iter().any(|f| f.3.contains("managed")), "{found:#?}");
}

/// A root with two roles and a local state holding neither.
const TWO_ROLES_TF: &str = r#"resource "aws_iam_role" "first" {
  name               = "first"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "second" {
  name               = "second"
  assume_role_policy = "{}"
}
"#;
const EMPTY_STATE: &str = r#"{"version": 4, "resources": []}"#;

#[test]
fn access_denied_on_one_name_is_a_warning_and_the_others_are_still_checked() {
    let fake = FakeAws::start(|action, nth| {
        (action == "GetRole" && nth == 0).then(|| {
            xml_error(
                403,
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole",
            )
        })
    });
    let dir = names_repo(TWO_ROLES_TF, Some(EMPTY_STATE));
    let (_, v) = run_names(dir.path(), &creds(&fake.endpoint));
    let found = findings_of(&v, "name-already-exists");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, "warning");
    assert_eq!(found[0].2, 1);
    assert!(found[0].3.starts_with("could not verify"), "{found:#?}");
    assert!(found[0].3.contains("AccessDenied"), "{found:#?}");
    assert_eq!(found[1].0, "error");
    assert_eq!(found[1].2, 6);
    assert!(
        found[1]
            .4
            .contains("terraform import aws_iam_role.second second"),
        "{found:#?}"
    );
    assert_eq!(fake.count("GetRole"), 2);
}

#[test]
fn throttling_on_one_name_is_a_warning_and_the_others_are_still_checked() {
    let fake = FakeAws::start(|action, nth| {
        (action == "GetRole" && nth < 2).then(|| xml_error(400, "Throttling", "Rate exceeded"))
    });
    let dir = names_repo(TWO_ROLES_TF, Some(EMPTY_STATE));
    std::fs::write(
        dir.path().join("preflight.toml"),
        "[rules.name-already-exists]\nmax_attempts = 2\n",
    )
    .unwrap();
    let (_, v) = run_names(dir.path(), &creds(&fake.endpoint));
    let found = findings_of(&v, "name-already-exists");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].0.as_str(), found[0].2), ("warning", 1));
    assert!(found[0].3.contains("throttling"), "{found:#?}");
    assert_eq!((found[1].0.as_str(), found[1].2), ("error", 6));
    assert_eq!(fake.count("GetRole"), 3);
}

#[test]
fn a_local_state_that_holds_the_role_is_silent() {
    let fake = FakeAws::start(|_, _| None);
    let state = r#"{"version": 4, "resources": [
      {"mode": "managed", "type": "aws_iam_role", "name": "first", "instances": [{"attributes": {}}]}
    ]}"#;
    let dir = names_repo(TWO_ROLES_TF, Some(state));
    let (_, v) = run_names(dir.path(), &creds(&fake.endpoint));
    let found = findings_of(&v, "name-already-exists");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0.as_str(), found[0].2), ("error", 6));
    assert_eq!(fake.count("GetRole"), 1, "the held role is not asked about");
}

#[test]
fn no_state_object_at_the_key_is_an_empty_state() {
    let Some(moto) = moto() else { return };
    let dir = names_repo(NAMES_TF, None);
    seed_collisions(&moto, dir.path(), false);
    let other = format!("acme-tfstate/prod/terraform.tfstate={NAMES_STATE}");
    moto.seed_names(dir.path(), &[("--state", &other)]);
    let (_, v) = run_names(dir.path(), &creds(&moto.endpoint));
    let found = findings_of(&v, "name-already-exists");
    let lines: Vec<u64> = found.iter().map(|f| f.2).collect();
    // Nothing is held: the role the other key's state holds is reported too.
    assert_eq!(lines.len(), 4, "{found:#?}");
    assert!(found.iter().all(|f| f.0 == "error"), "{found:#?}");
    assert!(
        found
            .iter()
            .filter(|f| !f.3.contains("scheduled"))
            .all(|f| f.3.contains("which does not exist yet")),
        "{found:#?}"
    );
}
