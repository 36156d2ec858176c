"""Generated sample folders for the audio-bank tests (written by the tests, no downloads)."""

import os

import numpy as np
import soundfile as sf


def write_samples(folder, files=3, hits=10, rate=44100, seed=0):
    """Takes of decaying tones and noise hits, 0.5 s apart (known onsets)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for f in range(files):
        x = np.zeros(int(rate * (0.2 + 0.5 * hits)))
        for k in range(hits):
            t = np.arange(int(0.45 * rate)) / rate
            hz = 80 * 2 ** (rng.random() * 5)
            tone = np.sin(2 * np.pi * hz * t) + rng.random() * np.sin(6 * np.pi * hz * t)
            hit = (tone + rng.standard_normal(len(t)) * rng.random() ** 2) * np.exp(-t * 15)
            start = int((0.1 + 0.5 * k) * rate)
            x[start:start + len(t)] += 0.25 * hit
        sf.write(os.path.join(folder, f"take{f}.wav"), x, rate)
    return str(folder)
