"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from vigil.actions.models import Action
from vigil.appeals.models import Appeal
from vigil.audit.models import ChainHead, Event
from vigil.authorities.models import AuthorityProduction, AuthorityRequest, AuthorityTarget
from vigil.banks.models import Bank, BankEntry
from vigil.cases.models import Case, Decision
from vigil.holds.models import LegalHold
from vigil.items.models import Account, Item, Media, Notice
from vigil.notices.models import Notifier
from vigil.platform.models import (
    PlatformToken,
    WebhookDeadLetter,
    WebhookDelivery,
    WebhookEndpoint,
)
from vigil.policy.models import PolicyVersion, Verdict
from vigil.referrals.models import Referral
from vigil.rescans.models import Rescan
from vigil.safeguards.models import EntryMatchCount, Quarantine, ScanCount
from vigil.signals.models import Signal
from vigil.staff.models import StaffMember
from vigil.statements.models import IssuedPuid, StatementOfReasons
from vigil.strikes.models import Strike

__all__ = [
    "Account",
    "Action",
    "Appeal",
    "AuthorityProduction",
    "AuthorityRequest",
    "AuthorityTarget",
    "Bank",
    "BankEntry",
    "Case",
    "ChainHead",
    "Decision",
    "EntryMatchCount",
    "Event",
    "IssuedPuid",
    "Item",
    "LegalHold",
    "Media",
    "Notice",
    "Notifier",
    "PlatformToken",
    "PolicyVersion",
    "Quarantine",
    "Referral",
    "Rescan",
    "ScanCount",
    "Signal",
    "StaffMember",
    "StatementOfReasons",
    "Strike",
    "Verdict",
    "WebhookDeadLetter",
    "WebhookDelivery",
    "WebhookEndpoint",
]
