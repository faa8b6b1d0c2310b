# ruff: noqa
# Seed 003 (Lab 5.1, Step 3b) as written, except that the target bucket comes from the environment
# (TARGET_BUCKET) instead of a hard-coded account-specific value. Lint-exempt on purpose: the lab's code is the test.
import json
import boto3
import os
import time

def lambda_handler(event, context):
    # Get parameters from the event
    bucket = event['bucket']
    key = event['key']
    file_type = event.get('fileType', 'unknown')
    
    # Initialize Glue client
    glue = boto3.client('glue')
    
    # Determine which Glue job to run based on file type
    if file_type == 'csv':
        job_name = 'process-csv-data'
    elif file_type == 'json':
        job_name = 'process-json-data'
    else:
        return {
            'statusCode': 400,
            'error': f'No Glue job defined for file type: {file_type}',
            'bucket': bucket,
            'key': key
        }
    
    try:
        # Start the Glue job
        response = glue.start_job_run(
            JobName=job_name,
            Arguments={
                '--source_bucket': bucket,
                '--source_key': key,
                '--target_bucket': os.environ['TARGET_BUCKET']
            }
        )
        
        job_run_id = response['JobRunId']
        
        return {
            'statusCode': 200,
            'jobName': job_name,
            'jobRunId': job_run_id,
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
