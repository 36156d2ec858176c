"""The pyo sampler: an audio bank's slices in pyo tables, mixed by a pyo graph, live or offline.

``perform --audio pyo`` (the default) plays an audio-bank model through
:class:`PyoSamplerVoice`; ``--audio sounddevice`` through
:class:`instrument.output.sampler_voice.SamplerVoice`; ``render --engine pyo`` through
:func:`render_slices_pyo` (the same graph on pyo's offline server). All follow the slice
choice with the one voice rule of :class:`instrument.sound.sampler.Sampler` (start, loop or
grain, crossfades), so they play the same audio as the numpy ``render``.

How it is built:

- every slice is one pyo ``DataTable`` (slices from the bank's files or its embedded audio,
  checked and resampled by ``slices_for_playback``); one table per slice keeps each read
  index small, where pyo's float32 would lose samples past 2^24 in one long table;
- a fixed number of *lanes* (:func:`lane_count`), each ``TableIndex(slice table, position) ·
  gain``, where position and gain are per-sample pyo tables of one block, read by a counter
  that restarts every block; their ``Mix`` times a mute ramp is the output;
- before pyo computes each block (``Server.setCallback``), the voice applies the latest slice
  choice (offline: every frame due in the block, at its own sample) and runs the sampler's
  voice rule for that block without mixing (``Sampler.mix`` False): its trace gives each
  sounding voice's lane, slice, positions and gains, written straight into the lanes' tables
  (and a lane's table switched when its slice changes; the sampler gives a lane to one voice
  per block: ``Sampler.hold_lanes``).

Memory: the slices, a few blocks and the output; an offline render of any length holds no
per-sample control tables.

So the slices are read, shaped and mixed by pyo, sample for sample as the numpy sampler
would (tests: block by block on a manual server against ``render_slices``, and a real
stream on a jackd dummy server). Backends as :class:`instrument.output.pyo_voice.PyoVoice`:
"portaudio" (only after a child process found an output device: pyo segfaults without
one), "jack" (only when jackd runs) and "manual" (tests and benchmarks: :meth:`process`).
"""

from __future__ import annotations

import contextlib

import numpy as np

from instrument.errors import AudioDeviceError, BadInput
from instrument.sound.fm import is_whole
from instrument.sound.sampler import DEFAULT_FADE_S, MAX_VOICES, Grains, Sampler

BACKENDS = ("portaudio", "jack", "manual")


def lane_count(sampler: Sampler, block: int, switches: int = 1) -> int:
    """Lanes enough for every voice that sounds in one block of ``block`` samples.

    A lane is held for the whole block its voice sounds in, so a block needs the voices alive
    at its start plus every voice started in it: grains start every ``hop`` samples and live
    ``overlap`` hops; start/loop keep at most ``MAX_VOICES``, a slice choice starts one voice
    (``switches`` per block at most) and a loop restarts at most every ``fade + 1`` samples
    (a loop needs a slice longer than two fades).
    """
    if sampler.mode == "grain":
        return sampler.grains.overlap + block // sampler.hop + 2
    return MAX_VOICES + switches + block // (sampler.fade + 1) + 2


class PyoSamplerVoice:
    """Slices played by a pyo graph that follows the slice choice (module docstring).

    Args:
        slices: float32 slice audio at ``rate``.
        backend: "portaudio", "jack" or "manual".
        rate: Sample rate.
        buffer: pyo's block size in samples (the jack backend takes jackd's period).
        mode: Sampler mode ("start", "loop" or "grain").
        fade_s: Crossfade, seconds.
        grains: Grain settings (mode "grain").
        channels: Output channels of a realtime backend (the mono mix copied to each).
    """

    def __init__(self, slices, backend: str = "portaudio", rate: int = 44100, buffer: int = 256,
                 mode: str = "start", fade_s: float = DEFAULT_FADE_S,
                 grains: Grains = Grains(), channels: int = 2):
        if backend not in BACKENDS:
            raise BadInput(f"unknown audio backend {backend!r} for the pyo sampler",
                           f"use one of {', '.join(BACKENDS)}")
        if not is_whole(buffer) or not 16 <= buffer <= 8192:
            raise BadInput(f"buffer size must be 16..8192 samples, got {buffer!r}")
        self.backend, self.rate, self.buffer = backend, int(rate), int(buffer)
        self.channels = int(channels)
        self.sampler = Sampler(slices, self.rate, mode, fade_s, grains=grains)
        self.sampler.mix = False            # pyo mixes; the sampler only schedules
        self.sampler.hold_lanes = True      # one voice per lane per block
        self.sampler.trace = self._trace
        self._pending = -1                  # slice asked for by the control thread
        self._muted = False
        self._gain = 1.0                    # mute ramp, as SamplerVoice's
        self._fade_step = 1.0 / self.sampler.fade
        self.server = None
        self.output = None
        self.callbacks = 0
        self.dropped = 0                    # voice parts with no lane (never, by lane_count)
        self.error: Exception | None = None  # the first error in pyo's callback
        self._frames = None                 # offline: (frame samples, slices), next frame
        self._next_frame = 0
        self._switches = 1                  # most slice choices in one block
        self._keep: list = []

    # --- control (any thread) ---------------------------------------------------------

    def set_params(self, physical, at: float | None = None) -> None:
        """Play slice ``round(physical[0])`` from the next block."""
        from instrument.output.sampler_voice import slice_of

        self._pending = slice_of(physical, at, len(self.sampler.slices))

    def mute(self, muted: bool = True) -> None:
        """Fade out (or back in) over the crossfade time."""
        self._muted = bool(muted)

    # --- the server -------------------------------------------------------------------

    def start(self) -> "PyoSamplerVoice":
        """Boot the server, load the slices, build the graph; realtime backends play.

        Raises:
            AudioDeviceError: no output device (portaudio), no JACK server (jack), or the
                server failed to boot.
        """
        if self.server is not None:
            return self
        from instrument.output.pyo_voice import check_backend, import_pyo

        check_backend(self.backend)
        pyo = import_pyo()
        realtime = self.backend != "manual"
        server = pyo.Server(sr=self.rate, nchnls=self.channels if realtime else 1,
                            buffersize=self.buffer, duplex=0, audio=self.backend,
                            jackname="instrument")
        server.deactivateMidi()
        server.setVerbosity(1)
        server.boot()
        if not server.getIsBooted():
            with contextlib.suppress(Exception):
                server.shutdown()
            raise AudioDeviceError(f"pyo's {self.backend} server did not boot",
                                   "check the audio device, or use another backend")
        self.server = server
        self.attach(pyo, server)
        if realtime:
            self._keep.append(pyo.Mix(self.output, voices=self.channels).out())
        else:
            self.output.out()
        server.start()
        return self

    def attach(self, pyo, server) -> None:
        """Build the graph on a booted server and follow it block by block (its callback)."""
        self.block = int(server.getBufferSize())    # jack: jackd's period
        self._build(pyo)
        server.setCallback(self._block)

    def _build(self, pyo) -> None:
        block = self.block
        self._tables = []
        for audio in self.sampler.slices:
            table = pyo.DataTable(size=max(len(audio), 1))
            np.asarray(table.getBuffer())[:len(audio)] = audio
            self._tables.append(table)
        counter = pyo.Count(pyo.Trig(), min=0, max=block - 1)   # 0..block-1 (max included)
        lanes, self._reads, self._where, self._level = [], [], [], []
        self._lane_slice: list[int] = []
        for _ in range(lane_count(self.sampler, block, self._switches)):
            where, level = pyo.DataTable(size=block), pyo.DataTable(size=block)
            read = pyo.TableIndex(self._tables[0], pyo.TableIndex(where, counter))
            lanes.append(read * pyo.TableIndex(level, counter))
            self._reads.append(read)
            self._where.append(np.asarray(where.getBuffer()))
            self._level.append(np.asarray(level.getBuffer()))
            self._lane_slice.append(0)
            self._keep += [where, level, read]
        master = pyo.DataTable(size=block, init=[1.0] * block)
        self._master = np.asarray(master.getBuffer())
        self.output = pyo.Mix(lanes, voices=1) * pyo.TableIndex(master, counter)
        self._keep += [counter, lanes, master]
        self._scratch = np.zeros(block, np.float32)
        self._steps = np.arange(block, dtype=np.float64)
        self._dirty: set[int] = set()
        self._block_start = 0

    def _block(self) -> None:
        """Called by pyo before it computes each block: the voice rule for this block."""
        try:
            self._run_block()
        except Exception as err:  # noqa: BLE001 - pyo's thread: kept, raised by the caller
            if self.error is None:
                self.error = err

    def _run_block(self) -> None:
        for lane in self._dirty:               # lanes that sounded last block fall silent
            self._level[lane][:] = 0.0
        self._dirty = set()
        self.sampler.new_block()
        self._block_start = self.sampler.samples
        if self._frames is None:
            pending = self._pending
            if pending >= 0:
                self.sampler.set_slice(pending)
            self.sampler.render(self._scratch)     # calls _trace for every sounding voice
        else:
            self._play_frames(self._block_start + self.block)
        target = 0.0 if self._muted else 1.0
        if self._gain != target or target == 0.0:
            step = self._fade_step if target > self._gain else -self._fade_step
            ramp = np.clip(self._gain + step * (self._steps + 1), 0.0, 1.0)
            self._master[:] = ramp
            self._gain = float(ramp[-1])
        elif self._master[0] != 1.0 or self._master[-1] != 1.0:
            self._master[:] = 1.0
        self.callbacks += 1

    def _play_frames(self, end: int) -> None:
        """Offline: every frame before sample ``end`` at its own sample (as render_slices)."""
        where, slices = self._frames
        done = self.sampler.samples
        while self._next_frame < len(where) and where[self._next_frame] < end:
            at = int(where[self._next_frame])
            if at > done:
                self.sampler.render(self._scratch[:at - done])
                done = at
            self.sampler.set_slice(int(slices[self._next_frame]))
            self._next_frame += 1
        if end > done:
            self.sampler.render(self._scratch[:end - done])

    def _trace(self, lane, slice_index, first, at, gains) -> None:
        if lane >= len(self._reads):
            self.dropped += 1
            return
        if self._lane_slice[lane] != slice_index:
            self._reads[lane].setTable(self._tables[slice_index])
            self._lane_slice[lane] = slice_index
        offset, take = at - self._block_start, len(gains)
        self._where[lane][offset:offset + take] = first + self._steps[:take]
        self._level[lane][offset:offset + take] = gains
        self._dirty.add(lane)

    def process(self, blocks: int = 1) -> None:
        """Compute ``blocks`` blocks (backend "manual" only)."""
        if self.backend != "manual" or self.server is None:
            raise BadInput("process() needs a started voice with the manual backend")
        for _ in range(blocks):
            self.server.process()

    def stop(self) -> None:
        """Stop and shut the server down (a new voice may then be started)."""
        server, self.server = self.server, None
        if server is None:
            return
        try:
            server.stop()
        finally:
            self.release()
            server.shutdown()

    def release(self) -> None:
        """Let go of the graph (before its server shuts down)."""
        # the numpy views of pyo tables go first (releasing a view of a freed table
        # crashes), then every pyo object
        self._where, self._level, self._master = [], [], None
        self._keep, self._reads, self._tables, self.output = [], [], [], None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def open_pyo_sampler_voice(runtime, backend: str, rate: int, buffer: int,
                           mode: str = "start") -> PyoSamplerVoice:
    """A (not yet started) PyoSamplerVoice over an audio-bank model's slices at ``rate``."""
    from instrument.sound.bank_kind import slices_for_playback

    slices, _ = slices_for_playback(runtime, rate)
    return PyoSamplerVoice(slices, backend, rate, buffer, mode)


def render_slices_pyo(frame_times, sounds, slices, seconds: float, rate: int,
                      mode: str = "start", fade_s: float = DEFAULT_FADE_S,
                      grains: Grains = Grains(), block: int = 1024) -> np.ndarray:
    """A control stream of an audio model rendered by the pyo sampler on pyo's offline server.

    The same graph as the live voice; each frame takes effect at sample ``round(t * rate)``,
    as in :func:`instrument.sound.sampler.render_slices` (tests: the same audio to 1e-6).
    Blocks of 1024 samples: fewer calls into Python than live blocks, the same audio.

    Returns:
        float32[round(seconds * rate)].
    """
    from instrument.output.pyo_offline import offline_server
    from instrument.sound.sampler import frame_samples

    n, where, chosen = frame_samples(frame_times, sounds, seconds, rate, len(slices))
    if n == 0:
        return np.zeros(0, np.float32)
    voice = PyoSamplerVoice(slices, "manual", rate, block, mode, fade_s, grains)
    voice._frames, voice._next_frame = (where, chosen), 0
    voice._switches = int(np.bincount(where // block).max())
    with offline_server(rate, n / rate, buffersize=block) as (pyo, server):
        audio = _record(voice, pyo, server, n, rate)
    if voice.error is not None:
        raise voice.error
    return audio


def _record(voice, pyo, server, n, rate) -> np.ndarray:
    # its own frame: every pyo object is gone when it returns, before the server shuts down
    from instrument.output.pyo_offline import table_audio

    voice.attach(pyo, server)
    try:
        recorded = pyo.NewTable(length=n / rate, chnls=1)
        rec = pyo.TableRec(voice.output, table=recorded).play()
        server.start()      # the offline server computes every block now
        audio = table_audio(recorded, n)
        del rec, recorded
    finally:
        voice.release()
    return audio
