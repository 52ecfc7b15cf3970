"""PDQ hashing speed: a 12-megapixel JPEG, full decode vs draft decode, and the reference images.

Run: ``.venv/bin/python bench/pdq_hash.py`` (``--runs 20``). Pinned to one CPU core.
Prints a table and writes ``bench/results/pdq_hash.json``. The issue's target is a
12 MP JPEG hashed in <= 50 ms. Two synthetic 4000x3000 JPEGs (quality 90) are made in
memory: a smooth one (gradients and shapes, about 0.4 MB) and two with grain (the same
plus luminance noise, a few MB, the size range of 12 MP phone photos): libjpeg's
entropy decoding, which draft mode cannot skip, grows with the file size.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import PIL
from PIL import Image, ImageDraw, features
from rich.console import Console
from rich.table import Table

from vigil.hashing.pdq import DEFAULT_MAX_SIDE, decode, hash_image, hash_image_dihedral

RESULTS = Path(__file__).parent / "results" / "pdq_hash.json"
PDQ_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdq"
TARGET_MS = 50.0


def synthetic_jpeg(noise_sigma: float) -> bytes:
    """A 4000x3000 scene of gradients and shapes, optionally with Gaussian luminance grain."""
    w, h = 4000, 3000
    vertical = Image.linear_gradient("L").resize((w, h))
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90).resize((w, h))
    img = Image.merge("RGB", (vertical, horizontal, Image.radial_gradient("L").resize((w, h))))
    draw = ImageDraw.Draw(img)
    draw.ellipse((400, 300, 1700, 1500), fill=(230, 40, 50))
    draw.rectangle((2300, 1600, 3700, 2700), fill=(20, 60, 190))
    draw.polygon([(300, 2800), (1400, 1800), (2000, 2900)], fill=(250, 240, 70))
    draw.line((0, 0, w, h), fill=(255, 255, 255), width=60)
    if noise_sigma:
        noise = np.random.default_rng(7).normal(0.0, noise_sigma, (h, w, 1)).astype(np.float32)
        img = Image.fromarray(
            (np.asarray(img, dtype=np.float32) + noise).clip(0, 255).astype(np.uint8)
        )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    fn()  # warm-up: first-call allocations and page faults
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "pinned_cpus": sorted(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "numpy": np.__version__,
        "pdqhash": pdqhash.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pdq-data", type=Path, default=PDQ_DATA)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    console = Console(width=None if sys.stdout.isatty() else 110)
    rows: list[dict[str, Any]] = []
    for name, sigma in (("smooth", 0.0), ("grain 4", 4.0), ("grain 8", 8.0)):
        data = synthetic_jpeg(sigma)
        full = hash_image(data, max_side=None)
        drafted = hash_image(data)
        common = {"image": name, "bytes": len(data)}
        full_row: dict[str, Any] = (
            common
            | {"mode": "full", "decoded": "4000x3000", "bits_from_full": 0, "speedup": 1.0}
            | timed(partial(hash_image, data, max_side=None), args.runs)
        )
        full_row["decode_median_ms"] = timed(partial(decode, data, max_side=None), args.runs)[
            "median_ms"
        ]
        size = decode(data).size
        draft_row: dict[str, Any] = (
            common
            | {
                "mode": f"draft {DEFAULT_MAX_SIDE}",
                "decoded": f"{size[0]}x{size[1]}",
                "bits_from_full": drafted.distance(full),
            }
            | timed(partial(hash_image, data), args.runs)
        )
        draft_row["decode_median_ms"] = timed(partial(decode, data), args.runs)["median_ms"]
        draft_row["speedup"] = round(full_row["median_ms"] / draft_row["median_ms"], 1)
        rows += [full_row, draft_row]
    files = sorted(
        p for p in args.pdq_data.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
    )
    reference: dict[str, Any] = {"images": len(files)}
    if files:
        blobs = [p.read_bytes() for p in files]
        for label, fn in (("hash_image", hash_image), ("hash_image_dihedral", hash_image_dihedral)):
            passes = max(1, args.runs // 4)
            started = time.perf_counter()
            for _ in range(passes):
                for blob in blobs:
                    fn(blob)
            elapsed = time.perf_counter() - started
            reference[label] = {
                "hashes_per_s": round(passes * len(blobs) / elapsed, 1),
                "mean_ms": round(elapsed * 1000 / (passes * len(blobs)), 2),
            }

    table = Table(title=f"PDQ decode + hash, 4000x3000 JPEG q90, one core, {args.runs} runs")
    cols = (
        "image",
        "MB",
        "mode",
        "decoded",
        "median ms",
        "min ms",
        "decode ms",
        "speed-up",
        "bits Δ",
    )
    for col in cols:
        table.add_column(col, justify="left" if col in ("image", "mode") else "right")
    for r in rows:
        table.add_row(
            r["image"],
            f"{r['bytes'] / 1e6:.2f}",
            r["mode"],
            r["decoded"],
            f"{r['median_ms']:.1f}",
            f"{r['min_ms']:.1f}",
            f"{r['decode_median_ms']:.1f}",
            f"{r['speedup']:.1f}x",
            str(r["bits_from_full"]),
        )
    console.print(table)
    if files:
        ref = Table(title=f"Reference images ({len(files)} files, up to 1600x1004)")
        for col in ("function", "hashes/s", "mean ms"):
            ref.add_column(col, justify="right")
        for label in ("hash_image", "hash_image_dihedral"):
            ref.add_row(
                label,
                f"{reference[label]['hashes_per_s']:,.1f}",
                f"{reference[label]['mean_ms']:.2f}",
            )
        console.print(ref)
    else:
        console.print(f"[yellow]no reference images under {args.pdq_data}; skipped[/]")
    worst = max(r["median_ms"] for r in rows if r["mode"].startswith("draft"))
    verdict = "meets" if worst <= TARGET_MS else "misses"
    console.print(
        f"draft decode + hash, slowest image: {worst:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"runs": args.runs, "machine": machine(), "jpeg_12mp": rows, "reference": reference},
            indent=2,
        )
        + "\n"
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
