"""Input streams of any width -> windows of per-channel values and deltas.

A mouse or tablet (a stream with ``position`` channels x and y) keeps the paper's relative
polar steps of :mod:`instrument.gesture.steps`, bit for bit. Every other stream (OSC
``/wek/inputs`` with N floats, MIDI CCs and notes, gamepad axes and buttons, sensors) is
read by the rules here; the live side is :class:`instrument.gesture.stream_tracker.StreamTracker`,
computed by the same private functions, so live frames equal offline frames bit for bit.

**Trace.** Samples ``(t, v[0..C-1])``. A sample is rejected (and counted) when a value is
NaN/inf or beyond ±``ABSURD_VALUE``, or ``t`` is not later than the last accepted sample.

**Value at any time τ**, per channel, as for the pointer: linear interpolation between two
samples, with the *rest* rule (a gap longer than ``rest_after_s`` holds the earlier value
until ``rest_after_s`` before the later sample: controllers, like mice, send nothing while
still); a ``button`` channel is never interpolated: it changes at its sample's time.
Before the first sample the first value, after the last known sample the last value.

**Windows.** A window ending at T reads the values at ``τ_k = T - (window_steps - k) /
rate_hz``, k = 0..window_steps. Each of its ``window_steps`` steps, oldest first, gives 2C
numbers: the C values at its end, normalised ``(v - offset) / scale``, then the C deltas
``(v(τ_k) - v(τ_{k-1})) / delta_scale``. ``offset``, ``scale`` (mean, std) and ``delta_scale``
(std of the deltas) are learned per channel at training (:func:`fit_stream_spec`) and stored
in the model bundle (config ``"stream"``), so a channel in 0..127 and one in ±1 count alike.
A step whose deltas are all zero is *still* (nothing moved): the runtime holds the sound.

**Control frames**: the same rule as the pointer (:func:`instrument.gesture.steps.frame_times`):
one per accepted sample, plus frames every ``1 / rate_hz`` while the stream is quiet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from instrument.config import GestureConfig
from instrument.errors import BadInput
from instrument.formats.channels import BUTTON, channels_from_list, describe
from instrument.gesture.pauses import cap_pauses
from instrument.gesture.steps import frame_times, window_end_times

ABSURD_VALUE = 1e9
# The most window values (frames x window length) one call allocates: 1 GB of float32.
MAX_WINDOW_VALUES = 250_000_000
# Work arrays of one chunk of windows stay near this many float64s, whatever the width.
_CHUNK_VALUES = 4_000_000


@dataclass(frozen=True)
class StreamSpec:
    """A stream's channels and the per-channel normalisation learned at training.

    Attributes:
        channels: The channels, in sample order.
        offset, scale, delta_scale: float64 [C]: value -> (value - offset) / scale; a step's
            delta -> delta / delta_scale.
    """

    channels: tuple
    offset: np.ndarray
    scale: np.ndarray
    delta_scale: np.ndarray

    @property
    def width(self) -> int:
        return len(self.channels)

    @classmethod
    def identity(cls, channels) -> "StreamSpec":
        """Values and deltas as they are (before the normalisation is learned)."""
        c = len(channels)
        return cls(tuple(channels), np.zeros(c), np.ones(c), np.ones(c))

    def to_dict(self) -> dict:
        """JSON for the model bundle's config (``config["stream"]``)."""
        return {"channels": [ch.to_dict() for ch in self.channels],
                "offset": self.offset.tolist(), "scale": self.scale.tolist(),
                "delta_scale": self.delta_scale.tolist()}

    @classmethod
    def from_dict(cls, obj, where: str = "model stream") -> "StreamSpec":
        """A validated spec from :meth:`to_dict` JSON; BadInput naming what is wrong."""
        if not isinstance(obj, dict):
            raise BadInput(f"{where}: the stream section must be an object")
        channels = channels_from_list(obj.get("channels"), where)
        arrays = []
        for key in ("offset", "scale", "delta_scale"):
            value = obj.get(key)
            if not isinstance(value, list) or len(value) != len(channels) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in value):
                raise BadInput(f"{where}: {key} must be {len(channels)} finite numbers")
            arrays.append(np.asarray(value, np.float64))
        if not (np.all(arrays[1] > 0) and np.all(arrays[2] > 0)):
            raise BadInput(f"{where}: scale and delta_scale must be positive")
        return cls(channels, *arrays)


def stream_window_dim(cfg: GestureConfig, width: int) -> int:
    """Length of one window of a ``width``-channel stream: window_steps * 2 * width."""
    return cfg.window_steps * 2 * width


class _StreamGeometry:
    """Everything derived once from (cfg, spec), shared by live and offline."""

    def __init__(self, cfg: GestureConfig, spec: StreamSpec):
        self.cfg, self.spec = cfg, spec
        self.c = spec.width
        self.rate = float(cfg.rate_hz)
        self.rest = float(cfg.rest_after_s)
        self.steps = cfg.window_steps
        self.dim = stream_window_dim(cfg, self.c)
        self.hold = np.array([ch.kind == BUTTON for ch in spec.channels])
        self.any_hold = bool(self.hold.any())
        self.offsets = np.arange(cfg.window_steps, -1, -1, dtype=np.float64) / self.rate
        self.chunk = max(1, min(2048, _CHUNK_VALUES // ((self.steps + 1) * (2 * self.c + 2))))


class _StreamScratch:
    """Work buffers for ``m`` windows at once (the live tracker keeps one for m = 1)."""

    def __init__(self, m: int, geom: _StreamGeometry):
        s, c = geom.steps, geom.c
        self.m = m
        self.tq = np.empty((m, s + 1))
        self.frac = np.empty((m, s + 1))
        self.rows = np.empty((m, s + 1, 2 + 2 * c))
        self.f = np.empty((m, s + 1, c))
        self.pos = np.empty((m, s + 1, c))
        self.d = np.empty((m, s, c))
        self.ms, self.ml = self.rows[..., 0], self.rows[..., 1]
        self.prev, self.delta = self.rows[..., 2:2 + c], self.rows[..., 2 + c:]
        self.pos_new, self.pos_old = self.pos[:, 1:], self.pos[:, :-1]


def segment_row(row: np.ndarray, t: float, values: np.ndarray, prev, geom: _StreamGeometry
                ) -> None:
    """Fill the segment row of a sample arriving after ``prev`` = (t, values) or None."""
    c = geom.c
    if prev is None:
        row[0], row[1] = t - 1.0, 1.0
        row[2:2 + c] = values
        row[2 + c:] = 0.0
        return
    tp, vp = prev
    start = max(tp, t - geom.rest)
    row[0], row[1] = start, t - start
    row[2:2 + c] = vp
    np.subtract(values, vp, out=row[2 + c:])


def _segments(t: np.ndarray, v: np.ndarray, geom: _StreamGeometry) -> np.ndarray:
    """The segment table of a whole accepted trace; equals pushing it row by row."""
    n, c = len(t), geom.c
    seg = np.empty((n, 2 + 2 * c))
    if n == 0:
        return seg
    seg[0, 0], seg[0, 1], seg[0, 2:2 + c], seg[0, 2 + c:] = t[0] - 1.0, 1.0, v[0], 0.0
    start = np.maximum(t[:-1], t[1:] - geom.rest)
    seg[1:, 0] = start
    seg[1:, 1] = t[1:] - start
    seg[1:, 2:2 + c] = v[:-1]
    np.subtract(v[1:], v[:-1], out=seg[1:, 2 + c:])
    return seg


def window_batch(t, seg, ends, last_i, geom: _StreamGeometry, s: _StreamScratch,
                 out: np.ndarray) -> None:
    """``s.m`` windows ending at ``ends`` -> ``out`` [m, dim]: the one window function."""
    np.subtract(ends[:, None], geom.offsets, out=s.tq)
    idx = np.searchsorted(t, s.tq, side="right")
    np.minimum(idx, last_i[:, None], out=idx)
    np.take(seg, idx, axis=0, out=s.rows)
    np.subtract(s.tq, s.ms, out=s.frac)
    np.divide(s.frac, s.ml, out=s.frac)
    np.maximum(s.frac, 0.0, out=s.frac)   # clipped to 0..1 (the ufuncs: np.clip costs more)
    np.minimum(s.frac, 1.0, out=s.frac)
    if geom.any_hold:
        s.f[...] = s.frac[..., None]
        # A button changes at its sample: 0 before, the whole delta from the sample on.
        np.copyto(s.f, s.frac[..., None] >= 1.0, where=geom.hold)
        np.multiply(s.delta, s.f, out=s.pos)
    else:
        np.multiply(s.delta, s.frac[..., None], out=s.pos)
    np.add(s.pos, s.prev, out=s.pos)
    out3 = out.reshape(s.m, geom.steps, 2 * geom.c)
    spec, c = geom.spec, geom.c
    # computed in float64, rounded once into the float32 window
    np.subtract(s.pos_new, spec.offset, out=s.d)
    np.divide(s.d, spec.scale, out=out3[..., :c], casting="same_kind")
    np.subtract(s.pos_new, s.pos_old, out=s.d)
    np.divide(s.d, spec.delta_scale, out=out3[..., c:], casting="same_kind")


def _windows(t, seg, ends, last_i, geom: _StreamGeometry, out: np.ndarray) -> None:
    for a in range(0, len(ends), geom.chunk):
        b = min(a + geom.chunk, len(ends))
        window_batch(t, seg, ends[a:b], last_i[a:b], geom, _StreamScratch(b - a, geom),
                     out[a:b])


# --- accepted samples, whole recordings ---------------------------------------------------

def accepted_stream_samples(t, values) -> np.ndarray:
    """Boolean mask of the samples a :class:`StreamTracker` accepts, pushed in order."""
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(t) & np.all(np.isfinite(v), axis=1) & np.all(np.abs(v) <= ABSURD_VALUE,
                                                                   axis=1)
    tv = np.where(ok, t, -np.inf)
    before = np.maximum.accumulate(np.concatenate([[-np.inf], tv[:-1]])) if len(t) else tv
    return ok & (t > before)


def _trace(rec, cfg: GestureConfig, spec: StreamSpec):
    check_fits(spec, rec.channel_list(), "the model", rec.path or "the recording")
    geom = _StreamGeometry(cfg, spec)
    t, _ = cap_pauses(np.asarray(rec.t, np.float64))    # as live replay does (gesture/pauses)
    v = np.asarray(rec.channel_values(), np.float64)
    keep = accepted_stream_samples(t, v)
    t, v = t[keep], np.ascontiguousarray(v[keep])
    return t, _segments(t, v, geom), geom


def stream_frames(rec, cfg: GestureConfig, spec: StreamSpec) -> tuple[np.ndarray, np.ndarray]:
    """Every control frame of a stream recording, exactly as live replay gives them.

    Returns:
        (times float64[M], windows float32[M, stream_window_dim]).
    """
    t, seg, geom = _trace(rec, cfg, spec)
    times, index = frame_times(t, cfg, rec.path or "the recording")
    _check_values(len(times), geom, rec)
    out = np.zeros((len(times), geom.dim), dtype=np.float32)
    _windows(t, seg, times, index, geom, out)
    return times, out


def stream_windows(rec, cfg: GestureConfig, spec: StreamSpec,
                   hop_steps: int | None = None) -> np.ndarray:
    """Training windows of a stream recording, every ``hop_steps`` steps (as the pointer's)."""
    t, seg, geom = _trace(rec, cfg, spec)
    if len(t) == 0:
        return np.zeros((0, geom.dim), dtype=np.float32)
    ends = window_end_times(t, cfg, hop_steps)
    last = np.searchsorted(t, ends, side="right") - 1
    _check_values(len(ends), geom, rec)
    out = np.zeros((len(ends), geom.dim), dtype=np.float32)
    _windows(t, seg, ends, last, geom, out)
    return out


def _check_values(n: int, geom: _StreamGeometry, rec) -> None:
    if n * geom.dim > MAX_WINDOW_VALUES:
        raise BadInput(f"{rec.path or 'the recording'}: {n} windows of {geom.dim} values "
                       f"({geom.c} channels) is more than {MAX_WINDOW_VALUES} values at once",
                       "split the recording into shorter files, or record fewer channels")


def fit_stream_spec(recordings, cfg: GestureConfig) -> StreamSpec | None:
    """The stream normalisation learned from training recordings (None for a pointer).

    Every recording must have the same width; a channel that never changes keeps scale 1
    (or half its declared range), so it cannot blow up.
    """
    if not recordings:
        raise BadInput("no gesture recordings to train on")
    pointer = [rec.is_pointer for rec in recordings]
    first = recordings[0].channel_list()
    for rec, is_pointer in zip(recordings, pointer):
        channels = rec.channel_list()
        if is_pointer != pointer[0] or (not is_pointer and len(channels) != len(first)):
            raise BadInput(f"{recordings[0].path or 'recording 1'} is {describe(first)} but "
                           f"{rec.path or 'another recording'} is {describe(channels)}",
                           "train on recordings of one kind of stream")
    if pointer[0]:
        return None
    spec = StreamSpec.identity(first)
    c = len(first)
    parts = [stream_windows(rec, cfg, spec).reshape(-1, 2 * c) for rec in recordings]
    steps = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 2 * c))
    if len(steps) == 0:
        return spec
    values, deltas = steps[:, :c], steps[:, c:]
    offset, scale, delta_scale = values.mean(0), values.std(0), deltas.std(0)
    fallback = np.array([(ch.high - ch.low) / 2 if ch.low is not None else 1.0 for ch in first])
    tiny = scale <= 1e-9 * np.maximum(1.0, np.abs(offset))
    scale = np.where(tiny, fallback, scale)
    delta_scale = np.where(delta_scale <= 1e-9 * scale, scale, delta_scale)
    return StreamSpec(tuple(first), offset, scale, delta_scale)


# --- one entry for any stream: pointer or not -------------------------------------------

def check_fits(spec: StreamSpec | None, channels, model: str, stream: str) -> None:
    """One line when a stream does not fit a model: a pointer model takes a pointer, an
    N-channel model N channels."""
    from instrument.formats.channels import pointer_columns

    is_pointer = pointer_columns(channels) is not None
    if spec is None:
        if not is_pointer:
            raise BadInput(f"{model} was trained on a 2-D pointer (x, y); {stream} is "
                           f"{describe(channels)}", "train a model on this kind of stream")
        return
    if len(channels) != spec.width:
        raise BadInput(f"{model} was trained on {describe(spec.channels)}; {stream} is "
                       f"{describe(channels)}",
                       f"send {spec.width} values per sample, or train a model on this stream")


def gesture_windows(rec, cfg: GestureConfig, spec: StreamSpec | None,
                    hop_steps: int | None = None) -> np.ndarray:
    """Training windows of any recording: polar steps for a pointer (spec None), else
    values and deltas."""
    if spec is None:
        from instrument.gesture.steps import windows_from_recording

        check_fits(None, rec.channel_list(), "the model", rec.path or "the recording")
        return windows_from_recording(rec, cfg, hop_steps)
    return stream_windows(rec, cfg, spec, hop_steps)


def gesture_frames(rec, cfg: GestureConfig, spec: StreamSpec | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Every control frame of any recording (pointer: spec None)."""
    if spec is None:
        from instrument.gesture.steps import frames_from_recording

        check_fits(None, rec.channel_list(), "the model", rec.path or "the recording")
        return frames_from_recording(rec, cfg)
    return stream_frames(rec, cfg, spec)


def spec_from_bundle(obj, cfg: GestureConfig, window_dim: int, path: str) -> StreamSpec:
    """The stream section of a model bundle, checked against its gesture network's input."""
    from instrument.errors import ModelFileError

    try:
        spec = StreamSpec.from_dict(obj, "stream section")
    except BadInput as err:
        raise ModelFileError(f"{path}: {err.problem}", "train the model again") from None
    if stream_window_dim(cfg, spec.width) != window_dim:
        raise ModelFileError(f"{path}: a {spec.width}-channel stream makes windows of "
                             f"{stream_window_dim(cfg, spec.width)} values, the gesture "
                             f"network takes {window_dim}", "train the model again")
    return spec
