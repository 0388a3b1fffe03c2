"""The helpdesk web service (FastAPI)."""
