"""Notices after intake: acknowledgement, outcome to the notifier, notifier standing (DSA Art. 16, 23)."""
