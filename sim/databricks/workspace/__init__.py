"""Workspace API 2.0: notebooks, files and folders (what `w.workspace.upload` and bundle deploys use)."""
