"""The user's categories for ``--pairing labels`` (paper §3.2/§4.1): which recordings are
which gesture category, which parameter ranges are which sound category, and the matching."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from instrument.errors import BadInput


@dataclass
class LabelSpec:
    """The user's categories and matching for ``--pairing labels``.

    Attributes:
        gesture_files: Gesture category name -> recording paths whose windows belong to it.
        sound_ranges: Sound category name -> [(param name, low, high)] in physical units; a
            bank sound belongs to the first category whose every range contains it.
        match: Gesture category name -> sound category name.
    """

    gesture_files: dict[str, list[str]] = field(default_factory=dict)
    sound_ranges: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)
    match: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """BadInput unless every matched name is a declared category."""
        if not self.gesture_files or not self.sound_ranges or not self.match:
            raise BadInput("--pairing labels needs --gesture-labels, --sound-labels and --match",
                           "e.g. --gesture-labels circles=c.jsonl --sound-labels low=carrier_hz:50-200 "
                           "--match circles=low")
        for g, s in self.match.items():
            if g not in self.gesture_files:
                raise BadInput(f"--match {g}={s}: no gesture category {g!r}",
                               f"declared: {', '.join(sorted(self.gesture_files))}")
            if s not in self.sound_ranges:
                raise BadInput(f"--match {g}={s}: no sound category {s!r}",
                               f"declared: {', '.join(sorted(self.sound_ranges))}")

    def sound_labels(self, params_physical: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """Category index (order of ``sound_ranges``) of each bank sound, -1 for none."""
        labels = np.full(len(params_physical), -1, np.int64)
        for c, ranges in reversed(list(enumerate(self.sound_ranges.values()))):
            inside = np.ones(len(params_physical), bool)
            for name, low, high in ranges:
                if name not in names:
                    raise BadInput(f"--sound-labels: unknown parameter {name!r}",
                                   f"use one of {', '.join(names)}")
                col = params_physical[:, names.index(name)]
                inside &= (col >= low) & (col <= high)
            labels[inside] = c
        return labels
