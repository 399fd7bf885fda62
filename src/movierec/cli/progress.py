"""The commands' progress display; it lives in :mod:`movierec.progress`, below the pipelines, so the report
(:mod:`movierec.viz.report`) prints the same plain lines in pipes and logs as the commands do."""

from __future__ import annotations

from movierec.progress import LineProgress, LineStatus, make_progress, status

__all__ = ["LineProgress", "LineStatus", "make_progress", "status"]
