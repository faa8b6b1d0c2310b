"""`stepbricks up` and `run` start without the cyclic collector and freeze what start-up made (harness/startup_gc.py).

Run in a fresh interpreter: the collector is process-wide, and this test process has frozen its own heap already.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import gc, json
from harness import startup_gc
started = []
gc.callbacks.append(lambda phase, info: started.append(info["generation"]) if phase == "start" else None)
startup_gc.pause_collector()
made = [[i] for i in range(200_000)]  # containers far past the collector's thresholds, as imports make
during = list(started)
startup_gc.freeze_start_up()
frozen = gc.get_freeze_count()
cycle = []
cycle.append(cycle)
del cycle
print(json.dumps({"during": during, "enabled": gc.isenabled(), "frozen": frozen, "collected": gc.collect()}))
"""


def test_start_up_runs_no_collection_then_freezes_what_it_made_and_collects_what_comes_after():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    probe = json.loads(out.stdout)
    assert probe["during"] == []
    assert probe["enabled"] is True
    assert probe["frozen"] >= 200_000
    assert probe["collected"] >= 1  # the cycle made after the freeze
