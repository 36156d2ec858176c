"""bounded_json and read_json: deep nesting and huge integers are one line, never a crash."""

import json

import pytest

from instrument.errors import ModelFileError
from instrument.formats import bounded_json
from instrument.formats.bounded_json import JsonLimitError, loads, nesting_depth
from instrument.formats.safe_io import read_json


def test_nesting_depth_ignores_brackets_inside_strings():
    assert nesting_depth('{"a": [1, "[[[{{", {"b": "\\"]"}]}') == 3
    assert nesting_depth("[]") == 1
    assert nesting_depth('"[[["') == 0


def test_deep_nesting_is_refused_before_parsing():
    text = "[" * 100_000 + "]" * 100_000         # json.loads alone: RecursionError
    with pytest.raises(JsonLimitError, match="nested 100000 levels deep"):
        loads(text)
    # exactly at the bound is fine, and gives what json gives
    ok = "[" * bounded_json.MAX_DEPTH + "]" * bounded_json.MAX_DEPTH
    assert loads(ok) == json.loads(ok)


def test_many_flat_brackets_are_not_deep():
    text = json.dumps([[i] for i in range(1000)])
    assert loads(text) == [[i] for i in range(1000)]


def test_huge_integer_is_refused_by_its_length():
    with pytest.raises(JsonLimitError, match="a number with 5000 digits") as err:
        loads('{"t": ' + "9" * 5000 + "}")
    assert "set_int_max_str_digits" not in str(err.value)
    assert loads('{"a": -99999999999999999999}') == {"a": -99999999999999999999}


def _one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("body, words", [
    ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested 5001 levels deep"),
    ('{"seed": 1' + "0" * 5000 + "}", "a number with 5001 digits"),
])
def test_read_json_names_the_file_and_the_limit(tmp_path, body, words):
    path = tmp_path / "config.json"
    path.write_text(body)
    with pytest.raises(ModelFileError) as err:
        read_json(path)
    text = _one_line(err)
    assert str(path) in text and words in text and "restore" in text
    assert "set_int_max_str_digits" not in text


def test_read_json_accepts_a_utf8_bom(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"format": "x", "version": 1}).encode())
    assert read_json(path) == {"format": "x", "version": 1}
