"""First render of a badge image: every default badge at every level, 256 px, cold.

The floor, measured in the same run, is Pillow saving a blank 256 px RGBA PNG:
what any image endpoint pays at least. Target: each first render under 50 ms.
"""

from __future__ import annotations

import io
import statistics
import time

from PIL import Image

from badges import DEFAULT_BADGES
from badges.art import render_png

SIZE = 256
TARGET_MS = 50.0


def _floor_ms(repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0)).save(io.BytesIO(), "PNG")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run() -> None:
    render_png("circle", "star", "#336699", "#ffffff", 1, 1, 64)  # import and warm Pillow once
    times = []
    for spec in DEFAULT_BADGES:
        art, levels = spec.art, len(spec.thresholds)
        for level in range(1, levels + 1):
            started = time.perf_counter()
            render_png(art.shape, art.glyph, art.primary, art.secondary, level, levels, SIZE)
            times.append((time.perf_counter() - started) * 1000)
    floor = _floor_ms()
    median, worst = statistics.median(times), max(times)
    verdict = "ok" if worst < TARGET_MS else "OVER TARGET"
    print(
        f"badge_images: first render at {SIZE} px over {len(times)} badge levels: "
        f"median {median:.1f} ms, worst {worst:.1f} ms (target < {TARGET_MS:.0f} ms) {verdict}; "
        f"floor (blank PNG) {floor:.2f} ms, median/floor ratio {median / floor:.1f}"
    )


if __name__ == "__main__":
    run()
