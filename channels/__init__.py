"""Custom Rasa input channels, loaded by the Rasa server from credentials.yml, and the
server's entry point (`rasa_server.py`: `rasa run` with a speed fix).

These modules run inside the Rasa runtime (`.venv-rasa`, Python 3.10): they import only
`rasa`, its dependencies and the standard library, never `bot` (whose packages are not there).
"""
