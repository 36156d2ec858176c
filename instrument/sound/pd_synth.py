"""Your own Pd synth: a vanilla Pd abstraction rendered for the corpus with ``pd -batch``.

The contract (examples/subtractive.pd is one):

- ``NAME.pd`` is an abstraction: each parameter arrives as a float (physical units) on the
  receive name of the parameter (``[r pitch_hz]``), and its mono sound leaves by its first
  ``[outlet~]``. It should smooth its parameters itself (``line~``), as the FM voice does;
- ``NAME.pd.json`` next to it declares the parameter table (the ParamTable JSON of
  instrument/sound/params.py: names, ranges, scales, units), with an ``amplitude``.

The corpus (:func:`render_pd_sounds`): a driver patch written to a temporary folder holds the
abstraction recorded by ``tabwrite~`` into one array (written out by ``soundfiler`` at the
end: ``writesf~``'s disk thread loses its file in ``-batch`` mode in Pd 0.53), and a
``qlist`` sends every sound's parameters to the receive names one slot after another;
``pd -batch`` renders it as fast as it can (no sound card, logical time only). A slot is
``GAP_S`` of settling (the previous sound's tail, the new values' 10 ms glides) and then the
sound itself, each a whole number of Pd blocks, so a slot's parameters take effect exactly
at its first sample. The file is read back slot by
slot (bounded memory), and each sound is the ``seconds`` after the gap.

Live, the same abstraction plays inside a host patch that turns OSC ``/instrument/params``
into its receive names (examples/subtractive_live.pd): ``instrument perform`` sends exactly
that, so what the model learnt is what Pd plays.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

from instrument.config import FeatureConfig, SoundConfig
from instrument.errors import BadInput, DataFileError
from instrument.sound.params import ParamTable

BLOCK = 64            # Pd's block size: messages act between blocks
GAP_S = 0.05
MAX_PATCH_BYTES = 4 << 20
_RECEIVE_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def pd_binary() -> str:
    """The ``pd`` executable (DataFileError naming the fix when it is not installed)."""
    found = shutil.which("pd") or shutil.which("puredata")
    if not found:
        raise DataFileError("Pure Data (pd) is not installed",
                            "install it (Debian: apt-get install puredata-core) or use a pyo "
                            "synth file")
    return found


def load_pd_synth(path: str) -> tuple[str, ParamTable, dict]:
    """(absolute patch path, its parameter table, identity {path, size, sha256}), checked."""
    from instrument.sound.audio_files import file_sha256

    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise DataFileError(f"Pd patch {path} does not exist", "give a .pd file")
    if os.path.getsize(path) > MAX_PATCH_BYTES:
        raise DataFileError(f"Pd patch {path} is larger than 4 MB", "is it a Pd patch?")
    with open(path, "rb") as fh:
        if not fh.read(9).startswith(b"#N canvas"):
            raise DataFileError(f"{path} is not a Pd patch (it does not start with #N canvas)")
    table_path = path + ".json"
    if not os.path.isfile(table_path):
        raise DataFileError(f"Pd patch {path} has no parameter table {table_path}",
                            "write one next to it (see examples/subtractive.pd.json)")
    if os.path.getsize(table_path) > 1 << 20:
        raise DataFileError(f"parameter table {table_path} is larger than 1 MB")
    try:
        with open(table_path, encoding="utf-8") as fh:
            table = ParamTable.from_json(fh.read())
    except (ValueError, BadInput) as err:
        raise DataFileError(f"parameter table {table_path}: {err}") from None
    for name in table.names:
        if not set(name) <= _RECEIVE_OK:
            raise BadInput(f"parameter name {name!r} of {table_path} is not a Pd receive name",
                           "use letters, digits, _ and -")
    if "amplitude" not in table.names:
        raise BadInput(f"parameter table {table_path} needs an 'amplitude' parameter")
    identity = {"path": path, "size": os.path.getsize(path), "sha256": file_sha256(path)}
    return path, table, identity


def _driver(name: str, qlist: str, out_wav: str, total: int) -> str:
    # tabwrite~ into one array, then soundfiler writes it at the end: writesf~'s disk thread
    # loses its file in -batch mode (Pd 0.53: "soundfiler write wave: Bad file descriptor").
    return "\n".join([
        "#N canvas 0 0 600 300 12;",
        f"#X obj 10 10 {name};",
        "#X obj 10 60 tabwrite~ instrument_corpus;",
        "#X obj 200 10 r instrument_rec;",
        "#X obj 300 10 loadbang;",
        f"#X msg 300 40 \\; pd dsp 1 \\; instrument_qlist read {qlist} \\; "
        "instrument_qlist bang;",
        "#X obj 300 80 r instrument_qlist;",
        "#X obj 300 110 qlist;",
        "#X obj 300 150 r instrument_done;",
        f"#X msg 300 180 write -bytes 4 {out_wav} instrument_corpus;",
        "#X obj 300 210 soundfiler;",
        "#X msg 300 240 \\; pd quit;",
        f"#X obj 500 10 table instrument_corpus {total};",
        "#X connect 0 0 1 0;", "#X connect 2 0 1 0;", "#X connect 3 0 4 0;",
        "#X connect 5 0 6 0;", "#X connect 7 0 8 0;", "#X connect 8 0 9 0;",
        "#X connect 9 0 10 0;", ""])


def render_pd_sounds(patch: str, table: ParamTable, physical: np.ndarray, seconds: float,
                     rate: int, timeout: float = 600) -> np.ndarray:
    """float32[N, round(seconds * rate)]: each row of ``physical`` played by the patch.

    Raises:
        DataFileError: Pd is missing, fails, or writes no audio (its output in the line).
    """
    import soundfile as sf

    values = table.validate_physical(physical, "synth parameters")
    n = int(round(seconds * rate))
    gap = -(-int(round(GAP_S * rate)) // BLOCK) * BLOCK
    slot = gap + -(-n // BLOCK) * BLOCK
    slot_ms = slot * 1000.0 / rate
    with tempfile.TemporaryDirectory(prefix="instrument-pd-") as work:
        out_wav = os.path.join(work, "corpus.wav")
        lines = ["0 instrument_rec bang;"]
        for k, row in enumerate(values):
            wait = 0 if k == 0 else slot_ms
            for j, (param, value) in enumerate(zip(table, row)):
                lines.append(f"{wait if j == 0 else 0:.10g} {param.name} {value:.9g};")
        lines += [f"{slot_ms:.10g} instrument_done bang;"]
        qlist = os.path.join(work, "corpus.txt")
        with open(qlist, "w", encoding="ascii") as fh:
            fh.write("\n".join(lines) + "\n")
        driver = os.path.join(work, "driver.pd")
        with open(driver, "w", encoding="ascii") as fh:
            fh.write(_driver(os.path.splitext(os.path.basename(patch))[0], qlist, out_wav,
                             slot * len(values)))
        _run_pd(patch, driver, rate, timeout, out_wav)
        audio = np.zeros((len(values), n), np.float32)
        with sf.SoundFile(out_wav) as fh:
            for k in range(len(values)):
                fh.seek(min(k * slot + gap, fh.frames))
                got = fh.read(n, dtype="float32", always_2d=True)[:, 0]
                audio[k, :len(got)] = got
    return audio


def build_pd_bank(path: str, sound_cfg: SoundConfig = SoundConfig(),
                  feature_cfg: FeatureConfig = FeatureConfig(), quiet: bool = True,
                  chunk: int = 500):
    """The corpus of a Pd synth patch (random parameter sets, ``pd -batch``, described).

    Returns:
        A SoundBank of kind "pd" recording the patch's path, size and sha256.
    """
    from instrument.progress import progress
    from instrument.sound.bank import SoundBank, draw_params_unit
    from instrument.sound.descriptors import describe_audio
    from instrument.sound.features import features_from_scratch

    patch, table, identity = load_pd_synth(path)
    params_unit = draw_params_unit(sound_cfg, table)
    physical = table.clip_physical(table.to_physical(params_unit.astype(np.float64)))
    feats, descs = [], []
    starts = range(0, len(physical), chunk)
    for lo in progress(starts, "Pd corpus", total=len(starts), quiet=quiet, unit="chunk"):
        audio = render_pd_sounds(patch, table, physical[lo:lo + chunk], sound_cfg.seconds,
                                 sound_cfg.rate)
        descs.append(describe_audio(audio, sound_cfg.rate))
        feats.append(features_from_scratch(audio, float(sound_cfg.rate), feature_cfg))
    return SoundBank(params_unit, np.concatenate(feats), sound_cfg, feature_cfg, table,
                     np.concatenate(descs).astype(np.float32), kind="pd", synth=identity)


def render_pd_controls(patch: str, table: ParamTable, frame_times, params_physical,
                       seconds: float, rate: int, timeout: float = 600) -> np.ndarray:
    """A control stream played by the Pd patch in ``pd -batch`` (``instrument render``).

    Each frame's values reach the receive names at its time (Pd applies messages between
    64-sample blocks, so within 1.5 ms at 44.1 kHz); the patch's own smoothing glides.

    Returns:
        float32[round(seconds * rate)].
    """
    import soundfile as sf

    times = np.asarray(frame_times, np.float64)
    values = table.validate_physical(params_physical, "control stream parameters")
    if times.ndim != 1 or len(times) == 0 or values.shape != (len(times), len(table)):
        raise BadInput("frame_times and params must be [N] and [N, P] with N > 0")
    n = int(round(seconds * rate))
    with tempfile.TemporaryDirectory(prefix="instrument-pd-") as work:
        out_wav = os.path.join(work, "render.wav")
        lines, now = ["0 instrument_rec bang;"], 0.0
        for t, row in zip(times, values):
            wait = max(0.0, float(t) * 1000.0 - now)
            now += wait
            for j, (param, value) in enumerate(zip(table, row)):
                lines.append(f"{wait if j == 0 else 0:.10g} {param.name} {value:.9g};")
        lines.append(f"{max(0.0, seconds * 1000.0 - now):.10g} instrument_done bang;")
        qlist = os.path.join(work, "render.txt")
        with open(qlist, "w", encoding="ascii") as fh:
            fh.write("\n".join(lines) + "\n")
        driver = os.path.join(work, "driver.pd")
        with open(driver, "w", encoding="ascii") as fh:
            fh.write(_driver(os.path.splitext(os.path.basename(patch))[0], qlist, out_wav, n))
        _run_pd(patch, driver, rate, timeout, out_wav)
        audio = np.zeros(n, np.float32)
        got, _ = sf.read(out_wav, dtype="float32", always_2d=True)
        audio[:min(n, len(got))] = got[:n, 0]
    return audio


def _run_pd(patch: str, driver: str, rate: int, timeout: float, out_wav: str) -> None:
    cmd = [pd_binary(), "-batch", "-nosound", "-nomidi", "-noprefs", "-r", str(rate),
           "-path", os.path.dirname(patch), "-open", driver]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DataFileError(f"pd -batch did not finish rendering {patch} in {timeout:g} s",
                            "render fewer or shorter sounds") from None
    problems = [line for line in (proc.stdout + proc.stderr).splitlines()
                if "couldn't create" in line or "error" in line.lower()]
    if proc.returncode != 0 or problems or not os.path.isfile(out_wav):
        detail = problems[0] if problems else f"exit code {proc.returncode}"
        raise DataFileError(f"Pd could not render {patch} ({detail.strip()})",
                            "open the patch in Pd and check it loads without errors")
