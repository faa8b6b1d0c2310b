"""`GlueContext`: the SparkSession and S3 sources/sinks of a Glue job, on the cluster's SparkSession.

`write_dynamic_frame.from_options` and `create_dynamic_frame.from_options` support
`connection_type="s3"` with `format` parquet (also `glueparquet`), json and csv, reading and writing the
simulated S3 through `_staging`. Glue's format options that matter for those formats are mapped to
Spark's (`withHeader`, `separator`, `quoteChar`, `multiline`, `compression`); others are refused.
"""

from __future__ import annotations

from typing import Any

from pyspark.context import SparkContext
from pyspark.sql import DataFrame, SparkSession

from awsglue._driver import current_staging
from awsglue._staging import is_s3
from awsglue.dynamicframe import DynamicFrame
from awsglue.errors import NotSimulated, refuse

__all__ = ["GlueContext"]

_FORMATS = {"parquet": "parquet", "glueparquet": "parquet", "json": "json", "csv": "csv"}
# Glue format option -> Spark option ("Data format options for inputs and outputs in AWS Glue for Spark").
_CSV_OPTIONS = {"withHeader": "header", "separator": "sep", "quoteChar": "quote", "escaper": "escape",
                "multiLine": "multiLine", "multiline": "multiLine", "compression": "compression"}
_JSON_OPTIONS = {"multiline": "multiLine", "multiLine": "multiLine", "compression": "compression"}
_PARQUET_OPTIONS = {"compression": "compression", "useGlueParquetWriter": None, "blockSize": None,
                    "pageSize": None}


def _spark_format(format: str | None, where: str) -> str:
    if format not in _FORMATS:
        raise NotSimulated(f"{where}(format={format!r}) (simulated formats: {', '.join(_FORMATS)})")
    return _FORMATS[format]


def _spark_options(fmt: str, format_options: dict[str, Any] | None, *, writing: bool) -> dict[str, str]:
    table = {"csv": _CSV_OPTIONS, "json": _JSON_OPTIONS, "parquet": _PARQUET_OPTIONS}[fmt]
    options: dict[str, str] = {"header": "true"} if fmt == "csv" and writing else {}
    for key, value in (format_options or {}).items():
        if key not in table:
            raise NotSimulated(f"format_options[{key!r}] for format {fmt!r}")
        if table[key] is not None:
            options[table[key]] = str(value).lower() if isinstance(value, bool) else str(value)
    return options


def _s3_only(connection_type: str, where: str) -> None:
    if connection_type != "s3":
        raise NotSimulated(f"{where}(connection_type={connection_type!r}) (simulated: 's3')")


class _Writer:
    """`glueContext.write_dynamic_frame`."""

    def __init__(self, context: GlueContext) -> None:
        self._context = context

    def from_options(self, frame: DynamicFrame, connection_type: str, connection_options: dict[str, Any] | None = None,
                     format: str | None = None, format_options: dict[str, Any] | None = None,
                     transformation_ctx: str = "", **_: Any) -> DynamicFrame:
        where = "GlueContext.write_dynamic_frame.from_options"
        _s3_only(connection_type, where)
        options = dict(connection_options or {})
        path = options.get("path")
        if not is_s3(path):
            raise ValueError(f"{where}: connection_options['path'] must be an s3:// URI, got {path!r}")
        fmt = _spark_format(format, where)
        staging = current_staging()
        local = staging.local_for_write()
        writer = frame.toDF().write.mode("overwrite").format(fmt).options(**_spark_options(fmt, format_options,
                                                                                          writing=True))
        if options.get("partitionKeys"):
            writer = writer.partitionBy(*options["partitionKeys"])
        writer.save(str(local))
        staging.upload(local, path)
        return frame

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise refuse("GlueContext.write_dynamic_frame", name)


class _Reader:
    """`glueContext.create_dynamic_frame`."""

    def __init__(self, context: GlueContext) -> None:
        self._context = context

    def from_options(self, connection_type: str, connection_options: dict[str, Any] | None = None,
                     format: str | None = None, format_options: dict[str, Any] | None = None,
                     transformation_ctx: str = "", **_: Any) -> DynamicFrame:
        where = "GlueContext.create_dynamic_frame.from_options"
        _s3_only(connection_type, where)
        paths = list((connection_options or {}).get("paths") or [])
        if not paths or not all(is_s3(p) for p in paths):
            raise ValueError(f"{where}: connection_options['paths'] must be a list of s3:// URIs, got {paths!r}")
        fmt = _spark_format(format, where)
        staging = current_staging()
        local = [staging.local_for_read(p) for p in paths]
        reader = self._context.spark_session.read.format(fmt).options(**_spark_options(fmt, format_options,
                                                                                      writing=False))
        df: DataFrame = reader.option("recursiveFileLookup", "true").load(local)
        return DynamicFrame(df, self._context, transformation_ctx)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise refuse("GlueContext.create_dynamic_frame", name)


class GlueContext:
    def __init__(self, sparkContext: SparkContext, **_: Any) -> None:
        self._sc = sparkContext
        self.spark_session = SparkSession.builder.getOrCreate()
        self.write_dynamic_frame = _Writer(self)
        self.create_dynamic_frame = _Reader(self)

    def get_logger(self) -> Any:
        return self._sc._jvm.org.apache.log4j.LogManager.getLogger("GlueContext")  # type: ignore[union-attr]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise refuse("GlueContext", name)
