"""Retention: content that matched nothing is not kept beyond what the policy allows."""
