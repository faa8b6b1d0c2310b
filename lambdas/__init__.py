"""The pipeline's Lambda functions: the glue between Step Functions, S3, SNS and Databricks.

This whole package is zipped into every function; handlers are `lambdas.<module>.lambda_handler`.
Only what the AWS Python runtime has (stdlib, boto3) is imported. Errors are raised as classes whose
names the state machines Retry and Catch on (see `lambdas._errors`).
"""

# function key (as the deployer names them) -> handler
HANDLERS: dict[str, str] = {
    "validate-file": "lambdas.validate_file.lambda_handler",
    "start-databricks-job": "lambdas.start_databricks_job.lambda_handler",
    "check-databricks-job": "lambdas.check_databricks_job.lambda_handler",
    "send-notification": "lambdas.send_notification.lambda_handler",
    "trigger-pipeline": "lambdas.trigger_pipeline.lambda_handler",
    "list-files": "lambdas.list_files.lambda_handler",
}

__all__ = ["HANDLERS"]
