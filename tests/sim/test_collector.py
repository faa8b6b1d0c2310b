"""The collector in stepbricks' own processes (sim/collector.py): `stepbricks up` and `run` start without it and
freeze what start-up made; cluster workers and the suite's processes also collect rarely.

Run in a fresh interpreter: the collector is process-wide, and this test process has frozen its own heap already.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import gc, json
from sim import collector
started = []
gc.callbacks.append(lambda phase, info: started.append(info["generation"]) if phase == "start" else None)
collector.pause_collector()
made = [[i] for i in range(200_000)]  # containers far past the collector's thresholds, as imports make
during = list(started)
collector.freeze_start_up()
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


def test_collecting_rarely_waits_for_ten_thousand_new_containers():
    probe = "import gc, json; from sim import collector; collector.collect_rarely(); print(json.dumps(gc.get_threshold()))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == [10_000, 20, 20]


_EXIT_PROBE = """
import atexit, gc, json
from sim import collector
freezes = []
freeze = gc.freeze
gc.freeze = lambda: (freezes.append(1), freeze())[1]  # counts the freezes the exit handlers make
# Registered before freeze_at_exit, so it runs after it (atexit calls the last-registered first).
atexit.register(lambda: print(json.dumps({"frozen": gc.get_freeze_count(), "enabled": gc.isenabled(),
                                          "freezes": len(freezes)})))
collector.freeze_at_exit()
collector.freeze_at_exit()  # a second call leaves one handler
made = [[i] for i in range(200_000)]  # what a flight leaves alive at exit
"""


def test_at_exit_everything_alive_is_frozen_so_the_interpreters_last_collection_walks_nothing():
    out = subprocess.run([sys.executable, "-c", _EXIT_PROBE], capture_output=True, text=True, check=True, timeout=60)
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout  # the exit handler ran once
    probe = json.loads(lines[0])
    assert probe["frozen"] >= 200_000
    assert probe["enabled"] is False
    assert probe["freezes"] == 1
