"""The FM parameter table: the single source of truth for synth parameters.

Every part of the instrument that touches synth parameters goes through this table: the corpus
draws them uniformly in 0..1 ("unit") space, the model predicts unit values, OSC sends unit
values in table order, and the voices get physical values (Hz, ratio, index, gain).

The order is a contract: ``carrier_hz, ratio, index, amplitude``. The first three are the
carrier, the modulator ratio and the index, so Wekinator's FM examples play our OSC output
unchanged.

Log-scaled parameters map unit ``u`` to ``low * (high / low) ** u`` so that equal steps in unit
space are equal musical intervals; linear ones map to ``low + (high - low) * u``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from instrument.errors import BadInput

SCALES = ("lin", "log")
# Out-of-range tolerance, as a share of the span: float32/float64 rounding, not user error.
_SLACK = 1e-6


@dataclass(frozen=True)
class Param:
    """One synth parameter.

    Attributes:
        name: Name in the user's words (``carrier_hz``); also the CSV column and OSC name.
        low: Smallest physical value.
        high: Largest physical value.
        scale: "log" (equal steps are equal ratios) or "lin".
        unit: Physical unit shown to the user ("Hz", "" for plain numbers).
        default: Physical value a voice starts from before any control arrives.
        description: One line for --help and the README.
    """

    name: str
    low: float
    high: float
    scale: str
    unit: str = ""
    default: float | None = None
    description: str = ""

    def __post_init__(self):
        if self.scale not in SCALES:
            raise BadInput(f"parameter {self.name}: scale {self.scale!r} is not one of {SCALES}")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise BadInput(f"parameter {self.name}: range {self.low}..{self.high} is not a "
                           "finite increasing range")
        if self.scale == "log" and self.low <= 0:
            raise BadInput(f"parameter {self.name}: a log scale needs low > 0, got {self.low}")
        if self.default is not None and not self.low <= self.default <= self.high:
            raise BadInput(f"parameter {self.name}: default {self.default} is outside "
                           f"{self.low}..{self.high}")

    @property
    def range_text(self) -> str:
        """``50..2000 Hz``: the range as the user reads it in error messages."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.low:g}..{self.high:g}{unit}"

    @property
    def start_value(self) -> float:
        """The default, or the middle of the range in unit space when none is given."""
        if self.default is not None:
            return float(self.default)
        return float(self.to_physical(0.5))

    def to_physical(self, unit):
        """Unit value(s) 0..1 -> physical value(s) (no clipping; see ParamTable.validate)."""
        unit = np.asarray(unit, dtype=np.float64)
        if self.scale == "log":
            return self.low * (self.high / self.low) ** unit
        return self.low + (self.high - self.low) * unit

    def to_unit(self, physical):
        """Physical value(s) -> unit value(s) 0..1 (no clipping)."""
        physical = np.asarray(physical, dtype=np.float64)
        if self.scale == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(physical / self.low) / math.log(self.high / self.low)
        return (physical - self.low) / (self.high - self.low)


class ParamTable:
    """An ordered table of :class:`Param`; converts whole parameter vectors at once.

    Arrays passed in have the parameters on their last axis, in table order.
    """

    FORMAT = "instrument-param-table"
    VERSION = 1

    def __init__(self, params: Sequence[Param]):
        params = tuple(params)
        if not params:
            raise BadInput("a parameter table needs at least one parameter")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise BadInput(f"parameter names must be unique, got {names}")
        self.params = params
        self.names: tuple[str, ...] = tuple(names)
        self._low = np.array([p.low for p in params])
        self._high = np.array([p.high for p in params])
        self._log = np.array([p.scale == "log" for p in params])
        # Precomputed so conversion is two vector ops, whatever the table.
        self._offset = np.where(self._log, np.log(np.where(self._log, self._low, 1.0)), self._low)
        self._span = np.where(self._log,
                              np.log(np.where(self._log, self._high, 2.0)
                                     / np.where(self._log, self._low, 1.0)),
                              self._high - self._low)

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __getitem__(self, name_or_index) -> Param:
        if isinstance(name_or_index, str):
            return self.params[self.index_of(name_or_index)]
        return self.params[name_or_index]

    def __eq__(self, other) -> bool:
        return isinstance(other, ParamTable) and self.params == other.params

    def __hash__(self) -> int:
        return hash(self.params)

    def __repr__(self) -> str:
        return "ParamTable(" + ", ".join(f"{p.name} {p.scale} {p.range_text}"
                                         for p in self.params) + ")"

    def index_of(self, name: str) -> int:
        """Position of parameter ``name``; BadInput listing the known names otherwise."""
        try:
            return self.names.index(name)
        except ValueError:
            raise BadInput(f"unknown synth parameter {name!r}",
                           f"known parameters are {', '.join(self.names)}") from None

    @property
    def low(self) -> np.ndarray:
        """Lowest physical value of each parameter (a copy)."""
        return self._low.copy()

    @property
    def high(self) -> np.ndarray:
        """Highest physical value of each parameter (a copy)."""
        return self._high.copy()

    @property
    def start_values(self) -> np.ndarray:
        """Physical start value of each parameter (defaults), float64[P]."""
        return np.array([p.start_value for p in self.params])

    def _check_shape(self, values: np.ndarray, what: str) -> None:
        if values.ndim == 0 or values.shape[-1] != len(self):
            raise BadInput(f"{what} values must have {len(self)} parameters on the last axis "
                           f"({', '.join(self.names)}), got shape {values.shape}")

    def to_physical(self, unit) -> np.ndarray:
        """Unit values ``[..., P]`` in 0..1 -> physical values ``[..., P]`` (float64)."""
        unit = np.asarray(unit, dtype=np.float64)
        self._check_shape(unit, "unit")
        linear = self._offset + self._span * unit
        physical = np.where(self._log, np.exp(linear), linear)
        # exp(log(x)) is not always x: keep 0..1 exactly inside low..high
        inside = (unit >= 0.0) & (unit <= 1.0)
        physical = np.where(inside, np.clip(physical, self._low, self._high), physical)
        physical = np.where(unit == 0.0, self._low, physical)
        return np.where(unit == 1.0, self._high, physical)

    def to_unit(self, physical) -> np.ndarray:
        """Physical values ``[..., P]`` -> unit values ``[..., P]`` (float64, not clipped)."""
        physical = np.asarray(physical, dtype=np.float64)
        self._check_shape(physical, "physical")
        with np.errstate(divide="ignore", invalid="ignore"):
            logged = np.where(self._log, np.log(np.where(self._log, physical, 1.0)), physical)
        return (logged - self._offset) / self._span

    def validate(self, name: str, value: Any) -> float:
        """Check one physical value; return it as a float.

        Raises:
            BadInput: ``value`` is not a finite number inside the parameter's range; the
                message names the parameter and its range.
        """
        param = self[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadInput(f"parameter {name} = {value!r} is not a number",
                           f"use a value in {param.range_text}") from None
        if not math.isfinite(number):
            raise BadInput(f"parameter {name} = {number:g} is not a finite number",
                           f"use a value in {param.range_text}")
        slack = _SLACK * (param.high - param.low)
        if not param.low - slack <= number <= param.high + slack:
            raise BadInput(f"parameter {name} = {number:g} is out of range",
                           f"use a value in {param.range_text}")
        return min(max(number, param.low), param.high)

    def validate_physical(self, physical, what: str = "synth parameters") -> np.ndarray:
        """Check a whole array ``[..., P]`` of physical values; return it as float64.

        Values a hair outside a range (float rounding, up to 1e-6 of the span) are accepted
        and clipped, so a live performance never stops on rounding.

        Raises:
            BadInput: naming the first parameter that is NaN/inf or out of range.
        """
        values = np.asarray(physical, dtype=np.float64)
        self._check_shape(values, what)
        slack = _SLACK * (self._high - self._low)
        bad = ~np.isfinite(values) | (values < self._low - slack) | (values > self._high + slack)
        if bad.any():
            where = np.argwhere(bad)[0]
            param = self.params[where[-1]]
            row = f" (row {tuple(int(i) for i in where[:-1])})" if values.ndim > 1 else ""
            raise BadInput(f"{what}: {param.name} = {values[tuple(where)]:g}{row} is out of "
                           "range or not finite", f"use a value in {param.range_text}")
        return np.clip(values, self._low, self._high)

    def clip_physical(self, physical) -> np.ndarray:
        """Clip physical values ``[..., P]`` into each parameter's range (NaN stays NaN)."""
        values = np.asarray(physical, dtype=np.float64)
        self._check_shape(values, "physical")
        return np.clip(values, self._low, self._high)

    # --- JSON (stored in model bundles) ---------------------------------------------------

    def to_dict(self) -> dict:
        """A JSON-able description of the table."""
        return {"format": self.FORMAT, "version": self.VERSION,
                "params": [asdict(p) for p in self.params]}

    def to_json(self) -> str:
        """The table as a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "ParamTable":
        """Rebuild a table from :meth:`to_dict` output; BadInput on anything malformed."""
        from instrument.formats.filecheck import check_format

        check_format(data, cls.FORMAT, cls.VERSION, "the parameter table", "parameter table",
                     "save it with ParamTable.to_dict", error=BadInput)
        items = data.get("params")
        if not isinstance(items, list):
            raise BadInput("parameter table: 'params' must be a list")
        known = {"name", "low", "high", "scale", "unit", "default", "description"}
        params = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - known or not {"name", "low", "high",
                                                                        "scale"} <= set(item):
                raise BadInput(f"parameter table: entry {i} is malformed",
                               f"each entry needs name, low, high, scale; known keys "
                               f"{sorted(known)}")
            try:
                params.append(Param(**item))
            except TypeError as err:
                raise BadInput(f"parameter table: entry {i}: {err}") from None
        return cls(params)

    @classmethod
    def from_json(cls, text: str) -> "ParamTable":
        """Parse :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as err:
            raise BadInput(f"parameter table is not valid JSON: {err}") from None
        return cls.from_dict(data)


#: The instrument's parameters, in the contract order (see module docstring).
PARAM_TABLE = ParamTable((
    Param("carrier_hz", 50.0, 2000.0, "log", "Hz", default=220.0,
          description="carrier frequency"),
    Param("ratio", 0.25, 8.0, "log", "", default=1.0,
          description="modulator frequency / carrier frequency"),
    Param("index", 0.0, 10.0, "lin", "", default=0.0,
          description="modulation index: peak deviation / modulator frequency"),
    Param("amplitude", 0.0, 1.0, "lin", "", default=0.0,
          description="output gain (linear)"),
))


# --- aliasing: Carson's rule against the playback Nyquist -----------------------------------

#: The sample rate the instrument is played at (the live voices' and OSC synths' usual rate):
#: every bank sound and every played frame keeps its FM band under this rate's Nyquist.
PERFORMANCE_RATE = 44100


def carson_bandwidth(physical, table: ParamTable = PARAM_TABLE) -> np.ndarray:
    """Carson's rule, 2 * (index + 1) * modulator Hz, of physical values ``[..., P]``.

    98% of an FM tone's power lies in that band around the carrier; a band wider than the
    playback Nyquist folds sidebands back as inharmonic noise (heard as broadband bursts).
    Tables without carrier_hz, ratio and index have no FM band: the result is 0.
    """
    values = np.asarray(physical, dtype=np.float64)
    if not {"carrier_hz", "ratio", "index"} <= set(table.names):
        return np.zeros(values.shape[:-1])
    c, r, i = (table.index_of(n) for n in ("carrier_hz", "ratio", "index"))
    return 2.0 * (values[..., i] + 1.0) * values[..., c] * values[..., r]


def alias_free(physical, table: ParamTable = PARAM_TABLE,
               rate: float = PERFORMANCE_RATE) -> np.ndarray:
    """Physical values ``[..., P]`` with the FM band inside the Nyquist of ``rate`` (a copy).

    The one rule shared by the corpus, the runtime (so OSC out gets it), the numpy voice and
    the pyo voice: the index is capped at ``nyquist / (2 * modulator) - 1`` (Carson's band
    then just fits); when even index 0 does not fit (a modulator above a quarter of the
    rate) the index is 0 and the ratio drops to ``nyquist / (2 * carrier)``. The caps sit
    1e-5 inside Nyquist, so a float32 round trip through 0..1 stays inside. Values already
    inside are returned unchanged, bit for bit; tables without an FM band are unchanged.
    """
    values = np.array(physical, dtype=np.float64)
    if not {"carrier_hz", "ratio", "index"} <= set(table.names):
        return values
    c, r, i = (table.index_of(n) for n in ("carrier_hz", "ratio", "index"))
    nyquist = 0.5 * float(rate)
    carrier, ratio, index = values[..., c], values[..., r], values[..., i]
    # The caps aim a hair inside Nyquist so a float32 round trip through 0..1 stays inside.
    inside = nyquist * (1.0 - 1e-5)
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = inside / (2.0 * carrier * ratio) - 1.0
        over = 2.0 * (index + 1.0) * carrier * ratio > nyquist
        values[..., i] = np.where(over, np.clip(cap, table[i].low, index), index)
        ratio_cap = inside / (2.0 * carrier)
        values[..., r] = np.where(over & (cap < table[i].low),
                                  np.clip(ratio_cap, table[r].low, ratio), ratio)
    return values


def format_value(value: float, unit: str = "") -> str:
    """A parameter value as a musician reads it: plain decimals with the unit (``1070 Hz``,
    ``82.4 Hz``, ``2.25``), never ``1.07e+03``."""
    if unit == "Hz":
        return f"{value:.0f} Hz" if abs(value) >= 100 else f"{value:.1f} Hz"
    return f"{value:.2f}{' ' + unit if unit else ''}"
