"""The sampler voice: an audio bank's slices played live (sounddevice) or offline (pyo).

Live, :class:`SamplerVoice` runs the numpy :class:`instrument.sound.sampler.Sampler` in a
sounddevice output stream, so what is heard is sample for sample what ``instrument render``
writes for the same control stream (render == live, as for the FM voice). It takes the same
calls as the FM voices: ``set_params(physical)`` with the audio bank's one parameter, the
slice number (applied at the start of the next block), ``mute()`` (a fade, no click),
``start()``/``stop()``.

Offline, :func:`render_slices_pyo` plays the same control stream through pyo: every slice
in one pyo ``DataTable``, read by ``TableIndex`` at per-sample positions, times per-sample
gains, mixed in pyo's offline server. Positions and gains come from the same voice rule as
the numpy sampler (:func:`sampler_lanes`), so both engines give the same audio up to pyo's
float32 arithmetic (tests: peak difference below 1e-6 of full scale).
"""

from __future__ import annotations

import numpy as np

from instrument.errors import AudioDeviceError, BadInput
from instrument.sound.fm import is_whole
from instrument.sound.sampler import DEFAULT_FADE_S, Grains, Sampler


class SamplerVoice:
    """Slices in a sounddevice output stream.

    Args:
        slices: float32 slice audio at ``rate``.
        rate: Sample rate.
        blocksize: Frames per callback.
        mode: Sampler mode ("start", "loop" or "grain").
        fade_s: Crossfade, seconds.
        device: sounddevice output device (None = default).
        grains: Grain settings (mode "grain").
    """

    def __init__(self, slices, rate: int = 44100, blocksize: int = 256, mode: str = "start",
                 fade_s: float = DEFAULT_FADE_S, device=None, latency="low",
                 grains: Grains = Grains()):
        if not is_whole(blocksize) or not 16 <= blocksize <= 8192:
            raise BadInput(f"block size must be 16..8192 frames, got {blocksize!r}")
        self.rate, self.blocksize = int(rate), int(blocksize)
        self.sampler = Sampler(slices, self.rate, mode, fade_s, grains=grains)
        self.device, self.latency = device, latency
        self._pending = -1          # slice asked for by the control thread (an int: atomic)
        self._muted = False
        self._gain = 1.0
        self._fade_step = 1.0 / self.sampler.fade
        self.stream = None
        self.callbacks = 0

    def callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        """Fill ``outdata`` (float32[frames, channels]) from the sampler."""
        pending = self._pending
        if pending >= 0:
            self.sampler.set_slice(pending)
        out = outdata[:, 0]
        self.sampler.render(out)
        target = 0.0 if self._muted else 1.0
        if self._gain != target or target == 0.0:
            step = self._fade_step if target > self._gain else -self._fade_step
            ramp = np.clip(self._gain + step * np.arange(1, frames + 1), 0.0, 1.0)
            out *= ramp.astype(np.float32)
            self._gain = float(ramp[-1]) if frames else self._gain
        if outdata.shape[1] > 1:
            outdata[:, 1:] = outdata[:, :1]
        self.callbacks += 1

    def set_params(self, physical, at: float | None = None) -> None:
        """Play the slice ``round(physical[0])`` (the audio bank's "slice" parameter)."""
        if at is not None:
            raise BadInput("the sampler voice plays changes at its next block",
                           "leave out --fixed-latency with an audio-bank model")
        index = int(round(float(np.asarray(physical, np.float64).reshape(-1)[0])))
        if not 0 <= index < len(self.sampler.slices):
            raise BadInput(f"slice {index} is not in the bank (0..{len(self.sampler.slices) - 1})")
        self._pending = index

    def mute(self, muted: bool = True) -> None:
        """Fade out (or back in) over the crossfade time."""
        self._muted = bool(muted)

    def start(self) -> "SamplerVoice":
        """Open and start the output stream (AudioDeviceError when there is none)."""
        if self.stream is not None:
            return self
        import sounddevice as sd  # noqa: PLC0415

        from instrument.output.sounddevice_voice import quiet_stderr

        try:
            with quiet_stderr():
                sd._terminate()
                sd._initialize()
            stream = sd.OutputStream(samplerate=self.rate, blocksize=self.blocksize,
                                     channels=1, dtype="float32", callback=self.callback,
                                     device=self.device, latency=self.latency)
            stream.start()
        except (sd.PortAudioError, ValueError) as err:
            raise AudioDeviceError(f"cannot open an audio output stream: "
                                   f"{str(err).splitlines()[0]}",
                                   "check the audio device (start jackd?) or render offline") \
                from None
        self.stream = stream
        return self

    def stop(self) -> None:
        """Stop and close the stream."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.stop()
            stream.close()


def sampler_lanes(frame_times, sounds, slices, seconds: float, rate: int, mode: str = "start",
                  fade_s: float = DEFAULT_FADE_S, grains: Grains = Grains()):
    """Per-sample (table position, gain) of every voice lane, traced from the numpy sampler.

    Returns:
        (positions int64[L, n] into the slices concatenated, gains float32[L, n], audio
        float32[total] the slices concatenated); a lane's gain is 0 where it plays nothing.
    """
    from instrument.sound.sampler import render_slices

    offsets = np.concatenate([[0], np.cumsum([len(s) for s in slices])]).astype(np.int64)
    n = int(round(seconds * rate))
    positions: list[np.ndarray] = []
    gains: list[np.ndarray] = []

    def trace(lane, slice_index, first, at, lane_gains):
        while len(positions) <= lane:
            positions.append(np.zeros(n, np.int64))
            gains.append(np.zeros(n, np.float32))
        take = len(lane_gains)
        positions[lane][at:at + take] = offsets[slice_index] + first + np.arange(take)
        gains[lane][at:at + take] = lane_gains

    render_slices(frame_times, sounds, slices, seconds, rate, mode, fade_s, trace=trace,
                  grains=grains)
    audio = np.concatenate([np.asarray(s, np.float32) for s in slices])
    return (np.array(positions).reshape(-1, n), np.array(gains).reshape(-1, n), audio)


def render_slices_pyo(frame_times, sounds, slices, seconds: float, rate: int,
                      mode: str = "start", fade_s: float = DEFAULT_FADE_S,
                      grains: Grains = Grains()) -> np.ndarray:
    """The sampler's control stream rendered by pyo's offline server (see module docstring).

    Returns:
        float32[round(seconds * rate)].
    """
    from instrument.output.pyo_offline import offline_server

    positions, gains, audio = sampler_lanes(frame_times, sounds, slices, seconds, rate, mode,
                                            fade_s, grains)
    n = positions.shape[1]
    if n == 0:
        return np.zeros(0, np.float32)
    with offline_server(rate, n / rate) as (pyo, server):
        # the graph lives in its own frame: every pyo object is gone when it returns, before
        # the server shuts down (a survivor makes the next boot in this process crash)
        return _play_lanes(pyo, server, positions, gains, audio, n, rate)


def _play_lanes(pyo, server, positions, gains, audio, n, rate) -> np.ndarray:
    from instrument.output.pyo_offline import table_audio

    sound = pyo.DataTable(size=max(len(audio), 1))
    np.asarray(sound.getBuffer())[:len(audio)] = audio
    counter = pyo.Count(pyo.Trig(), min=0, max=0)   # the output sample number
    keep, lanes = [], []
    for lane in range(len(positions)):
        where = pyo.DataTable(size=n)
        np.asarray(where.getBuffer())[:] = positions[lane]
        level = pyo.DataTable(size=n)
        np.asarray(level.getBuffer())[:] = gains[lane]
        read = pyo.TableIndex(sound, pyo.TableIndex(where, counter))
        lanes.append(read * pyo.TableIndex(level, counter))
        keep += [where, level, read]
    mix = pyo.Mix(lanes, voices=1) if lanes else pyo.Sig(0)
    recorded = pyo.NewTable(length=n / rate, chnls=1)
    rec = pyo.TableRec(mix, table=recorded).play()
    server.start()
    out = table_audio(recorded, n)
    del rec, keep
    return out


def open_sampler_voice(runtime, rate: int, blocksize: int, mode: str = "start") -> SamplerVoice:
    """A (not yet started) SamplerVoice over an audio-bank model's slices at ``rate``.

    The source files are checked first (moved, resized or changed: one line naming it).
    """
    from instrument.sound.bank_kind import slices_for_playback

    slices, _ = slices_for_playback(runtime, rate)
    return SamplerVoice(slices, rate, blocksize, mode)


def slice_messages(runtime):
    """The ``/instrument/slice`` encoder (output/slice_osc.py) of an audio-bank model."""
    from instrument.output.slice_osc import SliceMessages
    from instrument.sound.bank_kind import audio_sources_of

    src = runtime.sound_source
    return SliceMessages(audio_sources_of(src["config"], src["arrays"], runtime.n_sounds,
                                          f"model {src['path']}"))
