"""A picture of the review queues: cases open against cases overdue, per queue."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vigil.cases.queue import QueueStats


def draw_queue_chart(stats: Sequence[QueueStats], path: Path) -> None:
    """Grouped bars per (category, severity): open and overdue now; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = [f"{s.category}\n{s.severity}" for s in stats]
    positions = list(range(len(stats)))
    width = 0.4
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(stats) + 2), 4.8), dpi=100)
    ax.bar(
        [p - width / 2 for p in positions],
        [s.open + s.awaiting_confirmation for s in stats],
        width,
        label="in queue (incl. awaiting confirmation)",
        color="C0",
    )
    ax.bar(
        [p + width / 2 for p in positions],
        [s.overdue for s in stats],
        width,
        label="overdue now",
        color="C3",
    )
    ax.set_xticks(positions, names, fontsize=8)
    ax.set_ylabel("cases")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Review queues: open and overdue")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
