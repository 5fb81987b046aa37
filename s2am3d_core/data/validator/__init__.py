"""PointNet part validator: is a labelled region a plausible part ("good") or a bad one?

The paper filters the parts of its Objaverse-derived dataset with a PointNet-based binary validator.
Ours looks at one part at a time:

* the part's points, normalised to the part's own bounding box (centred, largest half-extent 1),
  resampled to a fixed :data:`N_PART_POINTS` = 256 points;
* context features: the part's fraction of the object's points (= area fraction for area-sampled
  points), its square root, and the part's bounding-box extents relative to the object's largest
  extent (sorted, so the order of the axes does not matter).

Network: shared point MLP 3 -> 64 -> 128 -> 256, max-pool, concatenated with a 5 -> 32 context
MLP, head 288 -> 128 -> 1 logit.

Training data (:func:`train_validator`) is synthetic. Positives: the true parts of every level of
labelled objects (procedural, toy, GLB...). Negatives: random unions of fragments of unrelated parts,
random slabs and boxes cut through the object, and true parts with scattered pieces from elsewhere
in the object; a negative that overlaps a true part (IoU > 0.8) is discarded.

Saved as safetensors (the state dict) with JSON metadata under ``"s2am3d_validator"``
(format values, threshold, training summary); read back with :meth:`PartValidator.load`.

Modules: :mod:`.features` (network inputs of a part), :mod:`.network` (PointNet),
:mod:`.scorer` (:class:`PartValidator`), :mod:`.fileformat` (the file), :mod:`.mining` (good and bad
example parts), :mod:`.training` (:func:`train_validator`).
"""
from .features import CONTEXT_DIM, N_PART_POINTS, part_features
from .fileformat import FORMAT_VERSION, METADATA_KEY, load_validator_file, save_validator_file
from .mining import MIN_PART_POINTS, make_training_examples
from .network import PointNetValidator
from .scorer import PartValidator
from .training import build_training_set, train_validator

__all__ = ["CONTEXT_DIM", "N_PART_POINTS", "part_features", "FORMAT_VERSION", "METADATA_KEY",
           "load_validator_file", "save_validator_file", "MIN_PART_POINTS", "make_training_examples",
           "PointNetValidator", "PartValidator", "build_training_set", "train_validator"]
