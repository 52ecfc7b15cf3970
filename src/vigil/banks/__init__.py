"""Hash, URL, domain and term banks: lists of known content with provenance."""
