"""Custom Rasa actions: thin adapters from a Rasa tracker to `bot/` and back."""
