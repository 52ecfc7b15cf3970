"""Platform integration: actions reach the platform by signed webhooks and a pull API.

Both read one feed built from the audit event log (``feed``); the event's ``seq`` is
the cursor, so there is no second outbox that could drift from what was recorded.
"""
