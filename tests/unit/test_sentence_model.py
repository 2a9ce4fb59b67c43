"""The sentence model runs as an ONNX export of the packaged sentence-transformers model: same vectors."""

from __future__ import annotations

import numpy as np

from spark_jobs import embeddings

SENTENCES = ["rainy day, sadness, night", "drive", "club, exciting, summer, house party, dance, workout, party",
             "at home, cafe, rest, exhaustion, night, dawn, calm, lo-fi, foggy day, cold day, winter, spring"]


def test_the_onnx_model_gives_sentence_transformers_vectors(tmp_path):
    expected = embeddings.load_torch_model().encode(SENTENCES, convert_to_numpy=True, show_progress_bar=False)
    model = embeddings.OnnxSentenceModel(embeddings.onnx_file(tmp_path))
    got = model.encode(SENTENCES, batch_size=3)  # two batches of different lengths, padded
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    assert got.shape == (4, embeddings.DIMENSIONS)
    assert np.abs(got - expected).max() < 1e-5
    # Each sentence's vector does not depend on the others in its batch (padding is masked out).
    alone = model.encode(SENTENCES[1:2])
    assert np.allclose(alone[0] / np.linalg.norm(alone[0]), got[1], atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == [embeddings.onnx_file(tmp_path).name]  # made once, no temp left
