# ruff: noqa
# Seed 003 (Lab 5.1, Step 6) as written, except that the state machine ARN comes from the environment
# (STATE_MACHINE_ARN) instead of a hard-coded account-specific value. Lint-exempt on purpose: the lab's code is the test.
import json
import boto3
import os
import urllib.parse

def lambda_handler(event, context):
    # Get the S3 event details
    bucket = event['Records'][0]['s3']['bucket']['name']
    key = urllib.parse.unquote_plus(event['Records'][0]['s3']['object']['key'])
    
    # Initialize Step Functions client
    sfn = boto3.client('stepfunctions')
    
    # Prepare input for the state machine
    input_data = {
        'bucket': bucket,
        'key': key
    }
    
    try:
        # Start the state machine execution
        response = sfn.start_execution(
            stateMachineArn=os.environ['STATE_MACHINE_ARN'],
            name=f"execution-{key.replace('/', '-')}",
            input=json.dumps(input_data)
        )
        
        return {
            'statusCode': 200,
            'executionArn': response['executionArn'],
            'bucket': bucket,
            'key': key
        }
    except Exception as e:
        return {
            'statusCode': 500,
            'error': str(e),
            'bucket': bucket,
            'key': key
        }
