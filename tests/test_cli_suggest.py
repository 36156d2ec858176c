"""A mistyped flag is said with the nearest flag and the subcommand's own --help."""

import pytest

from instrument.cli import main


def _error(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_a_mistyped_flag_suggests_the_nearest_and_the_subcommand_help(capsys):
    err = _error(capsys, ["train", "--gestures", "recordings/demo.jsonl", "--out", "m",
                          "--sonds", "300"])
    assert err.startswith("instrument train: error: unrecognized arguments: --sonds "
                          "(did you mean --sounds?)")
    assert "(see 'instrument train --help')" in err


def test_a_mistyped_required_flag_says_the_typo_first(capsys):
    err = _error(capsys, ["evaluate", "--modle", "models/default"])
    assert "--modle (did you mean --model?)" in err and "required" in err
    assert "instrument evaluate --help" in err


def test_nothing_close_is_said_plainly(capsys):
    err = _error(capsys, ["render", "--model", "m", "--gestures", "g", "--out", "o.wav",
                          "--zzzzzz"])
    assert "unrecognized argument: --zzzzzz" in err and "did you mean" not in err
    assert err.rstrip().endswith("(see 'instrument render --help')")
