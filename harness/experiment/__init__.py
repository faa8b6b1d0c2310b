"""Failure-injection experiments: fly the pipeline under seeded random fault plans, check its invariants,
shrink every violation to a minimal plan (the way Jepsen answers "does it lose data when things fail?").
"""
