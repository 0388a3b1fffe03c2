"""channels/rasa_server.py: Rasa's action-reply check, with the schema validated once instead of per call.

These run in the Rasa environment (.venv-rasa), where the code runs in production.
"""

from __future__ import annotations

import subprocess
import textwrap

from tests.conftest import PROJECT_ROOT, rasa_env

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str) -> str:
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", textwrap.dedent(script)],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SETUP = """
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from channels.rasa_server import install_cached_action_validator

    action = RemoteAction("action_answer_from_kb", None)
    valid = {"events": [{"event": "slot", "name": "kb_query", "value": "refund"}],
             "responses": [{"text": "Refunds take 5 days.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]}
    invalid = {"events": [{"event": "slot", "value": "no name"}], "responses": []}

    def rasa_error(reply):
        try:
            action._validate_action_result(reply)
        except ValidationError as error:
            return error.message
        return None
"""


def test_valid_replies_pass_without_checking_the_schema_again() -> None:
    out = run_in_rasa(
        SETUP
        + """
    install_cached_action_validator()
    install_cached_action_validator()  # a second install is a no-op, not a second wrapper
    checks = []
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    cls.check_schema = classmethod(lambda c, schema: checks.append(1))
    print(all(action._validate_action_result(valid) for _ in range(50)), len(checks))
    """
    )
    assert out.split() == ["True", "0"]


def test_an_invalid_reply_fails_with_exactly_rasas_error() -> None:
    out = run_in_rasa(
        SETUP
        + """
    before = rasa_error(invalid)
    install_cached_action_validator()
    after = rasa_error(invalid)
    print(before == after, before is not None, "Failed to validate Action server response" in after)
    """
    )
    assert out.split() == ["True", "True", "True"]


def test_the_launcher_starts_rasa_through_it() -> None:
    from bot.config import Settings
    from bot.launcher import services

    (rasa,) = [s for s in services(Settings()) if s.name == "rasa"]
    assert rasa.argv[1:4] == ["-m", "channels.rasa_server", "run"]
    assert rasa.argv[0].endswith(".venv-rasa/bin/python")
