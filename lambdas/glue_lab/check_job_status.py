# ruff: noqa
# Seed 003 (Lab 5.1, Step 3c), verbatim. Lint-exempt on purpose: the lab's code is the test.
import json
import boto3

def lambda_handler(event, context):
    # Get parameters from the event
    job_name = event['jobName']
    job_run_id = event['jobRunId']
    
    # Initialize Glue client
    glue = boto3.client('glue')
    
    try:
        # Get the job run status
        response = glue.get_job_run(
            JobName=job_name,
            RunId=job_run_id
        )
        
        job_status = response['JobRun']['JobRunState']
        
        return {
            'statusCode': 200,
            'jobName': job_name,
            'jobRunId': job_run_id,
            'jobStatus': job_status,
            'isComplete': job_status in ['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT'],
            'isSuccessful': job_status == 'SUCCEEDED'
        }
    except Exception as e:
        return {
            'statusCode': 500,
            'error': str(e),
            'jobName': job_name,
            'jobRunId': job_run_id
        }
