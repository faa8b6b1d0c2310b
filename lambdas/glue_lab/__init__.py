"""Seed 003's five Lambda functions (handlers `lambdas.glue_lab.<module>.lambda_handler`)."""
