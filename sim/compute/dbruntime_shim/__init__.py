"""A directory put on the worker's PYTHONPATH so that `import dbruntime` finds the shim inside it."""
