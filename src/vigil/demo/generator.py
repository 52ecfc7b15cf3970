"""Deterministic synthetic data for ``vigil demo``: items, notices and the banks they hit.

Everything is drawn from one ``random.Random(seed)`` and a fixed base date, so a
seed always writes the same bytes and the demo's figures are reproducible.
Planted content is unmistakably synthetic: threatening and extremist sentences
start with :data:`MARKER`, hate terms are made-up words, and the child-safety
hash bank holds only benign stand-in images (coloured rectangles).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from vigil.banks.models import BankKind
from vigil.hashing.pdq import hash_image

MARKER = "[SYNTHETIC TEST CONTENT]"
BASE_TIME = datetime(2026, 10, 1, tzinfo=UTC)
SPAN_S = 14 * 86_400  # items are spread over two weeks after BASE_TIME
SOURCE = "vigil demo generator (synthetic)"
MIN_ITEMS = 100

# fmt: off
EU_EEA = ["DE", "FR", "NL", "IE", "PL", "ES", "IT", "SE", "AT", "BE", "DK", "FI", "PT", "CZ", "NO"]
OTHER = ["US", "GB", "BR", "IN", "CA", "AU", "JP", "MX", "ZA"]
NATIVE = {"DE": "de", "AT": "de", "FR": "fr", "BE": "fr", "NL": "nl", "ES": "es", "MX": "es",
          "IT": "it", "PT": "pt", "BR": "pt"}
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "gardening": (["my tomatoes", "the rose bed", "our herb garden", "the new seedlings", "the apple tree"],
                  ["are finally ripening", "needed a lot of water today", "look great after the rain"]),
    "cooking": (["this lentil soup", "the sourdough loaf", "grandma's apple pie", "homemade pasta"],
                ["turned out perfectly", "took three hours but was worth it", "is my new favourite"]),
    "football": (["the match last night", "our local team", "that late equaliser", "the youth league"],
                 ["was a joy to watch", "finally won at home", "had the whole pub cheering"]),
    "weather": (["the morning fog", "today's sunshine", "the autumn wind", "the first snow"],
                ["is beautiful over the river", "made the walk to work lovely", "came early this year"]),
    "hiking": (["the ridge trail", "our Sunday walk", "the view from the summit", "the forest path"],
               ["was worth every step", "is covered in golden leaves", "was quiet and peaceful"]),
    "books": (["the novel I just finished", "our reading club pick", "this poetry collection"],
              ["kept me up all night", "is wonderfully written", "deserves more readers"]),
}
OPENERS = ["", "", "Honestly,", "Update:", "Quick note:", "Weekend report:", "Good news:"]
CLOSERS = ["", "", "Have a nice day!", "Who else agrees?", "Photos later.", "Any tips?", "#weekend"]
REPLIES = ["Great point!", "Love this, thanks for sharing.", "Same here, lovely weather for it.",
           "Could you share the recipe?", "Looks wonderful.", "Congratulations!",
           "I had the same experience last year."]
BIOS = ["Gardener, tea drinker and weekend cyclist.", "Home cook. Football on Saturdays.",
        "Hiking, books and too many houseplants.", "Amateur baker and weather watcher."]
PHRASES: dict[str, list[str]] = {
    "de": ["Die Tomaten im Garten sind endlich reif.", "Heute gibt es Linsensuppe.", "Schönes Spiel gestern Abend!", "Der erste Schnee ist da."],
    "fr": ["Les tomates du jardin sont enfin mûres.", "Ce soir, soupe aux lentilles.", "Quel beau match hier soir !", "Le brouillard du matin sur la rivière."],
    "es": ["Los tomates del huerto ya están maduros.", "Hoy toca sopa de lentejas.", "¡Qué gran partido anoche!", "Qué sol tan bonito hoy."],
    "nl": ["De tomaten in de tuin zijn eindelijk rijp.", "Vandaag linzensoep gemaakt.", "Mooie wedstrijd gisteravond!", "Wat een mist vanochtend."],
    "it": ["I pomodori dell'orto sono finalmente maturi.", "Oggi pasta fatta in casa.", "Che partita ieri sera!", "Che bel sole oggi."],
    "pt": ["Os tomates da horta finalmente amadureceram.", "Hoje fiz sopa de lentilhas.", "Que jogo ontem à noite!", "Que sol bonito hoje."],
}
BENIGN_HOSTS = ["example.com", "www.example.com", "example.org", "blog.example.org", "recipes.example.com"]

# Planted content: every sentence holds exactly one term of its bank, so signals are countable.
THREAT_TERMS = ["i will hurt you", "i know where you live", "watch your back tonight"]
THREATS = ["I will hurt you at the station tomorrow", "I will hurt you after the match on Saturday",
           "I know where you live and I am coming over", "watch your back tonight, @{handle}"]
EXTREMIST_TERMS = ["red hand front", "blood for the banner", "grey wolf legion"]
EXTREMIST = ["join the fictional Red Hand Front and fight",
             "the fictional Red Hand Front needs recruits, meet at the old mill",
             "blood for the banner, brothers of the fictional cause"]
HATE_TERMS = ["zorblax", "flenzoid", "quibbernaut"]  # made-up placeholder words, not real slurs
HATE = ["all the fictional Glorpians are zorblax", "those flenzoid Glorpians should stay out of our park",
        "go home, you quibbernaut"]
HARASSMENT_TERMS = ["worthless nobody", "nobody wants you here"]
HARASSMENT = ["@{handle} you are a worthless nobody", "@{handle} nobody wants you here, log off"]
PROPAGANDA_URLS = [f"https://propaganda.example.net/red-hand/pamphlet-{n}" for n in range(1, 7)]
SPAM_DOMAINS = ["cheap-pills.example", "win-prizes.example", "crypto-doubler.example"]
SPAM_TEXT = ["limited offer, click now", "you have won a prize, claim it here", "double your coins today"]
IMAGE_TEXT = "stand-in image for hash-bank matching (benign coloured rectangles)"
STANDIN_NOTE = "benign stand-in image (coloured rectangles); not abuse material"
# fmt: on
TOPIC_NAMES = sorted(TOPICS)


@dataclass(frozen=True)
class BankSpec:
    """One bank file and what the caller needs to import it."""

    path: Path
    name: str
    kind: BankKind
    category: str
    source: str
    description: str
    transforms: bool = False  # PDQ: also match rotated and mirrored copies


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`generate` wrote; ``planted`` counts items per policy category."""

    out_dir: Path
    items_path: Path
    notices_path: Path
    banks_dir: Path
    banks: tuple[BankSpec, ...]
    items: int
    malformed: int
    notices: int
    planted: dict[str, int]
    planted_by_bank: dict[str, int]
    # The planted category of each planted item (platform item id): the demo's simulated
    # reviewers know the truth that a real reviewer would see in the content.
    truth: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _BankDef:
    file: str
    name: str
    kind: BankKind
    category: str
    rate: float  # share of items planted to match this bank
    description: str
    transforms: bool = False


BANKS = (
    _BankDef("terrorism-hashes.txt", "demo-terrorism-hashes", BankKind.SHA256, "terrorism", 0.002, "SHA-256 of benign stand-in images"),
    _BankDef("terrorism-pdq.txt", "demo-terrorism-pdq", BankKind.PDQ, "terrorism", 0.0012, "PDQ of synthetic posters; copies come re-encoded, resized, rotated or mirrored", transforms=True),
    _BankDef("csam-standin-md5.csv", "demo-csam-standin-md5", BankKind.MD5, "child_sexual_exploitation", 0.0012, "MD5 of benign stand-in images; no abuse material"),
    _BankDef("propaganda-urls.txt", "demo-propaganda-urls", BankKind.URL, "terrorism", 0.002, "URLs of a fictional movement's pamphlets"),
    _BankDef("spam-domains.txt", "demo-spam-domains", BankKind.DOMAIN, "spam", 0.003, "Reserved .example spam domains"),
    _BankDef("threat-terms.txt", "demo-threat-terms", BankKind.TERM, "threat_to_life", 0.0016, "Phrases from synthetic threat sentences"),
    _BankDef("extremist-terms.txt", "demo-extremist-terms", BankKind.TERM, "terrorism", 0.002, "Phrases about a fictional extremist group"),
    _BankDef("hate-terms.txt", "demo-hate-terms", BankKind.TERM, "hate", 0.0016, "Made-up placeholder slurs"),
    _BankDef("harassment-terms.txt", "demo-harassment-terms", BankKind.TERM, "harassment", 0.002, "Phrases from synthetic insults"),
)  # fmt: skip


@dataclass(frozen=True)
class _Account:
    id: str
    handle: str
    country: str
    language: str
    type: str
    registered_at: str


@dataclass(frozen=True)
class _Image:
    data: bytes
    md5: str
    sha256: str


def _ts(seconds: int) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _image(rng: random.Random) -> _Image:
    """A 32x32 PNG of random coloured rectangles: innocuous by construction."""

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    img = Image.new("RGB", (32, 32), colour())
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 6)):
        x0, y0 = rng.randrange(28), rng.randrange(28)
        box = (x0, y0, rng.randrange(x0 + 2, 32), rng.randrange(y0 + 2, 32))
        draw.rectangle(box, fill=colour())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    data = buf.getvalue()
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - bank matching, not security
    return _Image(data, md5, hashlib.sha256(data).hexdigest())


def _poster(rng: random.Random) -> Image.Image:
    """A 384x384 synthetic poster: a gradient and shapes, detailed enough for PDQ.

    Below about 300 px, PDQ's box filters are too short to hash a rotated copy
    like the original (20-30 bits apart); at 384 px copies stay within 10 bits.
    """
    size = 384
    img = Image.linear_gradient("L").resize((size, size)).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(5, 9)):
        x0, y0 = rng.randrange(320), rng.randrange(320)
        box = (x0, y0, x0 + rng.randrange(40, 190), y0 + rng.randrange(40, 190))
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return img


def _poster_copy(rng: random.Random, poster: Image.Image) -> dict[str, Any]:
    """A re-shared copy of a banked poster: re-encoded, resized, rotated or mirrored.

    Half travel as JPEG bytes (Vigil hashes them), half as the platform's own PDQ
    hash only, the way a platform that keeps its files would send them.
    """
    variant = rng.choice(["jpeg", "smaller", "rotated", "mirrored"])
    img = {
        "jpeg": poster,
        "smaller": poster.resize((300, 300)),
        "rotated": poster.transpose(Image.Transpose.ROTATE_90),
        "mirrored": poster.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    }[variant]
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=rng.choice([60, 75, 90]))
    data = buf.getvalue()
    if rng.random() < 0.5:
        return {"data_b64": base64.b64encode(data).decode("ascii"), "mime": "image/jpeg"}
    pdq = hash_image(data)
    url = f"https://media.example.com/img/{hashlib.sha256(data).hexdigest()[:24]}.jpg"
    return {"url": url, "pdq": pdq.hex, "pdq_quality": pdq.quality, "mime": "image/jpeg"}


def _media(rng: random.Random, image: _Image) -> dict[str, str]:
    """Half the media travel as bytes, the other half as URL plus hashes only."""
    if rng.random() < 0.5:
        return {"data_b64": base64.b64encode(image.data).decode("ascii"), "mime": "image/png"}
    url = f"https://media.example.com/img/{image.sha256[:24]}.png"
    return {"url": url, "md5": image.md5, "sha256": image.sha256, "mime": "image/png"}


def _accounts(rng: random.Random, count: int) -> list[_Account]:
    accounts = []
    for n in range(1, count + 1):
        country = rng.choice(EU_EEA) if rng.random() < 0.6 else rng.choice(OTHER)
        native = NATIVE.get(country)
        language = native if native and rng.random() < 0.7 else "en"
        kind = "business" if rng.random() < 0.05 else "private"
        registered = _ts(-rng.randrange(30, 3000) * 86_400)
        accounts.append(_Account(f"u{n:05d}", f"user_{n:05d}", country, language, kind, registered))
    return accounts


def _benign_text(rng: random.Random, language: str, topic: str) -> str:
    if language in PHRASES:
        return rng.choice(PHRASES[language])
    subjects, predicates = TOPICS[topic]
    opener, closer = rng.choice(OPENERS), rng.choice(CLOSERS)
    sentence = f"{rng.choice(subjects)} {rng.choice(predicates)}."
    if not opener.endswith(","):
        sentence = sentence[0].upper() + sentence[1:]
    return " ".join(p for p in (opener, sentence, closer) if p)


def _planted(
    rng: random.Random,
    bank: str,
    images: dict[str, list[_Image]],
    posters: list[Image.Image],
    victim: str,
) -> dict[str, Any]:
    """Text, URLs and media of one planted item that matches exactly one bank."""
    if bank == "demo-terrorism-pdq":
        copy = _poster_copy(rng, rng.choice(posters[:8]))
        return {"text": f"{MARKER} a poster of a fictional movement", "media": [copy]}
    if bank in images:
        image = rng.choice(images[bank][:8])  # the rest of the bank never shows up
        return {"text": f"{MARKER} {IMAGE_TEXT}", "media": [_media(rng, image)]}
    if bank == "demo-propaganda-urls":
        url = rng.choice(PROPAGANDA_URLS[:5])
        return {"text": f"{MARKER} read the fictional movement's pamphlet", "urls": [url]}
    if bank == "demo-spam-domains":
        url = f"https://{rng.choice(SPAM_DOMAINS)}/offer?ref={rng.randrange(10_000)}"
        return {"text": f"{MARKER} {rng.choice(SPAM_TEXT)}", "urls": [url]}
    sentences = {
        "demo-threat-terms": THREATS,
        "demo-extremist-terms": EXTREMIST,
        "demo-hate-terms": HATE,
        "demo-harassment-terms": HARASSMENT,
    }[bank]
    return {"text": f"{MARKER} {rng.choice(sentences).format(handle=victim)}"}


def _malformed(template: dict[str, Any]) -> list[str]:
    """Five broken lines (one per kind of fault) so the demo has a rejects file to show."""
    base = {k: v for k, v in template.items() if k not in ("media", "urls", "parent_id", "space")}
    base.update(kind="post", text="A perfectly ordinary post about soup.")
    missing = {**base, "id": "bad_0001"}
    del missing["author_id"]
    return [
        _dumps(missing),
        _dumps({**base, "id": "bad_0002", "created_at": "2026-10-03T12:00:00"}),
        _dumps({**base, "id": "bad_0003", "kind": "video"}),
        '{"record":"item","id":"bad_0004","kind":"post","text":"truncated',
        _dumps({**base, "id": "bad_0005", "audience": "private"}),
    ]


class _Builder:
    """Holds the state shared across items: accounts, banked images, posts to reply to."""

    def __init__(self, rng: random.Random, items: int) -> None:
        self.rng = rng
        self.accounts = _accounts(rng, max(20, items // 25))
        self.offenders = rng.sample(self.accounts, max(5, len(self.accounts) // 30))
        self.images = {"demo-terrorism-hashes": [_image(rng) for _ in range(12)]}
        self.images["demo-csam-standin-md5"] = [_image(rng) for _ in range(8)]
        self.banked = {i.sha256 for imgs in self.images.values() for i in imgs}
        self.posters = [_poster(rng) for _ in range(12)]
        self.posts: list[tuple[str, int]] = []

    def item(self, item_id: str, created: int, bank: str | None) -> tuple[dict[str, Any], int]:
        """One item record (and its final created time; replies come after their parent)."""
        rng = self.rng
        author = rng.choice(self.offenders) if bank else rng.choice(self.accounts)
        topic = rng.choice(TOPIC_NAMES)
        record: dict[str, Any] = {
            "record": "item",
            "id": item_id,
            "kind": "post",
            "author_id": author.id,
            "author_handle": author.handle,
            "author_country": author.country,
            "author_type": author.type,
            "author_registered_at": author.registered_at,
            "created_at": "",
        }
        roll = rng.random()
        if bank:
            victim = rng.choice(self.accounts).handle
            record.update(_planted(rng, bank, self.images, self.posters, victim))
            record["language"] = "en"
        elif roll < 0.12 and self.posts:
            parent_id, parent_created = rng.choice(self.posts[-500:])
            created = max(created, parent_created + 60)
            record.update(kind="comment", parent_id=parent_id, text=rng.choice(REPLIES))
            record["language"] = "en"
        elif roll < 0.19:
            record.update(kind="public_message", space=f"space:{topic}-club")
            record.update(text=_benign_text(rng, author.language, topic), language=author.language)
        elif roll < 0.21:
            record.update(kind="profile", text=rng.choice(BIOS), language="en")
        else:
            record.update(text=_benign_text(rng, author.language, topic), language=author.language)
        record["created_at"] = _ts(created)
        record["country"] = author.country
        if not bank and record["kind"] != "profile":
            if rng.random() < 0.10:
                host = rng.choice(BENIGN_HOSTS)
                record["urls"] = [f"https://{host}/{topic}/{rng.randrange(1, 5000)}"]
            if rng.random() < 0.03:
                image = _image(rng)
                while image.sha256 in self.banked:  # astronomically unlikely; keeps counts exact
                    image = _image(rng)
                record["media"] = [_media(rng, image)]
        if record["kind"] == "post" and not bank:
            self.posts.append((item_id, created))
        return record, created

    @staticmethod
    def _poster_hash(poster: Image.Image) -> str:
        buf = io.BytesIO()
        poster.save(buf, format="PNG")
        return hash_image(buf.getvalue()).hex

    def notices(self, ledger: list[tuple[str, int, str | None]], count: int) -> list[str]:
        """Reports on ingested items; some items get several so ``min_count`` rules fire."""
        rng = self.rng
        pools: dict[str | None, list[tuple[str, int]]] = {}
        for item_id, created, category in ledger:
            pools.setdefault(category, []).append((item_id, created))
        groups = [("harassment", 0.2), ("hate", 0.15), ("threat_to_life", 0.15)]
        groups += [("terrorism", 0.08), ("child_sexual_exploitation", 0.05), ("spam", 0.07)]
        rows: list[tuple[int, str, dict[str, Any]]] = []
        while len(rows) < count:
            pick, roll = None, rng.random()
            for name, weight in groups:
                roll -= weight
                if roll < 0 and pools.get(name):
                    pick = name
                    break
            item_id, created = rng.choice(pools[pick])  # pick None: a benign item, a false report
            category = pick or rng.choice(["spam", "harassment", "hate"])
            flagger = pick in ("terrorism", "child_sexual_exploitation")
            for _ in range(min(rng.choice([1, 1, 1, 2, 3]), count - len(rows))):
                received = created + rng.randrange(120, 3 * 86_400)
                notice = {
                    "item_id": item_id,
                    "reporter": "tf-example-hotline"
                    if flagger
                    else rng.choice(self.accounts).handle,
                    "reporter_type": "trusted_flagger" if flagger else "user",
                    "category": category,
                    "reason": f"reported as {category.replace('_', ' ')} via the report button",
                    "received_at": _ts(received),
                }
                rows.append((received, item_id, notice))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [
            _dumps({"record": "notice", "id": f"notice_{n:05d}", **r[2]})
            for n, r in enumerate(rows, 1)
        ]

    def write_banks(self, banks_dir: Path) -> tuple[BankSpec, ...]:
        """Bank files: plain lines with ``#`` comments, or CSV ``value,external_id,note``."""
        rng = self.rng
        banks_dir.mkdir(parents=True, exist_ok=True)
        values = {
            "demo-terrorism-hashes": [i.sha256 for i in self.images["demo-terrorism-hashes"]]
            + [f"{rng.getrandbits(256):064x}" for _ in range(40)],  # entries nothing matches
            "demo-terrorism-pdq": [self._poster_hash(p) for p in self.posters]
            + [f"{rng.getrandbits(256):064x}" for _ in range(40)],  # entries nothing matches
            "demo-propaganda-urls": PROPAGANDA_URLS,
            "demo-spam-domains": SPAM_DOMAINS,
            "demo-threat-terms": THREAT_TERMS,
            "demo-extremist-terms": EXTREMIST_TERMS,
            "demo-hate-terms": HATE_TERMS,
            "demo-harassment-terms": HARASSMENT_TERMS,
        }
        specs = []
        for b in BANKS:
            path = banks_dir / b.file
            if b.kind is BankKind.MD5:
                buf = io.StringIO()
                writer = csv.writer(buf, lineterminator="\n")
                writer.writerow(["value", "external_id", "note"])
                for n, img in enumerate(self.images[b.name], 1):
                    writer.writerow([img.md5, f"standin-{n:03d}", STANDIN_NOTE])
                for n in range(1, 31):
                    filler = f"{rng.getrandbits(128):032x}"
                    writer.writerow([filler, f"filler-{n:03d}", "stand-in entry; matches nothing"])
                path.write_text(buf.getvalue(), encoding="utf-8")
            else:
                head = f"# {SOURCE}: every entry is synthetic.\n# {b.description}\n"
                path.write_text(head + "\n".join(values[b.name]) + "\n", encoding="utf-8")
            specs.append(
                BankSpec(path, b.name, b.kind, b.category, SOURCE, b.description, b.transforms)
            )
        return tuple(specs)


def generate(out_dir: Path, *, items: int = 50_000, seed: int = 7) -> DemoFiles:
    """Write ``items.jsonl``, ``notices.jsonl`` and ``banks/`` under ``out_dir``.

    The same ``items`` and ``seed`` always give the same bytes (for a given Pillow
    build, which encodes the PNGs).
    """
    if items < MIN_ITEMS:
        raise ValueError(f"generate at least {MIN_ITEMS} items (got {items})")
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    builder = _Builder(rng, items)
    plan: list[str] = []
    for b in BANKS:
        plan += [b.name] * max(1, round(items * b.rate))
    planted_at = dict(zip(rng.sample(range(items), len(plan)), plan, strict=True))
    category_of = {b.name: b.category for b in BANKS}

    lines: list[str] = []
    ledger: list[tuple[str, int, str | None]] = []  # (item id, created, planted category)
    for i in range(items):
        bank = planted_at.get(i)
        item_id = f"item_{i + 1:07d}"
        record, created = builder.item(item_id, i * SPAN_S // items + rng.randrange(60), bank)
        ledger.append((item_id, created, category_of[bank] if bank else None))
        lines.append(_dumps(record))
    broken = _malformed(json.loads(lines[0]))
    for k in reversed(range(len(broken))):  # spread through the file, so line numbers vary
        lines.insert((k + 1) * items // (len(broken) + 1), broken[k])

    items_path, notices_path = out_dir / "items.jsonl", out_dir / "notices.jsonl"
    items_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    notices = builder.notices(ledger, max(10, items // 500))
    notices_path.write_text("\n".join(notices) + "\n", encoding="utf-8")
    banks = builder.write_banks(out_dir / "banks")

    by_bank = {b.name: plan.count(b.name) for b in BANKS}
    planted: dict[str, int] = {}
    for b in BANKS:
        planted[b.category] = planted.get(b.category, 0) + by_bank[b.name]
    return DemoFiles(
        out_dir=out_dir,
        items_path=items_path,
        notices_path=notices_path,
        banks_dir=out_dir / "banks",
        banks=banks,
        items=items,
        malformed=len(broken),
        notices=len(notices),
        planted=planted,
        planted_by_bank=by_bank,
        truth={item_id: category for item_id, _, category in ledger if category},
    )
