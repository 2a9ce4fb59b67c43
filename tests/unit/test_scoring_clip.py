"""The CLIP path: a local CLIP folder (transformers format) configured replaces the head, zero-shot over the
labels' English texts. The CLIP here is tiny and randomly initialised, built in the test: nothing is downloaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core import settings
from core.errors import ConfigurationError
from scoring import labels
from scoring.models import ClipZeroShot, current_spec, load
from tests.unit.scoring_files import photo


def build_tiny_clip(folder: Path) -> Path:
    """A 2-layer CLIP (32-d) with a byte-level tokenizer, saved as transformers saves a real one."""
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in sorted(ByteLevel.alphabet()):  # every byte, alone and word-final: any text tokenizes
        vocab[symbol] = len(vocab)
        vocab[symbol + "</w>"] = len(vocab)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=16),
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_clip(tmp_path, monkeypatch) -> Path:
    folder = build_tiny_clip(tmp_path / "tiny-clip")
    monkeypatch.setenv("SCENETUNE_CLIP_MODEL_DIR", str(folder))
    return folder


def test_a_configured_clip_is_the_model_and_scores_zero_shot(home, tiny_clip):
    spec = current_spec()  # no head was ever trained: CLIP alone is enough
    assert spec.kind == "clip" and spec.model_version.startswith("clip:tiny-clip:")
    assert spec.labels == labels.current().labels and spec.catalogue_version is None
    model = load(spec)
    assert isinstance(model, ClipZeroShot) and model.encoder.size == 64
    scores = model.predict([photo("coffee"), photo("rocket", size=None)])
    assert scores.shape == (2, len(spec.labels))
    groups = np.asarray(spec.groups)
    for group in ("weather", "mood", "situation"):  # a softmax per label group
        assert np.allclose(scores[:, groups == group].sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(scores[0], scores[1])  # the pictures, not the prompts alone, decide
    assert current_spec().model_version == spec.model_version  # stable while the folder is unchanged


def test_the_version_follows_the_weights(home, tiny_clip):
    before = current_spec().model_version
    config = json.loads((tiny_clip / "config.json").read_text())
    config["logit_scale_init_value"] = 1.0
    (tiny_clip / "config.json").write_text(json.dumps(config))
    assert current_spec().model_version != before


def test_a_folder_that_is_not_a_transformers_clip_is_one_line(home, tmp_path, monkeypatch):
    folder = tmp_path / "open-clip"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text("{}")
    monkeypatch.setenv("SCENETUNE_CLIP_MODEL_DIR", str(folder))
    with pytest.raises(ConfigurationError, match="SCENETUNE_CLIP_MODEL_DIR=.* holds no config.json"):
        settings.load()
    (folder / "config.json").write_text(json.dumps({"model_type": "siglip"}))
    with pytest.raises(ConfigurationError, match="not 'clip'"):
        load(current_spec())
