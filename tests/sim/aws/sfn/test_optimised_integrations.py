"""SQS, SNS, DynamoDB optimised integrations and the S3 AWS SDK integration as AWS runs them
(sim/aws/moto_seams/sfn_services.py, sim/aws/sfn_sdk_shapes.py).

Expected shapes are those of executions recorded on AWS (LocalStack's snapshot tests,
tests/aws/services/stepfunctions/v2/services/ and error_handling/): results carry the Java SDK's
`SdkHttpMetadata`/`SdkResponseMetadata`, errors are `<Prefix>.<Java exception class>` with the SDK's cause.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

SQS_SEND = "arn:aws:states:::sqs:sendMessage"
V1_CAUSE = re.compile(r"^(?P<message>.*) \(Service: (?P<service>\w+); Status Code: (?P<status>\d+); "
                      r"Error Code: (?P<code>[\w.]+); Request ID: (?P<request_id>[\w-]+); Proxy: null\)$")


def _task(resource: str, parameters: dict, **extra) -> dict:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                                             "End": True, **extra}}}


@pytest.fixture(scope="module")
def queue(aws) -> str:
    return aws.client("sqs").create_queue(QueueName="stepbricks-integrations")["QueueUrl"]


@pytest.fixture(scope="module")
def table(aws) -> str:
    aws.client("dynamodb").create_table(
        TableName="stepbricks-integrations", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return "stepbricks-integrations"


def _assert_sdk_metadata(output: dict, content_type: str, content_length: str) -> None:
    http = output["SdkHttpMetadata"]
    request_id = output["SdkResponseMetadata"]["RequestId"]
    assert http["HttpStatusCode"] == 200
    assert http["HttpHeaders"]["Content-Type"] == content_type
    assert http["HttpHeaders"]["Content-Length"] == content_length
    assert http["AllHttpHeaders"]["Content-Length"] == [content_length]
    assert http["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", http["HttpHeaders"]["Date"])


def test_sqs_send_message_returns_md5_message_id_and_sdk_metadata(aws, run_machine, queue):
    run = run_machine(_task(SQS_SEND, {"QueueUrl": queue, "MessageBody": "test_message_body"}))
    assert run.status == "SUCCEEDED"
    assert list(run.output) == ["MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert run.output["MD5OfMessageBody"] == hashlib.md5(b"test_message_body").hexdigest()
    # AWS's body {"MD5OfMessageBody":"<32>","MessageId":"<uuid>"} is 106 bytes (recorded).
    _assert_sdk_metadata(run.output, "application/x-amz-json-1.0", "106")
    assert aws.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "test_message_body"


def test_sqs_message_body_that_is_not_a_string_is_sent_as_json_text(aws, run_machine, queue):
    run = run_machine(_task(SQS_SEND, {"QueueUrl": queue, "MessageBody": {"order": 7, "items": ["a"]}}))
    assert run.status == "SUCCEEDED"
    body = aws.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    assert json.loads(body) == {"order": 7, "items": ["a"]}


def test_sqs_queue_on_a_host_that_does_not_resolve_fails_with_sdk_client_exception(run_machine):
    run = run_machine(_task(SQS_SEND, {"QueueUrl": "http://no-such-queue-73e08fde", "MessageBody": "x"}))
    assert (run.description["error"], run.description["cause"]) == (
        "SQS.SdkClientException", "Unable to execute HTTP request: no-such-queue-73e08fde: Name or service not known")


def test_sqs_missing_queue_is_the_modelled_exception_with_the_java_sdk_cause(run_machine, queue):
    run = run_machine(_task(SQS_SEND, {"QueueUrl": queue + "-missing", "MessageBody": "x"}))
    assert run.description["error"] == "SQS.QueueDoesNotExistException"
    cause = V1_CAUSE.match(run.description["cause"])
    assert cause and (cause["service"], cause["status"], cause["code"]) == (
        "AmazonSQS", "400", "AWS.SimpleQueueService.NonExistentQueue")


def test_sns_publish_returns_message_id_and_sdk_metadata(aws, run_machine):
    topic = aws.client("sns").create_topic(Name="stepbricks-integrations")["TopicArn"]
    run = run_machine(_task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"Message": "hi"}}))
    assert list(run.output) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    # AWS's PublishResponse XML with a UUID message id and request id is 294 bytes (recorded).
    _assert_sdk_metadata(run.output, "text/xml", "294")
    assert re.fullmatch(r"[0-9a-f-]{36}", run.output["SdkResponseMetadata"]["RequestId"])


def test_sns_publish_to_a_missing_topic_fails_with_sns_not_found_exception(run_machine):
    run = run_machine(_task("arn:aws:states:::sns:publish",
                            {"TopicArn": "arn:aws:sns:us-east-1:123456789012:missing", "Message": "hi"}))
    assert run.description["error"] == "SNS.NotFoundException"
    cause = V1_CAUSE.match(run.description["cause"])
    assert cause and (cause["service"], cause["status"], cause["code"]) == ("AmazonSNS", "404", "NotFound")


def test_dynamodb_put_then_get_item_return_aws_results_with_sdk_metadata(run_machine, table):
    item = {"id": {"S": "id1"}, "data": {"S": "HelloWorld"}}
    run = run_machine({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "ResultPath": "$.put",
                "Parameters": {"TableName": table, "Item": item}, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "ResultPath": "$.get",
                "Parameters": {"TableName": table, "Key": {"id": {"S": "id1"}}}, "End": True}}})
    assert list(run.output["put"]) == ["SdkHttpMetadata", "SdkResponseMetadata"]
    _assert_sdk_metadata(run.output["put"], "application/x-amz-json-1.0", "2")  # PutItem answers {}
    assert run.output["put"]["SdkHttpMetadata"]["HttpHeaders"]["x-amz-crc32"] == "2745614147"  # CRC32 of {}
    assert run.output["get"]["Item"] == item
    assert list(run.output["get"]) == ["Item", "SdkHttpMetadata", "SdkResponseMetadata"]


def test_dynamodb_failed_condition_is_conditional_check_failed_exception(run_machine, table):
    run = run_machine(_task("arn:aws:states:::dynamodb:putItem", {
        "TableName": table, "Item": {"id": {"S": "taken"}}, "ConditionExpression": "attribute_exists(id)"}))
    assert run.description["error"] == "DynamoDB.ConditionalCheckFailedException"
    cause = V1_CAUSE.match(run.description["cause"])
    assert cause and (cause["message"], cause["service"], cause["code"]) == (
        "The conditional request failed", "AmazonDynamoDBv2", "ConditionalCheckFailedException")


def test_dynamodb_missing_table_is_resource_not_found_exception(run_machine):
    run = run_machine(_task("arn:aws:states:::dynamodb:putItem",
                            {"TableName": "no_such_table", "Item": {"id": {"S": "1"}}}))
    assert run.description["error"] == "DynamoDB.ResourceNotFoundException"
    assert run.description["cause"].startswith("Requested resource not found (Service: AmazonDynamoDBv2; "
                                               "Status Code: 400; Error Code: ResourceNotFoundException; ")


def test_dynamodb_unmodelled_error_code_is_the_base_amazon_dynamodb_exception(run_machine, table):
    # ValidationException is not an error shape of DynamoDB's model: the Java SDK raises its base class.
    run = run_machine(_task("arn:aws:states:::dynamodb:putItem", {"TableName": table, "Item": {"id": {"S": ""}}}))
    assert run.description["error"] == "DynamoDB.AmazonDynamoDBException"
    assert "Error Code: ValidationException" in run.description["cause"]


def test_dynamodb_invalid_table_name_fails_the_task_with_the_validation_message(run_machine):
    # Recorded on AWS: LocalStack v2/error_handling/test_task_service_dynamodb.snapshot.json.
    run = run_machine(_task("arn:aws:states:::dynamodb:putItem",
                            {"TableName": "/invalid_table", "Item": {"id": {"S": "id1"}}}))
    assert run.description["error"] == "DynamoDB.AmazonDynamoDBException"
    cause = V1_CAUSE.match(run.description["cause"])
    assert cause and (cause["message"], cause["service"], cause["code"]) == (
        "1 validation error detected: Value '/invalid_table' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", "AmazonDynamoDBv2", "ValidationException")


@pytest.mark.parametrize(("name", "constraints"), [
    ("ab", ["Member must have length greater than or equal to 3"]),
    ("t" * 256, ["Member must have length less than or equal to 255"]),
    ("a!", ["Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            "Member must have length greater than or equal to 3"]),
])
def test_dynamodb_api_refuses_table_names_outside_the_model_constraints(aws, name, constraints):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        aws.client("dynamodb").get_item(TableName=name, Key={"id": {"S": "1"}})
    error = refused.value.response["Error"]
    count = len(constraints)
    expected = f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(
        f"Value '{name}' at 'tableName' failed to satisfy constraint: {text}" for text in constraints)
    assert (error["Code"], error["Message"]) == ("ValidationException", expected)


def test_dynamodb_api_accepts_a_table_arn_where_a_name_is_expected(aws, table):
    arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    assert "Item" not in aws.client("dynamodb").get_item(TableName=arn, Key={"id": {"S": "absent"}})


def test_s3_get_object_via_aws_sdk_returns_the_body_as_text(aws, run_machine):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="stepbricks-sdk-get")
    s3.put_object(Bucket="stepbricks-sdk-get", Key="file_key", Body=b"binary data")
    run = run_machine(_task("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "stepbricks-sdk-get", "Key": "file_key"}))
    assert run.status == "SUCCEEDED"
    assert (run.output["Body"], run.output["ContentLength"]) == ("binary data", 11)
    assert run.output["ETag"] == '"e1a49b59e0c42e4fd3735ad644f25d57"'
    assert not [k for k in run.output if k.startswith("Checksum")]  # AWS's client asks for no checksums


@pytest.mark.parametrize(("body", "stored"), [("text data", b'"text data"'), ({"Dict": "Value"}, b'{"Dict":"Value"}'),
                                              (["List", "Data"], b'["List","Data"]'), (False, b"false"), (0, b"0")])
def test_s3_put_object_via_aws_sdk_stores_the_json_text_of_the_body(aws, run_machine, body, stored):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="stepbricks-sdk-put")
    run = run_machine(_task("arn:aws:states:::aws-sdk:s3:putObject",
                            {"Bucket": "stepbricks-sdk-put", "Key": "k", "Body": body}))
    assert run.status == "SUCCEEDED"
    assert run.output["ETag"] == f'"{hashlib.md5(stored).hexdigest()}"'
    got = s3.get_object(Bucket="stepbricks-sdk-put", Key="k")
    assert (got["Body"].read(), got["ContentType"]) == (stored, "text/plain; charset=UTF-8")


def test_aws_sdk_result_fields_are_capitalised_member_names(run_machine, sfn, create_machine):
    target = create_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    run = run_machine(_task("arn:aws:states:::aws-sdk:sfn:startExecution",
                            {"StateMachineArn": target, "Input": {"key": "value"}}))
    assert run.status == "SUCCEEDED"
    assert sorted(run.output) == ["ExecutionArn", "StartDate"]
    # A JSON value given for a string member (Input) is sent as its JSON text.
    assert json.loads(sfn.describe_execution(executionArn=run.output["ExecutionArn"])["input"]) == {"key": "value"}


def test_aws_sdk_keeps_data_keys_as_written(run_machine, table):
    item = {"id": {"S": "k1"}, "lowerCaseAttr": {"S": "v"}}
    run = run_machine({"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem", "ResultPath": None,
                "Parameters": {"TableName": table, "Item": item}, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"id": {"S": "k1"}}}, "End": True}}})
    assert run.output == {"Item": item}


def test_dynamodb_null_required_member_is_refused_as_the_service_refuses_it(run_machine, table):
    run = run_machine(_task("arn:aws:states:::dynamodb:putItem", {"TableName": table, "Item.$": "$.missing"}),
                      {"missing": None})
    assert run.description["error"] == "DynamoDB.AmazonDynamoDBException"
    assert run.description["cause"].startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null "
        "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; ")


def test_aws_sdk_dynamodb_null_required_member_is_a_dynamodb_exception(run_machine, table):
    run = run_machine(_task("arn:aws:states:::aws-sdk:dynamodb:putItem", {"TableName": table, "Item.$": "$.missing"}),
                      {"missing": None})
    assert run.description["error"] == "DynamoDb.DynamoDbException"
    assert run.description["cause"].startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null "
        "(Service: DynamoDb, Status Code: 400, Request ID: ")


def test_sqs_null_message_body_is_a_missing_parameter(run_machine, queue):
    run = run_machine(_task(SQS_SEND, {"QueueUrl": queue, "MessageBody.$": "$.body"}), {"body": None})
    assert run.description["error"] == "SQS.AmazonSQSException"
    cause = V1_CAUSE.match(run.description["cause"])
    assert cause and (cause["message"], cause["code"]) == (
        "The request must contain the parameter MessageBody.", "MissingParameter")


def test_dynamodb_update_item_reports_consumed_capacity_only_when_asked(run_machine, table):
    update = {"TableName": table, "Key": {"id": {"S": "cap"}}, "UpdateExpression": "SET v = :v",
              "ExpressionAttributeValues": {":v": {"S": "x"}}, "ReturnValues": "UPDATED_NEW"}
    plain = run_machine(_task("arn:aws:states:::dynamodb:updateItem", update))
    assert list(plain.output) == ["Attributes", "SdkHttpMetadata", "SdkResponseMetadata"]
    body = json.dumps({"Attributes": plain.output["Attributes"]}, separators=(",", ":"))  # AWS's compact body
    _assert_sdk_metadata(plain.output, "application/x-amz-json-1.0", str(len(body)))
    asked = run_machine(_task("arn:aws:states:::dynamodb:updateItem", {**update, "ReturnConsumedCapacity": "TOTAL"}))
    assert asked.output["ConsumedCapacity"]["TableName"] == table
