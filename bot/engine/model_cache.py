"""The trained interpreter kept on disk, so that a start with unchanged data trains nothing and imports no scikit-learn.

Training the classifier takes seconds on the four languages' examples and scikit-learn with scipy adds about a
second and tens of megabytes to a process; a start with a warm cache reads one ``.npz`` file with numpy instead.

* **Keyed by everything training reads**: the bytes of every ``data/nlu*.yml`` and of ``config.yml``, the domain's
  intents and entities, the source of the modules that train and score (a change of code retrains), the format
  below and the numpy and scikit-learn versions. The key names the file and is stored inside it as well.
* **Never trusted blindly**: a file that does not open, has another key or format, or arrays whose shapes do not fit
  together is ignored (a warning) and the model is trained and written again. No pickle: ``allow_pickle=False``.
* **Written atomically**: into a temporary file in the same folder, then renamed over the final name, so a process
  that reads while another writes sees the old file, the new one or none, never half of one. Two processes starting
  together may both train; each renames a complete file and the last one stays.
* **Best effort**: a folder that cannot be written (read-only install) costs a warning and the training, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import struct
import tempfile
import zipfile
from collections.abc import Collection, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import numpy as np

from bot.engine import scoring, understanding
from bot.engine.scoring import Analyzer, Block, Scorer
from bot.engine.understanding import (
    Interpreter,
    NluTrainingData,
    TrainedModel,
    nlu_files,
    normalise,
    read_nlu_files,
)

__all__ = ["DEFAULT_CACHE", "FORMAT", "cache_key", "cache_path", "load", "load_or_train", "save"]

logger = logging.getLogger(__name__)

DEFAULT_CACHE: Final = Path("var") / "models"
"""Where a process keeps its trained model unless told otherwise: beside the default database, under ./var/."""

FORMAT: Final = 1
"""The file layout below; a change of layout changes it, so older files are ignored."""

_PREFIX: Final = "interpreter-"
# The coefficients (about 7 MB, one row per feature) are mapped from the file, not read: a message touches the rows
# of its own few features only, so the rest never becomes resident memory. The file is replaced by renaming, never
# rewritten in place, so a mapping always sees the complete file it opened.
_MAPPED: Final = "coef_t"
_ZIP_LOCAL_HEADER: Final = struct.Struct("<4s22xHH")  # signature, then the name's and the extra field's lengths
_SEPARATOR: Final = "\n"  # between vocabulary terms: analyzers split on whitespace, so no term contains one
# The modules whose code decides what training produces or how its arrays are read.
_CODE: Final = (Path(understanding.__file__), Path(scoring.__file__), Path(__file__))


def cache_key(root: Path, intents: Collection[str], entities: Collection[str] | None) -> str:
    """A hex digest of everything that decides the trained model of the design at ``root`` (see the module)."""
    digest = hashlib.sha256()

    def add(label: str, content: bytes) -> None:
        # Length-prefixed, so that no two different inputs can run together into the same bytes.
        for part in (label.encode(), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)

    add("format", str(FORMAT).encode())
    for package in ("numpy", "scikit-learn"):
        add(package, _version(package).encode())
    for path in _CODE:
        add(f"code:{path.name}", path.read_bytes())
    for path in nlu_files(root / "data"):
        add(f"nlu:{path.name}", path.read_bytes())
    add("config", (root / "config.yml").read_bytes())
    add("intents", json.dumps(sorted(intents)).encode())
    add("entities", json.dumps(None if entities is None else sorted(entities)).encode())
    return digest.hexdigest()


def cache_path(directory: Path, key: str) -> Path:
    return directory / f"{_PREFIX}{key[:32]}.npz"


def load_or_train(
    root: Path,
    cache: Path | None,
    *,
    threshold: float,
    ambiguity_threshold: float,
    intents: Collection[str],
    entities: Collection[str] | None,
) -> Interpreter:
    """The interpreter of the design at ``root``: from ``cache`` when it holds this design's model, else trained on
    ``data/nlu*.yml`` (and then written to ``cache``). ``cache=None`` always trains and writes nothing."""

    def train() -> Interpreter:
        return Interpreter.train(
            _training_data(root),
            threshold=threshold,
            ambiguity_threshold=ambiguity_threshold,
            intents=intents,
            entities=entities,
        )

    if cache is None:
        return train()
    key = cache_key(root, intents, entities)
    path = cache_path(cache, key)
    model = load(path, key)
    if model is not None:
        return Interpreter.from_model(
            model, threshold=threshold, ambiguity_threshold=ambiguity_threshold, intents=intents, entities=entities
        )
    interpreter = train()
    trained = interpreter.model
    if trained is not None:  # two intents are scored by scikit-learn itself, which is not cached
        save(path, key, trained)
    return interpreter


def _training_data(root: Path) -> NluTrainingData:
    return read_nlu_files(nlu_files(root / "data"))


def load(path: Path, key: str) -> TrainedModel | None:
    """The model stored at ``path`` under ``key``; None when there is none, or it is stale or damaged."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files if name != _MAPPED}
        arrays[_MAPPED] = _mapped(path, _MAPPED)
        return _model(arrays, key)
    # Whatever is wrong with the file (truncated zip, foreign arrays, bad JSON, wrong shapes), the cure is the
    # same: train again and replace it. The model is never used half-read.
    except Exception as error:
        logger.warning("Ignoring the cached model %s (%s: %s); training again.", path.name, type(error).__name__, error)
        return None


def save(path: Path, key: str, model: TrainedModel) -> bool:
    """Writes ``model`` to ``path`` atomically and removes older models beside it; False (and a warning) when the
    folder cannot be written."""
    try:
        arrays = _arrays(model, key)
    except ValueError as error:
        logger.warning("Not caching the trained model: %s.", error)
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(path.parent) as (handle, temporary):
            np.savez(handle, allow_pickle=False, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(temporary, path)
    except OSError as error:
        logger.warning("Could not cache the trained model in %s (%s); the next start trains again.", path.parent, error)
        return False
    _remove_others(path)
    return True


@contextlib.contextmanager
def _temporary(directory: Path) -> Iterator[tuple[Any, Path]]:
    """A new file in ``directory`` (same file system, so the rename is atomic), removed unless renamed away."""
    descriptor, name = tempfile.mkstemp(dir=directory, prefix=f".{_PREFIX}", suffix=".tmp")
    temporary = Path(name)
    handle = os.fdopen(descriptor, "wb")
    try:
        yield handle, temporary
    finally:
        handle.close()
        temporary.unlink(missing_ok=True)


def _remove_others(path: Path) -> None:
    # Models of earlier data or code are never read again; a process of other code that still wants one trains anew.
    for other in path.parent.glob(f"{_PREFIX}*.npz"):
        if other.name != path.name:
            other.unlink(missing_ok=True)


def _arrays(model: TrainedModel, key: str) -> dict[str, np.ndarray]:
    scorer = model.scorer
    blocks = []
    arrays: dict[str, np.ndarray] = {}
    for index, block in enumerate(scorer.blocks):
        terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
        if any(_SEPARATOR in term for term in terms):
            raise ValueError("a vocabulary term contains a line break")  # analyzers never produce one
        arrays[f"terms_{index}"] = np.frombuffer(_SEPARATOR.join(terms).encode(), dtype=np.uint8)
        arrays[f"idf_{index}"] = np.asarray(block.idf, dtype=np.float64)
        analyzer = block.analyzer
        blocks.append(
            {
                "kind": analyzer.kind,
                "ngram_range": list(analyzer.ngram_range),
                "token_pattern": analyzer.token_pattern,
                "offset": block.offset,
                "sublinear_tf": block.sublinear_tf,
            }
        )
    meta = {
        "format": FORMAT,
        "labels": list(scorer.labels),
        "blocks": blocks,
        "regexes": {name: list(patterns) for name, patterns in model.regexes.items()},
        "annotated_entity_types": sorted(model.annotated_entity_types),
    }
    arrays["key"] = np.array(key)
    arrays["meta"] = np.array(json.dumps(meta))
    arrays["coef_t"] = np.asarray(scorer.coef_t, dtype=np.float64)
    arrays["intercept"] = np.asarray(scorer.intercept, dtype=np.float64)
    return arrays


def _model(arrays: dict[str, np.ndarray], key: str) -> TrainedModel | None:
    if str(arrays["key"]) != key:
        logger.warning("The cached model's key differs from its file name's; training again.")
        return None
    meta = json.loads(str(arrays["meta"]))
    if meta["format"] != FORMAT:
        return None
    labels = tuple(str(label) for label in meta["labels"])
    coef_t, intercept = _floats(arrays["coef_t"], 2), _floats(arrays["intercept"], 1)
    blocks: list[Block] = []
    columns = 0
    for index, spec in enumerate(meta["blocks"]):
        terms = bytes(arrays[f"terms_{index}"]).decode().split(_SEPARATOR)
        idf = _floats(arrays[f"idf_{index}"], 1)
        if len(idf) != len(terms) or spec["offset"] != columns:
            raise ValueError(f"block {index} does not fit together")
        low, high = spec["ngram_range"]
        analyzer = Analyzer(spec["kind"], (int(low), int(high)), str(spec["token_pattern"]), normalise)
        vocabulary = {term: column for column, term in enumerate(terms)}
        blocks.append(Block(analyzer, vocabulary, idf, columns, bool(spec["sublinear_tf"])))
        columns += len(terms)
    if not blocks or blocks[0].analyzer.kind != "word":
        raise ValueError("the first block must be the word block")
    if coef_t.shape != (columns, len(labels)) or intercept.shape != (len(labels),) or len(labels) < 3:
        raise ValueError(f"coefficients {coef_t.shape} do not fit {columns} features and {len(labels)} intents")
    regexes = {str(name): [str(pattern) for pattern in patterns] for name, patterns in meta["regexes"].items()}
    return TrainedModel(
        Scorer(labels, tuple(blocks), coef_t, intercept), regexes, frozenset(meta["annotated_entity_types"])
    )


def _mapped(path: Path, name: str) -> np.ndarray:
    """The array ``name`` of the .npz at ``path``, memory-mapped (np.savez stores members uncompressed)."""
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo(f"{name}.npy")
    if member.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{name} is compressed")
    with path.open("rb") as handle:
        handle.seek(member.header_offset)
        signature, name_length, extra_length = _ZIP_LOCAL_HEADER.unpack(handle.read(_ZIP_LOCAL_HEADER.size))
        if signature != b"PK\x03\x04":
            raise ValueError(f"{name} has no local header")
        data_start = member.header_offset + _ZIP_LOCAL_HEADER.size + name_length + extra_length
        handle.seek(data_start)
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(handle)
        offset = handle.tell()
    if dtype.hasobject or offset + dtype.itemsize * math.prod(shape) > data_start + member.compress_size:
        raise ValueError(f"{name} does not fit its member")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran_order else "C")


def _floats(array: np.ndarray, dimensions: int) -> np.ndarray:
    if array.dtype != np.float64 or array.ndim != dimensions:
        raise ValueError(f"expected {dimensions}-dimensional float64, found {array.ndim}-dimensional {array.dtype}")
    return np.ascontiguousarray(array)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"
