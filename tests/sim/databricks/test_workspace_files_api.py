"""Workspace API 2.0 through databricks-sdk's upload/download/list (multipart import, direct download)."""

from __future__ import annotations

import pytest
from databricks.sdk.service.workspace import ImportFormat, Language, ObjectType

SOURCE = b"# Databricks notebook source\nprint('hi')\n"


def test_upload_export_and_list_round_trip(client) -> None:
    client.workspace.mkdirs("/Shared/round/trip")
    client.workspace.upload("/Shared/round/trip/nb.py", SOURCE, format=ImportFormat.AUTO)
    client.workspace.upload("/Shared/round/trip/data.csv", b"a,b\n1,2\n", format=ImportFormat.AUTO)
    client.workspace.upload("/Shared/round/trip/src", SOURCE, language=Language.PYTHON)
    listed = {o.path: o.object_type for o in client.workspace.list("/Shared/round/trip")}
    assert listed == {"/Shared/round/trip/nb": ObjectType.NOTEBOOK, "/Shared/round/trip/data.csv": ObjectType.FILE,
                      "/Shared/round/trip/src": ObjectType.NOTEBOOK}
    assert client.workspace.download("/Shared/round/trip/nb").read() == SOURCE
    assert client.workspace.download("/Workspace/Shared/round/trip/data.csv").read() == b"a,b\n1,2\n"
    exported = client.workspace.export("/Shared/round/trip/src")
    assert exported.content and client.workspace.get_status("/Shared/round/trip/src").language == Language.PYTHON


def test_import_without_overwrite_refuses_an_existing_path(client) -> None:
    from databricks.sdk.errors import ResourceAlreadyExists

    client.workspace.mkdirs("/Shared/overwrite")
    client.workspace.upload("/Shared/overwrite/nb", SOURCE, language=Language.PYTHON)
    with pytest.raises(ResourceAlreadyExists):
        client.workspace.upload("/Shared/overwrite/nb", SOURCE, language=Language.PYTHON)
    client.workspace.upload("/Shared/overwrite/nb", SOURCE + b"x = 1\n", language=Language.PYTHON, overwrite=True)
    assert client.workspace.download("/Shared/overwrite/nb").read().endswith(b"x = 1\n")


def test_delete_of_a_non_empty_folder_needs_recursive(client) -> None:
    from databricks.sdk.errors import DatabricksError, ResourceDoesNotExist

    client.workspace.mkdirs("/Shared/tree/leaf")
    with pytest.raises(DatabricksError, match=r"Folder \(/Shared/tree\) is not empty"):
        client.workspace.delete("/Shared/tree")
    client.workspace.delete("/Shared/tree", recursive=True)
    with pytest.raises(ResourceDoesNotExist):
        client.workspace.get_status("/Shared/tree/leaf")


def test_import_into_a_missing_folder_names_the_folder(client) -> None:
    from databricks.sdk.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match=r"parent folder \(/Shared/absent\)"):
        client.workspace.upload("/Shared/absent/nb", SOURCE, language=Language.PYTHON)
