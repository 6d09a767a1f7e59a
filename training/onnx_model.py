"""The served form of a model: ONNX, scored by ONNX Runtime.

Every artifact carries its model exported to ONNX (`model.onnx`) and that model's dynamic int8
quantisation (`model.int8.onnx`), both checksummed in the manifest. The web and worker processes
score with ONNX Runtime on the CPU: the same weights at about twice torch's speed for one
comment, with less per-call overhead (bench/score_throughput.py). Torch stays for training.
"""

import io
import logging
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
RUNTIMES = ("torch", "onnx", "onnx-int8")
OPSET = 17
_INPUTS = ("input_ids", "attention_mask")


def export_onnx(model: Any) -> dict[str, bytes]:
    """The model as ONNX, and its int8 dynamic quantisation: {file name: bytes}. Batch size and
    sequence length stay free (dynamic axes)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = model.cpu().eval()
    # Tracing needs an example: any ids, two rows of unequal length so the mask is not folded away.
    input_ids = torch.full((2, 8), 1, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 5:] = 0
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation and tracer notes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (input_ids, attention_mask),
            buffer,
            input_names=list(_INPUTS),
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=OPSET,
            dynamo=False,
        )
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / ONNX_FILE, Path(tmp) / INT8_FILE
        source.write_bytes(buffer.getvalue())
        logging.disable(logging.WARNING)  # the quantiser logs a line per tensor on the root logger
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8)
        finally:
            logging.disable(logging.NOTSET)
        return {ONNX_FILE: buffer.getvalue(), INT8_FILE: target.read_bytes()}


class OnnxModel:
    """An ONNX Runtime session for one exported model: token ids in, probabilities out."""

    def __init__(self, model: str | Path | bytes, *, threads: int = 1):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        source = model if isinstance(model, bytes) else str(model)
        self.session = onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])

    def predict(self, token_ids: Sequence[Sequence[int]], pad_id: int, batch_size: int) -> np.ndarray:
        """Probabilities, (len(token_ids), labels), in the order given; batches cut in length
        order so each is padded as little as possible."""
        lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
        order = np.argsort(lengths, kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows].max())
            input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
            attention_mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                input_ids[row, : lengths[index]] = token_ids[index]
                attention_mask[row, : lengths[index]] = 1
            (logits,) = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
            if out is None:
                out = np.empty((len(token_ids), logits.shape[1]), dtype=np.float32)
            out[rows] = 1.0 / (1.0 + np.exp(-logits))
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)
