//! The live existence check's AWS client (feature `aws`).
//!
//! Read-only by construction: every operation called here is a `get_*`, `list_*` or
//! `describe_*` (S3: `get_object` for the state and `get_bucket_location`), which a unit
//! test enforces by scanning this file (with `model/iam/live.rs`). Secrets are described
//! (`DescribeSecret`), never read. The credential chain and `AWS_ENDPOINT_URL` are the
//! SDK's standard ones; credentials are never read or printed here.

use super::{ExistenceCheck, MAX_STATE_BYTES, NamedObject};
use crate::model::iam::live::{Caller, LiveError, Settings, classify};
use aws_config::{Region, SdkConfig};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

/// What AWS says about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Absent,
    Exists {
        arn: String,
        /// A Secrets Manager secret's scheduled deletion date.
        deleted: Option<String>,
    },
}

/// A connected client: the SDK configuration and who the calls run as.
pub struct Client {
    rt: tokio::runtime::Runtime,
    config: SdkConfig,
    pub caller: Caller,
    page_size: Option<i32>,
}

fn partition(caller: &Caller) -> &str {
    caller
        .arn
        .split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// `Ok(None)` when the error is one of the `absent` codes.
fn outcome<T, E, R>(
    op: &str,
    absent: &[String],
    r: Result<T, SdkError<E, R>>,
) -> Result<Option<T>, LiveError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match r {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            if let Some(code) = e.code()
                && absent.iter().any(|a| a == code)
            {
                return Ok(None);
            }
            Err(classify(op, e))
        }
    }
}

impl Client {
    /// Load the configuration and ask `sts:GetCallerIdentity`.
    pub fn connect(settings: &Settings) -> Result<Client, LiveError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LiveError::Other(format!("cannot start the async runtime: {e}")))?;
        let (config, caller) = rt.block_on(async {
            let config = crate::model::iam::live::load_config(settings).await?;
            let caller = crate::model::iam::live::caller_identity(&config).await?;
            Ok::<_, LiveError>((config, caller))
        })?;
        Ok(Client {
            rt,
            config,
            caller,
            page_size: settings.page_size,
        })
    }

    fn region(&self, region: Option<&str>) -> String {
        region
            .map(str::to_owned)
            .or_else(|| self.config.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string())
    }

    /// Read a state object with `s3:GetObject`: `Ok(None)` when there is no object at the
    /// key (the root was never applied there).
    pub fn read_state(
        &self,
        bucket: &str,
        key: &str,
        region: Option<&str>,
        path_style: bool,
    ) -> Result<Option<Vec<u8>>, LiveError> {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(self.region(region)))
            .force_path_style(path_style || self.config.endpoint_url().is_some())
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        self.rt.block_on(async {
            let got = s3.get_object().bucket(bucket).key(key).send().await;
            let Some(out) = outcome("s3:GetObject", &["NoSuchKey".to_string()], got)? else {
                return Ok(None);
            };
            if out.content_length().unwrap_or(0) as u64 > MAX_STATE_BYTES {
                return Err(LiveError::Other(format!(
                    "s3:GetObject: the state is larger than {MAX_STATE_BYTES} bytes"
                )));
            }
            let mut body = out.body;
            let mut bytes = Vec::new();
            while let Some(chunk) = body
                .try_next()
                .await
                .map_err(|e| LiveError::Unreachable(format!("s3:GetObject: {e}")))?
            {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > MAX_STATE_BYTES {
                    return Err(LiveError::Other(format!(
                        "s3:GetObject: the state is larger than {MAX_STATE_BYTES} bytes"
                    )));
                }
            }
            Ok(Some(bytes))
        })
    }

    /// Ask whether an object of that name exists, with the table's read call.
    pub fn probe(&self, check: &ExistenceCheck, obj: &NamedObject) -> Result<Probe, LiveError> {
        let absent = &check.absent;
        let name = obj.name.as_str();
        let region = self.region(obj.region.as_deref());
        let account = self.caller.account.clone();
        let part = partition(&self.caller).to_string();
        let exists = |arn: String| Probe::Exists { arn, deleted: None };
        self.rt.block_on(async {
            match check.call.as_str() {
                "iam:GetRole" => {
                    let iam = aws_sdk_iam::Client::new(&self.config);
                    let r = iam.get_role().role_name(name).send().await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(o) => {
                            exists(o.role().map(|r| r.arn().to_string()).unwrap_or_default())
                        }
                    })
                }
                "iam:GetPolicy" => {
                    let iam = aws_sdk_iam::Client::new(&self.config);
                    let path = if obj.path.is_empty() { "/" } else { &obj.path };
                    let arn = format!("arn:{part}:iam::{account}:policy{path}{name}");
                    let r = iam.get_policy().policy_arn(&arn).send().await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(o) => exists(
                            o.policy()
                                .and_then(|p| p.arn())
                                .map(str::to_owned)
                                .unwrap_or(arn),
                        ),
                    })
                }
                "iam:GetInstanceProfile" => {
                    let iam = aws_sdk_iam::Client::new(&self.config);
                    let r = iam
                        .get_instance_profile()
                        .instance_profile_name(name)
                        .send()
                        .await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(o) => exists(
                            o.instance_profile()
                                .map(|p| p.arn().to_string())
                                .unwrap_or_default(),
                        ),
                    })
                }
                "secretsmanager:DescribeSecret" => {
                    let conf = aws_sdk_secretsmanager::config::Builder::from(&self.config)
                        .region(Region::new(region.clone()))
                        .build();
                    let sm = aws_sdk_secretsmanager::Client::from_conf(conf);
                    let r = sm.describe_secret().secret_id(name).send().await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(o) => Probe::Exists {
                            arn: o.arn().unwrap_or_default().to_string(),
                            deleted: o.deleted_date().map(|d| {
                                d.fmt(aws_smithy_types_format())
                                    .unwrap_or_else(|_| d.secs().to_string())
                            }),
                        },
                    })
                }
                "ecr:DescribeRepositories" => {
                    let conf = aws_sdk_ecr::config::Builder::from(&self.config)
                        .region(Region::new(region.clone()))
                        .build();
                    let ecr = aws_sdk_ecr::Client::from_conf(conf);
                    let r = ecr
                        .describe_repositories()
                        .repository_names(name)
                        .send()
                        .await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(o) => match o
                            .repositories()
                            .iter()
                            .find(|r| r.repository_name() == Some(name))
                        {
                            Some(r) => exists(r.repository_arn().unwrap_or_default().to_string()),
                            None => Probe::Absent,
                        },
                    })
                }
                "s3:GetBucketLocation" => {
                    let conf = aws_sdk_s3::config::Builder::from(&self.config)
                        .force_path_style(self.config.endpoint_url().is_some())
                        .build();
                    let s3 = aws_sdk_s3::Client::from_conf(conf);
                    let r = s3.get_bucket_location().bucket(name).send().await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(_) => exists(format!("arn:{part}:s3:::{name}")),
                    })
                }
                "logs:DescribeLogGroups" => {
                    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
                        .region(Region::new(region.clone()))
                        .build();
                    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(conf);
                    let mut token: Option<String> = None;
                    for _page in 0..100 {
                        let r = logs
                            .describe_log_groups()
                            .log_group_name_prefix(name)
                            .set_next_token(token.take())
                            .set_limit(self.page_size.map(|n| n.min(50)))
                            .send()
                            .await;
                        let Some(o) = outcome(&check.call, absent, r)? else {
                            return Ok(Probe::Absent);
                        };
                        if let Some(g) = o
                            .log_groups()
                            .iter()
                            .find(|g| g.log_group_name() == Some(name))
                        {
                            let arn = g.arn().unwrap_or_default();
                            return Ok(exists(arn.strip_suffix(":*").unwrap_or(arn).to_string()));
                        }
                        match o.next_token() {
                            Some(t) if !t.is_empty() => token = Some(t.to_string()),
                            _ => break,
                        }
                    }
                    Ok(Probe::Absent)
                }
                "kms:DescribeKey" => {
                    let conf = aws_sdk_kms::config::Builder::from(&self.config)
                        .region(Region::new(region.clone()))
                        .build();
                    let kms = aws_sdk_kms::Client::from_conf(conf);
                    let r = kms.describe_key().key_id(name).send().await;
                    Ok(match outcome(&check.call, absent, r)? {
                        None => Probe::Absent,
                        Some(_) => exists(format!("arn:{part}:kms:{region}:{account}:{name}")),
                    })
                }
                other => Err(LiveError::Other(format!(
                    "`{other}` is not a call preflight makes"
                ))),
            }
        })
    }
}

fn aws_smithy_types_format() -> aws_sdk_secretsmanager::primitives::DateTimeFormat {
    aws_sdk_secretsmanager::primitives::DateTimeFormat::DateTime
}

/// The calls [`Client::probe`] implements (the table may name no other).
pub const CALLS: &[&str] = &[
    "iam:GetRole",
    "iam:GetPolicy",
    "iam:GetInstanceProfile",
    "secretsmanager:DescribeSecret",
    "ecr:DescribeRepositories",
    "s3:GetBucketLocation",
    "logs:DescribeLogGroups",
    "kms:DescribeKey",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_call_is_implemented() {
        for (ty, c) in super::super::table() {
            assert!(CALLS.contains(&c.call.as_str()), "{ty}: {}", c.call);
            let src = include_str!("aws.rs");
            assert!(src.contains(&format!("\"{}\" =>", c.call)), "{ty}");
        }
    }
}
