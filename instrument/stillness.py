"""Silence as a choice: what a still pointer does to the sound (``--stillness hold|fade``).

- ``hold`` (the default, as before): a still pointer holds its sound at its level.
- ``fade``: the level follows the motion energy, like a bowed string: the sound still comes
  from the mapping (a still pointer keeps its sound), but its ``amplitude`` is multiplied by
  an envelope that follows the pointer's recent speed. Per control frame:

  ``speed = Σ ρ over the newest RECENT_STEPS steps / (RECENT_STEPS dt)`` (window diagonals
  per second), ``level = min(1, speed / FULL_SPEED)``, and the envelope moves towards it by
  ``ATTACK`` of the way per frame when rising and ``RELEASE`` when falling (one-pole: at
  100 frames/s about 20 ms to rise, 200 ms to die away).

Numpy only (the live path). :class:`MotionFade` is stateful; ``reset`` starts silent.
"""

from __future__ import annotations

import numpy as np

RECENT_STEPS = 5
FULL_SPEED = 0.3     # diagonals per second: a moderate stroke plays at full level
ATTACK = 0.5
RELEASE = 0.05


class MotionFade:
    """Amplitude envelope from the motion in each window (see module docstring).

    Args:
        window_steps: Steps per window.
        per_step: Values per step (3 for sin/cos/ρ, 2 for θ/ρ); ρ is the last of them.
        rate_hz: Control rate (steps per second).
        amplitude_column: Column of ``amplitude`` in the parameter table, or None (no level
            to follow: the fade does nothing).
    """

    def __init__(self, window_steps: int, per_step: int, rate_hz: float,
                 amplitude_column: int | None):
        recent = min(RECENT_STEPS, window_steps)
        last = window_steps * per_step
        self._rho_columns = np.arange(last - 1, last - 1 - recent * per_step, -per_step)
        self._to_level = rate_hz / (recent * FULL_SPEED)
        self.amplitude_column = amplitude_column
        self._out = None
        self.level = 0.0

    def reset(self) -> None:
        """Start silent (the next motion fades in)."""
        self.level = 0.0

    def target(self, window: np.ndarray) -> float:
        """The level the motion in ``window`` asks for, 0..1."""
        return float(min(1.0, float(window[self._rho_columns].sum()) * self._to_level))

    def apply(self, window: np.ndarray, params: np.ndarray) -> np.ndarray:
        """``params`` with the amplitude scaled by the envelope after this frame's motion.

        Returns a reused buffer (copy it to keep it past the next call).
        """
        goal = self.target(window)
        self.level += (ATTACK if goal > self.level else RELEASE) * (goal - self.level)
        if self._out is None or self._out.shape != params.shape:
            self._out = np.empty_like(params)
        self._out[:] = params
        if self.amplitude_column is not None:
            self._out[self.amplitude_column] *= self.level
        return self._out


def motion_fade(runtime) -> MotionFade | None:
    """The fade of a pointer model's Runtime (None for a stream model: no pointer steps)."""
    if getattr(runtime, "stream_spec", None) is not None:
        return None
    cfg = runtime.gesture_config
    per_step = runtime.window_dim // cfg.window_steps
    names = runtime.table.names
    return MotionFade(cfg.window_steps, per_step, cfg.rate_hz,
                      names.index("amplitude") if "amplitude" in names else None)
