"""The web dashboard: server-rendered pages (Jinja2) with Plotly charts; no build step.

plotly.js is served by the app itself, so the pages work offline.
"""

from __future__ import annotations

from shipit.server.dashboard.pages import mount_dashboard

__all__ = ["mount_dashboard"]
