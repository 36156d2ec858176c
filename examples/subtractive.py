"""A subtractive synth for instrument: sawtooth -> drive -> resonant low-pass.

Use it as your own sound (see README, "Your own sounds"):

    instrument sounds build --synth examples/subtractive.py --n 2000 --out subtractive.npz
    instrument train --gestures recordings/demo.jsonl --sound-bank subtractive.npz --out models/sub
    instrument perform --model models/sub

instrument imports this file to build the corpus and to play it (it is your code); the model
records its sha256 and refuses to play if the file changes afterwards.
"""

from instrument.sound.params import Param, ParamTable

PARAMS = ParamTable((
    Param("pitch_hz", 40.0, 1000.0, "log", "Hz", description="oscillator pitch"),
    Param("cutoff_hz", 80.0, 4000.0, "log", "Hz", description="low-pass cutoff"),
    Param("resonance", 0.7, 12.0, "log", "", description="filter Q (higher: a sharper peak)"),
    Param("drive", 0.0, 0.95, "lin", "", description="distortion before the filter"),
    Param("amplitude", 0.0, 1.0, "lin", "", default=0.0, description="output gain"),
))


def build(pyo, params):
    """The graph, from parameter signals in physical units (one mono PyoObject)."""
    saw = pyo.LFO(freq=params["pitch_hz"], sharp=1.0, type=1, mul=0.5)  # band-limited saw
    driven = pyo.Disto(saw, drive=params["drive"], slope=0.7)
    filtered = pyo.Biquad(driven, freq=params["cutoff_hz"], q=params["resonance"], type=0)
    return pyo.Clip(filtered, -1.0, 1.0, mul=params["amplitude"])
