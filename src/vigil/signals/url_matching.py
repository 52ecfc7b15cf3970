"""Links against URL and domain banks, with allow-listing by the most specific listing.

A link is the item's ``urls`` and every URL written in its text, normalised.
Known-benign (negative) entries withhold positive ones on the same link when
they are at least as specific: an allow-listed URL withholds URL and domain
matches on that link; an allow-listed domain withholds domain matches on the
same or a parent domain (allowing ``docs.example.com`` overrides a listing of
``example.com`` for links to it) but never a listed URL, which is more specific.
"""

from __future__ import annotations

from vigil.banks.normalize import NormaliseError, extract_urls, normalise_url, url_domains
from vigil.signals.drafts import EntryRef, Gate, ScanInput, ScanResult, SignalDraft, Suppression

Key = tuple[str, str, int]


def match_urls(
    url_bank: dict[str, list[EntryRef]],
    domain_bank: dict[str, list[EntryRef]],
    result: ScanResult,
    gate: Gate,
    item: ScanInput,
) -> None:
    candidates = list(item.urls) + (extract_urls(item.text) if item.text else [])
    raised: dict[Key, SignalDraft] = {}
    withheld: dict[Key, Suppression] = {}
    seen_urls: set[str] = set()
    for position, raw in enumerate(candidates):
        try:
            url = normalise_url(raw)
        except NormaliseError:
            continue
        if url in seen_urls:
            continue
        seen_urls.add(url)
        where = f"link #{position}"
        url_positive, url_negative = gate.split(url_bank.get(url, []))
        domains = url_domains(url)
        by_domain = [gate.split(domain_bank.get(d, [])) for d in domains]
        for ref in url_positive:
            key = ("url", url, ref.entry_id)
            if url_negative:
                withheld.setdefault(
                    key, Suppression(item.item_id, "url", ref, url_negative[0], where)
                )
            else:
                raised.setdefault(
                    key,
                    SignalDraft(item.item_id, "url", url, f"URL {url} is in bank {ref.bank}", ref),
                )
        for level, (domain, (positive, _)) in enumerate(zip(domains, by_domain, strict=True)):
            # Negative listings of this domain or any of its subdomains on the link's host.
            benign = url_negative or [ref for _, neg in by_domain[: level + 1] for ref in neg]
            for ref in positive:
                key = ("domain", domain, ref.entry_id)
                if benign:
                    withheld.setdefault(
                        key, Suppression(item.item_id, "domain", ref, benign[0], where)
                    )
                else:
                    raised.setdefault(
                        key,
                        SignalDraft(
                            item.item_id,
                            "domain",
                            domain,
                            f"link to domain {domain} is in bank {ref.bank}",
                            ref,
                        ),
                    )
    result.signals.extend(raised.values())
    # A match withheld on one link but raised by another link is not withheld.
    result.suppressed.extend(s for key, s in withheld.items() if key not in raised)
