"""Appeals (DSA Art. 20): internal complaints against a decision, decided by another person."""
