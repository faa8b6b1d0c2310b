# ruff: noqa
# Seed 003 (Lab 5.1, Step 3d) as written, except that the topic ARN comes from the environment
# (TOPIC_ARN) instead of a hard-coded account-specific value. Lint-exempt on purpose: the lab's code is the test.
import json
import boto3
import os

def lambda_handler(event, context):
    # Get parameters from the event
    status = event.get('status', 'Unknown')
    details = event.get('details', {})
    
    # Initialize SNS client
    sns = boto3.client('sns')
    
    # Prepare the message
    subject = f"Data Pipeline Notification: {status}"
    message = f"Pipeline Status: {status}\n\nDetails:\n{json.dumps(details, indent=2)}"
    
    try:
        # Send the notification
        response = sns.publish(
            TopicArn=os.environ['TOPIC_ARN'],
            Subject=subject,
            Message=message
        )
        
        return {
            'statusCode': 200,
            'messageId': response['MessageId'],
            'status': status
        }
    except Exception as e:
        return {
            'statusCode': 500,
            'error': str(e),
            'status': status
        }
