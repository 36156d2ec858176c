"""The parameter table: order, scales, conversions, validation, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from instrument.errors import BadInput
from instrument.sound.params import PARAM_TABLE, Param, ParamTable


def test_order_and_ranges_are_the_contract():
    # OSC sends these in this order; Wekinator's FM examples expect carrier, modulator, index.
    assert PARAM_TABLE.names == ("carrier_hz", "ratio", "index", "amplitude")
    assert len(PARAM_TABLE) == 4
    assert [p.scale for p in PARAM_TABLE] == ["log", "log", "lin", "lin"]
    np.testing.assert_array_equal(PARAM_TABLE.low, [50, 0.25, 0, 0])
    np.testing.assert_array_equal(PARAM_TABLE.high, [2000, 8, 10, 1])


def test_unit_to_physical_ends_and_middles():
    phys = PARAM_TABLE.to_physical([[0, 0, 0, 0], [1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(phys[0], [50, 0.25, 0, 0])
    np.testing.assert_allclose(phys[1], [2000, 8, 10, 1])
    # log scale: the middle is the geometric mean (equal musical intervals)
    np.testing.assert_allclose(phys[2], [math.sqrt(50 * 2000), math.sqrt(0.25 * 8), 5, 0.5])


def test_round_trip_on_any_shape(rng):
    unit = rng.random((3, 7, 4))
    back = PARAM_TABLE.to_unit(PARAM_TABLE.to_physical(unit))
    np.testing.assert_allclose(back, unit, atol=1e-12)
    assert PARAM_TABLE.to_physical(unit).shape == (3, 7, 4)


def test_single_param_conversion_matches_table():
    for i, param in enumerate(PARAM_TABLE):
        u = np.linspace(0, 1, 5)
        full = np.zeros((5, 4))
        full[:, i] = u
        np.testing.assert_allclose(param.to_physical(u), PARAM_TABLE.to_physical(full)[:, i])
        np.testing.assert_allclose(param.to_unit(param.to_physical(u)), u, atol=1e-12)


def test_wrong_number_of_params_is_bad_input():
    with pytest.raises(BadInput, match="4 parameters"):
        PARAM_TABLE.to_physical([0.5, 0.5, 0.5])


@pytest.mark.parametrize("name,value,text", [
    ("carrier_hz", 5000, "carrier_hz = 5000 is out of range; use a value in 50..2000 Hz"),
    ("index", float("nan"), "index = nan is not a finite number; use a value in 0..10"),
    ("ratio", 0.1, "ratio = 0.1 is out of range; use a value in 0.25..8"),
    ("amplitude", "loud", "amplitude = 'loud' is not a number; use a value in 0..1"),
])
def test_validate_names_parameter_and_range(name, value, text):
    with pytest.raises(BadInput) as err:
        PARAM_TABLE.validate(name, value)
    assert text in str(err.value) and "\n" not in str(err.value)


def test_validate_physical_reports_first_bad_value():
    good = PARAM_TABLE.validate_physical([[440, 2, 3, 0.5]])
    assert good.dtype == np.float64
    with pytest.raises(BadInput, match=r"index = inf \(row \(1,\)\)"):
        PARAM_TABLE.validate_physical([[440, 2, 3, 0.5], [440, 2, np.inf, 0.5]])
    with pytest.raises(BadInput, match="unknown synth parameter 'pitch'"):
        PARAM_TABLE.validate("pitch", 1)


def test_json_round_trip_and_equality():
    text = PARAM_TABLE.to_json()
    again = ParamTable.from_json(text)
    assert again == PARAM_TABLE and hash(again) == hash(PARAM_TABLE)
    assert json.loads(text)["params"][0]["name"] == "carrier_hz"


@pytest.mark.parametrize("text,match", [
    ("not json", "not valid JSON"),
    ('{"format": "something"}', "not a parameter table"),
    ('{"format": "instrument-param-table", "version": 99, "params": []}', "version 99"),
    ('{"format": "instrument-param-table", "version": 1, "params": [{"name": "x"}]}',
     "entry 0 is malformed"),
    ('{"format": "instrument-param-table", "version": 1, "params": '
     '[{"name": "x", "low": 0, "high": 1, "scale": "log"}]}', "log scale needs low > 0"),
])
def test_from_json_rejects_malformed_tables(text, match):
    with pytest.raises(BadInput, match=match):
        ParamTable.from_json(text)


def test_param_rejects_bad_definitions():
    with pytest.raises(BadInput, match="increasing"):
        Param("x", 2.0, 1.0, "lin")
    with pytest.raises(BadInput, match="scale"):
        Param("x", 0.0, 1.0, "exp")
    with pytest.raises(BadInput, match="unique"):
        ParamTable([Param("x", 0, 1, "lin"), Param("x", 0, 2, "lin")])


def test_ends_are_exact_and_rounding_is_tolerated():
    ends = PARAM_TABLE.to_physical(np.array([[0.0] * 4, [1.0] * 4]))
    np.testing.assert_array_equal(ends, [PARAM_TABLE.low, PARAM_TABLE.high])
    # float32 rounding of a legal value must never stop a performance
    nearly = PARAM_TABLE.high * (1 + 1e-9)
    np.testing.assert_array_equal(PARAM_TABLE.validate_physical(nearly), PARAM_TABLE.high)
    assert PARAM_TABLE.validate("carrier_hz", 2000.0000001) == 2000.0
    with pytest.raises(BadInput):
        PARAM_TABLE.validate("carrier_hz", 2000.1)
