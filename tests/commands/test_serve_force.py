"""commands/serve.py: ``--midi-file`` follows the one output rule (formats/outputs.check_output):
a restarted service given the same file refuses it in one line without ``--force`` and
replaces it, atomically, with ``--force``."""


import pytest
from conftest import free_port
from tiny_model import tiny_parts

from instrument.formats.bundle import save_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve-force") / "model"
    config, arrays, _ = tiny_parts(seed=3)
    save_bundle(path, config, arrays)
    return str(path)


def _serve(run_cli, tmp_path, model, *extra):
    return run_cli("serve", "--project", str(tmp_path / "project"), "--model", model,
                   "--port", str(free_port()), "--osc", "127.0.0.1:9", "--seconds", "0.3",
                   "--midi-file", str(tmp_path / "take.mid"), *extra)


def test_an_existing_midi_file_is_refused_without_force_and_replaced_with_it(run_cli, tmp_path,
                                                                             model):
    earlier = b"MThd the earlier performance"
    (tmp_path / "take.mid").write_bytes(earlier)

    refused = _serve(run_cli, tmp_path, model)
    assert refused.code == 2
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1 and "already exists" in lines[0] and "--force" in lines[0]
    assert "Traceback" not in refused.err
    assert (tmp_path / "take.mid").read_bytes() == earlier        # untouched
    assert not (tmp_path / "project").exists()                     # refused before any work

    replaced = _serve(run_cli, tmp_path, model, "--force")
    assert replaced.code == 0, replaced.err
    data = (tmp_path / "take.mid").read_bytes()
    assert data != earlier and data.startswith(b"MThd") and b"MTrk" in data
    # written atomically: no temporary file left next to it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "take.mid"]


def test_force_never_replaces_a_directory_or_the_model(run_cli, tmp_path, model):
    (tmp_path / "take.mid").mkdir()
    result = _serve(run_cli, tmp_path, model, "--force")
    assert result.code == 2 and "is a directory" in result.err
    result = run_cli("serve", "--model", model, "--port", str(free_port()), "--seconds", "0.3",
                     "--midi-file", f"{model}/inside.mid", "--force")
    assert result.code == 2 and "inside the model" in result.err
