"""Zero-shot scene scores: what is in a photo, from models that never saw a training photo of ours.

Two sources, added in the units of a calibrated similarity (z-scores), then turned into 0-1 scores per group:

1. **ConSE** (Norouzi et al. 2014, "Zero-Shot Learning by Convex Combination of Semantic Embeddings"):
   EfficientNet-Lite0's own ImageNet classifier (its logits come from the forward pass that gives the
   features) names the photo's top-T classes; the photo's text embedding is the convex combination of
   those classes' MiniLM embeddings, weighted by their softmax probabilities; each label is scored by its
   similarity with that embedding.
2. **Image statistics** (:func:`image_statistics`): what objects cannot tell (night, a clear sky, fog, snow,
   autumn colours, spring green), measured from the prepared pixels; each rule adds its evidence to its labels.

Calibration per label: a raw similarity says more about the label text than about the photo (generic
words such as 'focus', 'joy', 'bright' sit near every class, so they would win every photo). Each label's
similarity is z-scored against its similarities to all 1000 class embeddings: a label wins when the photo's
classes are nearer to it than classes usually are. The mixture is left un-normalised, so a photo's score
is exactly the probability-weighted mean of its top classes' calibrated similarities (a scores matrix
``Z (1000, labels)`` made once; per photo it is a sparse weighted sum).

Output: per group, a softmax over its labels of (calibrated z + rule evidence) / temperature: 0-1 scores
comparable within a group (they sum to 1 in each group), so the group's best label stands out when it does.

Build cost: the MiniLM embeddings of the class names and the label texts are cached in the encoder folder,
keyed by a digest of the texts and the model, so a Spark worker builds a scorer in milliseconds after the
first time (it never loads MiniLM then).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from core import files, settings
from core.errors import ConfigurationError
from scoring import labels as label_texts
from scoring.encoders import IMAGENET_CLASSES, IMAGENET_MEAN, IMAGENET_STD

CLASSES_FILE = Path(__file__).parent / "data" / "imagenet_classes.txt"

# Label text for MiniLM where the glossary's English is a poor description of a *photo* of it (a word
# alone is compared with object names such as 'espresso' or 'seashore'); every other label uses
# scoring.labels.english. Why each: the phrase names what such a photo shows.
PHRASES: dict[str, str] = {
    # weather & season: the sky, the light, the ground
    "맑은날": "a clear blue sky on a sunny day", "흐린날": "a grey overcast sky with heavy clouds",
    "비오는날": "rain drops, wet streets and umbrellas", "안개낀날": "thick fog and mist hiding the landscape",
    "눈오는날": "snow falling, snow covered ground", "더운날": "a hot summer desert under the burning sun",
    "추운날": "a cold frozen winter landscape with ice", "봄": "spring blossoms and fresh green leaves",
    "여름": "a lush green summer field", "가을": "autumn leaves in red and orange", "겨울": "a snowy winter scene",
    # mood & style: what a scene of that feeling looks like
    "잔잔한": "a calm still lake in a quiet landscape", "웅장한": "a majestic mountain range or a grand monument",
    "밝은": "a bright colourful sunny scene", "시원한": "cool blue sea water and a fresh breeze",
    "따뜻한": "warm golden light and a cosy room", "편안한": "a comfortable armchair and a blanket to relax in",
    "몽환적인": "a dreamy misty scene in soft hazy light", "로맨틱한": "a romantic sunset for a couple",
    "부드러운": "soft pastel colours and gentle flowers", "어두운": "a dark gloomy night",
    "축하": "a birthday cake with candles and balloons", "캐롤": "a christmas tree with lights and presents",
    "달콤한": "sweet desserts, cakes and candy", "사랑": "a loving couple holding hands",
    "신나는": "an exciting amusement park ride", "힘찬": "a powerful athlete in action",
    "외로움": "a lonely empty bench", "슬픔": "a crying sad person", "영화음악": "a cinema screen and film reel",
    "발렌타인데이": "chocolate hearts for valentine's day", "화이트데이": "white candy gifts",
    # situation & time: the place and the hour
    "휴가/여행": "a famous travel destination: landmarks, castles, mountains and resorts",
    "산책": "a walk along a path through a park or the woods", "드라이브": "a car on an open road through the country",
    "거리": "a city street with shops and buildings", "해변": "a sandy beach by the sea",
    "카페": "a coffee cup on a cafe table", "집": "a living room and kitchen at home", "잠잘 때": "a bed and pillows in a bedroom",
    "휴식": "resting in a hammock or on a sofa", "라운지": "a hotel lounge bar with armchairs",
    "클럽": "a nightclub dance floor with DJ lights", "공연": "a concert stage with a band and crowd",
    "운동": "a gym with barbells and a running track", "일/공부": "a desk with a laptop, books and notes",
    "출/퇴근길": "a crowded subway train and a bus stop", "집중": "a person concentrating at a desk", "밤": "city lights in the dark night",
    "저녁": "the sky at dusk after sunset", "새벽": "the first light of dawn", "아침": "morning sunrise and breakfast",
    "오후": "a sunny afternoon outdoors", "시상식": "an award ceremony stage with trophies",
    "하우스파티": "a party at home with friends", "외출": "going out in town with a handbag",
    "고백": "a bouquet of roses for a love confession", "애도": "a funeral with white flowers",
}

# Labels that objects cannot tell: the hour is in the light, not in what is photographed (a windmill or a
# statue is no nearer to 'dawn' than to 'noon'). ConSE's evidence for them is scaled by this; the rules give the rest.
OBJECT_SHARE: dict[str, float] = {"밤": 0.0, "새벽": 0.0, "저녁": 0.0, "아침": 0.0, "오후": 0.0}

# Labels no scene shows: what the music is for or a feeling about an event, not how a place looks (a photo of
# a lake is not 'anger' or 'instrumental'). Their words still sit near some classes' names, so they start
# this many z below the rest (SCENETUNE_ZERO_SHOT_UNSEEN_OFFSET, set on the tune split).
UNSEEN: frozenset[str] = frozenset({
    "분노", "불만", "스트레스/짜증", "지침/힘듦", "이별", "애절한", "위로", "그리움", "추억", "기분전환", "연주음악",
    "영화음악", "화이트데이", "발렌타인데이", "축하", "댄서블한", "그루브한", "로파이", "섹시한",
})

# Image-statistics rules: rule name -> {label: share of the rule's weight}. The measurement, its thresholds
# and its weight are in settings (SCENETUNE_ZERO_SHOT_RULE_<NAME>: start, full, weight).
RULE_LABELS: dict[str, dict[str, float]] = {
    "night": {"밤": 1.0, "새벽": 0.5, "어두운": 0.6},  # a dark photo was taken at night (or before dawn): no object says so
    "dark_sky": {"밤": 1.0, "새벽": 1.0, "저녁": 0.5},  # a dark upper region over a lit scene: a night or dusk sky
    "blue_sky": {"맑은날": 1.0},  # a large blue upper region is a clear sky
    "grey_sky": {"흐린날": 1.0},  # a bright, colourless upper region is an overcast sky
    "flat_grey": {"안개낀날": 1.0, "흐린날": 0.5, "몽환적인": 0.6},  # grey, low contrast, low saturation everywhere: fog or haze
    "snow": {"눈오는날": 1.0, "겨울": 1.0},  # large white, bright, colourless areas below the sky: snow
    "autumn": {"가을": 1.0},  # orange-brown palettes: autumn leaves
    "green": {"여름": 1.0, "봄": 0.6},  # saturated greens: leaves in summer (and spring)
    "blossom": {"봄": 1.0},  # pink and yellow blossoms: spring flowers
    "bright": {"밝은": 1.0},  # a bright photo looks bright: the mood word for light, not for an object
    "cool": {"시원한": 1.0},  # much blue (sky and water) reads as cool and fresh
    "warm": {"따뜻한": 1.0},  # much orange-yellow light (lamps, low sun, wood) reads as warm
    # An open sky over the top of the photo: outdoors, so a trip, a walk or a drive, and not a room.
    "open_sky": {"휴가/여행": 1.0, "산책": 0.6, "드라이브": 0.6, "라운지": -1.0, "클럽": -1.0, "시상식": -1.0,
                 "집": -1.0, "카페": -0.5, "집중": -1.0, "일/공부": -1.0, "하우스파티": -1.0, "잠잘 때": -1.0},
}
# Which measurement each rule reads (image_statistics' names).
RULE_MEASURE = {"night": "brightness", "dark_sky": "upper_brightness", "blue_sky": "blue_upper",
                "grey_sky": "grey_upper", "flat_grey": "flatness", "snow": "white_lower", "autumn": "orange",
                "green": "green", "blossom": "blossom",
                "bright": "brightness", "cool": "blue", "warm": "warm", "open_sky": "sky_upper"}
DOWNSAMPLE = 4  # statistics on 56x56 of the 224x224 input's pixels: the same shares, 16x less work


def class_names() -> list[str]:
    """The 1000 ImageNet class names, in the classifier's output order."""
    names = [line.strip() for line in CLASSES_FILE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    if len(names) != IMAGENET_CLASSES:
        raise ConfigurationError(f"{CLASSES_FILE}: {len(names)} class names, expected {IMAGENET_CLASSES}")
    return names


def label_text(label: str) -> str:
    return PHRASES.get(label) or label_texts.english(label)


# --- ConSE and calibration: pure functions on arrays -------------------------------------------------

def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def calibrated_similarities(class_vectors: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """``(classes, labels)``: each label's cosine with each class, z-scored over the classes (per label)."""
    sims = np.asarray(class_vectors, np.float64) @ np.asarray(label_vectors, np.float64).T
    sd = sims.std(axis=0)
    return ((sims - sims.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)).astype(np.float32)


def conse_weights(logits: np.ndarray, top: int) -> np.ndarray:
    """``(n, classes)``: each photo's softmax probabilities kept for its ``top`` classes, renormalised to sum to 1
    (zero elsewhere): the convex combination's weights."""
    probs = softmax(logits, axis=1)
    top = max(1, min(int(top), probs.shape[1]))
    keep = np.argpartition(-probs, top - 1, axis=1)[:, :top]
    weights = np.zeros_like(probs)
    chosen = np.take_along_axis(probs, keep, axis=1)
    np.put_along_axis(weights, keep, chosen / chosen.sum(axis=1, keepdims=True), axis=1)
    return weights


def conse_scores(logits: np.ndarray, calibrated: np.ndarray, top: int) -> np.ndarray:
    """``(n, labels)``: the probability-weighted mean of the top classes' calibrated similarities."""
    return (conse_weights(logits, top) @ np.asarray(calibrated, np.float64)).astype(np.float32)


def group_softmax(z: np.ndarray, group_index: Sequence[int], temperature: float) -> np.ndarray:
    """Softmax of ``z / temperature`` within each group of columns (``group_index``: the group of each column)."""
    z = np.asarray(z, np.float64) / temperature
    out = np.zeros_like(z)
    group_index = np.asarray(group_index)
    for g in np.unique(group_index):
        cols = group_index == g
        out[:, cols] = softmax(z[:, cols], axis=1)
    return out.astype(np.float32)


# --- image statistics ------------------------------------------------------------------------------------

def _rgb(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """``(n, 3, h, w)`` prepared inputs back to RGB in 0-1, one pixel in ``DOWNSAMPLE`` each way (the centre of
    each block: a resized photo is smooth at that scale, and block means would cost 20x more)."""
    x = np.asarray(pixels, np.float32)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"pixels must be (n, 3, h, w) prepared inputs, got shape {x.shape}")
    k = DOWNSAMPLE if min(x.shape[2:]) >= 8 * DOWNSAMPLE else 1
    x = x[:, :, k // 2::k, k // 2::k]
    x = x * np.asarray(std, np.float32)[None, :, None, None] + np.asarray(mean, np.float32)[None, :, None, None]
    return np.clip(x, 0.0, 1.0)


def image_statistics(pixels: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN,
                     std: Sequence[float] = IMAGENET_STD) -> dict[str, np.ndarray]:
    """Named per-photo measurements, each ``(n,)`` float32, of ``(n, 3, h, w)`` prepared inputs (normalised
    with ``mean``/``std``; un-normalised here). Shares are of pixels; the upper region is the top third."""
    rgb = _rgb(pixels, mean, std)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    value, low = rgb.max(axis=1), rgb.min(axis=1)
    chroma = value - low
    saturation = np.where(value > 1e-6, chroma / np.maximum(value, 1e-6), 0.0)
    # Hue in degrees (HSV), vectorised; undefined (0) where chroma is 0.
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(value == r, ((g - b) / safe) % 6, np.where(value == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = np.where(chroma > 1e-6, hue * 60.0, 0.0)
    luma = 0.299 * r + 0.587 * g + 0.114 * b  # perceived brightness; a deep blue sky is dark in luma, not in value
    rows = rgb.shape[2]
    upper = slice(0, max(1, rows // 3))
    lower = slice(max(1, rows // 3), rows)

    def share(mask: np.ndarray, region: slice = slice(None)) -> np.ndarray:
        return mask[:, region].mean(axis=(1, 2))

    blue = (hue >= 190) & (hue <= 250) & (saturation > 0.2) & (value > 0.35)  # sky blue, not navy shadows
    grey = (saturation < 0.12) & (value > 0.45)  # a bright colourless sky
    white = (saturation < 0.12) & (value > 0.75)  # snow: bright and colourless
    orange = (hue >= 12) & (hue <= 45) & (saturation > 0.4) & (value > 0.25)  # orange-brown leaves, not skin
    green = (hue >= 70) & (hue <= 160) & (saturation > 0.3) & (value > 0.2)  # leaves and grass
    pink = (hue >= 290) & (hue <= 350) & (saturation > 0.2) & (value > 0.5)  # cherry and azalea blossoms
    cool = (hue >= 180) & (hue <= 250) & (saturation > 0.25) & (value > 0.3)  # sky and water blues
    warm = (hue >= 10) & (hue <= 60) & (saturation > 0.35) & (value > 0.3)  # lamplight, low sun, wood
    yellow = (hue > 45) & (hue < 65) & (saturation > 0.5) & (value > 0.6)  # forsythia, rape, dandelions
    contrast = luma.std(axis=(1, 2))
    mean_saturation = saturation.mean(axis=(1, 2))
    stats = {
        "brightness": luma.mean(axis=(1, 2)),
        "upper_brightness": value[:, upper].mean(axis=(1, 2)),  # value: a deep blue sky is not a dark one
        "lower_brightness": luma[:, lower].mean(axis=(1, 2)),
        "contrast": contrast,
        "saturation": mean_saturation,
        "blue_upper": share(blue, upper),
        "grey_upper": share(grey, upper) * (1.0 - share(blue, upper)),
        # Fog and haze: little contrast and little colour in a lit scene (each 0-1; a dark photo is flat too).
        "flatness": (np.clip(1.0 - contrast / 0.25, 0, 1) * np.clip(1.0 - mean_saturation / 0.3, 0, 1)
                     * np.clip((luma.mean(axis=(1, 2)) - 0.2) / 0.2, 0, 1)),
        "white_lower": share(white, lower),
        "orange": share(orange),
        "green": share(green),
        "blossom": share(pink | yellow),
        "sky_upper": share(blue, upper) + share(grey, upper) * (1.0 - share(blue, upper)),
        "blue": share(cool),
        "warm": share(warm),
    }
    return {name: np.asarray(v, np.float32) for name, v in stats.items()}


def rule_evidence(stats: Mapping[str, np.ndarray], rules: Mapping[str, tuple[float, float, float]]) -> dict[str, np.ndarray]:
    """Per rule, ``(n,)`` evidence in 0-1: a linear ramp from ``start`` (none) to ``full`` (all), in either
    direction (``full < start``: lower is stronger, as for darkness)."""
    out = {}
    for name, (start, full, _weight) in rules.items():
        measure = np.asarray(stats[RULE_MEASURE[name]], np.float64)
        span = full - start
        out[name] = np.clip((measure - start) / span, 0.0, 1.0) if span else (measure >= start).astype(float)
    return out


# --- the scorer ---------------------------------------------------------------------------------------

def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def text_vectors(texts: Sequence[str], encoder_dir: Path | str | None = None) -> np.ndarray:
    """Unit-length MiniLM vectors of ``texts``, cached in the encoder folder by a digest of the texts and
    the model (computed the first time: MiniLM's ONNX export is loaded only then)."""
    from spark_jobs import embeddings

    folder = Path(encoder_dir) if encoder_dir else settings.load().encoder_dir
    target = folder / f"zero-shot-texts-{_digest(embeddings.model_id(), *texts)[:16]}.npy"
    if target.is_file():
        vectors = np.load(target)
        if vectors.shape == (len(texts), embeddings.DIMENSIONS):
            return vectors
    vectors, errors = embeddings.encode(list(texts), embeddings.load_model(str(folder)))
    bad = [t for t, e in zip(texts, errors) if e]
    if bad:
        raise ConfigurationError(f"the sentence model cannot embed {bad[0]!r}: {errors[texts.index(bad[0])]}")
    with files.atomic_path(target) as tmp:
        with tmp.open("wb") as handle:
            np.save(handle, vectors.astype(np.float32))
    return vectors.astype(np.float32)


class ZeroShotScorer:
    """Scores ``labels`` (each in one of ``groups``: a mapping label -> group, or one group per label) from
    a photo's ImageNet logits and its prepared pixels. Build once per process."""

    def __init__(self, labels: Sequence[str], groups: Mapping[str, str] | Sequence[str],
                 encoder_dir: Path | str | None = None, config: settings.Settings | None = None) -> None:
        self.labels = tuple(labels)
        if isinstance(groups, Mapping):
            missing = [label for label in self.labels if label not in groups]
            if missing:
                raise ValueError(f"no group for label {missing[0]!r}")
            group_of = [groups[label] for label in self.labels]
        else:
            group_of = list(groups)
            if len(group_of) != len(self.labels):
                raise ValueError(f"{len(group_of)} groups for {len(self.labels)} labels")
        self.groups = tuple(group_of)
        order = list(dict.fromkeys(group_of))
        self.group_index = np.array([order.index(g) for g in group_of], np.int64)
        config = config or settings.load()
        self.top = config.zero_shot_top_classes
        self.temperature = config.zero_shot_temperature
        self.rules = dict(config.zero_shot_rules)
        texts = class_names() + [label_text(label) for label in self.labels]
        vectors = text_vectors(texts, encoder_dir)
        self.object_share = np.asarray([OBJECT_SHARE.get(label, 1.0) for label in self.labels], np.float64)
        self.offset = np.asarray([-config.zero_shot_unseen_offset if label in UNSEEN else 0.0
                                  for label in self.labels], np.float64)
        self.calibrated = calibrated_similarities(vectors[:IMAGENET_CLASSES], vectors[IMAGENET_CLASSES:])
        # Per rule, the weight it adds to each label's z (labels this scorer does not have are skipped).
        position = {label: i for i, label in enumerate(self.labels)}
        self.rule_weights = {}
        for name, (_start, _full, weight) in self.rules.items():
            row = np.zeros(len(self.labels), np.float32)
            for label, share in RULE_LABELS[name].items():
                if label in position:
                    row[position[label]] = weight * share
            self.rule_weights[name] = row

    def calibrated_scores(self, logits: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """``(n, labels)``: ConSE's calibrated similarity plus the image-statistics evidence, in z units."""
        logits = np.asarray(logits, np.float32)
        if logits.ndim != 2 or logits.shape[1] != IMAGENET_CLASSES:
            raise ValueError(f"logits must be (n, {IMAGENET_CLASSES}), got shape {logits.shape}")
        if len(pixels) != len(logits):
            raise ValueError(f"{len(logits)} rows of logits but {len(pixels)} pictures")
        z = conse_scores(logits, self.calibrated, self.top).astype(np.float64) * self.object_share[None, :]
        z += self.offset[None, :]
        if len(logits):
            evidence = rule_evidence(image_statistics(pixels), self.rules)
            for name, row in self.rule_weights.items():
                z += evidence[name][:, None] * row[None, :]
        return z.astype(np.float32)

    def scores(self, logits: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """``(n, len(labels))`` float32 in 0-1: per group, a softmax of the calibrated scores over its labels."""
        return group_softmax(self.calibrated_scores(logits, pixels), self.group_index, self.temperature)


class MappedScorer:
    """Scores a model's ``labels`` through the raw tags each stands for (``members``: label -> tags, as a tag map
    merges them; a label without members stands for itself): the tags are scored (rules and phrases speak of
    tags), and a label's score is the sum of its tags' within-group probabilities (the photo shows any of them)."""

    def __init__(self, labels: Sequence[str], groups: Sequence[str], members: Mapping[str, Sequence[str]] | None = None,
                 encoder_dir: Path | str | None = None, config: settings.Settings | None = None) -> None:
        self.labels, self.groups = tuple(labels), tuple(groups)
        members = members or {}
        tags: dict[str, tuple[str, int]] = {}  # tag -> (group, label column); a tag counts for one label
        for j, (label, group) in enumerate(zip(self.labels, self.groups)):
            for tag in members.get(label) or (label,):
                tags.setdefault(tag, (group, j))
        self.tags = tuple(tags)
        self.scorer = ZeroShotScorer(self.tags, [g for g, _ in tags.values()], encoder_dir, config)
        self.aggregate = np.zeros((len(self.tags), len(self.labels)), np.float32)
        for i, (_group, j) in enumerate(tags.values()):
            self.aggregate[i, j] = 1.0

    def scores(self, logits: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """``(n, len(labels))`` float32 in 0-1, summing to 1 within each group."""
        return (self.scorer.scores(logits, pixels) @ self.aggregate).astype(np.float32)


def fingerprint(config: settings.Settings | None = None) -> str:
    """A digest of everything that makes this scorer's answers: its phrases, rules, settings and class list."""
    config = config or settings.load()
    body = repr((sorted(PHRASES.items()), sorted(RULE_LABELS.items()), sorted(RULE_MEASURE.items()),
                 sorted(OBJECT_SHARE.items()), sorted(UNSEEN), config.zero_shot_unseen_offset, DOWNSAMPLE,
                 config.zero_shot_top_classes, config.zero_shot_temperature,
                 tuple(config.zero_shot_rules), CLASSES_FILE.read_text(encoding="utf-8")))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4)
def shared_scorer(labels: tuple[str, ...], groups: tuple[str, ...], members: tuple[tuple[str, tuple[str, ...]], ...] = (),
                  encoder_dir: str | None = None) -> MappedScorer:
    """One scorer per process and label set (Spark reuses Python workers between tasks)."""
    return MappedScorer(labels, groups, dict(members), encoder_dir)
