"""Review cases and human decisions; a case's status is a pure function of its events."""
