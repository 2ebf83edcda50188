"""rasa-sdk custom actions: the conversation's bridge to the portal.

Thin by design: they read who is asking from the message metadata, call `portal.services`, and turn the results
and the portal's refusals into responses and slots. Run them in-process or as an action server:
`python -m rasa_sdk --actions actions` (or `chargedesk actions`).
"""
