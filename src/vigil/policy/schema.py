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

    @property
    def targets_account(self) -> bool:
        return self in (ActionKind.SUSPEND_ACCOUNT, ActionKind.CLOSE_ACCOUNT)


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


class Category(_Strict):
    title: str = Field(min_length=1)
    statement: StatementConfig


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


class Enforcement(_Strict):
    suspension_days: int = Field(default=30, ge=1, le=3650)


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


class Policy(_Strict):
    policy: str = Field(min_length=1)
    version: str = Field(min_length=1)
    categories: dict[str, Category]
    classifiers: dict[str, ClassifierSpec] = Field(default_factory=dict)
    rules: list[Rule]
    retention: Retention = Retention()
    enforcement: Enforcement = Enforcement()
    safeguards: Safeguards = Safeguards()

    def category(self, category_id: str) -> Category:
        return self.categories[category_id]
