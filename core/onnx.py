"""Torch models run by ONNX Runtime: exported once into a file, then run on one thread per process.

On these CPUs ONNX Runtime runs the project's encoders faster than torch eager (EfficientNet-Lite0
~7x, MiniLM ~1.25x), and a process that only runs a model never imports torch. One thread: Spark
runs one Python worker per core, and a second thread per worker only makes a busy machine slower.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from core import files

OPSET = 17


def export(module, example: tuple, target: Path, inputs: list[str], output: str | list[str],
           axes: dict[str, dict[int, str]]) -> Path:
    """Write ``module`` (a torch module in eval mode) to ``target`` atomically; ``output``: one name or one per
    output of the module; ``axes``: the dynamic ones."""
    import torch

    with files.atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated; the dynamo one takes ~3x as long
        torch.onnx.export(module, example, str(tmp), input_names=inputs, output_names=[output] if isinstance(output, str) else list(output),
                          dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    return target


def session(path: Path, threads: int = 1):
    """An ONNX Runtime session on ``threads`` threads, logging errors only."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
