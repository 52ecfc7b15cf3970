"""What a scan takes in and gives out, shared by the matchers and the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from vigil.signals.rollout import in_rollout


@dataclass(frozen=True)
class EntryRef:
    """Which bank entry matched, with its provenance."""

    bank_id: int
    bank: str
    category: str
    entry_id: int
    external_id: str | None
    source: str | None = None
    tags: tuple[str, ...] = ()
    # Held back by the match-rate safeguard: its signals may not act alone.
    quarantined: bool = False
    # PDQ matches name the entry only; its provenance is read when the signal is recorded.
    resolved: bool = True

    @property
    def label(self) -> str:
        return f"entry {self.external_id or self.entry_id} in bank {self.bank}"


@dataclass(frozen=True)
class BankSettings:
    """What the scan needs to know about a bank beyond its entries."""

    id: int
    name: str
    kind: str
    negative: bool
    rollout: float
    threshold: int | None
    # PDQ: also match rotated and mirrored copies (their hashes come with the item).
    match_transforms: bool = False
    category: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class MediaHashes:
    position: int
    md5: str | None
    sha256: str | None
    pdq: str | None = None
    # The other seven dihedral hashes (DIHEDRAL_ORDER[1:]) when known from the image itself;
    # otherwise banks that match transforms estimate them from ``pdq``.
    pdq_variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanInput:
    """What the matchers may look at for one item."""

    item_id: int
    text: str | None
    urls: Sequence[str]
    media: Sequence[MediaHashes]
    text_sha256: str | None = None


@dataclass(frozen=True)
class SignalDraft:
    item_id: int
    kind: str
    matched: str
    reason: str
    entry: EntryRef | None = None
    notice_id: int | None = None
    notice_category: str | None = None
    distance: int | None = None
    # Classifier signals: model name and version, label and score (``matched`` is the label).
    model: str | None = None
    model_version: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class Suppression:
    """A positive match withheld because the same content matched a known-benign entry."""

    item_id: int
    kind: str
    entry: EntryRef
    by: EntryRef
    where: str  # which part of the item ("media #0", "text", "link #1"); never the content
    distance: int | None = None

    @property
    def reason(self) -> str:
        return (
            f"{self.kind} match of {self.where} with {self.entry.label} withheld: "
            f"it also matches known-benign {self.by.label}"
        )


@dataclass
class ScanResult:
    signals: list[SignalDraft] = field(default_factory=list)
    suppressed: list[Suppression] = field(default_factory=list)


class Gate:
    """Which of an item's candidate entries count: bank roll-out, split into positive and negative."""

    def __init__(self, banks: dict[int, BankSettings], item_id: int) -> None:
        self._banks = banks
        self._item_id = item_id
        self._cache: dict[int, bool] = {}

    def admits(self, ref: EntryRef) -> bool:
        seen = self._cache.get(ref.bank_id)
        if seen is None:
            seen = in_rollout(self._banks[ref.bank_id].rollout, ref.bank_id, self._item_id)
            self._cache[ref.bank_id] = seen
        return seen

    def split(self, refs: Sequence[EntryRef]) -> tuple[list[EntryRef], list[EntryRef]]:
        positive: list[EntryRef] = []
        negative: list[EntryRef] = []
        for ref in refs:
            if self.admits(ref):
                (negative if self._banks[ref.bank_id].negative else positive).append(ref)
        return positive, negative
