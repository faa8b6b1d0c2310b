"""Runs inside .venv-resonate (Python 3.12, resonate-sdk 0.6.7), driven by test_with_the_real_sdk.py, which
starts the promise server and passes its address in RESONATE_HOST / RESONATE_PORT_*. Where the SDK is not
installed (the main venv), pytest does not collect this folder."""

import importlib.metadata


def _sdk_installed() -> bool:
    # Not `find_spec("resonate")`: with tests/sim on sys.path, tests/sim/resonate is a namespace package
    # of that name, and the main venv would collect this folder.
    try:
        importlib.metadata.version("resonate-sdk")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


collect_ignore = [] if _sdk_installed() else ["test_sdk_against_server.py"]
