"""Help texts shared by every command: one thread flag name, each default said once."""
import re

import pytest

from s2am3d_core.cli import segment
from s2am3d_core.data import cli as data_cli
from s2am3d_core.eval import benchmark
from s2am3d_core.eval import cli as eval_cli
from s2am3d_core.train import calibrate
from s2am3d_core.train import cli as train_cli

HELPS = [
    (segment.main, ["--help"]), (eval_cli.main, ["--help"]), (benchmark.main, ["--help"]),
    (calibrate.main, ["--help"]), (data_cli.main, ["build", "--help"]), (data_cli.main, ["train-validator", "--help"]),
    (train_cli.main, ["encoder", "--help"]), (train_cli.main, ["decoder", "--help"]),
]


def _help(capsys, main, argv) -> str:
    try:
        main(argv)
    except SystemExit as e:
        assert e.code in (0, None)
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("main,argv", HELPS, ids=lambda x: " ".join(x) if isinstance(x, list) else x.__module__)
def test_threads_flag_and_defaults_said_once(capsys, main, argv):
    text = _help(capsys, main, argv)
    assert "--threads" in text and "--num-workers" not in text
    # no option says its default twice, e.g. "(0 = torch's default) (default 0)" or "(default auto) (default: auto)"
    assert not re.search(r"default[^()]*\)\s*\(default", text), text


def test_train_help_wording(capsys):
    text = _help(capsys, train_cli.main, ["encoder", "--help"])
    assert "--no-augment no random rotation" in text and "(default: True)" not in text
    top = _help(capsys, train_cli.main, ["--help"])
    assert "--batch-size is per process: under torchrun the global batch is --batch-size x --nproc_per_node" in top
    dec = _help(capsys, train_cli.main, ["decoder", "--help"])
    assert "per process (under torchrun the global batch is this times the processes)" in dec


def test_note_after_an_encoder_run_names_the_decoder_stage(capsys):
    from s2am3d_core.config import get_config
    from s2am3d_core.modeling import S2AM3D
    from s2am3d_core.train.trainer import drop_calibration

    model = S2AM3D(get_config("test-tiny"))
    model.decoder.set_calibration(0.6)
    drop_calibration(model, "encoder")
    err = capsys.readouterr().err
    assert "next: the decoder stage" in err and "s2am3d-train decoder --encoder RUN_DIR" in err
    assert model.decoder.calibration == 0.0
    model.decoder.set_calibration(0.6)
    drop_calibration(model, "decoder", calibrate=True)
    assert "--calibrate fits it again at the end" in capsys.readouterr().err
