"""How the worker (`bootstrap.py`) reports a failing handler: byte for byte what the AWS Python runtime sends.

The spec is awslambdaric, the AWS Lambda Python runtime interface client (aws/aws-lambda-python-runtime-
interface-client): `bootstrap.py` (`make_error`, `build_fault_result`, `handle_event_request`, `log_error`)
and `lambda_runtime_marshaller.py` (`to_json`: simplejson's JSONEncoder defaults, `", "`/`": "`
separators). Code runs from `/var/task` and the managed Python from `/var/lang` (Lambda developer guide,
"Defined runtime environment variables": LAMBDA_TASK_ROOT=/var/task, LAMBDA_RUNTIME_DIR=/var/runtime), so
frames name those directories, never a directory of this machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.aws import AwsSimulator


def _local_code_root(aws: AwsSimulator) -> str:
    """Where this machine keeps the extracted function code (each function under `<sha256>/`)."""
    return str(aws.state_dir / "lambda" / "code")


def _invoke(lambda_client: Any, name: str, payload: Any = None) -> tuple[dict[str, Any], bytes]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return response, response["Payload"].read()


NESTED = """\
import json
import os

def helper(event):
    raise ValueError("bad input")

def handler(event, context):
    if event.get("where"):
        return os.environ["LAMBDA_TASK_ROOT"]
    if event.get("missing_file"):
        return open(os.path.join(os.getcwd(), "data", "missing.csv")).read()
    if event.get("parse"):
        return json.loads(event["parse"])
    return helper(event)
"""


def test_stack_trace_names_the_code_directory_as_var_task_and_no_local_path(aws: AwsSimulator, lambda_client,
                                                                             make_function):
    name = make_function(NESTED)
    local_root = _local_code_root(aws)

    response, raw = _invoke(lambda_client, name)

    assert response["FunctionError"] == "Unhandled"
    body = json.loads(raw)
    assert body["stackTrace"] == [
        '  File "/var/task/app.py", line 14, in handler\n    return helper(event)\n',
        '  File "/var/task/app.py", line 5, in helper\n    raise ValueError("bad input")\n',
    ]
    logs = "\n".join(aws.lambda_logs(name))
    assert local_root not in raw.decode() and local_root not in logs
    assert '\u00a0\u00a0File "/var/task/app.py", line 5, in helper' in logs


def test_standard_library_frames_are_under_var_lang_as_in_the_managed_runtime(lambda_client, make_function):
    name = make_function(NESTED)
    body = json.loads(_invoke(lambda_client, name, {"parse": "{nope"})[1])
    assert body["errorType"] == "JSONDecodeError"
    files = [frame.split('"')[1] for frame in body["stackTrace"]]
    assert files[0] == "/var/task/app.py"
    assert files[1] == "/var/lang/lib/python3.11/json/__init__.py"
    assert all(f.startswith(("/var/task/", "/var/lang/lib/python3.11/")) for f in files)


def test_error_payload_is_the_runtimes_json_with_its_spacing_and_key_order(lambda_client, make_function):
    name = make_function(NESTED)
    raw = _invoke(lambda_client, name)[1].decode()
    body = json.loads(raw)
    # to_json: simplejson defaults, the keys in make_error's order.
    assert raw == json.dumps({"errorMessage": "bad input", "errorType": "ValueError",
                              "requestId": body["requestId"], "stackTrace": body["stackTrace"]})
    assert raw.startswith('{"errorMessage": "bad input", "errorType": "ValueError", "requestId": "')
    assert len(body["requestId"]) == 36


def test_unserialisable_result_is_the_runtimes_marshal_error_exactly(aws: AwsSimulator, lambda_client,
                                                                     make_function):
    name = make_function("def handler(event, context):\n    return {'ids': {1, 2}}\n")
    response, raw = _invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    request_id = json.loads(raw)["requestId"]
    # awslambdaric: FaultException(MARSHAL_ERROR, "Unable to marshal response: <str(e)>", None) → no frames.
    assert raw.decode() == (
        '{"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable", '
        f'"errorType": "Runtime.MarshalError", "requestId": "{request_id}", "stackTrace": []}}'
    )
    # log_error prints the Traceback line for an empty trace too.
    assert ("[ERROR] Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON "
            "serializable\nTraceback (most recent call last):") in aws.lambda_logs(name)


def test_handler_setting_with_a_directory_names_the_module_as_written(lambda_client, make_function):
    name = make_function({"jobs/app.py": "import missing_dependency\n"}, handler="jobs/app.handler")
    body = json.loads(_invoke(lambda_client, name)[1])
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'jobs/app': No module named 'missing_dependency'"


def test_syntax_error_reports_the_file_under_var_task(lambda_client, make_function):
    name = make_function("def handler(event, context)\n    return 1\n")
    body = json.loads(_invoke(lambda_client, name)[1])
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app': expected ':' (app.py, line 1)")
    assert body["stackTrace"] == ['  File "/var/task/app.py" Line 1\n    def handler(event, context)\n']


def test_a_crashing_function_gets_the_services_compact_exit_error(lambda_client, make_function):
    name = make_function("import os\ndef handler(event, context):\n    os._exit(3)\n")
    response, raw = _invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    request_id = raw.decode().split("RequestId: ")[1].split(" ")[0]
    # Written by the Lambda service, not the runtime: errorType first, no spaces, no stackTrace.
    assert raw.decode() == ('{"errorType":"Runtime.ExitError","errorMessage":"RequestId: '
                            f'{request_id} Error: Runtime exited with error: exit status 3"}}')


def test_tracebacks_the_handler_formats_or_logs_itself_name_var_task(aws: AwsSimulator, lambda_client,
                                                                     make_function):
    name = make_function("""\
        import logging
        import os
        import traceback

        def handler(event, context):
            try:
                {}["missing"]
            except KeyError:
                logging.exception("lookup failed")
                return {"trace": traceback.format_exc(), "root": os.environ["LAMBDA_TASK_ROOT"]}
    """)
    body = json.loads(_invoke(lambda_client, name)[1])
    assert '  File "/var/task/app.py", line 7, in handler\n    {}["missing"]\n' in body["trace"]
    assert _local_code_root(aws) not in body["trace"]
    logs = "\n".join(aws.lambda_logs(name))
    assert "lookup failed" in logs and 'File "/var/task/app.py", line 7, in handler' in logs
    assert _local_code_root(aws) not in logs


def test_an_uncaught_error_is_one_log_event_indented_with_no_break_spaces(aws: AwsSimulator, lambda_client,
                                                                         make_function):
    # awslambdaric log_error through the telemetry sink: the lines joined by "\n" in one frame, each
    # trace line's leading spaces replaced by U+00A0 (replace_line_indentation).
    name = make_function(NESTED)
    _invoke(lambda_client, name)
    event = next(m for m in aws.lambda_logs(name) if m.startswith("[ERROR]"))
    assert event == ("[ERROR] ValueError: bad input\n"
                     "Traceback (most recent call last):\n"
                     "\u00a0\u00a0File \"/var/task/app.py\", line 14, in handler\n"
                     "\u00a0\u00a0\u00a0\u00a0return helper(event)\n"
                     "\u00a0\u00a0File \"/var/task/app.py\", line 5, in helper\n"
                     "\u00a0\u00a0\u00a0\u00a0raise ValueError(\"bad input\")")


def test_a_logged_exception_is_one_log_event_with_its_traceback(aws: AwsSimulator, lambda_client, make_function):
    name = make_function("""\
        import logging

        def handler(event, context):
            try:
                raise KeyError("k")
            except KeyError:
                logging.getLogger().exception("lookup failed")
            return 1
    """)
    _invoke(lambda_client, name)
    event = next(m for m in aws.lambda_logs(name) if "lookup failed" in m)
    level, _timestamp, request_id, text = event.split("\t", 3)
    assert (level, len(request_id)) == ("[ERROR]", 36)
    assert text.startswith("lookup failed\nTraceback (most recent call last):\n"
                           '  File "/var/task/app.py", line 5, in handler\n')
    assert text.endswith("KeyError: 'k'")


def test_decimal_results_are_written_as_their_digits_as_the_runtime_does(lambda_client, make_function):
    # awslambdaric's Encoder: Decimal → RawJSON(str(obj)), a NaN Decimal → NaN (what DynamoDB items hold).
    name = make_function("""\
        from decimal import Decimal

        def handler(event, context):
            return {"price": Decimal("19.99"), "qty": Decimal("3"), "big": Decimal("1E+2"),
                    "nan": Decimal("NaN"), "rows": [Decimal("0.10")], "plain": 1.5}
    """)
    response, raw = _invoke(lambda_client, name)
    assert "FunctionError" not in response
    assert raw == b'{"price": 19.99, "qty": 3, "big": 1E+2, "nan": NaN, "rows": [0.10], "plain": 1.5}'


def test_marshal_error_text_is_the_same_when_a_decimal_is_present(lambda_client, make_function):
    name = make_function("from decimal import Decimal\n"
                         "def handler(event, context):\n    return [Decimal('1'), object()]\n")
    body = json.loads(_invoke(lambda_client, name)[1])
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"] == "Unable to marshal response: Object of type object is not JSON serializable"


def test_paths_in_error_messages_name_the_code_directory_as_var_task(lambda_client, make_function):
    # On AWS the working directory is /var/task, so the message names the file there.
    name = make_function(NESTED)
    body = json.loads(_invoke(lambda_client, name, {"missing_file": True})[1])
    assert body["errorType"] == "FileNotFoundError"
    assert body["errorMessage"] == "[Errno 2] No such file or directory: '/var/task/data/missing.csv'"


WHERE_AM_I = """\
import os

def handler(event, context):
    try:
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "scratch.txt"), "w").close()
        written = "yes"
    except OSError as exc:
        written = str(exc)
    return {"root": os.environ["LAMBDA_TASK_ROOT"], "file": __file__, "cwd": os.getcwd(),
            "runtime": os.environ["LAMBDA_RUNTIME_DIR"], "data": open("data.txt").read(), "written": written}
"""


def _mounts_allowed() -> bool:
    """Whether this machine lets a process mount the code on /var/task (root in a mount namespace)."""
    import subprocess
    import sys

    probe = ("import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
             "sys.exit(0 if libc.unshare(0x20000) == 0 and libc.mount(b'none', b'/', None, 0x4000 | (1 << 18), None) == 0 else 1)")
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def test_code_runs_from_var_task_as_on_aws_where_mounts_are_allowed(lambda_client, make_function):
    name = make_function({"app.py": WHERE_AM_I, "data.txt": "payload"})
    body = json.loads(_invoke(lambda_client, name)[1])
    assert body["data"] == "payload"
    if not _mounts_allowed():
        # The fallback: the real directory, renamed in frames and logs only.
        assert body["root"] != "/var/task" and body["file"] == body["root"] + "/app.py"
        return
    assert (body["root"], body["file"], body["cwd"], body["runtime"]) == (
        "/var/task", "/var/task/app.py", "/var/task", "/var/runtime")
    # /var/task is read-only on AWS.
    assert body["written"] == "[Errno 30] Read-only file system: '/var/task/scratch.txt'"


def test_each_function_sees_its_own_code_at_var_task(lambda_client, make_function):
    source = 'def handler(event, context):\n    return open("who.txt").read()\n'
    first = make_function({"app.py": source, "who.txt": "first"})
    second = make_function({"app.py": source, "who.txt": "second"})
    # Both workers stay warm side by side; neither mount is visible to the other or to this process.
    assert [json.loads(_invoke(lambda_client, name)[1]) for name in (first, second, first)] == [
        "first", "second", "first"]
    assert not Path("/var/task/who.txt").exists()
