"""Custom Rasa NLU components (imported by the Rasa server from the project root)."""
