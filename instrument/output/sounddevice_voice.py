"""The sounddevice voice: the numpy FM voice in a PortAudio output stream, sample-timed changes.

:class:`SoundDeviceVoice` runs a :class:`instrument.sound.smoothed_fm.SmoothedFM` inside a
sounddevice stream callback (no allocation in the callback), so it sounds like the pyo voice
(:mod:`instrument.output.pyo_voice`) and like the offline render. ``set_params(physical, at=t)`` plays a
change at the output sample heard at ``time.perf_counter()`` time ``t`` (:class:`StreamClock`
maps the two clocks), so a fixed delay gives a constant latency instead of 0..1 block of jitter.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import sys
import time

import numpy as np

from instrument.errors import AudioDeviceError, BadInput
from instrument.sound.fm import is_whole
from instrument.sound.params import PARAM_TABLE, ParamTable
from instrument.sound.smoothed_fm import DEFAULT_SMOOTHING_S, ChangeRing, SmoothedFM


class StreamClock:
    """Maps ``time.perf_counter()`` times to sample positions of an output stream.

    Once per callback it measures ``origin``: the perf_counter time at which stream sample 0
    would reach the output (DAC), from the callback's ``time_info``::

        offset   = perf_counter() - stream time   (read back to back: stream.time between two
                   perf_counter() calls; time_info.currentTime when no stream is given)
        dac      = time_info.outputBufferDacTime + offset   # when this block's sample 0 plays
        measured = dac - block_start_sample / rate

    so a time ``t`` is stream sample ``block_start + round((t - dac) * rate)``. Callback
    wake-ups are late by a varying amount (tens of microseconds, a few milliseconds now and
    then on a busy machine), which makes ``measured`` too late, never too early. The estimate
    therefore follows the smallest recent measurement: a lower one is taken at once, a higher
    one pulls it up by ``leak`` per callback (clock drift, ~1 s time constant), and
    ``reanchor_after`` callbacks in a row more than half a block higher (the stream skipped
    ahead: an xrun) re-anchor it to the lowest of those.
    """

    def __init__(self, rate: int, blocksize: int, clock=time.perf_counter, leak: float = 0.01,
                 reanchor_after: int = 8):
        self.rate, self.clock, self.leak = float(rate), clock, float(leak)
        self.jump = 0.5 * blocksize / rate
        self.reanchor_after = int(reanchor_after)
        self.origin = None            # perf_counter time of stream sample 0 at the output
        self.dac_delay = None         # last outputBufferDacTime - currentTime, seconds
        self._high, self._high_min = 0, 0.0

    def reset(self) -> None:
        """Forget the estimate (a new stream)."""
        self.origin, self.dac_delay, self._high = None, None, 0

    def block_start(self, time_info, start_sample: int, stream=None,
                    reanchor: bool = False) -> float:
        """Update the estimate; return the perf_counter time when ``start_sample`` plays.

        Without ``time_info`` (a callback driven by hand) the block is taken to play now.
        """
        if time_info is None:
            return self.clock()
        now_stream = time_info.currentTime
        dac_stream = time_info.outputBufferDacTime or now_stream
        offset = None
        if stream is not None:
            try:
                before = self.clock()
                stream_now = stream.time
                offset = 0.5 * (before + self.clock()) - stream_now
            except Exception:  # noqa: BLE001 - a host API without stream time: use time_info
                offset = None
        if offset is None:
            offset = self.clock() - now_stream
        self.dac_delay = dac_stream - now_stream
        measured = dac_stream + offset - start_sample / self.rate
        est = self.origin
        if est is None or reanchor or measured <= est:
            est, self._high = measured, 0
        elif measured - est > self.jump:
            self._high_min = measured if self._high == 0 else min(self._high_min, measured)
            self._high += 1
            if self._high >= self.reanchor_after:
                est, self._high = self._high_min, 0
        else:
            est += (measured - est) * self.leak
            self._high = 0
        self.origin = est
        return est + start_sample / self.rate


class SoundDeviceVoice:
    """The numpy voice: :class:`SmoothedFM` rendered in a sounddevice output stream.

    Args:
        rate: Sample rate.
        blocksize: Frames per callback.
        smoothing_s: Smoothing time constant, seconds.
        table: Parameter table.
        initial: Physical start values (default: table start values, amplitude 0).
        device: sounddevice output device (None = default).
        channels: Output channels (the mono voice is copied to each).
        latency: sounddevice latency ("low", "high" or seconds).
        schedule_capacity: Most timed changes (``set_params(..., at=t)``) waiting at once;
            when full, the earliest-due one is dropped (counted in :attr:`dropped_changes`).
        clock: The clock ``at`` times are read on (``time.perf_counter``; tests pass a fake).

    Timed changes (constant latency): ``set_params(p, at=t)`` makes ``p`` the target at the
    output sample heard at perf_counter time ``t`` (see :class:`StreamClock` for the mapping).
    Call it with ``t = arrival + delay`` for a fixed ``delay``; every change is then heard
    exactly ``delay`` after it arrived (to a sample plus the clock estimate's error), provided
    ``delay >= on_time_delay`` (the callback that renders ``t`` runs up to one block plus the
    output latency before ``t``). A change that arrives too late for its sample plays at the
    start of the next block and counts in :attr:`late_changes`.
    """

    def __init__(self, rate: int = 44100, blocksize: int = 256,
                 smoothing_s: float = DEFAULT_SMOOTHING_S, table: ParamTable = PARAM_TABLE,
                 initial=None, device=None, channels: int = 1, latency="low",
                 schedule_capacity: int = 64, clock=time.perf_counter):
        if not is_whole(blocksize) or not 16 <= blocksize <= 8192:
            raise BadInput(f"block size must be 16..8192 frames, got {blocksize!r}")
        if not is_whole(rate) or rate < 1000:
            raise BadInput(f"sample rate must be a whole number >= 1000, got {rate!r}")
        self.rate, self.blocksize = int(rate), int(blocksize)
        self.channels = int(channels)
        self.device, self.latency = device, latency
        self.voice = SmoothedFM(rate, smoothing_s, table, max_block=max(blocksize, 4096),
                                initial=initial, schedule_capacity=schedule_capacity)
        self.clock = StreamClock(self.rate, self.blocksize, clock)
        self._timed = ChangeRing(schedule_capacity, len(table))   # (perf_counter time, values)
        self._due = np.zeros(self._timed.capacity)
        self._due_values = np.zeros((self._timed.capacity, len(table)))
        self.stream = None
        self._clock_stream = None     # the stream whose .time the callback reads (set early)
        self.callbacks = 0
        self.underflows = 0

    @property
    def block_seconds(self) -> float:
        """One callback block, in seconds (blocksize / rate)."""
        return self.blocksize / self.rate

    @property
    def output_latency(self) -> float | None:
        """The output latency PortAudio reports for the open stream, seconds (None: closed)."""
        stream = self.stream
        return None if stream is None else float(stream.latency)

    @property
    def dac_delay(self) -> float | None:
        """Measured time from a callback to its first sample at the output (last callback's
        ``outputBufferDacTime - currentTime``), seconds; None before the first callback."""
        return self.clock.dac_delay

    @property
    def on_time_delay(self) -> float | None:
        """The smallest ``at - arrival`` that is always on time: one block plus the measured
        (else reported) output latency; add a margin for scheduling jitter. None: unknown."""
        latency = self.dac_delay if self.dac_delay is not None else self.output_latency
        return None if latency is None else self.block_seconds + latency

    @property
    def late_changes(self) -> int:
        """Timed changes that played after their time (they arrived too late for it)."""
        return self.voice.late

    @property
    def dropped_changes(self) -> int:
        """Timed changes dropped because too many were waiting."""
        return self._timed.dropped + self.voice.dropped

    def callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        """The stream callback: fills ``outdata`` (float32[frames, channels]); no allocation.

        Maps the timed changes due in this block to their samples (:class:`StreamClock`) and
        hands them to the voice, which applies each at its sample.
        """
        underflow = bool(status and status.output_underflow)
        if underflow:
            self.underflows += 1
        start = self.voice.samples_rendered
        dac = self.clock.block_start(time_info, start, self._clock_stream, underflow)
        if self._timed.count:
            n = self._timed.pop_until(dac + frames / self.rate, self._due, self._due_values)
            for j in range(n):
                # below `start` = late: the voice applies it at sample 0 and counts it
                sample = start + round((self._due[j] - dac) * self.rate)
                self.voice.schedule_prepared(sample, self._due_values[j])
        self.voice.render(outdata[:, 0])
        if self.channels > 1:
            outdata[:, 1:] = outdata[:, :1]
        self.callbacks += 1

    def start(self) -> "SoundDeviceVoice":
        """Open and start the output stream.

        Raises:
            AudioDeviceError: no output device, or PortAudio refused the stream.
        """
        if self.stream is not None:
            return self
        from instrument.extras import optional_import

        sd = optional_import("sounddevice", "the sounddevice voice")
        try:
            # PortAudio lists host APIs (e.g. a JACK server started after import) only when it
            # initialises: refresh so a server started after this process is seen.
            with quiet_stderr():  # ALSA prints a page of probe errors on hosts without it
                sd._terminate()
                sd._initialize()
            stream = sd.OutputStream(samplerate=self.rate, blocksize=self.blocksize,
                                     channels=self.channels, dtype="float32",
                                     callback=self.callback, device=self.device,
                                     latency=self.latency)
            self.clock.reset()
            self._clock_stream = stream   # the first callbacks run before start() returns
            stream.start()
        except (sd.PortAudioError, ValueError) as err:
            from instrument.output.audio_advice import plain_portaudio

            raise AudioDeviceError(plain_portaudio(str(err)),
                                   "check the audio device (start jackd?) or render offline") \
                from None
        self.stream = stream
        return self

    def set_params(self, physical, at: float | None = None) -> None:
        """New target physical values (table order); safe from any thread.

        Args:
            physical: float[P] physical values.
            at: None: the target applies at the start of the next block (as soon as
                possible). A ``time.perf_counter()`` value: the target applies at the stream
                sample heard at that time (late -> next block, counted in late_changes).
                Before the stream's first callback, a timed change waits for it.
        """
        if at is None:
            self.voice.set_target(physical)
            return
        if isinstance(at, bool) or not isinstance(at, numbers.Real) or not np.isfinite(at):
            raise BadInput(f"set_params at= must be a time.perf_counter() value, got {at!r}")
        self._timed.push(float(at), self.voice.prepare_target(physical, "set_params"))

    def mute(self, muted: bool = True) -> None:
        """Glide to silence (or back) without a click."""
        self.voice.mute(muted)

    def stop(self) -> None:
        """Stop and close the stream."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        self._clock_stream = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def quiet_stderr():
    """Silence C libraries writing to file descriptor 2 (PortAudio's ALSA probing)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
