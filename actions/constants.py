"""Rasa names used from Python, in one place; tests check them against domain.yml."""

# Intents
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"

# Slots
SLOT_KB_TOPIC = "kb_topic"
SLOT_KB_QUERY = "kb_query"
SLOT_KB_SHOWN = "kb_shown"
SLOT_KB_UNRESOLVED = "kb_unresolved"

# Actions
ACTION_ANSWER_FROM_KB = "action_answer_from_kb"
ACTION_KB_NOT_HELPFUL = "action_kb_not_helpful"
ACTION_PING = "action_ping"
