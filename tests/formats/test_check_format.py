"""One format/version check (filecheck.check_format) for every versioned file."""

from __future__ import annotations

import re

import numpy as np
import pytest

from instrument.errors import BadInput, DataFileError, ModelFileError
from instrument.formats.filecheck import check_format


@pytest.mark.parametrize("found, message", [
    ({"format": "other", "version": 1}, "is not an instrument model (format 'other'"),
    ([1, 2], "(format 'list'"),
    ({"format": "x" * 5000, "version": 1}, "format missing or not a name"),  # never echoed whole
    ({"format": "instrument-model", "version": "1"}, "invalid format version '1'"),
    ({"format": "instrument-model", "version": True}, "invalid format version True"),
    ({"format": "instrument-model", "version": 0}, "invalid format version 0"),
    ({"format": "instrument-model", "version": 10 ** 400}, "version too large, newer"),
    ({"format": "instrument-model", "version": 3}, "version 3, newer than this program"),
])
def test_every_bad_header_is_one_short_line(found, message):
    with pytest.raises(ModelFileError, match=re.escape(message)) as err:
        check_format(found, "instrument-model", 2, "m/config.json", "instrument model", "fix")
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


def test_a_good_header_gives_its_version():
    assert check_format({"format": "f", "version": 2}, "f", 2, "x", "thing", "fix") == 2
    with pytest.raises(DataFileError):
        check_format({"format": "g"}, "f", 2, "x", "thing", "fix", error=DataFileError)


def test_sae_state_and_parameter_table_use_it():
    from instrument.sound.params import PARAM_TABLE, ParamTable

    table = PARAM_TABLE.to_dict()
    with pytest.raises(BadInput, match="newer than this program"):
        ParamTable.from_dict({**table, "version": 99})
    assert ParamTable.from_dict(table).names == PARAM_TABLE.names

    from instrument.config import SAEConfig
    from instrument.learn.sae import StackedAutoencoder

    sae = StackedAutoencoder(4, SAEConfig(hidden=(3,), epochs=1))
    sae.fit(np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32))
    meta, arrays = sae.to_state()
    with pytest.raises(ModelFileError, match="SAE state is not an instrument SAE state"):
        StackedAutoencoder.from_state({**meta, "format": "instrument-model"}, arrays)
