"""Held-out stroke families: strokes no training generator makes, to test a map on the unseen.

``gestures synth`` (synthetic.py) makes straight strokes, arcs, circles, spirals, zig-zags,
scribbles and pauses. These are other families, drawn with the same hand model (speed
profile, tremor, mouse-like event timing) so that only the shapes are new:

- ``figure_eight``: a lemniscate, both loops, at a steady speed;
- ``wave``: a sine-wave line, 1.5-4 periods, its amplitude 5-25% of its length;
- ``polygon``: a triangle, square or pentagon with sharp corners (the hand stops at each);
- ``loops``: cursive loops (a prolate trochoid) travelling across the window;
- ``tremolo``: fast small back-and-forth in place (4-9 Hz, 5-40 px), like a vibrato;
- ``flick``: a short reach that accelerates all the way and stops dead;
- ``rest``: the pointer held still.

They are generated from ``HELDOUT_SEED``, a seed no training run uses, and the recording's
header says ``"source": "heldout"``; ``instrument train`` refuses such a recording, so they
stay out of every training run.
"""

from __future__ import annotations

import math

import numpy as np

from instrument.errors import BadInput
from instrument.formats.recording import Recording, make_header
from instrument.gesture.synthetic import (
    _DENSE_HZ,
    _cruise,
    _min_jerk,
    _mouse_events,
    _rotate,
    _Synth,
    draw_strokes,
)

HELDOUT_SEED = 7919
HELDOUT_SOURCE = "heldout"
HELDOUT_FAMILIES = ("figure_eight", "wave", "polygon", "loops", "tremolo", "flick", "rest")
_WEIGHTS = {"figure_eight": 0.15, "wave": 0.18, "polygon": 0.15, "loops": 0.15,
            "tremolo": 0.12, "flick": 0.13, "rest": 0.12}


class _Heldout(_Synth):
    def figure_eight(self, pos):
        r = self.rng.uniform(0.08, 0.25) * self.size
        phi = np.linspace(0, 2 * np.pi, 400)
        path = np.column_stack([r * np.sin(phi), r * np.sin(phi) * np.cos(phi)])
        return _rotate(path, self.rng.uniform(-np.pi, np.pi)), lambda u: u

    def wave(self, pos):
        length = self.rng.uniform(0.2, 0.6) * self.size
        u = np.linspace(0, 1, 400)
        amp = self.rng.uniform(0.05, 0.25) * length
        periods = self.rng.uniform(1.5, 4.0)
        path = np.column_stack([length * u, amp * np.sin(2 * np.pi * periods * u)])
        return _rotate(path, self.direction(pos)), _cruise

    def polygon(self, pos):
        sides = int(self.rng.choice([3, 4, 5]))
        r = self.rng.uniform(0.06, 0.2) * self.size
        corners = np.arange(sides + 1) * 2 * np.pi / sides
        pts = np.column_stack([r * np.cos(corners), r * np.sin(corners)])
        pts = _rotate(pts - pts[0], self.rng.uniform(-np.pi, np.pi))
        # a reach per side: the speed falls to zero at every corner
        per_side = np.arange(200 * sides) / (200 * sides - 1) * sides
        side = np.minimum(per_side.astype(int), sides - 1)
        frac = _min_jerk(per_side - side)
        path = pts[side] + (pts[side + 1] - pts[side]) * frac[:, None]
        return path, None

    def loops(self, pos):
        r = self.rng.uniform(0.03, 0.08) * self.size
        n_loops = self.rng.uniform(2, 5)
        phi = np.linspace(0, 2 * np.pi * n_loops, 600)
        path = np.column_stack([0.6 * r * phi - 1.4 * r * np.sin(phi), -1.4 * r * np.cos(phi)])
        path = path - path[0]
        return _rotate(path, self.direction(pos)), lambda u: u

    def tremolo(self, pos):
        hz = self.rng.uniform(4, 9)
        amp = self.rng.uniform(5, 40)
        seconds = self.rng.uniform(0.5, 2.0)
        t = np.arange(int(seconds * _DENSE_HZ)) / _DENSE_HZ
        along = amp * np.sin(2 * np.pi * hz * t) * np.sin(np.pi * t / seconds)
        path = _rotate(np.column_stack([along, np.zeros_like(along)]),
                       self.rng.uniform(-np.pi, np.pi))
        return path - path[0], None

    def flick(self, pos):
        length = self.rng.uniform(0.05, 0.3) * self.size
        seconds = self.rng.uniform(0.08, 0.3)
        u = np.linspace(0, 1, max(int(seconds * _DENSE_HZ), 20))
        path = np.column_stack([length * u ** 2, np.zeros_like(u)])   # speeding up, then stop
        return _rotate(path, self.direction(pos)), None


def heldout_strokes(seconds: float = 120.0, seed: int = HELDOUT_SEED, width: int = 1280,
                    height: int = 800) -> Recording:
    """A recording of held-out stroke families (see the module docstring).

    Args:
        seconds: Length in seconds (0 < seconds <= 3600).
        seed: Random seed (default ``HELDOUT_SEED``); the same seed gives the same recording.
        width, height: Window size in pixels.
    """
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= 3600):
        raise BadInput(f"seconds = {seconds!r} must be in (0, 3600]")
    rng = np.random.default_rng(seed)
    gen = _Heldout(rng, width, height)
    dense, counts = draw_strokes(gen, rng, _WEIGHTS, HELDOUT_FAMILIES, ("rest", 0.2, 2.0),
                                 int(seconds * _DENSE_HZ) + 1, width, height)
    t, x, y = _mouse_events(dense, rng, seconds)
    header = make_header(width, height, source=HELDOUT_SOURCE,
                         note="held-out stroke families (instrument.gesture.heldout); never "
                              "train on this", heldout={"seed": int(seed),
                                                        "seconds": float(seconds),
                                                        "strokes": counts})
    return Recording(header=header, width=width, height=height, t=t, x=x, y=y)
