"""No model: a clear ModelUnavailableError that says what is wrong and how to fix it,
while the rest of the app (the store) keeps working."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vectoros_tui.config import SimilarSettings
from vectoros_tui.locations import Locations
from vectoros_tui.similar import embedder as embedder_module
from vectoros_tui.similar.embedder import (
    BUILTIN_ID,
    Embedder,
    ModelChoice,
    prepare_builtin,
)
from vectoros_tui.similar.errors import ModelUnavailableError, SimilarUnavailableError
from vectoros_tui.similar.service import SimilarDeals
from vectoros_tui.store.store import Store
from vectoros_tui.store.views import WorkspaceView

from .similar_data import memory_index

FIX = "[similar] model"


def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty-model"
    folder.mkdir()
    return folder


def test_a_model_folder_without_onnx_is_unavailable(tmp_path: Path) -> None:
    folder = empty_folder(tmp_path)
    model = Embedder(ModelChoice("builtin", folder, 1, tmp_path / "cache"))

    with pytest.raises(ModelUnavailableError) as missing:
        model.embed_one("forklifts")
    message = str(missing.value)
    assert str(folder) in message and "no .onnx file" in message
    assert "[similar] model_path" in message, "says how to fix it"
    assert not model.loaded

    with pytest.raises(ModelUnavailableError) as again:
        model.embed(["a", "b"])
    assert again.value is missing.value, "the failure is remembered, not retried"


def test_a_broken_model_file_is_unavailable(tmp_path: Path) -> None:
    folder = empty_folder(tmp_path)
    (folder / "model.onnx").write_bytes(b"this is not an ONNX graph")
    model = Embedder(ModelChoice("builtin", folder, 1, tmp_path / "cache"))

    with pytest.raises(ModelUnavailableError) as broken:
        model.embed_one("forklifts")
    assert f"cannot load the embedding model 'builtin' from {folder}" in str(broken.value)
    assert FIX in str(broken.value)


def test_an_unknown_model_name_offline_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = Embedder(ModelChoice("no-such-org/no-such-model", None, 1, tmp_path / "cache"))

    with pytest.raises(ModelUnavailableError) as unknown:
        model.embed_one("forklifts")
    message = str(unknown.value)
    assert "cannot load the embedding model 'no-such-org/no-such-model'" in message
    assert "not supported" in message, "names the problem"
    assert FIX in message and "pip install" in message, "says how to fix it"
    with pytest.raises(ModelUnavailableError):
        _ = model.dimension  # asked of the model, which cannot load


@pytest.mark.parametrize("kind", ["empty-folder", "unknown-name"])
def test_search_is_off_but_the_store_keeps_working(
    store: Store,
    workspace: WorkspaceView,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    similar_locations: Locations,
    kind: str,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if kind == "empty-folder":
        choice = ModelChoice("builtin", empty_folder(tmp_path), 1, tmp_path / "cache")
    else:
        choice = ModelChoice("no-such-org/no-such-model", None, 1, tmp_path / "cache")
    deal = store.deals.create(workspace.id, {"title": "Forklift fleet", "stage": "prospect"})
    service = SimilarDeals(
        store,
        SimilarSettings(),
        similar_locations,
        embedder=Embedder(choice),
        index_factory=memory_index,
    )
    try:
        with pytest.raises(ModelUnavailableError):
            service.search_text(workspace.id, "forklifts")
        with pytest.raises(ModelUnavailableError):
            service.search_deal(workspace.id, deal.id)
        with pytest.raises(SimilarUnavailableError):
            service.refresh(workspace.id)
        if kind == "empty-folder":
            # The built-in model's size is known, so drift needs no model at all.
            assert service.drift(workspace.id).missing == [deal.id]
            assert not service.embedder.loaded
    finally:
        service.close()

    second = store.deals.create(workspace.id, {"title": "Payroll software", "stage": "lead"})
    store.deals.update(deal.id, {"title": "Forklift fleet, 20 trucks"})
    page = store.deals.list(workspace.id)
    assert {d.id for d in page.deals} == {deal.id, second.id}
    assert store.deals.get(deal.id).title == "Forklift fleet, 20 trucks"


def test_prepare_builtin_names_a_missing_onnx_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model is built with the onnx package: make it unimportable.
    monkeypatch.setitem(sys.modules, "onnx", None)

    with pytest.raises(ModelUnavailableError) as missing:
        prepare_builtin(tmp_path / "cache")
    message = str(missing.value)
    assert "'onnx'" in message and "cannot be imported" in message
    assert "pip install" in message
    assert not (tmp_path / "cache" / "models" / BUILTIN_ID).exists()
    assert not [p for p in (tmp_path / "cache" / "models").iterdir()], "no staging left"

    # The same failure through the embedder: loading the built-in model says so.
    model = Embedder(ModelChoice("builtin", None, 1, tmp_path / "cache"))
    with pytest.raises(ModelUnavailableError, match="'onnx'"):
        model.embed_one("forklifts")


def test_prepare_builtin_names_a_missing_weights_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedder_module, "_WEIGHTS_PACKAGE", "vectoros-no-weights")

    with pytest.raises(ModelUnavailableError, match="'vectoros-no-weights'"):
        prepare_builtin(tmp_path / "cache")


def test_prepare_builtin_names_a_missing_tokenizer_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone" / "tokenizer.json"
    monkeypatch.setattr(embedder_module, "_SHIPPED_TOKENIZER", missing)

    with pytest.raises(ModelUnavailableError, match="tokenizer is missing") as error:
        prepare_builtin(tmp_path / "cache")
    assert str(missing) in str(error.value)


def test_prepare_builtin_builds_once_and_mends_an_incomplete_folder(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    target = prepare_builtin(cache)

    assert target == cache / "models" / BUILTIN_ID
    names = {p.name for p in target.iterdir()}
    assert {"model.onnx", "tokenizer.json", "config.json"} <= names
    assert (target / "model.onnx").stat().st_size > 1_000_000
    assert BUILTIN_ID in (target / "built-from.json").read_text()
    stamp = (target / "tokenizer.json").stat().st_mtime_ns

    assert prepare_builtin(cache) == target
    assert (target / "tokenizer.json").stat().st_mtime_ns == stamp, "not rebuilt"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".model-")]

    (target / "config.json").unlink()
    assert prepare_builtin(cache) == target
    assert (target / "config.json").is_file(), "an incomplete folder is rebuilt"
