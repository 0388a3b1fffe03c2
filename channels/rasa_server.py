"""Rasa's own command line (`rasa run ...`), with one speed fix to Rasa 3.6 applied first.

Run with Rasa's Python from the project root, as the launcher does:
    .venv-rasa/bin/python -m channels.rasa_server run --enable-api ...

Why: Rasa 3.6 checks every custom action's reply with `jsonschema.validate(reply, schema)`,
which first validates the schema itself against the JSON Schema meta-schema, on every call.
The schema is a constant. Under load, py-spy put two thirds of the Rasa server's time for a
do-nothing custom action there (docs/benchmarks.md, "The action-server hop").

The fix builds the validator once. A valid reply passes with the same checks; an invalid one
goes through Rasa's own method, so the error and its message are exactly Rasa's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install_cached_action_validator", "main"]


def install_cached_action_validator() -> None:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "cached_validator", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of once per action call
    validator = validator_class(schema)
    rasa_validate = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return rasa_validate(self, result)  # raises Rasa's ValidationError with Rasa's message

    _validate_action_result.cached_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def main() -> None:
    install_cached_action_validator()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
