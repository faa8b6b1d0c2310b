"""Clusters of the fake workspace: worker processes that hold a warm SparkSession and run tasks.

The API layer (`sim.databricks.runs`) only talks to this package through `contract.py`.
"""
