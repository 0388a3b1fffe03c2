"""Rasa names are a contract between domain.yml, the data files and the Python actions."""

import inspect
import re

import yaml
from rasa_sdk import Action

import actions.handoff_actions
import actions.kb_actions
import actions.ticket_actions
import actions.update_actions
import actions.yes_no_actions
from actions import constants
from bot.config import PROJECT_ROOT


def load(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / name).read_text())


def python_actions() -> dict[str, type]:
    found = {}
    for module in (
        actions.kb_actions,
        actions.ticket_actions,
        actions.update_actions,
        actions.handoff_actions,
        actions.yes_no_actions,
    ):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                found[cls().name()] = cls  # zero-argument constructors, as rasa-sdk requires
    return found


def test_every_custom_action_in_the_domain_exists_in_python() -> None:
    custom = [a for a in load("domain.yml")["actions"] if a.startswith(("action_", "validate_"))]
    assert sorted(custom) == sorted(python_actions())


def test_every_response_used_in_rules_and_stories_exists_in_the_domain() -> None:
    responses = set(load("domain.yml")["responses"])
    used = set()
    for path in [*PROJECT_ROOT.glob("data/*.yml"), *PROJECT_ROOT.glob("tests/test_*.yml")]:
        used |= set(re.findall(r"action: (utter_\w+)", path.read_text()))
    assert used, "no responses found in the data files"
    assert used <= responses, f"undefined responses: {used - responses}"


def test_constants_match_domain_names() -> None:
    domain = load("domain.yml")
    for name, value in vars(constants).items():
        if name.startswith("SLOT_"):
            assert value in domain["slots"], name
        elif name.startswith("ACTION_"):
            assert value in domain["actions"], name
        elif name.startswith("INTENT_"):
            assert value in domain["intents"], name
        elif name.startswith("FORM_"):
            assert value in domain["forms"], name
