"""The loss curve as SVG geometry, computed on the server (the page's CSP allows no inline style)."""

import math
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 600, 180, 28


@dataclass(frozen=True)
class LossCurve:
    points: str  # the polyline's "x,y x,y ..." in the viewBox
    smooth: str  # a moving average, easier to read than the noisy per-step loss
    width: int
    height: int
    y_max: float
    y_min: float
    x_max: int
    last_x: float
    last_y: float


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over `window` values (shorter at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def loss_curve(losses: list[list[float]], total_steps: int) -> LossCurve | None:
    """Scale [[step, loss], ...] into the chart box; None until there are two finite points."""
    pts = [(int(s), float(v)) for s, v in losses if v is not None and math.isfinite(v)]
    if len(pts) < 2:
        return None
    steps = [s for s, _ in pts]
    values = [v for _, v in pts]
    smooth = moving_average(values, max(1, len(values) // 20))
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    x_max = max(total_steps, steps[-1], 1)

    def xy(step: int, value: float) -> tuple[float, float]:
        x = PAD + (WIDTH - 2 * PAD) * step / x_max
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - lo) / (hi - lo)
        return round(x, 1), round(y, 1)

    raw = [xy(s, v) for s, v in pts]
    avg = [xy(s, v) for s, v in zip(steps, smooth, strict=True)]
    return LossCurve(
        points=" ".join(f"{x},{y}" for x, y in raw),
        smooth=" ".join(f"{x},{y}" for x, y in avg),
        width=WIDTH,
        height=HEIGHT,
        y_max=hi,
        y_min=lo,
        x_max=x_max,
        last_x=raw[-1][0],
        last_y=raw[-1][1],
    )


def duration(seconds: float | None) -> str:
    """A short human duration: "45 s", "3 min 20 s", "1 h 05 min"."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
