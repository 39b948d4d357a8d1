"""The built-in model, for real: 384-dim unit vectors, deterministic, meaning-aware,
truncated at the 256 tokens it was trained on."""

from __future__ import annotations

import json

import numpy as np

from vectoros_tui.locations import Locations
from vectoros_tui.similar.embedder import BUILTIN_DIMENSION, BUILTIN_ID, MAX_TOKENS, Embedder


def test_vectors_are_384_dim_unit_rows_and_deterministic(embedder: Embedder) -> None:
    texts = ["Forklift fleet for the warehouse", "Payroll software for HR", "Forklift fleet"]

    rows = embedder.embed(texts)

    assert rows.shape == (3, BUILTIN_DIMENSION) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.allclose(embedder.embed_one(texts[1]), rows[1], atol=1e-5)
    assert np.allclose(embedder.embed(texts, batch_size=1), rows, atol=1e-5)
    # Meaning, not just characters: the two forklift texts are the closest pair.
    assert rows[0] @ rows[2] > rows[0] @ rows[1]
    assert embedder.dimension == BUILTIN_DIMENSION
    assert embedder.model_id == BUILTIN_ID
    assert embedder.embed([]).shape[0] == 0


def test_rows_come_back_in_the_callers_order(embedder: Embedder) -> None:
    """Texts are embedded shortest first and shared out between sessions: each row must
    still be its own text's vector, whatever the lengths, count and batch size asked for
    (the built-in model embeds one text per call whatever is asked)."""
    texts = [
        "Payroll " * n + subject
        for n, subject in zip(
            (9, 1, 5, 0, 12, 3, 7, 2, 10, 4, 0, 6) * 3,
            ("forklifts", "cloud", "retail", "clinic", "ships", "banks", "trucks") * 5 + ("x",),
            strict=True,
        )
    ]
    one_by_one = np.stack([embedder.embed_one(text) for text in texts])
    for count in (12, len(texts)):  # one session, then all of them
        for batch_size in (1, 3, 8, 64):
            rows = embedder.embed(texts[:count], batch_size=batch_size)
            assert np.allclose(rows, one_by_one[:count], atol=1e-5), (count, batch_size)


def test_text_beyond_256_tokens_is_not_read(
    embedder: Embedder, similar_locations: Locations
) -> None:
    config = similar_locations.cache_dir / "models" / BUILTIN_ID / "tokenizer_config.json"
    assert json.loads(config.read_text())["model_max_length"] == MAX_TOKENS == 256

    long = " ".join(f"forklift number {n} in the warehouse." for n in range(60))
    short = "Forklift in the warehouse."
    tail = " Payroll software for the HR team and restaurant point of sale."
    long_rows = embedder.embed([long, long + tail])
    short_rows = embedder.embed([short, short + tail])

    assert float(long_rows[0] @ long_rows[1]) > 0.9999, "the tail is past the limit"
    assert float(short_rows[0] @ short_rows[1]) < 0.95, "a tail within the limit counts"
