"""Test-only: create objects outside Terraform in a local moto server, and a state object.

Write calls live here, in the test suite, never in preflight's own AWS client.

usage: seed_names.py ENDPOINT [--role NAME]... [--secret NAME]... [--deleted-secret NAME]...
                              [--state BUCKET/KEY=FILE]...
"""
import sys

import boto3


def main(argv):
    endpoint = argv[1]
    kw = dict(endpoint_url=endpoint, region_name="us-east-1")
    iam = boto3.client("iam", **kw)
    sm = boto3.client("secretsmanager", **kw)
    s3 = boto3.client("s3", **kw)
    args = argv[2:]
    for flag, value in zip(args[::2], args[1::2]):
        if flag == "--role":
            iam.create_role(RoleName=value, AssumeRolePolicyDocument="{}")
        elif flag == "--secret":
            sm.create_secret(Name=value, SecretString="not-a-real-secret-value")
        elif flag == "--deleted-secret":
            sm.create_secret(Name=value, SecretString="not-a-real-secret-value")
            sm.delete_secret(SecretId=value, RecoveryWindowInDays=7)
        elif flag == "--state":
            target, path = value.split("=", 1)
            bucket, key = target.split("/", 1)
            try:
                s3.create_bucket(Bucket=bucket)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            with open(path, "rb") as f:
                s3.put_object(Bucket=bucket, Key=key, Body=f.read())
        else:
            raise SystemExit(f"unknown flag {flag}")


if __name__ == "__main__":
    main(sys.argv)
