"""Map Runs of a Distributed Map (DescribeMapRun, ListMapRuns, UpdateMapRun) as AWS reports them."""

from __future__ import annotations
