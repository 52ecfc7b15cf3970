"""The shape of a code-of-practice file, as Pydantic models.

Parsing (``parser``) turns YAML into plain data with line numbers, validation
(``validate``) checks it against these models and cross-references, and the
engine (``engine``) executes a validated :class:`Policy` on an item's signals.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil.statements.dsa import EU_COUNTRIES

CATEGORY_ID = r"^[a-z][a-z0-9_]*$"
RULE_ID = r"^[a-z0-9][a-z0-9_-]*$"
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ["low", "medium", "high", "critical"].index(self.value)


class ActionKind(enum.StrEnum):
    REMOVE_CONTENT = "remove_content"
    RESTRICT_VISIBILITY = "restrict_visibility"
    SUSPEND_ACCOUNT = "suspend_account"
    CLOSE_ACCOUNT = "close_account"
    # Account-level steps that strike escalation can take; a warning restricts nothing.
    WARN_ACCOUNT = "warn_account"
    RESTRICT_ACCOUNT = "restrict_account"

    @property
    def targets_account(self) -> bool:
        return self in _ACCOUNT_ACTIONS

    @property
    def is_restriction(self) -> bool:
        """Whether the action restricts the user, and so needs a statement of reasons."""
        return self is not ActionKind.WARN_ACCOUNT


_ACCOUNT_ACTIONS = frozenset(
    {
        ActionKind.SUSPEND_ACCOUNT,
        ActionKind.CLOSE_ACCOUNT,
        ActionKind.WARN_ACCOUNT,
        ActionKind.RESTRICT_ACCOUNT,
    }
)


class SignalKind(enum.StrEnum):
    SHA256 = "sha256"
    MD5 = "md5"
    URL = "url"
    DOMAIN = "domain"
    TERM = "term"
    PDQ = "pdq"
    TEXT = "text"
    REGEX = "regex"
    NOTICE = "notice"
    CLASSIFIER = "classifier"


class Review(enum.StrEnum):
    REQUIRED = "required"  # open a case; act only on a human decision
    NONE = "none"  # the verdict may act alone


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 7d")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "m": timedelta(minutes=amount),
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
    }[unit]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatementConfig(_Strict):
    """How a category maps onto the DSA statement-of-reasons fields."""

    category: str
    keywords: list[str] = Field(default_factory=list)
    ground: Literal["illegal", "incompatible"]
    legal_ground: str | None = Field(default=None, max_length=500)
    terms_clause: str | None = Field(default=None, max_length=500)
    explanation: str = Field(min_length=1, max_length=2000)
    reference_url: str | None = Field(default=None, max_length=500)


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


class StrikeConfig(_Strict):
    """What a violation in this category weighs on the account, and for how long."""

    weight: int = Field(default=1, ge=0, le=100)
    expires: str = "180d"

    @field_validator("expires")
    @classmethod
    def _expires(cls, value: str) -> str:
        return _check_duration(value)

    @property
    def expires_delta(self) -> timedelta:
        return parse_duration(self.expires)


class ReferralRoute(enum.StrEnum):
    """Where a referral goes: DSA Art. 18 notice, NCMEC CyberTipline, UK NCA, or a configured other."""

    DSA_ART18 = "dsa_art18"
    NCMEC = "ncmec"
    UK_NCA = "uk_nca"
    OTHER = "other"


class ReferralPriority(enum.StrEnum):
    """The NCA's priorities, used for every route: how soon the referral must go."""

    P1_IMMEDIATE = "P1_immediate"
    P2_ASAP = "P2_asap"
    P3_WITHOUT_UNDUE_DELAY = "P3_without_undue_delay"


# DSA Art. 18(1): the Member State(s) concerned, or Europol when that is unclear.
EU_MEMBER_STATES = EU_COUNTRIES
EUROPOL = "europol"


class ReferralConfig(_Strict):
    """Violations in this category are reported to an authority, after a legal officer approves.

    ``hold`` is how long the account's data is preserved once the referral is
    approved (1 year for NCMEC, 18 U.S.C. 2258A(h); 6 months for EU terrorist
    content, TCO Art. 6). ``destination`` says where a DSA Art. 18 notice goes.
    """

    route: ReferralRoute
    priority: ReferralPriority = ReferralPriority.P3_WITHOUT_UNDUE_DELAY
    deadline: str = "24h"
    hold: str = "365d"
    legal_basis: str = Field(min_length=1, max_length=500)
    destination: list[str] = Field(default_factory=list)

    @field_validator("deadline", "hold")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _check_duration(value)

    @field_validator("destination")
    @classmethod
    def _destinations(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in EU_MEMBER_STATES and e != EUROPOL]
        if unknown:
            raise ValueError(
                f"destination {', '.join(repr(e) for e in unknown)}: neither an EU member state "
                f"code ({', '.join(EU_MEMBER_STATES)}) nor {EUROPOL}"
            )
        if len(set(value)) != len(value):
            raise ValueError("destination lists a recipient twice")
        return value

    @model_validator(mode="after")
    def _destination_fits_route(self) -> ReferralConfig:
        if self.route is ReferralRoute.DSA_ART18 and not self.destination:
            raise ValueError(
                "route dsa_art18 needs destination: the member state codes concerned, "
                "or europol (DSA Art. 18(1))"
            )
        if self.route is not ReferralRoute.DSA_ART18 and self.destination:
            raise ValueError(
                f"destination only applies to route dsa_art18; route {self.route.value} "
                "has a fixed recipient"
            )
        return self

    @property
    def deadline_delta(self) -> timedelta:
        return parse_duration(self.deadline)

    @property
    def hold_delta(self) -> timedelta:
        return parse_duration(self.hold)


class Category(_Strict):
    title: str = Field(min_length=1)
    statement: StatementConfig
    # Every violating decision in this category waits for a second reviewer's confirmation.
    four_eyes: bool = False
    strike: StrikeConfig = StrikeConfig()
    # Referable to an authority (None: never referred).
    referral: ReferralConfig | None = None


class Condition(_Strict):
    """Which signals make a rule fire: all listed filters must hold for at least ``min_count`` signals."""

    signals: list[SignalKind] = Field(min_length=1)
    banks: list[str] | None = None
    bank_categories: list[str] | None = None
    notice_categories: list[str] | None = None
    # Classifier signals: the declared classifier, one of its labels, and the lowest score.
    classifier: str | None = None
    label: str | None = None
    min_score: float | None = Field(default=None, ge=0, le=1)
    min_count: int = Field(default=1, ge=1)


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID)
    category: str
    when: Condition
    severity: Severity
    action: ActionKind
    review: Review
    deadline: str | None = None
    description: str | None = None

    @field_validator("deadline")
    @classmethod
    def _deadline(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def deadline_delta(self) -> timedelta | None:
        return parse_duration(self.deadline) if self.deadline else None


class ClassifierKind(enum.StrEnum):
    """The loaders Vigil has; a declared kind must match the model's manifest."""

    LEXICAL = "lexical"
    EMBEDDING = "embedding"
    EXEMPLAR = "exemplar"
    HYBRID = "hybrid"
    TRANSFORMERS = "transformers"
    ONNX = "onnx"


class ScoreBand(_Strict):
    """First-stage scores in ``[low, high)`` are uncertain: the next model decides them."""

    low: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> ScoreBand:
        if self.low > self.high:
            raise ValueError("low must not be above high")
        return self


class CascadeSpec(_Strict):
    """The cheap model scores everything; only its uncertain items reach the costly one.

    ``first`` and ``then`` name other declared classifiers. ``labels`` overrides
    the band for single labels, since each label's scores sit on their own scale.
    """

    first: str = Field(min_length=1)
    then: str = Field(min_length=1)
    uncertain: ScoreBand
    labels: dict[str, ScoreBand] = Field(default_factory=dict)

    def band(self, label: str) -> ScoreBand:
        return self.labels.get(label, self.uncertain)


class EnsembleSpec(_Strict):
    """A weighted mean of declared models' scores, per shared label.

    Lexical and embedding models err on different texts, so their blend ranks
    better than either (bench/classifier_quality.py measures by how much).
    """

    models: dict[str, float] = Field(min_length=2)

    @field_validator("models")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if not weight > 0:
                raise ValueError(f"the weight of '{name}' must be above 0")
        return value


class ClassifierSpec(_Strict):
    """A model the rules may name: shipped with Vigil under its name, or at ``path``.

    ``version`` and ``sha256`` (of the model's manifest.json) pin the exact model:
    a policy never silently runs on a model it was not written for. A spec with
    ``cascade`` or ``ensemble`` names no model of its own: it combines declared ones.
    """

    kind: ClassifierKind | None = None
    path: str | None = Field(default=None, min_length=1)
    version: str | None = Field(default=None, min_length=1)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    cascade: CascadeSpec | None = None
    ensemble: EnsembleSpec | None = None

    @model_validator(mode="after")
    def _one_combination(self) -> ClassifierSpec:
        if self.cascade is not None and self.ensemble is not None:
            raise ValueError("a classifier is a cascade or an ensemble, not both")
        return self


class Retention(_Strict):
    """What happens to items that raised no signal."""

    unmatched_content: Literal["drop", "keep"] = "drop"
    unmatched_content_days: int = Field(default=0, ge=0)


ESCALATION_ACTIONS = (
    ActionKind.WARN_ACCOUNT,
    ActionKind.RESTRICT_ACCOUNT,
    ActionKind.SUSPEND_ACCOUNT,
    ActionKind.CLOSE_ACCOUNT,
)


class Escalation(_Strict):
    """When an account's active strike weight reaches ``at``, take ``action`` on the account."""

    at: int = Field(ge=1)
    action: ActionKind

    @field_validator("action")
    @classmethod
    def _account_action(cls, value: ActionKind) -> ActionKind:
        if value not in ESCALATION_ACTIONS:
            raise ValueError(
                "an escalation takes an account action: " + ", ".join(ESCALATION_ACTIONS)
            )
        return value


def _default_escalation() -> list[Escalation]:
    return [
        Escalation(at=1, action=ActionKind.WARN_ACCOUNT),
        Escalation(at=3, action=ActionKind.RESTRICT_ACCOUNT),
        Escalation(at=5, action=ActionKind.SUSPEND_ACCOUNT),
        Escalation(at=8, action=ActionKind.CLOSE_ACCOUNT),
    ]


class OfConcern(_Strict):
    """An account is "of concern" while the decayed weight of its own record reaches ``threshold``.

    Each active strike counts its weight, each verdict on the account's own items
    counts ``verdict_weight``; both halve every ``half_life``.
    """

    threshold: float = Field(default=3.0, gt=0)
    half_life: str = "90d"
    verdict_weight: float = Field(default=0.5, ge=0)

    @field_validator("half_life")
    @classmethod
    def _half_life(cls, value: str) -> str:
        return _check_duration(value)

    @property
    def half_life_delta(self) -> timedelta:
        return parse_duration(self.half_life)


class Enforcement(_Strict):
    suspension_days: int = Field(default=30, ge=1, le=3650)
    restriction_days: int = Field(default=14, ge=1, le=3650)
    # Actions that always need a second reviewer, whatever the category.
    four_eyes_actions: list[ActionKind] = Field(default_factory=lambda: [ActionKind.CLOSE_ACCOUNT])
    # Steps by active strike weight, lowest first.
    escalation: list[Escalation] = Field(default_factory=_default_escalation)
    # Whether actions taken without review (rules with review: none) give strikes too.
    automated_strikes: bool = False
    of_concern: OfConcern = OfConcern()

    @field_validator("escalation")
    @classmethod
    def _ascending(cls, value: list[Escalation]) -> list[Escalation]:
        ats = [step.at for step in value]
        if ats != sorted(set(ats)):
            raise ValueError("escalation steps must have strictly increasing 'at' weights")
        return value


class ReviewSettings(_Strict):
    """How reviewers hold cases."""

    # A claim lapses after this long without a decision, so a case never sits with someone gone.
    claim_for: str = "30m"

    @field_validator("claim_for")
    @classmethod
    def _claim_for(cls, value: str) -> str:
        return _check_duration(value)

    @property
    def claim_delta(self) -> timedelta:
        return parse_duration(self.claim_for)


class UnfoundedNotices(_Strict):
    """DSA Art. 23: a notifier whose notices are repeatedly unfounded is warned, then limited.

    Counted over ``window``: once a notifier has ``warn_after`` unfounded notices
    making up at least ``min_share`` of their decided notices, they are warned;
    at ``limit_after`` they may file at most ``limit_per_day`` notices a day for
    ``limit_for``. Trusted flaggers are reported to their coordinator instead.
    """

    window: str = "30d"
    min_share: float = Field(default=0.5, ge=0, le=1)
    warn_after: int = Field(default=3, ge=1)
    limit_after: int = Field(default=6, ge=1)
    limit_per_day: int = Field(default=1, ge=0)
    limit_for: str = "30d"

    @field_validator("window", "limit_for")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _check_duration(value)

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)

    @property
    def limit_delta(self) -> timedelta:
        return parse_duration(self.limit_for)

    @model_validator(mode="after")
    def _order(self) -> UnfoundedNotices:
        if self.limit_after < self.warn_after:
            raise ValueError("limit_after must not be below warn_after")
        return self


class Notices(_Strict):
    # A trusted flagger's notice is decided within this at most (DSA Art. 22: with priority).
    trusted_flagger_deadline: str = "4h"
    unfounded: UnfoundedNotices = UnfoundedNotices()

    @property
    def trusted_flagger_delta(self) -> timedelta:
        return parse_duration(self.trusted_flagger_deadline)

    @field_validator("trusted_flagger_deadline")
    @classmethod
    def _deadline(cls, value: str) -> str:
        return _check_duration(value)


_OUT_OF_COURT = (
    "If you disagree with this answer, you may refer the decision to a certified "
    "out-of-court dispute settlement body under Article 21 of the Digital Services Act "
    "(https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement), "
    "or seek redress before a court."
)


class Appeals(_Strict):
    """DSA Art. 20: internal complaints against a decision."""

    # Open for this long after the user is told (at least six months under Art. 20(1)).
    window: str = "183d"
    deadline: str = "7d"
    out_of_court: str = Field(default=_OUT_OF_COURT, min_length=20, max_length=2000)

    @field_validator("window", "deadline")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _check_duration(value)

    @field_validator("window")
    @classmethod
    def _six_months(cls, value: str) -> str:
        if parse_duration(value) < timedelta(days=183):
            raise ValueError("appeals must stay open for at least six months (183d)")
        return value

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)

    @property
    def deadline_delta(self) -> timedelta:
        return parse_duration(self.deadline)


# Match counts are kept per bucket of this length; windows are whole buckets.
RATE_BUCKET = timedelta(minutes=5)


class MatchRate(_Strict):
    """When a bank entry matches far more items than usual, stop it acting alone.

    Rates are matches per item scanned at ingest. An entry is quarantined when,
    over the last ``window``, it matched at least ``min_matches`` items and its
    rate exceeds ``factor`` times its baseline: its rate over the ``baseline``
    period before the window, blended with ``prior_rate`` (worth ``prior_items``
    scanned items) so that an entry without history is judged by the prior.
    """

    enabled: bool = True
    window: str = "1h"
    baseline: str = "7d"
    factor: float = Field(default=10.0, gt=1)
    min_matches: int = Field(default=20, ge=1)
    prior_rate: float = Field(default=0.00001, gt=0, le=1)
    prior_items: int = Field(default=100_000, ge=0)
    deadline: str = "24h"

    @field_validator("window", "baseline", "deadline")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)

    @property
    def baseline_delta(self) -> timedelta:
        return parse_duration(self.baseline)

    @property
    def deadline_delta(self) -> timedelta:
        return parse_duration(self.deadline)


class Safeguards(_Strict):
    """Automatic brakes on automated enforcement."""

    match_rate: MatchRate = MatchRate()


class Authorities(_Strict):
    """Safeguards on requests from authorities that the code of practice may tighten."""

    # Most accounts or pieces of content one request may name.
    max_targets: int = Field(default=10, ge=1, le=100)
    # Longest date range one request may cover.
    max_span: str = "366d"
    # How long a preservation request holds data when it names no period (18 USC 2703(f)).
    preservation: str = "90d"

    @field_validator("max_span", "preservation")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _check_duration(value)

    @property
    def max_span_delta(self) -> timedelta:
        return parse_duration(self.max_span)

    @property
    def preservation_delta(self) -> timedelta:
        return parse_duration(self.preservation)


class Policy(_Strict):
    policy: str = Field(min_length=1)
    version: str = Field(min_length=1)
    categories: dict[str, Category]
    classifiers: dict[str, ClassifierSpec] = Field(default_factory=dict)
    rules: list[Rule]
    retention: Retention = Retention()
    enforcement: Enforcement = Enforcement()
    safeguards: Safeguards = Safeguards()
    review: ReviewSettings = ReviewSettings()
    notices: Notices = Notices()
    appeals: Appeals = Appeals()
    authorities: Authorities = Authorities()

    def category(self, category_id: str) -> Category:
        return self.categories[category_id]
