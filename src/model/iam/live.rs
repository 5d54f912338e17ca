//! The live CI role, read through the AWS SDK (feature `aws`).
//!
//! Read-only by construction: this module calls only `Get*`/`List*` operations, which a
//! unit test enforces by scanning this file. The credential chain is the SDK's standard one
//! (environment, shared files, SSO, web identity, container and instance metadata);
//! `AWS_ENDPOINT_URL` is honoured by the SDK. Credentials are never read or printed here.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// How to reach AWS.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Bound on each operation, retries included.
    pub timeout: Duration,
    /// Attempts per operation (throttling and transient errors are retried with backoff).
    pub max_attempts: u32,
    /// Page size for list calls (`None`: the service default).
    pub page_size: Option<i32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_secs(10),
            max_attempts: 4,
            page_size: None,
        }
    }
}

/// Who the check ran as.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

/// A policy of the live role.
#[derive(Clone, Debug)]
pub struct LivePolicy {
    /// `attached policy NAME (ARN)` or `inline policy NAME`.
    pub origin: String,
    pub document: serde_json::Value,
}

#[derive(Clone, Debug)]
pub struct LiveRole {
    pub caller: Caller,
    pub role_arn: String,
    pub policies: Vec<LivePolicy>,
}

/// Why the live role could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveError {
    NoCredentials(String),
    AccessDenied(String),
    Throttled(String),
    Timeout(String),
    Unreachable(String),
    NoSuchRole(String),
    Other(String),
}

impl LiveError {
    pub fn message(&self) -> String {
        match self {
            LiveError::NoCredentials(d) => format!("no AWS credentials were found ({d})"),
            LiveError::AccessDenied(d) => format!("AWS denied a read-only call: {d}"),
            LiveError::Throttled(d) => {
                format!("AWS kept throttling the requests after every retry: {d}")
            }
            LiveError::Timeout(d) => format!("AWS did not answer in time: {d}"),
            LiveError::Unreachable(d) => format!("AWS could not be reached: {d}"),
            LiveError::NoSuchRole(d) => format!("the role does not exist: {d}"),
            LiveError::Other(d) => format!("the AWS call failed: {d}"),
        }
    }
}

pub(crate) fn classify<E, R>(op: &str, err: SdkError<E, R>) -> LiveError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    // The error and its causes in words; `DisplayErrorContext` would append the SDK's
    // debug dump of the error, which is no message for a user.
    let context = error_chain(&err);
    let lower = context.to_ascii_lowercase();
    match &err {
        SdkError::TimeoutError(_) => {
            return LiveError::Timeout(format!("{op} timed out"));
        }
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                return LiveError::Timeout(format!("{op} timed out"));
            }
            if lower.contains("credential") {
                return LiveError::NoCredentials(first_line(&context));
            }
            return LiveError::Unreachable(format!("{op}: {}", first_line(&context)));
        }
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {}
        _ => {
            if lower.contains("credential") {
                return LiveError::NoCredentials(first_line(&context));
            }
        }
    }
    let code = err.code().unwrap_or_default().to_string();
    let msg = err.message().unwrap_or_default().to_string();
    let detail = if msg.is_empty() {
        format!("{op}: {code}")
    } else {
        format!("{op}: {code}: {msg}")
    };
    match code.as_str() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            LiveError::AccessDenied(detail)
        }
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => LiveError::Throttled(detail),
        "NoSuchEntity" => LiveError::NoSuchRole(detail),
        "InvalidClientTokenId"
        | "ExpiredToken"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException" => LiveError::NoCredentials(detail),
        _ if lower.contains("timeout") || lower.contains("timed out") => {
            LiveError::Timeout(format!("{op} timed out"))
        }
        _ if code.is_empty() => LiveError::Other(format!("{op}: {}", first_line(&context))),
        _ => LiveError::Other(detail),
    }
}

/// "outer: cause: root cause", each cause once.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// Decode a policy document: IAM returns them URL-encoded (RFC 3986); some servers
/// (moto's GetPolicyVersion) return them raw. Only encoded text is decoded.
pub fn decode_document(text: &str) -> Result<serde_json::Value, String> {
    let trimmed = text.trim_start();
    let json = if trimmed.starts_with('{') {
        trimmed.to_string()
    } else {
        percent_decode(trimmed)?
    };
    serde_json::from_str(&json).map_err(|e| format!("the policy document is not JSON: {e}"))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "bad percent-encoding in a policy document".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a policy document is not UTF-8".to_string())
}

/// Read the role's identity and policies. Creates a current-thread runtime for the call.
pub fn fetch_role(role: &str, settings: &Settings) -> Result<LiveRole, LiveError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::Other(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(fetch(role, settings))
}

/// The SDK configuration every live check uses: the standard credential chain and region
/// (`us-east-1` when none is set), with the check's timeouts and retries.
pub(crate) async fn load_config(settings: &Settings) -> Result<aws_config::SdkConfig, LiveError> {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.timeout)
        .read_timeout(settings.timeout)
        .operation_attempt_timeout(settings.timeout)
        .operation_timeout(settings.timeout)
        .build();
    let retries = RetryConfig::standard()
        .with_max_attempts(settings.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5));
    let region = RegionProviderChain::default_provider().or_else("us-east-1");
    tokio::time::timeout(
        settings.timeout,
        aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .timeout_config(timeouts)
            .retry_config(retries)
            .load(),
    )
    .await
    .map_err(|_| LiveError::Timeout("loading the AWS configuration timed out".into()))
}

/// Who the calls run as (`sts:GetCallerIdentity`).
pub(crate) async fn caller_identity(config: &aws_config::SdkConfig) -> Result<Caller, LiveError> {
    let sts = aws_sdk_sts::Client::new(config);
    let who = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify("sts:GetCallerIdentity", e))?;
    Ok(Caller {
        account: who.account().unwrap_or_default().to_string(),
        arn: who.arn().unwrap_or_default().to_string(),
    })
}

async fn fetch(role: &str, settings: &Settings) -> Result<LiveRole, LiveError> {
    let config = load_config(settings).await?;
    let iam = aws_sdk_iam::Client::new(&config);
    let caller = caller_identity(&config).await?;

    let got = iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .map_err(|e| classify("iam:GetRole", e))?;
    let role_arn = got.role().map(|r| r.arn().to_string()).unwrap_or_default();

    let mut policies = Vec::new();
    let mut marker: Option<String> = None;
    for _page in 0..1000 {
        let out = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker.take())
            .set_max_items(settings.page_size)
            .send()
            .await
            .map_err(|e| classify("iam:ListAttachedRolePolicies", e))?;
        for attached in out.attached_policies() {
            let arn = attached.policy_arn().unwrap_or_default().to_string();
            let name = attached.policy_name().unwrap_or_default().to_string();
            let policy = iam
                .get_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map_err(|e| classify("iam:GetPolicy", e))?;
            let version = policy
                .policy()
                .and_then(|p| p.default_version_id())
                .unwrap_or("v1")
                .to_string();
            let v = iam
                .get_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await
                .map_err(|e| classify("iam:GetPolicyVersion", e))?;
            let text = v
                .policy_version()
                .and_then(|p| p.document())
                .unwrap_or_default();
            let document = decode_document(text)
                .map_err(|e| LiveError::Other(format!("attached policy {name}: {e}")))?;
            policies.push(LivePolicy {
                origin: format!("attached policy {name} ({arn})"),
                document,
            });
        }
        match out.marker() {
            Some(m) if out.is_truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }

    let mut marker: Option<String> = None;
    for _page in 0..1000 {
        let out = iam
            .list_role_policies()
            .role_name(role)
            .set_marker(marker.take())
            .set_max_items(settings.page_size)
            .send()
            .await
            .map_err(|e| classify("iam:ListRolePolicies", e))?;
        for name in out.policy_names() {
            let p = iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| classify("iam:GetRolePolicy", e))?;
            let document = decode_document(p.policy_document())
                .map_err(|e| LiveError::Other(format!("inline policy {name}: {e}")))?;
            policies.push(LivePolicy {
                origin: format!("inline policy {name}"),
                document,
            });
        }
        match out.marker() {
            Some(m) if out.is_truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(LiveRole {
        caller,
        role_arn,
        policies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The live clients make read-only calls only: every operation invoked on a client is a
    /// `get_*`, `list_*` or `describe_*` (never `get_secret_value`), and no mutating
    /// operation name appears anywhere in their code. Covers this file and the existence
    /// check's client (`model/live/aws.rs`).
    #[test]
    fn the_client_is_read_only() {
        let sources = [
            ("live.rs", include_str!("live.rs"), 7),
            // sts:GetCallerIdentity for both is in live.rs (`caller_identity`).
            ("../live/aws.rs", include_str!("../live/aws.rs"), 9),
        ];
        for (file, src, at_least) in sources {
            let code = src.split("#[cfg(test)]").next().unwrap_or(src);
            let flat: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            let mut ops = Vec::new();
            for client in ["iam.", "sts.", "sm.", "ecr.", "s3.", "logs.", "kms."] {
                for (i, _) in flat.match_indices(client) {
                    let before = flat[..i].chars().next_back();
                    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                        continue;
                    }
                    let name: String = flat[i + client.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    ops.push(name);
                }
            }
            assert!(ops.len() >= at_least, "{file}: found {ops:?}");
            for op in &ops {
                assert!(
                    (op.starts_with("get_")
                        || op.starts_with("list_")
                        || op.starts_with("describe_"))
                        && op != "get_secret_value",
                    "{file}: `{op}` is not a Get/List/Describe operation"
                );
            }
            for verb in [
                "create_",
                "put_",
                "delete_",
                "attach_",
                "detach_",
                "update_",
                "tag_",
                "untag_",
                "set_default",
                "add_",
                "remove_",
                "upload_",
                "simulate_",
                "pass_role",
                "assume_role",
                "get_secret_value",
                "restore_",
                "rotate_",
                "schedule_",
                "cancel_",
                "copy_",
                "batch_",
                "enable_key",
                "disable_key",
                "replicate_",
            ] {
                for line in code.lines() {
                    let l = line.trim_start();
                    if l.starts_with("//") || l.starts_with('"') {
                        continue;
                    }
                    assert!(
                        !l.contains(&format!(".{verb}")),
                        "{file}: mutating call `{verb}` in the live client: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn errors_read_as_their_causes_without_a_debug_dump() {
        #[derive(Debug)]
        struct Io;
        impl std::fmt::Display for Io {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connection refused")
            }
        }
        impl std::error::Error for Io {}
        #[derive(Debug)]
        struct Dispatch(Io);
        impl std::fmt::Display for Dispatch {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Dispatch {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let text = error_chain(&Dispatch(Io));
        assert_eq!(text, "dispatch failure: connection refused");
    }

    #[test]
    fn documents_are_decoded_only_when_encoded() {
        let raw = r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
        assert_eq!(
            decode_document(raw).unwrap()["Statement"][0]["Action"],
            "s3:*"
        );
        let enc = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22iam%3ACreatePolicy%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        assert_eq!(
            decode_document(enc).unwrap()["Statement"][0]["Action"],
            "iam:CreatePolicy"
        );
        // A raw document that contains a percent sign is left alone.
        let pct = r#"{"Statement": [], "Sid": "100%"}"#;
        assert!(decode_document(pct).is_ok());
        assert!(decode_document("%ZZ").is_err());
    }
}
