# ruff: noqa
# Seed 003 (Lab 5.1, Step 4), verbatim: the simulator runs it unmodified (sim/aws/glue). Lint-exempt on purpose.
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.dynamicframe import DynamicFrame
from pyspark.sql import functions as F

# Initialize Glue context
args = getResolvedOptions(sys.argv, ['JOB_NAME', 'source_bucket', 'source_key', 'target_bucket'])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args['JOB_NAME'], args)

# Get parameters
source_bucket = args['source_bucket']
source_key = args['source_key']
target_bucket = args['target_bucket']

# Extract file name without extension
file_name = source_key.split('/')[-1].split('.')[0]

# Read CSV data
source_path = f"s3://{source_bucket}/{source_key}"
df = spark.read.option("header", "true").option("inferSchema", "true").csv(source_path)

# Apply transformations
transformed_df = df.withColumn("processing_date", F.current_date())

# Convert to Glue DynamicFrame
dynamic_frame = DynamicFrame.fromDF(transformed_df, glueContext, "dynamic_frame")

# Write to target in Parquet format
target_path = f"s3://{target_bucket}/processed/{file_name}"
glueContext.write_dynamic_frame.from_options(
    frame=dynamic_frame,
    connection_type="s3",
    connection_options={"path": target_path},
    format="parquet"
)

job.commit()
