"""python -m s2am3d_core.eval.segment_bench: times on a real mesh, clear errors on bad input."""
import subprocess
import sys

from s2am3d_core.eval import segment_bench
from s2am3d_core.examples import example_path


def test_times_the_bundled_chair(capsys):
    assert segment_bench.main([str(example_path("chair")), "--points", "800", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert "example_chair" in out and "atoms" in out and "slider move (800 points) p50" in out


def test_bad_input_is_an_error_not_a_traceback(tmp_path):
    missing = tmp_path / "nope.glb"
    for argv, needle in (([str(missing)], "nope.glb"), ([], "meshes: give at least one mesh"),
                         ([str(example_path("chair")), "--repeats", "0"], "--repeats")):
        r = subprocess.run([sys.executable, "-m", "s2am3d_core.eval.segment_bench", *argv],
                           capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and needle in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
