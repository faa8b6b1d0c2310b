"""moto's Step Functions no longer imports Batch and EC2 (0.73 CPU s and 87 MB a process); Batch still works
when it is used (sim/aws/moto_seams/lazy_batch.py). Each case runs in a fresh interpreter: this test process
may have imported moto's Batch already."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_serving_step_functions_imports_neither_batch_nor_ec2(tmp_path):
    out = _fresh(f"""
        import sys
        from pathlib import Path
        from sim.aws import AwsSimulator
        from sim.aws.moto_seams import lazy_batch
        with AwsSimulator.start(state_dir=Path({str(tmp_path)!r})) as aws:
            aws.client("stepfunctions").list_state_machines()  # moto imports Step Functions and its interpreter
            print("moto.stepfunctions.parser.asl.parse.asl_parser" in sys.modules, "moto.ec2.models" in sys.modules,
                  "moto.batch.models" in sys.modules, lazy_batch.deferred())
    """)
    assert out == "True False False True"


def test_batch_still_answers_once_it_is_used_and_its_package_is_then_whole(tmp_path):
    out = _fresh(f"""
        import sys
        from pathlib import Path
        from sim.aws import AwsSimulator
        from sim.aws.moto_seams import lazy_batch
        with AwsSimulator.start(state_dir=Path({str(tmp_path)!r})) as aws:
            aws.client("stepfunctions").list_state_machines()
            before = lazy_batch.deferred()
            queues = aws.client("batch").describe_job_queues()["jobQueues"]
            import moto.batch
            print(before, queues, "moto.ec2.models" in sys.modules, lazy_batch.deferred(),
                  moto.batch.batch_backends is moto.batch.models.batch_backends)
    """)
    assert out == "True [] True False True"


def test_a_process_that_imported_batch_first_keeps_it_as_it_is():
    out = _fresh("""
        import moto.batch
        from sim.aws.moto_seams import lazy_batch
        print(lazy_batch.defer_batch_init(), lazy_batch.deferred())
    """)
    assert out == "False False"
