"""Generated collections with a known category matching: a demo and a test of `instrument match`.

Four image categories of shapes and textures and four audio families, each file drawn at
random (colours, sizes, positions, pitches, rates) so that files of one category differ
(audio family = image category, the matching the demo asks for):

- tones = circles: one sine with a slow vibrato, 200-1000 Hz | 1-3 discs on a plain background
- chords = stripes: a major or minor triad, four harmonics a note | stripes at any angle, 10-24 px wide
- noise = speckle: noise in a wide band around 300-5000 Hz | fine random speckle
- percussive = checkers: 2-7 decaying hits a second (noise burst and a falling low sine) |
  a checkerboard of 6-12 px cells

Audio is 1 s at 22050 Hz, images 64 x 64 with a little pixel noise; colours are random in
every category, so only shape and texture tell the images apart.

Audio is written as WAV, FLAC or OGG/Vorbis in turn and images as PNG or JPEG, so a demo
run goes through every reader. ``labels.csv`` labels a few files of each category (what a
user would do); ``truth.csv`` gives every file's category, for measuring (never for training).
"""

from __future__ import annotations

import json
import os

import numpy as np

from instrument.formats.safe_io import atomic_write

RATE = 22050
SECONDS = 1.0
IMAGE_SIDE = 64
PAIRS = {"tones": "circles", "chords": "stripes", "noise": "speckle", "percussive": "checkers"}
AUDIO_FORMATS = (("wav", "WAV", "PCM_16"), ("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS"))
DEMO_FORMAT = "instrument-match-demo"


def tone(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """One sine with a slow vibrato."""
    freq = 200 * 5 ** rng.random()
    vibrato = 1 + 0.01 * np.sin(2 * np.pi * rng.uniform(3, 6) * t)
    return np.sin(2 * np.pi * np.cumsum(freq * vibrato) / RATE)


def chord(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A major or minor triad (sometimes with the octave), each note with four harmonics."""
    root = 110 * 4 ** rng.random()
    steps = [0, 4 if rng.random() < 0.5 else 3, 7] + ([12] if rng.random() < 0.5 else [])
    out = np.zeros_like(t)
    for step in steps:
        f = root * 2 ** (step / 12)
        for h in range(1, 5):
            if f * h < RATE / 2:
                out += np.sin(2 * np.pi * f * h * t + rng.uniform(0, 2 * np.pi)) / h
    return out


def noise(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """White noise band-passed around a random centre (a Gaussian band in the spectrum)."""
    spectrum = np.fft.rfft(rng.normal(size=len(t)))
    hz = np.fft.rfftfreq(len(t), 1 / RATE)
    centre, width = 300 * (5000 / 300) ** rng.random(), rng.uniform(0.5, 1.0)
    spectrum *= np.exp(-0.5 * (np.log(np.maximum(hz, 1) / centre) / width) ** 2)
    return np.fft.irfft(spectrum, n=len(t))


def percussive(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Evenly spaced hits: a short noise burst and a low sine falling in pitch, both decaying."""
    out = np.zeros_like(t)
    period = 1 / rng.uniform(2, 7)
    low, decay = rng.uniform(50, 150), rng.uniform(15, 40)
    for start in np.arange(rng.uniform(0, period), t[-1], period):
        local = t[t >= start] - start
        env = np.exp(-decay * local)
        body = np.sin(2 * np.pi * low * (local + np.exp(-30 * local) / 30 * 3))
        out[t >= start] += env * (body + 0.5 * rng.normal(size=len(local)) * np.exp(-60 * local))
    return out


AUDIO = {"tones": tone, "chords": chord, "noise": noise, "percussive": percussive}


def _colours(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3)).astype(np.float64)


def circles(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    back, *fronts = _colours(rng, 4)
    image = np.broadcast_to(back, yy.shape + (3,)).copy()
    for colour in fronts[:rng.integers(1, 4)]:
        cy, cx = rng.uniform(0.2, 0.8, 2) * IMAGE_SIDE
        radius = rng.uniform(0.12, 0.3) * IMAGE_SIDE
        image[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2] = colour
    return image


def stripes(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    a, b = _colours(rng, 2)
    angle, period = rng.uniform(0, np.pi), rng.uniform(10, 24)
    band = (np.cos(angle) * xx + np.sin(angle) * yy) % period < period / 2
    return np.where(band[..., None], a, b)


def speckle(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    a, b = _colours(rng, 2)
    field = gaussian_filter(rng.random(yy.shape), sigma=rng.uniform(0.6, 1.0))
    field = (field - field.min()) / max(np.ptp(field), 1e-9)
    return a + field[..., None] * (b - a)


def checkers(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    a, b = _colours(rng, 2)
    cell = rng.uniform(6, 12)
    oy, ox = rng.uniform(0, cell, 2)
    board = ((np.floor((yy + oy) / cell) + np.floor((xx + ox) / cell)) % 2).astype(bool)
    return np.where(board[..., None], a, b)


IMAGES = {"circles": circles, "stripes": stripes, "speckle": speckle, "checkers": checkers}


def write_demo(directory: str, per_category: int = 40, labelled: int = 5, seed: int = 0) -> dict:
    """Write ``audio/``, ``images/``, ``labels.csv``, ``truth.csv`` and ``demo.json`` under ``directory``.

    Args:
        directory: Where to write (created if missing).
        per_category: Files of each category on each side.
        labelled: How many files of each category ``labels.csv`` labels.
        seed: The same seed gives the same files.

    Returns:
        The manifest written to ``demo.json`` (format, pairs, counts, seed).
    """
    import soundfile as sf
    from PIL import Image

    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * SECONDS)) / RATE
    yy, xx = np.mgrid[0:IMAGE_SIDE, 0:IMAGE_SIDE].astype(np.float64)
    truth, labels = [], []
    n = 0
    for family, make in AUDIO.items():
        for i in range(per_category):
            sound = make(rng, t)
            sound = 0.8 * rng.uniform(0.3, 1.0) * sound / max(np.abs(sound).max(), 1e-9)
            ext, fmt, subtype = AUDIO_FORMATS[n % len(AUDIO_FORMATS)]
            n += 1
            rel = f"audio/{family}/{family}_{i:03d}.{ext}"
            with atomic_write(os.path.join(directory, rel), binary=True, what="demo audio") as f:
                sf.write(f, sound.astype(np.float32), RATE, format=fmt, subtype=subtype)
            truth.append((rel, family))
            if i < labelled:
                labels.append((rel, family))
    for category, draw in IMAGES.items():
        for i in range(per_category):
            pixels = np.clip(draw(rng, yy, xx) + rng.normal(0, 6, (IMAGE_SIDE, IMAGE_SIDE, 3)), 0, 255)
            image = Image.fromarray(pixels.astype(np.uint8), "RGB")
            ext, fmt = ("jpg", "JPEG") if i % 3 == 2 else ("png", "PNG")
            rel = f"images/{category}/{category}_{i:03d}.{ext}"
            with atomic_write(os.path.join(directory, rel), binary=True, what="demo image") as f:
                image.save(f, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
            truth.append((rel, category))
            if i < labelled:
                labels.append((rel, category))
    for name, rows in (("labels.csv", labels), ("truth.csv", truth)):
        with atomic_write(os.path.join(directory, name), what="demo labels") as f:
            f.write("path,category\n" + "".join(f"{p},{c}\n" for p, c in rows))
    manifest = {"format": DEMO_FORMAT, "version": 1, "pairs": PAIRS, "per_category": per_category,
                "labelled_per_category": labelled, "seed": seed}
    with atomic_write(os.path.join(directory, "demo.json"), what="demo manifest") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    return manifest


def pairs_text() -> str:
    """The demo's category matching as ``--pairs`` text."""
    return ",".join(f"{a}={b}" for a, b in PAIRS.items())
