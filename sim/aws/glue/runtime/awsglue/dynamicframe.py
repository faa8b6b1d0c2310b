"""`DynamicFrame`: here a thin wrapper over a Spark DataFrame (Glue's own is schema-flexible on the JVM).

`fromDF`, `toDF`, `count`, `schema`, `printSchema`, `show` behave as Glue's for rectangular data; any
other DynamicFrame method raises `NotSimulated` naming it.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame

from awsglue.errors import refuse

__all__ = ["DynamicFrame"]


class DynamicFrame:
    def __init__(self, df: DataFrame, glue_ctx: Any, name: str = "") -> None:
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    @classmethod
    def fromDF(cls, dataframe: DataFrame, glue_ctx: Any, name: str) -> DynamicFrame:
        return cls(dataframe, glue_ctx, name)

    def toDF(self, options: Any = None) -> DataFrame:
        return self._df

    def count(self) -> int:
        return self._df.count()

    def schema(self) -> Any:
        return self._df.schema

    def printSchema(self) -> None:
        self._df.printSchema()

    def show(self, num_rows: int = 20) -> None:
        self._df.show(num_rows)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise refuse("DynamicFrame", name)
