"""Rasa names used from Python, in one place; tests check them against domain.yml."""

# Intents
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"
INTENT_GOODBYE = "goodbye"
INTENT_THANKS = "thanks"
INTENT_OPEN_TICKET = "open_ticket"
INTENT_OUT_OF_SCOPE = "out_of_scope"

# Slots
SLOT_KB_TOPIC = "kb_topic"
SLOT_KB_QUERY = "kb_query"
SLOT_KB_SHOWN = "kb_shown"
SLOT_KB_READ = "kb_read"

# Actions
ACTION_ANSWER_FROM_KB = "action_answer_from_kb"
ACTION_YES_NO = "action_yes_no"
ACTION_PING = "action_ping"

# Tickets
INTENT_CONFIRM_NEW_TICKET = "confirm_new_ticket"
INTENT_ADD_TO_TICKET = "add_to_ticket"
INTENT_DECLINE_TICKET = "decline_ticket"
SLOT_TICKET_EMAIL = "ticket_email"
SLOT_TICKET_SUMMARY = "ticket_summary"
SLOT_TICKET_CATEGORY = "ticket_category"
SLOT_TICKET_ORDER_REF = "ticket_order_ref"
SLOT_TICKET_ADDITION = "ticket_addition"
SLOT_TICKET_ADDITION_REF = "ticket_addition_ref"
SLOT_TICKET_DUPLICATE_OF = "ticket_duplicate_of"
SLOT_LAST_TICKET_REF = "last_ticket_ref"
FORM_TICKET = "ticket_form"
FORM_TICKET_ADDITION = "ticket_addition_form"
ACTION_VALIDATE_TICKET_FORM = "validate_ticket_form"
ACTION_ASK_TICKET_EMAIL = "action_ask_ticket_email"
ACTION_ASK_TICKET_SUMMARY = "action_ask_ticket_summary"
ACTION_ASK_TICKET_CATEGORY = "action_ask_ticket_category"
ACTION_CREATE_TICKET = "action_create_ticket"
ACTION_CANCEL_TICKET = "action_cancel_ticket"
ACTION_TICKET_STATUS = "action_ticket_status"
ACTION_ADD_TO_TICKET = "action_add_to_ticket"
ACTION_SAVE_TICKET_ADDITION = "action_save_ticket_addition"
# The order-number question's "Skip" answer, stored so the form counts the slot as filled.
NO_ORDER_REF = "-"

# Updates pushed into the chat, and the customer's verdict
INTENT_TICKET_UPDATE = "ticket_update"
SLOT_RATING_TICKET_REF = "rating_ticket_ref"
SLOT_RATING_COMMENT = "rating_comment"
FORM_RATING_COMMENT = "rating_comment_form"
ACTION_NOTIFY_TICKET_UPDATE = "action_notify_ticket_update"
ACTION_TICKET_SOLVED = "action_ticket_solved"
ACTION_TICKET_NOT_SOLVED = "action_ticket_not_solved"
ACTION_RATE_TICKET = "action_rate_ticket"
ACTION_SAVE_RATING_COMMENT = "action_save_rating_comment"
ACTION_KEEP_TICKET_OPEN = "action_keep_ticket_open"
INTENT_TICKET_SOLVED = "ticket_solved"
INTENT_KEEP_TICKET_OPEN = "keep_ticket_open"

# Live handoff
ACTION_REQUEST_HUMAN = "action_request_human"
ACTION_HANDOFF_TIMEOUT = "action_handoff_timeout"
