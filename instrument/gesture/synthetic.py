"""Human-like synthetic pointer recordings: strokes, arcs, circles, spirals, zig-zags,
scribbles and pauses, with varied speed, size and direction, a little tremor, and event
timing like a real mouse (60-125 Hz with jitter, no events while the pointer is still).

The paper (§4.2 step 1) suggests synthesized gestures for training; they are also what the
tests and the shipped demo recording use. The same seed gives the same file.
"""

from __future__ import annotations

import math

import numpy as np

from instrument.errors import BadInput
from instrument.formats.recording import Recording, make_header

FAMILIES = ("straight", "arc", "circle", "spiral", "zigzag", "scribble", "pause")
# How often each family is picked: mostly strokes, some shapes, a few rests.
_WEIGHTS = {"straight": 0.22, "arc": 0.15, "circle": 0.13, "spiral": 0.09, "zigzag": 0.11,
            "scribble": 0.16, "pause": 0.14}
_DENSE_HZ = 1000.0          # the "true" hand trace, before the mouse samples it
_MARGIN = 12.0              # pixels kept free at the window border
_MIN_MOVE_PX = 0.5          # a mouse reports nothing for smaller moves


def _min_jerk(u: np.ndarray) -> np.ndarray:
    """Progress 0..1 of a point-to-point reach (bell-shaped speed, Flash & Hogan)."""
    return u ** 3 * (10 - 15 * u + 6 * u * u)


def _cruise(u: np.ndarray) -> np.ndarray:
    """Progress 0..1 that speeds up, cruises and slows down (raised-cosine speed)."""
    return u - np.sin(2 * np.pi * u) / (2 * np.pi)


def _arclength_param(path: np.ndarray, progress: np.ndarray) -> np.ndarray:
    """Points along ``path`` (k x 2) at arclength fractions ``progress``."""
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(path[:1], len(progress), axis=0)
    s /= s[-1]
    return np.column_stack([np.interp(progress, s, path[:, 0]), np.interp(progress, s, path[:, 1])])


class _Synth:
    def __init__(self, rng: np.random.Generator, width: float, height: float):
        self.rng = rng
        self.width, self.height = width, height
        self.size = min(width, height)

    def speed(self) -> float:
        """A stroke speed in px/s: mostly moderate, sometimes slow or fast."""
        return float(np.clip(self.rng.lognormal(math.log(0.55 * self.size), 0.55),
                             0.06 * self.size, 3.5 * self.size))

    def direction(self, pos: np.ndarray) -> float:
        """A heading (y up), drawn towards the middle when near the border."""
        centre = np.array([self.width / 2, self.height / 2])
        offset = (pos - centre) / np.array([self.width / 2, self.height / 2])
        if np.max(np.abs(offset)) > 0.6 and self.rng.random() < 0.7:
            to_centre = math.atan2(pos[1] - centre[1], centre[0] - pos[0])
            return to_centre + self.rng.normal(0, 0.6)
        return self.rng.uniform(-math.pi, math.pi)

    # Each shape returns a path relative to its start (k x 2, screen coordinates, y down)
    # and the progress profile of a hand tracing it.
    def straight(self, pos):
        a = self.direction(pos)
        length = self.rng.uniform(0.08, 0.6) * self.size
        u = np.linspace(0, 1, 200)
        bow = self.rng.normal(0, 0.06) * length * np.sin(np.pi * u)   # hands are not rulers
        along = np.column_stack([u * length, bow])
        return _rotate(along, a), _min_jerk

    def arc(self, pos):
        radius = self.rng.uniform(0.06, 0.35) * self.size
        span = math.radians(self.rng.uniform(60, 270))
        return _circle_path(radius, radius, span, self.direction(pos), self.rng), _min_jerk

    def circle(self, pos):
        radius = self.rng.uniform(0.04, 0.25) * self.size
        squash = self.rng.uniform(0.6, 1.0)
        loops = self.rng.choice([1, 1, 2, 3])
        return _circle_path(radius, radius * squash, 2 * math.pi * loops,
                            self.direction(pos), self.rng), _cruise

    def spiral(self, pos):
        turns = self.rng.uniform(1.5, 4.0)
        r_small = self.rng.uniform(0.01, 0.04) * self.size
        r_big = self.rng.uniform(0.12, 0.3) * self.size
        u = np.linspace(0, 1, 1200)
        r = r_small + (r_big - r_small) * (u if self.rng.random() < 0.5 else 1 - u)
        sense = self.rng.choice([-1.0, 1.0])
        phi = self.rng.uniform(0, 2 * np.pi) + sense * 2 * np.pi * turns * u
        path = np.column_stack([r * np.cos(phi), -r * np.sin(phi)])
        return path - path[0], _cruise

    def zigzag(self, pos):
        teeth = int(self.rng.integers(3, 10))
        length = self.rng.uniform(0.15, 0.6) * self.size
        amp = self.rng.uniform(0.03, 0.15) * self.size
        xs = np.linspace(0, length, teeth + 1)
        ys = amp * np.where(np.arange(teeth + 1) % 2 == 0, -0.5, 0.5)
        corners = _rotate(np.column_stack([xs, ys - ys[0]]), self.direction(pos))

        def per_tooth(u):       # slow down at every corner, like a hand does
            k = np.minimum((u * teeth).astype(int), teeth - 1)
            return (k + _min_jerk(u * teeth - k)) / teeth
        return corners, per_tooth

    def scribble(self, pos):
        seconds = self.rng.uniform(1.0, 4.0)
        t = np.arange(0, seconds, 1 / _DENSE_HZ)
        amp = self.rng.uniform(0.03, 0.18) * self.size
        path = np.zeros((len(t), 2))
        for axis in range(2):
            for _ in range(3):
                f = self.rng.uniform(0.4, 4.0)
                phase = self.rng.uniform(0, 2 * np.pi)
                path[:, axis] += amp / 3 * np.sin(2 * np.pi * f * t + phase)
        return path - path[0], None     # already timed

    def fit(self, pos: np.ndarray, rel: np.ndarray) -> np.ndarray:
        """Mirror and shrink a shape until it fits in the window from ``pos``."""
        low = np.array([_MARGIN, _MARGIN])
        high = np.array([self.width - _MARGIN, self.height - _MARGIN])
        for _ in range(12):
            for flip in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
                cand = pos + rel * flip
                if np.all(cand >= low) and np.all(cand <= high):
                    return cand
            rel = rel * 0.8
        return np.clip(pos + rel, low, high)

    def tremor(self, n: int) -> np.ndarray:
        """A little smoothed noise (~0.3 px), fading in and out with the stroke."""
        noise = self.rng.normal(0, 1, (n + 40, 2))
        kernel = np.hanning(31)
        kernel /= np.sqrt((kernel ** 2).sum())
        smooth = np.column_stack([np.convolve(noise[:, i], kernel, "same") for i in range(2)])
        envelope = np.sin(np.pi * np.linspace(0, 1, n))[:, None]
        return 0.3 * smooth[20:20 + n] * envelope


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate (along, across) by a heading ``angle`` (y up) into screen coordinates."""
    c, s = math.cos(angle), math.sin(angle)
    along, across = points[:, 0], points[:, 1]
    return np.column_stack([c * along - s * across, -(s * along + c * across)])


def _circle_path(rx, ry, span, heading, rng) -> np.ndarray:
    sense = rng.choice([-1.0, 1.0])
    u = np.linspace(0, 1, max(100, int(200 * span / math.pi)))
    phi = sense * span * u
    # Start on the ellipse with the tangent along `heading`.
    path = np.column_stack([rx * np.sin(phi) * sense, ry * (1 - np.cos(phi))])
    return _rotate(path, heading)


def synthesize(seconds: float = 420.0, seed: int = 0, width: int = 1280,
               height: int = 800) -> Recording:
    """A synthetic pointer recording.

    Args:
        seconds: Length of the recording.
        seed: Random seed; the same seed gives the same recording.
        width, height: Window size in pixels.

    Returns:
        A :class:`Recording` with ``source: "synthetic"`` in its header; times rounded to
        0.1 ms and coordinates to 0.1 px, as they are written to file.
    """
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= 36000):
        raise BadInput(f"seconds = {seconds!r} must be in (0, 36000]")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BadInput(f"seed = {seed!r} must be an integer >= 0")
    if not (isinstance(width, int) and isinstance(height, int) and width >= 100 and height >= 100):
        raise BadInput(f"window {width!r}x{height!r} must be whole pixels, at least 100x100")
    rng = np.random.default_rng(seed)
    gen = _Synth(rng, width, height)
    dense, counts = draw_strokes(gen, rng, _WEIGHTS, FAMILIES, ("pause", 0.2, 2.5),
                                 int(seconds * _DENSE_HZ) + 1, width, height)
    t, x, y = _mouse_events(dense, rng, seconds)
    header = make_header(width, height, source="synthetic",
                         note="synthesized by 'instrument gestures synth', not a human recording",
                         synthetic={"seed": int(seed), "seconds": float(seconds),
                                    "strokes": counts})
    return Recording(header=header, width=width, height=height, t=t, x=x, y=y)


def draw_strokes(gen, rng: np.random.Generator, weights: dict, families: tuple,
                 still: tuple[str, float, float], n_dense: int, width: int,
                 height: int) -> tuple[np.ndarray, dict]:
    """The dense hand trace: strokes of weighted families, one after another, from the centre.

    Shared by :func:`synthesize` and the held-out families (:mod:`instrument.gesture.heldout`),
    which differ only in their families and ``still`` (the family that holds the pointer
    still, and its range of seconds). The random draws happen in a fixed order, so a seed
    gives the same trace byte for byte.

    Args:
        gen: A stroke generator (:class:`_Synth` or a subclass): a method per family
            returning ``(relative path, speed profile or None)``, plus fit/speed/tremor.
        rng: The generator's random source (drawn from here too).
        weights: Family name -> relative weight (the order of draws follows the dict).
        families: Every family name, in the order the returned counts list them.
        still: ``(family, low_s, high_s)`` of the still family.
        n_dense: Samples of the trace at ``_DENSE_HZ``.

    Returns:
        (float[n_dense, 2] trace in pixels, {family: strokes drawn}).
    """
    names = list(weights)
    p = np.array([weights[n] for n in names])
    pos = np.array([width / 2, height / 2])
    chunks, total = [pos[None, :]], 1
    counts = dict.fromkeys(families, 0)
    still_family, low_s, high_s = still
    while total < n_dense:
        family = names[rng.choice(len(names), p=p / p.sum())]
        counts[family] += 1
        if family == still_family:
            stroke = np.repeat(pos[None, :], int(rng.uniform(low_s, high_s) * _DENSE_HZ), axis=0)
        else:
            rel, profile = getattr(gen, family)(pos)
            placed = gen.fit(pos, rel)
            if profile is None:
                stroke = placed
            else:
                seg = np.hypot(*np.diff(placed, axis=0).T).sum()
                n = max(int(seg / gen.speed() * _DENSE_HZ), 20)
                stroke = _arclength_param(placed, profile(np.linspace(0, 1, n)))
            stroke = stroke + gen.tremor(len(stroke))
            # A short hesitation between strokes.
            rest = int(rng.uniform(0.0, 0.15) * _DENSE_HZ)
            stroke = np.vstack([stroke, np.repeat(stroke[-1:], rest, axis=0)])
        stroke = np.clip(stroke, [0, 0], [width - 1, height - 1])
        chunks.append(stroke)
        total += len(stroke)
        pos = stroke[-1]
    return np.vstack(chunks)[:n_dense], counts


def _mouse_events(dense: np.ndarray, rng: np.random.Generator, seconds: float):
    """Sample the dense hand trace like a mouse: 60-125 Hz with jitter, only on motion."""
    intervals = []
    span = 0.0
    while span < seconds:
        rate = rng.choice([60.0, 75.0, 90.0, 100.0, 125.0])        # a device, for a while
        n = int(rng.uniform(5, 20) * rate)
        iv = np.clip(rng.normal(1 / rate, 0.12 / rate, n), 0.004, 0.05)
        intervals.append(iv)
        span += iv.sum()
    ticks = np.cumsum(np.concatenate(intervals))
    ticks = np.round(ticks[ticks <= seconds], 4)
    idx = np.minimum(np.round(ticks * _DENSE_HZ).astype(int), len(dense) - 1)
    pts = np.round(dense[idx], 1)
    keep = np.zeros(len(ticks), dtype=bool)
    first = np.round(dense[0], 1)
    last = first
    for i in range(len(ticks)):     # a mouse only reports when it has moved
        if abs(pts[i, 0] - last[0]) + abs(pts[i, 1] - last[1]) >= _MIN_MOVE_PX:
            keep[i] = True
            last = pts[i]
    t = np.concatenate([[0.0], ticks[keep]])
    p = np.vstack([first[None, :], pts[keep]])
    return t, p[:, 0].copy(), p[:, 1].copy()
