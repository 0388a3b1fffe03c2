"""Kestrel support bot: knowledge base, tickets, notifications and the helpdesk service.

This package never imports `rasa` or `actions`: the Rasa runtime lives in its own
virtual environment and talks to this code only through the action server.
"""
