"""Choosing the policy in force and recording each version that was used.

Verdicts point at a :class:`PolicyVersion` row holding the exact source text,
so any decision can be traced to the rules that made it. Rows are keyed by the
SHA-256 of that text: activating the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vigil.policy.defaults import DEFAULT_POLICY_RESOURCE, default_policy_text
from vigil.policy.models import PolicyVersion
from vigil.policy.schema import Policy
from vigil.policy.validate import load_policy_text, read_policy_file
from vigil.unit_of_work import UnitOfWork

ACTIVATED_EVENT = "policy.activated"


def source_sha256(source_text: str) -> str:
    """The identity of a policy version: SHA-256 of its UTF-8 source text."""
    return hashlib.sha256(source_text.encode("utf-8")).hexdigest()


def _find(uow: UnitOfWork, digest: str) -> PolicyVersion | None:
    return uow.session.scalars(
        select(PolicyVersion).where(PolicyVersion.sha256 == digest)
    ).one_or_none()


def activate(uow: UnitOfWork, policy: Policy, source_text: str) -> PolicyVersion:
    """The stored version of ``source_text``, created (and audited) on first use.

    ``policy`` must be what ``source_text`` parses to; pass the pair returned by
    :func:`load_active`.
    """
    digest = source_sha256(source_text)
    existing = _find(uow, digest)
    if existing is not None:
        return existing
    row = PolicyVersion(
        name=policy.policy,
        version=policy.version,
        sha256=digest,
        source=source_text,
        activated_at=uow.now(),
    )
    try:
        # A savepoint, so a concurrent activation of the same text only costs a re-read.
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:
        winner = _find(uow, digest)
        if winner is None:
            raise
        return winner
    uow.log.record(
        ACTIVATED_EVENT,
        f"policy:{row.id}",
        {"name": policy.policy, "version": policy.version, "sha256": digest},
    )
    return row


def load_active(path: Path | None = None) -> tuple[Policy, str]:
    """The policy at ``path`` (the shipped default when ``None``) and its exact text.

    Raises :class:`vigil.policy.validate.PolicyError` when the file is invalid.
    """
    if path is None:
        text = default_policy_text()
        return load_policy_text(text, DEFAULT_POLICY_RESOURCE), text
    text = read_policy_file(path)
    return load_policy_text(text, str(path)), text
