"""The sampler voice: an audio bank's slices played live in a sounddevice stream.

:class:`SamplerVoice` runs the numpy :class:`instrument.sound.sampler.Sampler` in a
sounddevice output stream, so what is heard is sample for sample what ``instrument render``
writes for the same control stream (render == live, as for the FM voice). It takes the same
calls as the FM voices: ``set_params(physical)`` with the audio bank's one parameter, the
slice number (applied at the start of the next block), ``mute()`` (a fade, no click),
``start()``/``stop()``. ``perform --audio sounddevice`` plays an audio-bank model with it;
``--audio pyo`` and ``render --engine pyo`` with the pyo sampler
(:mod:`instrument.output.pyo_sampler`), which plays the same audio.
"""

from __future__ import annotations

import numpy as np

from instrument.errors import AudioDeviceError, BadInput
from instrument.sound.fm import is_whole
from instrument.sound.sampler import DEFAULT_FADE_S, Grains, Sampler


def slice_of(physical, at: float | None, n_slices: int) -> int:
    """The slice a sampler voice's ``set_params`` asks for: ``round(physical[0])``, checked
    (BadInput for a timed change, which samplers play at their next block, or a slice outside
    the bank)."""
    if at is not None:
        raise BadInput("the sampler voice plays changes at its next block",
                       "leave out --fixed-latency with an audio-bank model")
    index = int(round(float(np.asarray(physical, np.float64).reshape(-1)[0])))
    if not 0 <= index < n_slices:
        raise BadInput(f"slice {index} is not in the bank (0..{n_slices - 1})")
    return index


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
        self._pending = slice_of(physical, at, len(self.sampler.slices))

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
