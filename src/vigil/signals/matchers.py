"""In-memory index over enabled bank entries, built once per scan run.

Hashes, normalised text, URLs and domains are dictionary look-ups; terms and
patterns go through ``text_matchers``; PDQ through a :class:`PdqMatcher`, by
default the exact multi-index :class:`~vigil.signals.pdq_index.PdqIndex`.

Two bank settings shape every look-up. ``rollout``: an item outside a bank's
share is not matched against it at all. ``negative``: a bank of known-benign
content; when the same content (the same media file, the item's text, the same
link, the same stretch of text) also matches a positive entry of the same kind,
the positive match becomes a :class:`Suppression` instead of a signal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from vigil.banks.models import DEFAULT_PDQ_THRESHOLD, Bank, BankEntry
from vigil.banks.normalize import normalise_text, text_digest
from vigil.hashing.pdq import DIHEDRAL_ORDER, dihedral_from_hash
from vigil.signals.drafts import (
    BankSettings,
    EntryRef,
    Gate,
    MediaHashes,
    ScanInput,
    ScanResult,
    SignalDraft,
    Suppression,
)
from vigil.signals.pdq_banks import PdqBank, default_builder, load_bank
from vigil.signals.pdq_matching import PdqMatcherBuilder, pdq_bytes
from vigil.signals.text_matchers import RegexMatcher, Span, TermMatcher
from vigil.signals.url_matching import match_urls

__all__ = [
    "BankIndex",
    "EntryRef",
    "MediaHashes",
    "ScanInput",
    "ScanResult",
    "SignalDraft",
    "Suppression",
]


def settings_of(bank: Bank) -> BankSettings:
    """What the scan needs of a bank row."""
    threshold = bank.threshold
    if bank.kind == "pdq" and threshold is None:
        threshold = DEFAULT_PDQ_THRESHOLD
    return BankSettings(
        bank.id,
        bank.name,
        bank.kind,
        bool(bank.negative),
        float(bank.rollout),
        threshold,
        bool(bank.match_transforms),
        category=bank.category,
        enabled=bool(bank.enabled),
    )


@dataclass
class BankIndex:
    banks: dict[int, BankSettings] = field(default_factory=dict)
    by_kind: dict[str, dict[str, list[EntryRef]]] = field(default_factory=lambda: defaultdict(dict))
    terms: TermMatcher | None = None
    patterns: RegexMatcher | None = None
    # One exact index per PDQ bank; PDQ entries are not in ``by_kind`` (see ``pdq_banks``).
    pdq_banks: dict[int, PdqBank] = field(default_factory=dict)
    pdq_transforms: bool = False  # some PDQ bank also matches rotations and mirrors
    pdq_builder: PdqMatcherBuilder | None = None
    # The oldest log position a saved PDQ index reflects: bank events after it need replaying.
    replay_from: int | None = None

    @classmethod
    def load(
        cls,
        session: Session,
        pdq_builder: PdqMatcherBuilder | None = None,
        *,
        only: ColumnElement[bool] | None = None,
        after_seq: int = 0,
        cache_dir: Path | None = None,
    ) -> BankIndex:
        """Every enabled entry of every enabled bank; ``only`` narrows that (a rescan's entries).

        ``after_seq`` is the log position read just before; with ``cache_dir``,
        large PDQ banks are mapped from indexes saved by an earlier run.
        """
        index = cls(pdq_builder=pdq_builder)
        exact = {
            bank.id: settings_of(bank)
            for bank in session.scalars(
                select(Bank).where(Bank.enabled.is_(True), Bank.kind != "pdq")
            )
        }
        query = (
            select(
                BankEntry.bank_id,
                BankEntry.id,
                BankEntry.value,
                BankEntry.external_id,
                BankEntry.source,
                BankEntry.tags,
                BankEntry.quarantined_at,
            )
            .join(Bank, Bank.id == BankEntry.bank_id)  # ``only`` may filter on bank columns
            # By bank id, so the entries index is used: PDQ banks may hold millions of rows.
            .where(BankEntry.bank_id.in_(list(exact)), BankEntry.enabled.is_(True))
            .order_by(BankEntry.id)
        )
        if only is not None:
            query = query.where(only)
        for bank_id, entry_id, value, external_id, source, tags, held_at in session.execute(query):
            bank = index.banks.setdefault(bank_id, exact[bank_id])
            ref = EntryRef(
                bank_id,
                bank.name,
                bank.category,
                entry_id,
                external_id,
                source,
                tuple(tags or ()),
                held_at is not None,  # quarantined: its signals may not act alone
            )
            index.by_kind[bank.kind].setdefault(value, []).append(ref)
        if index.by_kind.get("term"):
            index.terms = TermMatcher(index.by_kind["term"])
        if index.by_kind.get("regex"):
            index.patterns = RegexMatcher(index.by_kind["regex"])
        index._load_pdq(session, only, after_seq, cache_dir)
        return index

    def _load_pdq(
        self,
        session: Session,
        only: ColumnElement[bool] | None,
        after_seq: int,
        cache_dir: Path | None,
    ) -> None:
        banks = select(Bank).where(Bank.kind == "pdq", Bank.enabled.is_(True)).order_by(Bank.id)
        if only is not None:
            wanted = select(BankEntry.bank_id).join(Bank, Bank.id == BankEntry.bank_id).where(only)
            banks = banks.where(Bank.id.in_(wanted))
        for bank in session.scalars(banks):
            self.set_bank(settings_of(bank))
            pdq_bank = load_bank(
                session,
                bank.id,
                self.pdq_builder or default_builder(),
                after_seq=after_seq,
                only=only,
                cache_dir=cache_dir,
            )
            self.pdq_banks[bank.id] = pdq_bank
            if pdq_bank.after_seq < after_seq:
                self.replay_from = min(self.replay_from or after_seq, pdq_bank.after_seq)

    @property
    def entries(self) -> int:
        """Entries the scan matches against: of enabled banks, enabled themselves."""
        exact = sum(len(refs) for values in self.by_kind.values() for refs in values.values())
        pdq = sum(
            len(cast(Sized, b.matcher))
            for bank_id, b in self.pdq_banks.items()
            if self.banks[bank_id].enabled
        )
        return exact + pdq

    def set_bank(self, settings: BankSettings) -> None:
        """Record a bank's settings (new or changed); PDQ look-ups follow them at once."""
        self.banks[settings.id] = settings
        pdq = [b for b in self.banks.values() if b.kind == "pdq" and b.enabled]
        self.pdq_transforms = any(b.match_transforms for b in pdq)

    def ensure_pdq_bank(self, session: Session, bank_id: int) -> tuple[PdqBank, bool]:
        """The bank's PDQ index, read from the database if the index had none; and whether it was."""
        bank = self.pdq_banks.get(bank_id)
        if bank is not None:
            return bank, False
        bank = load_bank(session, bank_id, self.pdq_builder or default_builder(), after_seq=0)
        self.pdq_banks[bank_id] = bank
        return bank, True

    def add_pdq(self, session: Session, bank_id: int, rows: Sequence[tuple[int, str]]) -> int:
        """Entries ``(id, hex)`` for a PDQ bank's index; returns how many it did not hold yet."""
        bank, new = self.ensure_pdq_bank(session, bank_id)
        if new:
            return sum(1 for entry_id, _ in rows if bank.holds(entry_id))
        return bank.add(rows)

    def remove_pdq(self, bank_id: int, entry_ids: Sequence[int]) -> int:
        """Withdraw entries from a PDQ bank's index: tombstones, not a rebuild."""
        bank = self.pdq_banks.get(bank_id)
        return bank.remove(entry_ids) if bank is not None else 0

    def match(self, item: ScanInput) -> list[SignalDraft]:
        return self.scan(item).signals

    def scan(self, item: ScanInput) -> ScanResult:
        """Signals for one item, and the matches that known-benign entries withheld."""
        result = ScanResult()
        gate = Gate(self.banks, item.item_id)
        for media in item.media:
            where = f"media #{media.position}"
            for kind, value in (("sha256", media.sha256), ("md5", media.md5)):
                refs = self.by_kind.get(kind, {}).get(value or "")
                if refs:
                    self._decide(result, gate, item.item_id, kind, value or "", refs, where)
            if media.pdq and self.pdq_banks:
                self._match_pdq(result, gate, item.item_id, media, where)
        text_bank = self.by_kind.get("text")
        if text_bank and (
            digest := item.text_sha256 or (text_digest(item.text) if item.text else None)
        ):
            refs = text_bank.get(digest)
            if refs:
                self._decide(result, gate, item.item_id, "text", digest, refs, "text")
        if self.by_kind.get("url") or self.by_kind.get("domain"):
            match_urls(
                self.by_kind.get("url", {}), self.by_kind.get("domain", {}), result, gate, item
            )
        if item.text and (self.terms is not None or self.patterns is not None):
            text = normalise_text(item.text)
            if self.terms is not None:
                self._match_spans(result, gate, item.item_id, "term", self.terms.occurrences(text))
            if self.patterns is not None:
                found = self.patterns.occurrences(text)
                self._match_spans(result, gate, item.item_id, "regex", found)
        return result

    def _decide(
        self,
        result: ScanResult,
        gate: Gate,
        item_id: int,
        kind: str,
        value: str,
        refs: Sequence[EntryRef],
        where: str,
    ) -> None:
        """Exact look-ups: any known-benign entry on this content withholds every positive one."""
        positive, negative = gate.split(refs)
        for ref in positive:
            if negative:
                result.suppressed.append(Suppression(item_id, kind, ref, negative[0], where))
                continue
            label = "normalised text" if kind == "text" else f"{kind.upper()} of {where}"
            result.signals.append(
                SignalDraft(item_id, kind, value, f"{label} equals {ref.label}", ref)
            )

    def _pdq_queries(self, media: MediaHashes) -> list[tuple[str, bytes]]:
        """The hashes to look up for one media file, each named by its orientation.

        Always the hash itself; with any bank matching rotations and mirrors, also
        the seven other orientations: computed from the image when Vigil had it,
        estimated from the hash when the platform sent only the hash.
        """
        assert media.pdq is not None
        try:
            original = pdq_bytes(media.pdq)
        except ValueError:
            return []
        queries = [("original", original)]
        if self.pdq_transforms:
            if len(media.pdq_variants) == len(DIHEDRAL_ORDER) - 1:
                variants = [pdq_bytes(v) for v in media.pdq_variants]
            else:
                variants = dihedral_from_hash(original)[1:]
            queries += list(zip(DIHEDRAL_ORDER[1:], variants, strict=True))
        return queries

    def _match_pdq(
        self, result: ScanResult, gate: Gate, item_id: int, media: MediaHashes, where: str
    ) -> None:
        assert media.pdq is not None
        queries = self._pdq_queries(media)
        # Nearest orientation per entry; only banks that match transforms see the others.
        best: dict[int, tuple[int, str, EntryRef]] = {}
        for bank_id, pdq_bank in list(self.pdq_banks.items()):
            bank = self.banks.get(bank_id)
            if bank is None or not bank.enabled:
                continue
            ref = EntryRef(bank_id, bank.name, bank.category, 0, None, resolved=False)
            if not gate.admits(ref):
                continue
            threshold = DEFAULT_PDQ_THRESHOLD if bank.threshold is None else bank.threshold
            for orientation, query in queries:
                if orientation != "original" and not bank.match_transforms:
                    continue
                for entry_id, distance in pdq_bank.matcher.match(query, threshold):
                    seen = best.get(entry_id)
                    if seen is None or distance < seen[0]:
                        best[entry_id] = (distance, orientation, replace(ref, entry_id=entry_id))
        positive = [h for h in best.values() if not self.banks[h[2].bank_id].negative]
        negative = [h for h in best.values() if self.banks[h[2].bank_id].negative]
        nearest_benign = min(negative, key=lambda hit: (hit[0], hit[2].entry_id), default=None)
        for distance, orientation, ref in sorted(positive, key=lambda h: (h[0], h[2].entry_id)):
            if nearest_benign is not None:
                result.suppressed.append(
                    Suppression(item_id, "pdq", ref, nearest_benign[2], where, distance)
                )
                continue
            bank_threshold = self.banks[ref.bank_id].threshold
            seen_as = "" if orientation == "original" else f" ({orientation})"
            result.signals.append(
                SignalDraft(
                    item_id,
                    "pdq",
                    media.pdq,
                    f"PDQ of {where}{seen_as} is {distance} bits from {ref.label} "
                    f"(threshold {bank_threshold})",
                    ref,
                    distance=distance,
                )
            )

    def _match_spans(
        self,
        result: ScanResult,
        gate: Gate,
        item_id: int,
        kind: str,
        found: dict[str, list[Span]],
    ) -> None:
        """Terms and patterns: a known-benign match withholds positive ones it fully covers.

        One signal per distinct term (or pattern) and entry; it is raised when at
        least one occurrence lies outside every known-benign occurrence.
        """
        bank = self.by_kind[kind]
        benign: list[tuple[Span, EntryRef]] = []
        positives: list[tuple[str, list[EntryRef]]] = []
        for value, spans in found.items():
            positive, negative = gate.split(bank.get(value, []))
            if negative:
                benign += [(span, negative[0]) for span in spans]
            if positive:
                positives.append((value, positive))
        for value, refs in positives:
            spans = found[value]
            covering = [_covering(span, benign) for span in spans]
            for ref in refs:
                if all(c is not None for c in covering):
                    by = covering[0]
                    assert by is not None
                    result.suppressed.append(Suppression(item_id, kind, ref, by, "text"))
                    continue
                reason = (
                    f"text contains term {value!r} from bank {ref.bank}"
                    if kind == "term"
                    else f"text matches pattern {ref.external_id or ref.entry_id} "
                    f"from bank {ref.bank}"
                )
                result.signals.append(SignalDraft(item_id, kind, value, reason, ref))


def _covering(span: Span, benign: list[tuple[Span, EntryRef]]) -> EntryRef | None:
    for (start, end), ref in benign:
        if start <= span[0] and span[1] <= end:
            return ref
    return None
