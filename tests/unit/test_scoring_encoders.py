"""The image encoder runs as an ONNX export of the packaged torch weights: same features, exported once."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch

from scoring import encoders
from scoring.images import to_model_input
from tests.unit.scoring_files import photo


def test_the_onnx_encoder_gives_the_torch_models_features(tmp_path):
    from efficientnet_lite_pytorch import EfficientNet

    encoder = encoders.EfficientNetLite0(tmp_path)
    pictures = [photo(kind) for kind in ("astronaut", "coffee", "camera")]
    inputs = np.stack([to_model_input(p, encoder.size, encoder.mean, encoder.std) for p in pictures])
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(encoders._efficientnet_weights())).eval()
    with torch.inference_mode():
        expected = model.extract_features(torch.from_numpy(inputs)).mean((2, 3)).numpy()
        expected_logits = model(torch.from_numpy(inputs)).numpy()  # the model's own forward: pool, dropout, _fc
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)

    got = encoder.encode_prepared(inputs)
    assert got.shape == (3, 1280) and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-4
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # Different pictures, different features: the export did not freeze a constant.
    assert float(got[0] @ got[1]) < 0.99

    # The same pass also gives the ImageNet classifier's logits: the same features, torch's logits and top-5.
    features, logits = encoder.encode_prepared_with_logits(inputs)
    assert logits.shape == (3, 1000) and logits.dtype == np.float32 and features.dtype == np.float32
    assert np.abs(features - got).max() < 1e-6
    assert np.abs(logits - expected_logits).max() < 1e-3
    top5 = lambda z: [set(row) for row in np.argsort(-z, axis=1)[:, :5]]  # noqa: E731
    assert top5(logits) == top5(expected_logits)
    assert len({int(row.argmax()) for row in logits}) == 3  # three pictures, three different classes


def test_the_export_is_made_once_per_weights_and_reused(tmp_path):
    first = encoders.efficientnet_onnx(tmp_path)
    assert first.parent == tmp_path and encoders.efficientnet_version().split(":")[1] in first.name
    made = first.stat().st_mtime_ns
    assert encoders.efficientnet_onnx(tmp_path) == first and first.stat().st_mtime_ns == made
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp file left behind
