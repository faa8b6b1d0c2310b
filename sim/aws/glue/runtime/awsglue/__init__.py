"""stepbricks' stand-in for the `awsglue` library of AWS Glue (Glue 3.0/4.0 Spark jobs), on plain pyspark.

Only the subset scripts like seed 003's use is simulated: `awsglue.utils.getResolvedOptions`,
`awsglue.context.GlueContext` (`spark_session`, `write_dynamic_frame.from_options`,
`create_dynamic_frame.from_options` on S3 in parquet/json/csv), `awsglue.dynamicframe.DynamicFrame`
(`fromDF`, `toDF`) and `awsglue.job.Job` (`init`, `commit`). Everything else raises `NotSimulated`
naming what was asked for, rather than misbehaving quietly.
"""

from awsglue.errors import NotSimulated

__all__ = ["NotSimulated"]
