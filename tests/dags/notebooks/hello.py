# Databricks notebook source
# ruff: noqa: F821  (dbutils is a notebook global on a cluster)
# The job the Airflow DAGs trigger in their tests: echoes its widget back as the run's result.
dbutils.widgets.text("greeting", "hello")
dbutils.notebook.exit(f"{dbutils.widgets.get('greeting')} from the fake workspace")
