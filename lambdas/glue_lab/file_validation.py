# ruff: noqa
# Seed 003 (Lab 5.1, Step 3a), verbatim. Lint-exempt on purpose: the lab's code is the test.
import json
import boto3
import os
import csv
from io import StringIO

def lambda_handler(event, context):
    # Get bucket and key from the event
    bucket = event['bucket']
    key = event['key']
    
    # Initialize S3 client
    s3 = boto3.client('s3')
    
    try:
        # Get the file from S3
        response = s3.get_object(Bucket=bucket, Key=key)
        file_content = response['Body'].read().decode('utf-8')
        
        # Check file type
        if key.endswith('.csv'):
            # Validate CSV structure
            csv_reader = csv.reader(StringIO(file_content))
            header = next(csv_reader)
            row_count = sum(1 for _ in csv_reader)
            
            # Check if file has content
            if row_count == 0:
                return {
                    'statusCode': 400,
                    'isValid': False,
                    'error': 'File is empty',
                    'bucket': bucket,
                    'key': key
                }
            
            return {
                'statusCode': 200,
                'isValid': True,
                'fileType': 'csv',
                'rowCount': row_count,
                'bucket': bucket,
                'key': key
            }
        elif key.endswith('.json'):
            # Validate JSON structure
            try:
                data = json.loads(file_content)
                record_count = len(data) if isinstance(data, list) else 1
                
                return {
                    'statusCode': 200,
                    'isValid': True,
                    'fileType': 'json',
                    'recordCount': record_count,
                    'bucket': bucket,
                    'key': key
                }
            except json.JSONDecodeError:
                return {
                    'statusCode': 400,
                    'isValid': False,
                    'error': 'Invalid JSON format',
                    'bucket': bucket,
                    'key': key
                }
        else:
            return {
                'statusCode': 400,
                'isValid': False,
                'error': 'Unsupported file type',
                'bucket': bucket,
                'key': key
            }
    except Exception as e:
        return {
            'statusCode': 500,
            'isValid': False,
            'error': str(e),
            'bucket': bucket,
            'key': key
        }
