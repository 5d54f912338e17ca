//! Rules about IAM: the documented CI policy against the live role and against what the
//! Terraform roots create, and teardown discovery of what they create.

pub mod ci_role_drift;
