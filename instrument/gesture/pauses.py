"""Long pauses in a pointer trace: shortened, so no gap asks for millions of still frames.

The rule (also in :mod:`instrument.gesture.steps`): a pause longer than :data:`MAX_PAUSE_S`
between two samples, or before the first sample (from time 0), counts as ``MAX_PAUSE_S``
of stillness, and later times move earlier by the excess. After a window length of
stillness (0.32 s) the still pointer holds its sound and nothing changes but the length of
the silence; a 10-hour gap or ``t = 1e12`` would otherwise ask for billions of still
frames, audio samples and training windows. Every offline path (frames, windows,
resampling, render) and the live replay apply it the same way, so they stay identical.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import BadInput

# A pause longer than this counts as this long.
MAX_PAUSE_S = 10.0
# The most control frames (or training windows, or resampled points) one call computes:
# 5M frames = 14 hours at 100 Hz, about 2 GB of windows. Beyond it: split the recording.
MAX_FRAMES = 5_000_000


class PauseCapper:
    """:func:`cap_pauses` a chunk at a time (streamed files): carries the state across chunks.

    Attributes:
        capped: How many pauses were shortened so far.
    """

    def __init__(self, longest: float = MAX_PAUSE_S, start: float = 0.0):
        self.longest = float(longest)
        self._latest = float(start)   # the latest finite time seen (``start`` before the first)
        self._excess = 0.0        # seconds removed so far
        self.capped = 0

    def __call__(self, t) -> np.ndarray:
        """The times ``t`` (float64[N], the next chunk) with long pauses shortened."""
        t = np.asarray(t, dtype=np.float64)
        if len(t) == 0:
            return t
        finite = np.isfinite(t)
        reached = np.maximum.accumulate(np.concatenate([[self._latest],
                                                        np.where(finite, t, -np.inf)]))
        gaps = np.where(finite, t - reached[:-1], 0.0)
        long = gaps > self.longest
        n = int(np.count_nonzero(long))
        excess = self._excess
        self._latest = float(reached[-1])
        if n == 0:
            return t if excess == 0.0 else t - excess
        removed = np.cumsum(np.where(long, gaps - self.longest, 0.0))
        self._excess = excess + float(removed[-1])
        self.capped += n
        return t - (removed + excess)


def cap_pauses(t, longest: float = MAX_PAUSE_S, start: float = 0.0) -> tuple[np.ndarray, int]:
    """Shorten every pause longer than ``longest`` seconds to ``longest`` (the module rule).

    A pause is the time from the latest earlier sample (or from time 0, for the first) to a
    sample; later samples move earlier by the excess, so order and every shorter gap are
    kept, and a sample a tracker rejects for its time is still rejected.

    Args:
        t: float64[N] sample times (non-finite ones are left as they are).
        longest: The longest pause kept, in seconds.
        start: The time the first pause is counted from (0: the recording's start; a
            replay that continues a trace gives the trace's last time).

    Returns:
        (times float64[N], number of pauses shortened); ``t`` itself when none was.
    """
    capper = PauseCapper(longest, start)
    return capper(t), capper.capped


def check_frame_count(count: float, what: str = "the recording") -> None:
    """Refuse work of more than :data:`MAX_FRAMES` frames before anything is allocated."""
    if count > MAX_FRAMES:
        raise BadInput(f"{what} would give {count:.0f} control frames, more than the "
                       f"{MAX_FRAMES} one call computes",
                       "split the recording into shorter files")


def source_name(rec) -> str:
    """How a refusal names a recording: its file, or "the recording"."""
    path = getattr(rec, "path", None)
    return f"recording {path}" if path else "the recording"
