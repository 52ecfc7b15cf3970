"""The code of practice: a versioned YAML policy, parsed, validated and executed like a small compiler."""
