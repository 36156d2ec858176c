"""The performance window: pointer input, keys, and the screen (trail, parameters, map, meter).

:class:`LiveView` polls the window every half millisecond and hands each pointer sample to the
control loop (:class:`instrument.live.loop.ControlLoop`) at once; it draws only every
1 / ``fps`` seconds, from the loop's snapshot. The window itself (the only pygame user) is
:class:`instrument.gesture.capture.PointerWindow`, opened here lazily.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from instrument.live.loop import ControlLoop

KEYS_HELP = "Esc quit   Space mute/unmute   H hold/release the sound"


def bank_map(runtime) -> np.ndarray:
    """Every bank sound on a 2-D map in 0..1 (``runtime.bank_map``: the first two principal
    axes of the closest-sound search space, so neighbours on the map are neighbours in play)."""
    xy = np.asarray(runtime.bank_map, dtype=np.float64)
    low, span = xy.min(axis=0), xy.max(axis=0) - xy.min(axis=0)
    return ((xy - low) / np.where(span > 0, span, 1.0)).astype(np.float32)


class LiveView:
    """The performance window: mouse/tablet input, keys, trail, parameters, map, meter.

    Input is polled every half millisecond and each sample becomes a control frame at once;
    drawing happens only every 1 / ``fps`` seconds, between polls, so the screen never holds
    up a control frame for longer than one draw.
    """

    def __init__(self, runtime, rec=None, fps: float = 60.0, allow_dummy: bool = False):
        from instrument.errors import DisplayError
        from instrument.gesture.capture import PointerWindow

        size = (int(rec.width), int(rec.height)) if rec is not None else (960, 640)
        try:
            self.window = PointerWindow(*size, title="instrument perform",
                                        allow_dummy=allow_dummy).open()
        except DisplayError as err:  # perform can also play without a window
            raise DisplayError(err.problem, f"{err.fix}; or play without a window: --headless "
                               "with OSC input (/wek/inputs on UDP 6448) or --replay FILE") \
                from None
        self.table = runtime.table
        self.n_sounds = runtime.n_sounds
        self.map = bank_map(runtime)
        self.period = 1.0 / fps
        self.gesture_config = runtime.gesture_config
        self.stillness = getattr(runtime, "stillness", "hold")
        self._recent: deque = deque(maxlen=256)   # (t, x, y) for the descriptors line

    @property
    def size(self) -> tuple[int, int]:
        return self.window.size

    def handle_keys(self, loop: ControlLoop, keys, stop: threading.Event) -> None:
        for key in keys:
            if key == "escape":
                stop.set()
            elif key == "space":
                loop.set_muted(not loop.muted)
            elif key == "h":
                loop.set_held(not loop.held)

    def run(self, loop: ControlLoop, stop: threading.Event, deadline: float | None,
            live_mouse: bool = True, external_trail: bool = False) -> None:
        """Poll, play and draw until Esc, the window closes, ``stop`` or ``deadline``.

        Args:
            live_mouse: Play the window's pointer samples (False while replaying a file).
            external_trail: Show samples that reach the loop from elsewhere (replay, OSC).
        """
        next_draw = 0.0
        shown = None
        while not stop.is_set():
            if external_trail and loop.last_sample is not shown:
                shown = loop.last_sample
                if shown is not None:
                    self.window.add_trail(*shown)
                    self._recent.append(tuple(shown[:3]))
            got = self.window.poll()
            arrival = time.perf_counter()
            if live_mouse:
                for sample in got.samples:
                    loop.sample(sample.t, sample.x, sample.y, arrival)
                    self._recent.append((sample.t, sample.x, sample.y))
                if got.resized:
                    loop.resize(*self.window.size)
            self.handle_keys(loop, got.keys, stop)
            if got.quit:
                stop.set()
            now = time.perf_counter()
            if deadline is not None and now >= deadline:
                break
            if now >= next_draw:
                self.draw(loop)
                next_draw = now + self.period
            time.sleep(0.0005)

    def lines(self, loop: ControlLoop) -> list[str]:
        """The text shown top left."""
        from instrument.sound.params import format_value

        snap = loop.snapshot
        # muted: what is heard (and sent over OSC) is amplitude 0, so that is what is shown
        params = "   ".join(
            f"{p.name} 0 (muted)" if snap.muted and p.name == "amplitude"
            else f"{p.name} {format_value(value, p.unit)}"
            for p, value in zip(self.table, loop.params))
        state = ("MUTED  " if snap.muted else "") + ("HOLD  " if snap.held else "")
        sound = f"sound {snap.sound} of {self.n_sounds}" if snap.sound >= 0 else "move to play"
        osc_errors = loop.osc_out.error_count if loop.osc_out is not None else 0
        return [f"{state}{sound}", params, self.descriptor_line(),
                f"frames {snap.frames}   late still frames skipped {loop.dropped_still}   "
                f"bad input {loop.tracker.rejected}   OSC errors {osc_errors}",
                KEYS_HELP]

    def descriptor_line(self) -> str:
        """A few gesture descriptors of the last window's motion, and the stillness mode."""
        from instrument.gesture.descriptors import describe_path

        cfg = self.gesture_config
        mode = f"stillness {self.stillness}"
        if len(self._recent) < 2:
            return mode
        t, x, y = (np.asarray(v, np.float64) for v in zip(*self._recent))
        grid = t[-1] - np.arange(cfg.window_steps, -1, -1) / cfg.rate_hz
        if grid[0] < t[0]:
            return mode
        # the last window's span resampled at the control rate, as the gesture path does
        d = describe_path(np.interp(grid, t, x), np.interp(grid, t, y), *self.window.size,
                          cfg.rate_hz)
        return (f"speed {d[0]:.2f}/s   curvature {d[2]:.2f} rad   direction "
                f"{np.degrees(d[3]):.0f} deg   extent {d[4]:.3f}   {mode}")

    def draw(self, loop: ControlLoop) -> None:
        """One screen frame (reads the loop's snapshot; takes no lock)."""
        recent = loop.latency.recent * 1e3
        self.window.draw(self.lines(loop), scatter=self.map,
                         highlight=loop.snapshot.sound if loop.snapshot.sound >= 0 else None,
                         meter=(recent, 10.0, f"control latency {recent:.2f} ms"))

    def close(self) -> None:
        self.window.close()
