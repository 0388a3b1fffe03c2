"""Getting news to the customer: into their chat through Rasa's HTTP API, or by email."""
