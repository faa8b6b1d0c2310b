"""Policy evaluation as the IAM user guide documents it (sim/aws/iam_policies.py): "Policy evaluation logic",
"IAM JSON policy elements: Condition operators", "Principal"."""

from __future__ import annotations

import pytest

from sim.aws.iam_policies import Caller, Decision, evaluate

BUCKET = "arn:aws:s3:::reports"
ROLE = "arn:aws:iam::123456789012:role/service/reader"
SESSION = "arn:aws:sts::123456789012:assumed-role/reader/fn"


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _list(condition: dict) -> dict:
    return _policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET, "Condition": condition})


def test_a_deny_wins_over_an_allow_and_no_match_is_no_decision():
    policy = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"{BUCKET}/*"})
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/a", {}) is Decision.ALLOW
    assert evaluate(policy, "s3:DeleteObject", f"{BUCKET}/a", {}) is Decision.DENY
    assert evaluate(_policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}), "s3:GetObject",
                    BUCKET, {}) is Decision.NONE


def test_actions_match_case_insensitively_and_resources_case_sensitively():
    policy = _policy({"Effect": "Allow", "Action": "S3:getobject", "Resource": f"{BUCKET}/Reports/*"})
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/Reports/q1", {}) is Decision.ALLOW
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/reports/q1", {}) is Decision.NONE


def test_not_action_and_not_resource_apply_to_everything_else():
    policy = _policy({"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": f"{BUCKET}/public/*"})
    assert evaluate(policy, "s3:PutObject", f"{BUCKET}/private/x", {}) is Decision.DENY
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/private/x", {}) is Decision.NONE
    assert evaluate(policy, "s3:PutObject", f"{BUCKET}/public/x", {}) is Decision.NONE


@pytest.mark.parametrize(("prefix", "decision"), [("reports/2024/", Decision.ALLOW), ("private/", Decision.NONE),
                                                  (None, Decision.NONE)])
def test_string_like_holds_only_for_a_matching_present_key(prefix, decision):
    context = {} if prefix is None else {"s3:prefix": prefix}
    assert evaluate(_list({"StringLike": {"s3:prefix": ["reports/*", "shared/*"]}}), "s3:ListBucket", BUCKET,
                    context) is decision


def test_a_negated_operator_holds_when_the_key_is_absent_and_if_exists_makes_a_positive_one_hold():
    assert evaluate(_list({"StringNotEquals": {"s3:prefix": "private/"}}), "s3:ListBucket", BUCKET, {}) \
        is Decision.ALLOW
    assert evaluate(_list({"StringEqualsIfExists": {"s3:prefix": "reports/"}}), "s3:ListBucket", BUCKET, {}) \
        is Decision.ALLOW
    assert evaluate(_list({"StringEquals": {"s3:prefix": "reports/"}}), "s3:ListBucket", BUCKET, {}) \
        is Decision.NONE


def test_condition_keys_are_case_insensitive_and_blocks_and_keys_must_all_hold():
    policy = _list({"StringEquals": {"AWS:RequestedRegion": "us-east-1"}, "Bool": {"aws:SecureTransport": "false"}})
    assert evaluate(policy, "s3:ListBucket", BUCKET, {"aws:requestedregion": "us-east-1",
                                                      "aws:SecureTransport": False}) is Decision.ALLOW
    assert evaluate(policy, "s3:ListBucket", BUCKET, {"aws:RequestedRegion": "eu-west-1",
                                                      "aws:SecureTransport": False}) is Decision.NONE


def test_arn_like_matches_the_source_arn_part_by_part():
    policy = _policy({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
                      "Resource": "*", "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::raw-*"}}})
    s3 = Caller(service="s3.amazonaws.com")
    assert evaluate(policy, "lambda:InvokeFunction", "f", {"aws:SourceArn": "arn:aws:s3:::raw-data"}, s3) \
        is Decision.ALLOW
    assert evaluate(policy, "lambda:InvokeFunction", "f", {"aws:SourceArn": "arn:aws:s3:::other"}, s3) is Decision.NONE


def test_for_all_values_needs_every_value_to_match_and_for_any_value_one():
    policy = _list({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})
    assert evaluate(policy, "s3:ListBucket", BUCKET, {"aws:TagKeys": ["team"]}) is Decision.ALLOW
    assert evaluate(policy, "s3:ListBucket", BUCKET, {"aws:TagKeys": ["team", "cost"]}) is Decision.NONE
    any_of = _list({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}})
    assert evaluate(any_of, "s3:ListBucket", BUCKET, {"aws:TagKeys": ["team", "cost"]}) is Decision.ALLOW


def test_numeric_and_null_operators():
    assert evaluate(_list({"NumericLessThanEquals": {"s3:max-keys": "10"}}), "s3:ListBucket", BUCKET,
                    {"s3:max-keys": "5"}) is Decision.ALLOW
    assert evaluate(_list({"NumericLessThanEquals": {"s3:max-keys": "10"}}), "s3:ListBucket", BUCKET,
                    {"s3:max-keys": "50"}) is Decision.NONE
    assert evaluate(_list({"Null": {"s3:prefix": "true"}}), "s3:ListBucket", BUCKET, {}) is Decision.ALLOW
    assert evaluate(_list({"Null": {"s3:prefix": "true"}}), "s3:ListBucket", BUCKET, {"s3:prefix": "a"}) \
        is Decision.NONE


def test_policy_variables_take_their_value_from_the_request():
    policy = _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/home/${{aws:username}}/*"})
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/home/ana/x", {"aws:username": "ana"}) is Decision.ALLOW
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/home/bob/x", {"aws:username": "ana"}) is Decision.NONE
    assert evaluate(policy, "s3:GetObject", f"{BUCKET}/home/ana/x", {}) is Decision.NONE


@pytest.mark.parametrize(("principal", "matches"), [
    ("*", True), ({"AWS": "*"}, True), ({"AWS": "123456789012"}, True), ({"AWS": "arn:aws:iam::123456789012:root"}, True),
    ({"AWS": "arn:aws:iam::123456789012:role/reader"}, True), ({"AWS": ROLE}, True), ({"AWS": SESSION}, True),
    ({"AWS": "arn:aws:iam::123456789012:role/writer"}, False), ({"AWS": "210987654321"}, False),
    ({"Service": "s3.amazonaws.com"}, False),
])
def test_a_resource_policy_principal_names_the_account_the_role_or_the_session(principal, matches):
    caller = Caller(arn=SESSION, account="123456789012", role_arn=ROLE)
    policy = _policy({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"})
    assert (evaluate(policy, "s3:GetObject", f"{BUCKET}/x", {}, caller) is Decision.ALLOW) is matches


def test_ip_address_and_date_operators():
    in_network = _list({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}})
    assert evaluate(in_network, "s3:ListBucket", BUCKET, {"aws:SourceIp": "127.0.0.1"}) is Decision.ALLOW
    assert evaluate(in_network, "s3:ListBucket", BUCKET, {"aws:SourceIp": "192.168.1.5"}) is Decision.NONE
    before = _list({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})
    assert evaluate(before, "s3:ListBucket", BUCKET, {"aws:CurrentTime": "2026-12-05T20:00:00Z"}) is Decision.ALLOW
    assert evaluate(before, "s3:ListBucket", BUCKET, {"aws:CurrentTime": "2031-01-01T00:00:00Z"}) is Decision.NONE
