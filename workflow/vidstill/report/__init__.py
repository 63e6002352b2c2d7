"""Reporting: result tables (mean ± std over runs, published numbers beside ours) and figures."""
