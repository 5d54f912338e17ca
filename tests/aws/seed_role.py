"""Test-only: create a CI role with policies in a local moto server.

Write calls live here, in the test suite, never in preflight's own AWS client.

usage: seed_role.py ENDPOINT ROLE [--attach NAME=FILE]... [--inline NAME=FILE]...
"""
import json
import sys

import boto3


def main(argv):
    endpoint, role = argv[1], argv[2]
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    args = argv[3:]
    for flag, spec in zip(args[::2], args[1::2]):
        name, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            document = f.read()
        if flag == "--attach":
            arn = iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        elif flag == "--inline":
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
        else:
            raise SystemExit(f"unknown flag {flag}")


if __name__ == "__main__":
    main(sys.argv)
