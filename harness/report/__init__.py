"""The run report: one self-contained HTML file per run (no scripts or fonts fetched from anywhere)."""

from harness.report.render import ReportData, render_report, write_report

__all__ = ["ReportData", "render_report", "write_report"]
