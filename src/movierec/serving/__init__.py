"""Serving: exported artifacts, the FastAPI app, the feedback store and the web page."""
