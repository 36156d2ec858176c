"""Your own pyo synth: one Python file used for the corpus, the offline render and live play.

A synth file declares its parameters and builds its pyo graph from parameter signals::

    from instrument.sound.params import Param, ParamTable

    PARAMS = ParamTable((Param("pitch_hz", 40, 1000, "log", "Hz"), ...,
                         Param("amplitude", 0, 1, "lin", default=0)))

    def build(pyo, params):
        # params: name -> a pyo signal in physical units, smoothed like the FM voice's
        return pyo.Biquad(pyo.LFO(params["pitch_hz"], type=1), params["cutoff_hz"], ...)

The table is the same type as the FM table (names, ranges, scales, units), so the corpus
draws from it, the model predicts in its 0..1 space and OSC sends its values. It needs an
``amplitude`` parameter (the voices fade in and mute with it). ``build`` returns one
PyoObject (mono); it is called once per voice.

**This runs your code**: loading a synth file imports it, as ``python FILE`` would. That is
expected for your own file; instrument never imports code from a model bundle: the bundle
records the synth file's path and sha256, and refuses to play when the file has changed
(bank_kind.synth_file_of).

The corpus (:func:`build_pyo_bank`): ``n`` parameter sets drawn uniformly in 0..1 space,
rendered ``CHUNK`` at a time in parallel voices by pyo's offline server, each voice through
the exact graph the live voice uses (Sig -> Port -> Exp for log parameters -> ``build``),
started at its values (no glide), described with the FM bank's features and descriptors.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

import numpy as np

from instrument.config import FeatureConfig, SoundConfig
from instrument.errors import BadInput, DataFileError
from instrument.sound.params import ParamTable

CHUNK = 32
MAX_SYNTH_BYTES = 1 << 20


class PyoSynth:
    """A loaded synth file: its path, sha256, parameter table and graph builder."""

    def __init__(self, path: str, sha256: str, table: ParamTable, build):
        self.path, self.sha256, self.table, self.build = path, sha256, table, build

    def identity(self) -> dict:
        """What a bank and a bundle record of it."""
        return {"path": self.path, "size": os.path.getsize(self.path), "sha256": self.sha256}

    def graph(self, pyo, sources, smoothing_s: float, start_smooth, table=None):
        """Sources (smoothing space, table order) -> Port -> Exp (log params) -> build.

        Same signature and smoothing as output.pyo_voice.pyo_fm_graph, so PyoVoice plays it.

        Returns:
            (output PyoObject, objects to keep alive).
        """
        keep, signals = [], {}
        for i, param in enumerate(self.table):
            port = pyo.Port(sources[i], risetime=smoothing_s, falltime=smoothing_s,
                            init=float(start_smooth[i]))
            value = pyo.Exp(port) if param.scale == "log" else port
            keep += [port, value]
            signals[param.name] = value
        out = self.build(pyo, signals)
        if out is None or not hasattr(out, "getBaseObjects"):
            raise BadInput(f"synth file {self.path}: build() must return a pyo object")
        return out, keep


def load_pyo_synth(path: str) -> PyoSynth:
    """Import a synth file (this runs it: see the module docstring) and check it.

    Raises:
        DataFileError: missing/unreadable/too big file, or an error while importing it.
        BadInput: no PARAMS table, no ``build``, or no ``amplitude`` parameter.
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise DataFileError(f"synth file {path} does not exist", "give a .py synth file")
    if os.path.getsize(path) > MAX_SYNTH_BYTES:
        raise DataFileError(f"synth file {path} is larger than 1 MB", "is it a synth file?")
    with open(path, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    name = f"instrument_user_synth_{sha[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise DataFileError(f"synth file {path} cannot be imported", "give a .py file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's code: any error, named in one line
        raise DataFileError(f"synth file {path} failed to import: {type(err).__name__}: "
                            f"{str(err).splitlines()[0] if str(err) else ''}",
                            "run it with python to see the whole error") from None
    sys.modules.pop(name, None)
    table, build = getattr(module, "PARAMS", None), getattr(module, "build", None)
    if not isinstance(table, ParamTable):
        raise BadInput(f"synth file {path} has no PARAMS = ParamTable(...)",
                       "declare its parameters (see examples/subtractive.py)")
    if not callable(build):
        raise BadInput(f"synth file {path} has no build(pyo, params) function")
    if "amplitude" not in table.names:
        raise BadInput(f"synth file {path}: PARAMS needs an 'amplitude' parameter",
                       "the voices fade in and mute with it")
    return PyoSynth(path, sha, table, build)


def render_pyo_sounds(synth: PyoSynth, physical: np.ndarray, seconds: float, rate: int,
                      smoothing_s: float = 0.01) -> np.ndarray:
    """float32[N, round(seconds * rate)]: each row of ``physical`` held for ``seconds``.

    One offline pyo server per call; every voice goes through :meth:`PyoSynth.graph`
    started at its values (so it is exactly the live voice holding them).
    """
    from instrument.output.pyo_offline import offline_server
    from instrument.sound.smoothed_fm import to_smoothing_space

    n = int(round(seconds * rate))
    values = synth.table.validate_physical(physical, "synth parameters")
    with offline_server(rate, n / rate + 64 / rate) as (pyo, server):
        return _render_voices(pyo, server, synth, to_smoothing_space(values, synth.table),
                              n, rate, smoothing_s)


def _render_voices(pyo, server, synth, smooth, n, rate, smoothing_s) -> np.ndarray:
    # its own frame: every pyo object is gone before the server shuts down
    from instrument.output.pyo_offline import table_audio

    keep, tables = [], []
    for row in smooth:
        sigs = [pyo.Sig(float(v)) for v in row]
        out, parts = synth.graph(pyo, sigs, smoothing_s, row)
        table = pyo.NewTable(length=n / rate, chnls=1)
        keep += [sigs, out, parts, pyo.TableRec(out, table=table).play()]
        tables.append(table)
    server.start()
    audio = np.zeros((len(smooth), n), np.float32)
    for i, table in enumerate(tables):
        audio[i] = table_audio(table, n)
    del keep, tables
    return audio


def build_pyo_bank(path: str, sound_cfg: SoundConfig = SoundConfig(),
                   feature_cfg: FeatureConfig = FeatureConfig(), quiet: bool = True):
    """The corpus of a pyo synth file: random parameter sets, rendered, described.

    Returns:
        A SoundBank of kind "pyo" recording the synth file's path, size and sha256.
    """
    from instrument.progress import progress
    from instrument.sound.bank import SoundBank, draw_params_unit
    from instrument.sound.descriptors import describe_audio
    from instrument.sound.features import features_from_scratch

    synth = load_pyo_synth(path)
    params_unit = draw_params_unit(sound_cfg, synth.table)
    physical = synth.table.clip_physical(synth.table.to_physical(params_unit.astype(np.float64)))
    feats, descs = [], []
    starts = range(0, len(physical), CHUNK)
    for lo in progress(starts, "pyo corpus", total=len(starts), quiet=quiet, unit="chunk"):
        audio = render_pyo_sounds(synth, physical[lo:lo + CHUNK], sound_cfg.seconds,
                                  sound_cfg.rate)
        descs.append(describe_audio(audio, sound_cfg.rate))
        feats.append(features_from_scratch(audio, float(sound_cfg.rate), feature_cfg))
    return SoundBank(params_unit, np.concatenate(feats), sound_cfg, feature_cfg, synth.table,
                     np.concatenate(descs).astype(np.float32), kind="pyo",
                     synth=synth.identity())


def render_synth_controls(synth: PyoSynth, frame_times, params_physical, seconds: float,
                          rate: int, smoothing_s: float = 0.01,
                          fade_in: bool = True) -> np.ndarray:
    """A control stream played by the synth on pyo's offline server (the live voice's graph).

    A frame at time t takes effect at sample round(t * rate), as for FM. Before the first
    frame the voice rests on the first frame's values, silent when ``fade_in`` (amplitude 0,
    like the FM render), so the first sound fades in over ``smoothing_s``.

    Returns:
        float32[round(seconds * rate)].
    """
    from instrument.output.pyo_offline import offline_server
    from instrument.sound.smoothed_fm import to_smoothing_space

    times = np.asarray(frame_times, np.float64)
    values = synth.table.validate_physical(params_physical, "control stream parameters")
    if times.ndim != 1 or len(times) == 0 or values.shape != (len(times), len(synth.table)):
        raise BadInput("frame_times and params must be [N] and [N, P] with N > 0")
    n = int(round(seconds * rate))
    pos = np.clip(np.round(times * rate).astype(np.int64), 0, n)
    keep_last = np.append(pos[1:] != pos[:-1], True)  # several frames on a sample: the last
    pos, values = pos[keep_last], values[keep_last]
    start = values[0].copy()
    if fade_in:
        start[synth.table.index_of("amplitude")] = 0.0
    per_sample = np.empty((n, len(synth.table)))
    per_sample[:pos[0]] = start
    steps = np.repeat(np.arange(len(pos)), np.diff(np.append(pos, n)))
    per_sample[pos[0]:] = values[steps]
    smooth = to_smoothing_space(per_sample, synth.table)
    with offline_server(rate, n / rate) as (pyo, server):
        return _render_tables(pyo, server, synth, smooth,
                              to_smoothing_space(start, synth.table), n, rate, smoothing_s)


def _render_tables(pyo, server, synth, smooth, start_smooth, n, rate, smoothing_s):
    from instrument.output.pyo_offline import table_audio

    counter = pyo.Count(pyo.Trig(), min=0, max=0)
    tables, sources = [], []
    for i in range(smooth.shape[1]):
        data = pyo.DataTable(size=max(n, 1))
        np.asarray(data.getBuffer())[:n] = smooth[:, i]
        tables.append(data)
        sources.append(pyo.TableIndex(data, counter))
    out, keep = synth.graph(pyo, sources, smoothing_s, start_smooth)
    recorded = pyo.NewTable(length=n / rate, chnls=1)
    rec = pyo.TableRec(out, table=recorded).play()
    server.start()
    audio = table_audio(recorded, n)
    del rec, keep, tables, sources, out, counter, recorded
    return audio
