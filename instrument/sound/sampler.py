"""The sampler: plays the slices of an audio bank, switching with short crossfades (numpy core).

A control frame says which slice plays (its bank index: the "slice" parameter of an audio
bank). When the slice changes, the new one starts at its first sample and fades in while the
old one fades out, both over ``fade_s`` (default 5 ms) with raised-cosine gains
(``sin²`` / ``cos²``), so a switch never jumps: with slices of peak ``a`` the step between
two samples grows by at most ``a · π / (2 · fade samples)`` (0.018 for a = 1 at 5 ms / 44.1 kHz)
over the slices' own steps. A frame that names the slice already playing changes nothing.

Modes (``--sampler-mode``):

- ``start`` (default): the slice plays once to its end, which fades out over ``fade_s`` (a
  slice cut at ``--max-slice-seconds`` does not end on a click); then silence until the
  next change.
- ``loop``: at ``fade_s`` before its end the slice starts again from its first sample,
  crossfaded like a switch, for as long as it is chosen.

- ``grain``: overlapping grains read from the chosen slice, for as long as it is chosen
  (:class:`Grains`: ``size_s`` 50 ms, ``overlap`` 4, ``jitter`` 0.5, ``seed`` 0). A grain
  starts every ``hop = round(size · rate / overlap)`` output samples, counted from the
  sampler's first sample (a fixed grid, whatever the blocks), lasts ``overlap · hop``
  samples and is shaped by a periodic Hann window ``sin²(π u / length)`` times
  ``2 / overlap``, so overlapping grains of one steady signal add up to exactly that signal.
  Position rule: grain ``k`` reads the slice chosen when it starts from
  ``(samples since that slice was chosen + jitter_k) mod (slice length - grain length + 1)``,
  where ``jitter_k = floor(u_k · jitter · grain length)`` and ``u_k`` is entry ``k mod 4096``
  of a table of uniform numbers drawn once from ``seed``: deterministic, so render == live
  and pyo == numpy. With ``jitter`` 0 the grains rebuild the slice itself (looping through
  it); with jitter they smear it into a texture. A switch takes effect at the next grain;
  grains already sounding finish with their slice, so a switch is a crossfade over one grain
  and never clicks (each grain starts and ends at gain 0). A slice shorter than a grain is
  played as grains of its own length.

Every fading voice is kept until its fade ends (at most ``MAX_VOICES``; beyond that the
oldest is dropped), so quick successive switches still never click. Slices are resampled
to the playback rate once, when the sampler is made (``resample_poly``). No allocation in
:meth:`Sampler.render` beyond small per-block temporaries; the same class renders offline
and runs in the live voice's callback, so render == live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from instrument.errors import BadInput

SAMPLER_MODES = ("start", "loop", "grain")
DEFAULT_FADE_S = 0.005
MAX_VOICES = 8
JITTER_TABLE = 4096


@dataclass(frozen=True)
class Grains:
    """Grain settings of mode "grain" (module docstring): length, overlap, jitter, seed."""

    size_s: float = 0.05
    overlap: int = 4
    jitter: float = 0.5
    seed: int = 0

    def check(self, rate: int) -> None:
        if not (isinstance(self.size_s, (int, float)) and 0.002 <= self.size_s <= 1.0):
            raise BadInput(f"grain size {self.size_s!r} s is out of range", "use 0.002..1 s")
        if not (isinstance(self.overlap, int) and 2 <= self.overlap <= MAX_VOICES):
            raise BadInput(f"grain overlap {self.overlap!r} is out of range",
                           f"use a whole number 2..{MAX_VOICES}")
        if not (isinstance(self.jitter, (int, float)) and 0.0 <= self.jitter <= 1.0):
            raise BadInput(f"grain jitter {self.jitter!r} is out of range", "use 0..1")
        if not (isinstance(self.seed, int) and 0 <= self.seed < 2 ** 32):
            raise BadInput(f"grain seed {self.seed!r} is not a whole number 0..2^32-1")
        if round(self.size_s * rate / self.overlap) < 1:
            raise BadInput(f"grains of {self.size_s} s are too short at {rate} Hz")


def resample_slices(slices: list[np.ndarray], from_rate: int, to_rate: int) -> list[np.ndarray]:
    """Each slice at ``to_rate`` (float32; the same arrays when the rates agree)."""
    if from_rate == to_rate:
        return [np.asarray(s, np.float32) for s in slices]
    from scipy.signal import resample_poly

    g = math.gcd(int(from_rate), int(to_rate))
    return [resample_poly(np.asarray(s, np.float64), to_rate // g, from_rate // g)
            .astype(np.float32) for s in slices]


class _Voice:
    __slots__ = ("slice", "pos", "gain", "step", "lane")

    def __init__(self, index: int, gain: float, step: float, lane: int):
        self.slice = index   # which slice
        self.pos = 0         # next sample of it
        self.gain = gain     # fade phase 0..1 (gain is sin²(π/2 · phase))
        self.step = step     # phase change per sample: > 0 fading in, < 0 fading out
        self.lane = lane     # the lowest lane free when it started (pyo renders lanes)


class _Grain:
    __slots__ = ("slice", "pos", "start", "length", "lane")

    def __init__(self, index: int, pos: int, start: int, length: int, lane: int):
        self.slice, self.pos, self.start = index, pos, start   # reads slice[pos:pos + length]
        self.length, self.lane = length, lane                   # from output sample ``start``


class Sampler:
    """Plays slices; :meth:`set_slice` switches with a crossfade, :meth:`render` fills blocks.

    Args:
        slices: float32 mono audio of every slice, at ``rate``.
        rate: Playback sample rate.
        mode: "start", "loop" or "grain" (module docstring).
        fade_s: Crossfade length in seconds.
        gain: Output gain.
        grains: Grain settings (mode "grain").
    """

    def __init__(self, slices: list[np.ndarray], rate: int, mode: str = "start",
                 fade_s: float = DEFAULT_FADE_S, gain: float = 1.0,
                 grains: Grains = Grains()):
        if mode not in SAMPLER_MODES:
            raise BadInput(f"sampler mode {mode!r} is not one of {', '.join(SAMPLER_MODES)}")
        if not (isinstance(fade_s, (int, float)) and 0.0005 <= fade_s <= 1.0):
            raise BadInput(f"sampler crossfade {fade_s!r} s is out of range",
                           "use 0.0005..1 s (a few milliseconds)")
        if not slices:
            raise BadInput("the sampler needs at least one slice")
        self.slices = [np.ascontiguousarray(s, np.float32) for s in slices]
        self.rate = int(rate)
        self.mode = mode
        self.fade = max(1, int(round(fade_s * rate)))
        self.gain = float(gain)
        self.voices: list[_Voice] = []
        self.current = -1
        self.muted = False
        self.samples = 0    # samples rendered so far
        # trace(lane, slice, first slice sample, first output sample, gains): each voice's
        # part of each block, for engines that play the same voices (pyo, sampler_voice.py)
        self.trace = None
        # False: voices are traced but not mixed (the pyo voice mixes them itself)
        self.mix = True
        # True: a lane that sounded since the last new_block() is not given to another voice
        # before the next (the pyo voice switches a lane's table once per block)
        self.hold_lanes = False
        self._held: set[int] = set()
        grains.check(self.rate)
        self.grains = grains
        self.hop = max(1, int(round(grains.size_s * self.rate / grains.overlap)))
        self.grain_length = self.hop * grains.overlap
        self._grain_level = 2.0 / grains.overlap
        self._jitter = np.random.default_rng(grains.seed).random(JITTER_TABLE)
        self._next_grain = 0     # output sample of the next grain (mode "grain")
        self._chosen_at = 0      # output sample at which the current slice was chosen

    def set_slice(self, index: int) -> None:
        """Play slice ``index`` from its start (nothing happens if it is already playing)."""
        index = int(index)
        if not 0 <= index < len(self.slices):
            raise BadInput(f"slice {index} is not in the bank (0..{len(self.slices) - 1})")
        if index == self.current:
            return
        if self.mode != "grain":
            self._start(index)
        self.current = index
        self._chosen_at = self.samples

    def new_block(self) -> None:
        """With ``hold_lanes``: a block starts; only lanes sounding now stay taken."""
        self._held = {v.lane for v in self.voices} if self.hold_lanes else set()

    def _free_lane(self) -> int:
        used = {v.lane for v in self.voices} | self._held
        lane = next(i for i in range(len(used) + 1) if i not in used)
        if self.hold_lanes:
            self._held.add(lane)
        return lane

    def _start(self, index: int) -> None:
        for voice in self.voices:
            if voice.step >= 0:
                voice.step = -1.0 / self.fade
        self._lead = _Voice(index, 0.0, 1.0 / self.fade, self._free_lane())
        self.voices.append(self._lead)
        if len(self.voices) > MAX_VOICES:
            del self.voices[0]

    def _loop_point(self) -> int | None:
        """Samples until the current slice restarts (loop mode), None when it does not."""
        lead = getattr(self, "_lead", None)
        if self.mode != "loop" or lead is None or lead.step < 0 or lead not in self.voices:
            return None
        length = len(self.slices[lead.slice])
        if length <= 2 * self.fade:  # too short to crossfade with itself: plays once
            return None
        return max(0, length - self.fade - lead.pos)

    def _spawn_grain(self) -> None:
        """Start the grain due now (mode "grain"; position rule: module docstring)."""
        k = self._next_grain // self.hop
        self._next_grain += self.hop
        if self.current < 0:
            return
        audio = self.slices[self.current]
        length = min(self.grain_length, len(audio))
        if length < 2:
            return
        jitter = int(self._jitter[k % JITTER_TABLE] * self.grains.jitter * self.grain_length)
        pos = (self.samples - self._chosen_at + jitter) % (len(audio) - length + 1)
        self.voices.append(_Grain(self.current, pos, self.samples, length, self._free_lane()))

    def render(self, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` (float32[n]) with the next ``n`` samples and return it."""
        out[:] = 0.0
        done, n = 0, len(out)
        grain = self.mode == "grain"
        while done < n:
            left = self._next_grain - self.samples if grain else self._loop_point()
            if left == 0:
                if grain:
                    self._spawn_grain()
                else:
                    self._start(self.current)
                continue
            chunk = n - done if left is None else min(n - done, left)
            (self._mix_grains if grain else self._mix)(out[done:done + chunk])
            done += chunk
        if self.muted:
            out[:] = 0.0
        elif self.gain != 1.0:
            out *= self.gain
        return out

    def _mix(self, out: np.ndarray) -> None:
        n = len(out)
        steps = np.arange(n, dtype=np.float64)
        keep = []
        for v in self.voices:
            audio = self.slices[v.slice]
            take = min(n, len(audio) - v.pos)
            if take > 0:
                phase = np.clip(v.gain + v.step * steps[:take], 0.0, 1.0)
                gains = np.sin(0.5 * np.pi * phase) ** 2
                if self.mode == "start":  # the slice's own end fades out (its last sample: 0)
                    left = (len(audio) - 1 - v.pos - steps[:take]) / self.fade
                    gains *= np.sin(0.5 * np.pi * np.clip(left, 0.0, 1.0)) ** 2
                if self.mix:
                    out[:take] += audio[v.pos:v.pos + take] * gains.astype(np.float32)
                if self.trace is not None:
                    self.trace(v.lane, v.slice, v.pos, self.samples, gains)
                v.pos += take
            v.gain = min(max(v.gain + v.step * n, 0.0), 1.0)
            if v.step > 0 and v.gain >= 1.0:
                v.step = 0.0
            if v.pos < len(audio) and not (v.step < 0 and v.gain <= 0.0):
                keep.append(v)
        self.voices = keep
        self.samples += n

    def _mix_grains(self, out: np.ndarray) -> None:
        n = len(out)
        keep = []
        for g in self.voices:
            into = self.samples - g.start          # samples of the grain already played
            take = min(n, g.length - into)
            u = np.arange(into, into + take, dtype=np.float64)
            gains = self._grain_level * np.sin(np.pi / g.length * u) ** 2
            first = g.pos + into
            if self.mix:
                out[:take] += self.slices[g.slice][first:first + take] * gains.astype(np.float32)
            if self.trace is not None:
                self.trace(g.lane, g.slice, first, self.samples, gains)
            if into + n < g.length:
                keep.append(g)
        self.voices = keep
        self.samples += n


def frame_samples(frame_times, sounds, seconds: float, rate: int, n_slices: int):
    """Checked frames of a control stream: (n samples, frame sample int64[M], slice int64[M]).

    A frame at time t takes effect at sample ``round(t * rate)`` (clipped to the render).
    """
    times = np.asarray(frame_times, np.float64)
    sounds = np.asarray(sounds)
    if times.ndim != 1 or sounds.shape != times.shape or len(times) == 0:
        raise BadInput("frame_times and sounds must be 1-D, the same non-zero length")
    if not np.isfinite(times).all() or np.any(np.diff(times) < 0):
        raise BadInput("frame times must be finite and non-decreasing")
    if not np.issubdtype(sounds.dtype, np.integer) or sounds.min() < 0 \
            or sounds.max() >= n_slices:
        raise BadInput(f"frame slices must be whole numbers 0..{n_slices - 1}")
    if not (isinstance(seconds, (int, float)) and np.isfinite(seconds) and seconds >= 0):
        raise BadInput(f"render length {seconds!r} s is not a number of seconds >= 0")
    n = int(round(seconds * rate))
    return n, np.clip(np.round(times * rate).astype(np.int64), 0, n), sounds.astype(np.int64)


def render_slices(frame_times, sounds, slices: list[np.ndarray], seconds: float, rate: int,
                  mode: str = "start", fade_s: float = DEFAULT_FADE_S,
                  trace=None, grains: Grains = Grains()) -> np.ndarray:
    """Render a control stream of an audio model offline: frame at t -> sample round(t*rate).

    Args:
        frame_times: float[M] non-decreasing frame times (s).
        sounds: int[M] bank index (slice) per frame.
        slices: Slice audio at ``rate``.
        trace: Optional :attr:`Sampler.trace` callback.
        grains: Grain settings (mode "grain").

    Returns:
        float32[round(seconds * rate)].
    """
    sampler = Sampler(slices, rate, mode, fade_s, grains=grains)
    sampler.trace = trace
    n, pos, sounds = frame_samples(frame_times, sounds, seconds, rate, len(slices))
    out = np.zeros(n, np.float32)
    bounds = np.append(pos, n)
    sampler.render(out[:pos[0]])
    for i in range(len(pos)):
        sampler.set_slice(int(sounds[i]))
        if bounds[i + 1] > bounds[i]:
            sampler.render(out[bounds[i]:bounds[i + 1]])
    return out
