"""The panel's job dispatch: model work on the :class:`~s2am3d_gui.worker.Worker` thread (or inline),
results applied on the UI thread, and the status line.

While the scale slider is dragged at most one decode waits, always with the newest value.
``background=False`` runs the same jobs inline (at most one decode per frame).
"""
from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable

from s2am3d_core.errors import S2AM3DError

from .controller import part_color
from .drawing import PANEL_WIDTH
from .worker import Done


class JobsMixin:
    """Job dispatch of :class:`~s2am3d_gui.panels.Panel` (uses its ``ctl``, ``scene``, ``worker`` and
    status attributes)."""

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status, self.status_is_error = text, error

    @property
    def busy(self) -> bool:
        """True while segment all, a re-orientation or an atom computation runs (editing is disabled)."""
        return self.worker is not None and any(self.worker.has(t) for t in ("segment", "reorient", "atoms"))

    def _run(self, tag: str, fn: Callable[[], Any]) -> None:
        if self.worker is not None:
            self.worker.submit(tag, fn)
            return
        try:
            done = Done(tag, value=fn())
        except Exception as exc:  # same path as a worker failure
            done = Done(tag, error=exc)
        self._finish(done)

    def request_decode(self) -> None:
        """Decode the current prompt (latest wins); clears the mask when there is no positive click.

        While the scale slider moves over a decoded sweep (see ``Controller.preview``) the
        interpolated mask is shown at once and the exact decode replaces it."""
        prompt = self.ctl.prompt()
        if prompt is None:
            self.ctl.state.probs = None
            return
        if self.worker is not None:
            asked = time.perf_counter()
            if prompt.scale is not None and self.preview:
                quick = self.ctl.preview(prompt.scale)
                if quick is not None:
                    self.ctl.state.probs = quick
                    self.showing_preview = True
            self.worker.submit("decode", lambda: (*self.ctl.decode(prompt), asked))
        else:
            self._inline_decode = True

    def _schedule_sweep(self) -> None:
        """When the worker is idle, decode one more grid scale of the preview sweep."""
        if not self.preview or self.worker is None or self.worker.busy:
            return
        scale = self.ctl.sweep_next()
        prompt = self.ctl.prompt()
        if scale is not None and prompt is not None:
            self.worker.submit("sweep", lambda: self.ctl.decode_sweep(prompt, scale))

    def poll(self) -> None:
        """Apply finished background jobs (call once per frame; the panel's __call__ does)."""
        if self.worker is not None:
            for done in self.worker.poll():
                self._finish(done)
            self._schedule_sweep()
        if self._inline_decode:
            self._inline_decode = False
            prompt, asked = self.ctl.prompt(), time.perf_counter()
            if prompt is not None:
                self._run("decode", lambda: (*self.ctl.decode(prompt), asked))

    def _finish(self, done: Done) -> None:
        if done.error is not None:
            exc = done.error
            if not isinstance(exc, S2AM3DError):
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            self._set_status(f"{done.tag} failed: {exc}", error=True)
            return
        ctl = self.ctl
        if done.tag == "decode":
            prompt, probs, seconds, asked = done.value
            now = ctl.prompt()
            if self.showing_preview and now is not None and now.scale != prompt.scale:
                return  # the preview shown is nearer the slider than this older exact mask
            if ctl.apply_decoded(prompt, probs, seconds):
                self.showing_preview = False
                self.exact_applied += 1
                lag = time.perf_counter() - asked
                self._set_status(f"decoded in {ctl.decode_seconds * 1000:.0f} ms ({lag * 1000:.0f} ms after the input)")
        elif done.tag == "sweep":
            ctl.add_sweep(*done.value)
        elif done.tag == "segment":
            labels, seconds, keep = done.value
            kept = len(ctl.state.parts) if keep else 0
            k = ctl.apply_segment_all(labels, keep_parts=keep)
            self._refresh_part_color()
            how = f", {kept} accepted parts kept" if kept else ""
            self._set_status(f"segment all: {k} new parts at granularity {self.granularity:.3f} in {seconds:.1f} s"
                             f"{how} (Z undoes)")
        elif done.tag == "atoms":
            self.request_decode()
            atoms = ("atoms (welded pieces split at creases)" if ctl.shape.is_mesh
                     else "atoms (the cloud's connected pieces, point by point)")
            self._set_status(f"masks on {atoms if ctl.mesh_aware else 'points'}; "
                             f"{ctl.features_text}")
        elif done.tag == "reorient":
            changed, seconds = done.value
            self.scene.update_geometry()
            self.scene.frame(margin_right_px=PANEL_WIDTH + 20)
            self.request_decode()
            if changed:
                self._set_status(f"up axis {ctl.shape.up}: {ctl.features_text}")

    def wait(self, timeout: float | None = 60.0) -> None:
        """Finish pending background work and apply it (for scripts and tests)."""
        if self.worker is not None:
            self.worker.wait(timeout)
        self.poll()
        if self.worker is not None:  # an inline decode may have queued more work
            self.worker.wait(timeout)
            self.poll()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def _do(self, label: str, fn: Callable[[], Any]) -> Any:
        """Run a quick UI action, reporting user errors in the status line."""
        if self.busy:
            self._set_status("busy: wait for segment all to finish", error=True)
            return None
        try:
            out = fn()
        except (S2AM3DError, OSError) as exc:  # bad input, or a file that cannot be written / read
            self._set_status(f"{label} failed: {exc}", error=True)
            return None
        return out

    def _refresh_part_color(self) -> None:
        if not self._color_edited:
            self.part_color = part_color(self.ctl.state.next_label())
