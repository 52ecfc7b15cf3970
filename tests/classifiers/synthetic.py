"""A small, clearly synthetic labelled set: templated threats and ordinary chatter.

Every text starts with [SYNTHETIC]; none is taken from any dataset.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

THREAT_VERBS = ["kill", "stab", "shoot", "hurt", "burn", "strangle", "beat", "attack"]
THREAT_FRAMES = [
    "[SYNTHETIC] I will {v} you tonight",
    "[SYNTHETIC] I am going to {v} your whole family",
    "[SYNTHETIC] watch your back, we will {v} you soon",
    "[SYNTHETIC] next time I see you I will {v} you",
    "[SYNTHETIC] you will die, I will {v} you myself",
]
BENIGN_THINGS = ["garden", "recipe", "concert", "football match", "new bike", "holiday", "book"]
BENIGN_FRAMES = [
    "[SYNTHETIC] loved the {t}, thanks for sharing",
    "[SYNTHETIC] what a great {t} this weekend",
    "[SYNTHETIC] has anyone tried the {t} near the station",
    "[SYNTHETIC] my {t} photos are finally online",
    "[SYNTHETIC] looking forward to the {t} with friends",
]


def examples(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` rows, half threats, with a ``threat`` label and an unrelated ``spam`` label."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        threat = i % 2 == 0
        if threat:
            text = rng.choice(THREAT_FRAMES).format(v=rng.choice(THREAT_VERBS))
        else:
            text = rng.choice(BENIGN_FRAMES).format(t=rng.choice(BENIGN_THINGS))
        text += f" #{rng.randint(1, 10_000)}"
        rows.append({"text": text, "threat": int(threat), "spam": int(rng.random() < 0.3)})
    return rows


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
