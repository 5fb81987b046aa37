"""Viewer session state: edits, undo/redo, session files. No model, no window."""
import json
from pathlib import Path

import numpy as np
import pytest

from s2am3d_core.errors import InputError
from s2am3d_gui.state import SESSION_FORMAT, SessionState, ShapeData, read_session


def make_state(n=50, seed=0, max_history=200):
    pts = np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)
    return SessionState(ShapeData(Path("shape.ply"), pts, None, pts, None), max_history=max_history)


def test_clicks_accept_and_history():
    st = make_state()
    st.add_click(3)
    st.add_click(7, positive=False)
    assert st.clicks == [(3, True), (7, False)] and st.positive == [3] and st.negative == [7]
    st.probs = np.linspace(0, 1, st.num_points)
    assert st.mask.sum() == (np.linspace(0, 1, 50) > 0.5).sum()
    first = np.zeros(50, bool)
    first[:20] = True
    a = st.accept(first, "", (1, 0, 0))
    assert a.name == "part_0" and st.clicks == [] and st.probs is None  # no click -> no mask
    second = np.zeros(50, bool)
    second[:20] = True  # paints over all of part 0: part 0 disappears
    b = st.accept(second, "seat", (0, 1, 0))
    assert [p.name for p in st.parts] == ["seat"] and b.label == 1 and (st.labels[:20] == 1).all()
    assert st.undo() and [p.name for p in st.parts] == ["part_0"] and (st.labels[:20] == 0).all()
    assert st.undo() and st.clicks == [(3, True), (7, False)] and st.parts == []
    assert st.redo() and st.redo() and not st.redo()
    assert [p.name for p in st.parts] == ["seat"]
    st.undo()
    assert st.can_redo
    st.add_click(1)  # a new edit drops the redo stack
    assert not st.can_redo
    with pytest.raises(InputError, match="out of range"):
        st.add_click(50)


def test_snapshots_are_not_shared_between_undo_steps():
    st = make_state()
    m = np.zeros(50, bool)
    m[5] = True
    st.accept(m, "a", (1, 0, 0))
    before = st.labels.copy()
    st.delete_part(0)
    assert (st.labels == -1).all() and st.parts == []
    st.undo()
    assert np.array_equal(st.labels, before)


def test_rename_recolour_merge_and_reset():
    st = make_state()
    m = np.zeros(50, bool)
    m[:3] = True
    st.accept(m, "x", (0.5, 0.5, 0.5))
    st.update_part(0, name="wheel")
    for g in (0.1, 0.2, 0.3):  # a colour drag: one undo step
        st.update_part(0, color=(1.0, g, 0.0), merge=True)
    assert st.part(0).color == (1.0, 0.3, 0.0)
    st.undo()
    assert st.part(0).color == (0.5, 0.5, 0.5) and st.part(0).name == "wheel"
    st.undo()
    assert st.part(0).name == "x"
    with pytest.raises(InputError, match="colour"):
        st.update_part(0, color=(2, 0, 0))
    with pytest.raises(InputError, match="no part with label 9"):
        st.delete_part(9)
    st.reset()
    assert st.parts == [] and (st.labels == -1).all()
    st.undo()
    assert st.parts


def test_set_all_and_history_limit():
    st = make_state(max_history=3)
    labels = np.arange(50) % 4
    st.set_all(labels, ["a", "b", "c", "d"], [(0, 0, 1)] * 4)
    assert np.bincount(st.labels).tolist() == [13, 13, 12, 12] and [p.label for p in st.parts] == [0, 1, 2, 3]
    with pytest.raises(InputError, match="labels must lie"):
        st.set_all(labels, ["a"], [(0, 0, 1)])
    for i in range(6):
        st.add_click(i)
    undone = 0
    while st.undo():
        undone += 1
    assert undone == 3


def test_session_roundtrip(tmp_path):
    st = make_state()
    m = np.zeros(50, bool)
    m[10:30] = True
    st.accept(m, "seat", (0.2, 0.4, 0.6))
    st.add_click(4)
    st.add_click(8, positive=False)
    st.scale, st.use_scale, st.threshold = 0.25, False, 0.6
    path = st.save(tmp_path / "s.json")
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # atomic write leaves no temp file
    assert read_session(path)["format"] == SESSION_FORMAT
    other = make_state()
    other.load(path)
    assert np.array_equal(other.labels, st.labels) and other.clicks == st.clicks
    assert other.parts == st.parts and (other.scale, other.use_scale, other.threshold) == (0.25, False, 0.6)
    assert other.undo() and other.parts == []  # loading is one undo step


@pytest.mark.parametrize("content, match", [
    ("{not json", "not a readable session"),
    ('{"format": "other"}', "not an s2am3d session"),
    (json.dumps({"format": SESSION_FORMAT, "shape": "x"}), "lacks 'num_points'"),
])
def test_bad_session_files(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=match) as err:
        make_state().load(path)
    assert "bad.json" in str(err.value)
    with pytest.raises(InputError, match="not found"):
        make_state().load(tmp_path / "missing.json")


def test_mismatched_or_corrupt_session(tmp_path):
    st = make_state()
    path = st.save(tmp_path / "s.json")
    with pytest.raises(InputError, match="made on .* with 50 model points"):
        make_state(seed=1).load(path)  # same size, other points
    with pytest.raises(InputError, match="--points 50"):
        make_state(n=60).load(path)
    data = json.loads(path.read_text())
    for key, value, match in [("clicks", [[99, True]], "out of range"), ("labels", [5] * 50, "no part"),
                              ("parts", [{"label": 0}], "parts must be"), ("scale", 3, "scale 3.0")]:
        bad = dict(data, **{key: value})
        (tmp_path / "c.json").write_text(json.dumps(bad))
        with pytest.raises(InputError, match=match):
            st.load(tmp_path / "c.json")


def test_worker_latest_wins_per_tag_and_reports_errors():
    import threading

    from s2am3d_gui.worker import Worker
    w = Worker()
    gate, started = threading.Event(), threading.Event()
    ran = []
    w.submit("block", lambda: started.set() or gate.wait(5))
    assert started.wait(5)
    for i in range(5):  # queued behind the blocking job: only the newest decode survives
        w.submit("decode", lambda i=i: ran.append(("decode", i)) or i)
    w.submit("segment", lambda: ran.append(("segment",)) or "labels")
    w.submit("boom", lambda: 1 / 0)
    assert w.busy and w.has("segment") and w.running == "block"
    gate.set()
    assert w.wait(10) and not w.busy
    done = w.poll()
    assert ran == [("decode", 4), ("segment",)]
    assert [(d.tag, d.value) for d in done[:3]] == [("block", True), ("decode", 4), ("segment", "labels")]
    assert isinstance(done[3].error, ZeroDivisionError) and w.poll() == []
    w.close()
