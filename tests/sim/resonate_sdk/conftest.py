"""Runs inside .venv-resonate (Python 3.12, resonate-sdk 0.6.7), driven by test_with_the_real_sdk.py, which
starts the promise server and passes its address in RESONATE_HOST / RESONATE_PORT_*. Where the SDK is not
installed (the main venv), pytest does not collect this folder."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("resonate") else ["test_sdk_against_server.py"]
