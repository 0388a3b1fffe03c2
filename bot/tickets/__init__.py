"""Tickets: the moment a customer's unsolved problem reaches a human.

`models` holds the tables, `store` the only functions that write them, `routing` picks the
team, category and priority, `sla` the due times, `transcript` turns a Rasa tracker into
the conversation an agent reads.
"""
