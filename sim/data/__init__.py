"""Raw input for the reference pipeline: a seeded generator of customer files and the seed's samples."""

from sim.data.generator import DIRTY_KINDS, GenerationReport, generate
from sim.data.samples import SAMPLE_CSV, SAMPLE_JSON

__all__ = ["DIRTY_KINDS", "SAMPLE_CSV", "SAMPLE_JSON", "GenerationReport", "generate"]
