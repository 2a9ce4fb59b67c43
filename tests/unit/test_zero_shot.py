"""The zero-shot scene scorer: ConSE over MiniLM, per-label calibration, image-statistics rules, the real models."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core import settings
from scoring import encoders, zero_shot
from scoring import labels as label_map
from scoring.images import to_model_input
from tests.unit.scoring_files import photo


def prepared(rgb: np.ndarray) -> np.ndarray:
    """One synthetic 224x224 picture (HxWx3 uint8) as the encoder's prepared input (1, 3, 224, 224)."""
    return to_model_input(Image.fromarray(np.uint8(rgb)), 224, encoders.IMAGENET_MEAN, encoders.IMAGENET_STD)[None]


def picture(fill, top=None, rows: int = 90, stripes=None) -> np.ndarray:
    img = np.zeros((224, 224, 3), np.uint8)
    img[:] = fill
    if top is not None:
        img[:rows] = top
    if stripes is not None:  # a little texture, as a real scene has
        img[:, ::9] = stripes
    return img


# Synthetic scenes, each with the rule it must fire.
DARK = picture((18, 20, 30))  # a night scene
BLUE_SKY = picture((95, 130, 60), top=(80, 150, 235))  # blue sky over green fields
SNOW = picture((240, 242, 245), top=(180, 190, 205), rows=60, stripes=(120, 110, 100))  # snowfield, pale sky, trees
AUTUMN = picture((205, 105, 25), stripes=(90, 55, 25))  # orange-brown leaves, dark branches
FOG = picture((178, 180, 182), top=(190, 191, 193))  # grey, flat, colourless


# --- ConSE and calibration on toy numbers -----------------------------------------------------------

def test_conse_is_the_probability_weighted_mean_of_the_top_classes():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], np.float32))
    weights = zero_shot.conse_weights(logits, top=2)
    # Top 2 classes, their probabilities renormalised: 0.5/0.8 and 0.3/0.8; the rest get nothing.
    np.testing.assert_allclose(weights, [[0.625, 0.375, 0.0, 0.0]], atol=1e-6)
    calibrated = np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [9.0, 9.0]], np.float32)
    np.testing.assert_allclose(zero_shot.conse_scores(logits, calibrated, top=2), [[0.625, 0.75]], atol=1e-6)
    # All four classes: 0.5*1 + 0.15*5 + 0.05*9 and 0.3*2 + 0.15*5 + 0.05*9.
    np.testing.assert_allclose(zero_shot.conse_scores(logits, calibrated, top=4), [[1.7, 1.8]], atol=1e-5)


def test_calibration_stops_a_generic_label_near_every_class_from_winning():
    # Four classes on the axes, so a label's similarities are its first four coordinates (the fifth makes it
    # unit length). 'generic' is near every class (~0.5 each); 'specific' is near class 0 only.
    classes = np.eye(5)[:4]
    generic = np.array([0.52, 0.51, 0.49, 0.48, 0.0])
    specific = np.array([0.45, 0.0, 0.0, 0.0, 0.0])
    specific[4] = np.sqrt(1 - 0.45**2)
    labels = np.stack([generic / np.linalg.norm(generic), specific])
    photo_of_class_0 = np.array([[9.0, 0.0, 0.0, 0.0]])  # class 0 with probability ~1

    raw = zero_shot.conse_weights(photo_of_class_0, top=4) @ (classes @ labels.T)
    assert raw[0].argmax() == 0  # uncalibrated, the generic label wins (0.52 > 0.45)

    calibrated = zero_shot.calibrated_similarities(classes, labels)
    # z of each label over the classes: generic (0.52 - 0.5) / 0.0158 = 1.26; specific sqrt(3) = 1.73.
    np.testing.assert_allclose(calibrated[0], [1.265, 1.732], atol=2e-3)
    assert zero_shot.conse_scores(photo_of_class_0, calibrated, top=4)[0].argmax() == 1


def test_scores_are_a_softmax_within_each_group():
    z = np.array([[0.0, np.log(3.0), 1.0, 1.0, 1.0]])
    out = zero_shot.group_softmax(z, [0, 0, 1, 1, 1], temperature=1.0)
    np.testing.assert_allclose(out, [[0.25, 0.75, 1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    # A higher temperature flattens a group: ln 3 / 2 -> 1 : sqrt(3).
    flat = zero_shot.group_softmax(z, [0, 0, 1, 1, 1], temperature=2.0)
    np.testing.assert_allclose(flat[0, :2], [1 / (1 + np.sqrt(3)), np.sqrt(3) / (1 + np.sqrt(3))], atol=1e-6)


# --- image statistics: each rule on a synthetic picture ------------------------------------------------

RULES = dict(settings.load().zero_shot_rules)


@pytest.mark.parametrize("scene, rule", [(DARK, "night"), (BLUE_SKY, "blue_sky"), (SNOW, "snow"),
                                          (AUTUMN, "autumn"), (FOG, "flat_grey")])
def test_each_image_statistics_rule_fires_on_its_scene_only(scene, rule):
    stats = zero_shot.image_statistics(prepared(scene))
    assert all(v.shape == (1,) and v.dtype == np.float32 for v in stats.values())
    evidence = {name: float(e[0]) for name, e in zero_shot.rule_evidence(stats, RULES).items()}
    assert evidence[rule] == pytest.approx(1.0)
    # The rules that would argue for another season or sky stay silent.
    rivals = {"night", "blue_sky", "snow", "autumn", "flat_grey"} - {rule}
    assert {name for name in rivals if evidence[name] > 0} == set(), evidence


def test_image_statistics_measure_what_they_say():
    stats = zero_shot.image_statistics(np.concatenate([prepared(DARK), prepared(BLUE_SKY)]))
    assert stats["brightness"][0] == pytest.approx((0.299 * 18 + 0.587 * 20 + 0.114 * 30) / 255, abs=0.01)
    assert stats["blue_upper"][1] == pytest.approx(1.0)  # the top third (75 of 224 rows) is all inside the sky
    assert stats["green"][1] == pytest.approx(134 / 224, abs=0.02)  # the fields: rows 90-223
    with pytest.raises(ValueError, match=r"\(n, 3, h, w\)"):
        zero_shot.image_statistics(np.zeros((2, 224, 224)))


def test_a_rule_threshold_comes_from_settings(monkeypatch):
    monkeypatch.setenv("SCENETUNE_ZERO_SHOT_RULE_NIGHT", "0.05,0.02,4")
    rules = dict(settings.load().zero_shot_rules)
    assert rules["night"] == (0.05, 0.02, 4.0)
    # Under the stricter threshold the dark scene (luminance ~0.08) is no longer night.
    stats = zero_shot.image_statistics(prepared(DARK))
    assert zero_shot.rule_evidence(stats, rules)["night"][0] == 0.0
    monkeypatch.setenv("SCENETUNE_ZERO_SHOT_RULE_NIGHT", "0.3,0.3,1")
    with pytest.raises(Exception, match="SCENETUNE_ZERO_SHOT_RULE_NIGHT"):
        settings.load()


# --- the real models ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    labels = label_map.from_taxonomy()
    scorer = zero_shot.ZeroShotScorer(labels.labels, labels.group_of)
    return scorer, encoders.EfficientNetLite0()


def top_of(scorer, row: np.ndarray, group: str, k: int = 1) -> list[str]:
    cols = [i for i, g in enumerate(scorer.groups) if g == group]
    return [scorer.labels[i] for i in sorted(cols, key=lambda i: -row[i])[:k]]


def test_the_real_scorer_reads_photos_and_synthetic_scenes(real):
    scorer, encoder = real
    pictures = np.concatenate([encoder.prepare(photo("coffee"))[None], prepared(DARK), prepared(BLUE_SKY),
                               prepared(SNOW), prepared(AUTUMN), prepared(FOG)])
    _, logits = encoder.encode_prepared_with_logits(pictures)
    scores = scorer.scores(logits, pictures)
    assert scores.shape == (6, len(scorer.labels)) and scores.dtype == np.float32
    assert scores.min() >= 0 and scores.max() <= 1
    for group in ("weather", "mood", "situation"):  # comparable within a group: each sums to 1
        cols = [i for i, g in enumerate(scorer.groups) if g == group]
        np.testing.assert_allclose(scores[:, cols].sum(axis=1), 1.0, atol=1e-4)
    coffee, dark, blue, snow, autumn, fog = scores
    assert "카페" in top_of(scorer, coffee, "situation", 3)
    assert top_of(scorer, dark, "situation") == ["밤"]
    assert top_of(scorer, blue, "weather") == ["맑은날"]
    assert top_of(scorer, snow, "weather", 2)[0] in {"눈오는날", "겨울"}
    assert top_of(scorer, autumn, "weather") == ["가을"]
    assert top_of(scorer, fog, "weather")[0] in {"흐린날", "안개낀날"}


def test_labels_no_scene_shows_start_below_the_rest(real, monkeypatch):
    scorer, encoder = real
    pictures = np.concatenate([encoder.prepare(photo(name))[None] for name in ("coffee", "astronaut", "rocket")])
    _, logits = encoder.encode_prepared_with_logits(pictures)
    unseen = [i for i, label in enumerate(scorer.labels) if label in zero_shot.UNSEEN]
    assert {scorer.labels[i] for i in unseen} >= {"분노", "연주음악", "화이트데이"} and unseen
    offset, answers = settings.load().zero_shot_unseen_offset, zero_shot.fingerprint()
    monkeypatch.setenv("SCENETUNE_ZERO_SHOT_UNSEEN_OFFSET", "0")
    plain = zero_shot.ZeroShotScorer(scorer.labels, scorer.groups).calibrated_scores(logits, pictures)
    shifted = scorer.calibrated_scores(logits, pictures)
    np.testing.assert_allclose(plain[:, unseen] - shifted[:, unseen], offset, atol=1e-5)
    seen = [i for i in range(len(scorer.labels)) if i not in unseen]
    np.testing.assert_allclose(plain[:, seen], shifted[:, seen], atol=1e-6)  # every other label as it was
    assert offset > 0 and zero_shot.fingerprint() != answers  # another offset, other answers: scored again


def test_the_text_embeddings_are_cached_by_digest(real, tmp_path):
    scorer, _ = real
    folder = settings.load().encoder_dir
    cached = sorted(folder.glob("zero-shot-texts-*.npy"))
    assert cached, "the first build writes its text embeddings beside the encoders"
    texts = zero_shot.class_names() + [zero_shot.label_text(label) for label in scorer.labels]
    again = zero_shot.text_vectors(texts)  # read from the cache: the same vectors
    assert again.shape == (1000 + len(scorer.labels), 384)
    np.testing.assert_allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)
    before = set(folder.glob("zero-shot-texts-*.npy"))
    fewer = zero_shot.text_vectors(texts[:3])  # other texts: another file
    assert set(folder.glob("zero-shot-texts-*.npy")) - before  # (the folder is shared: others may add theirs)
    np.testing.assert_allclose(fewer, again[:3], atol=1e-5)


def test_bad_input_gets_a_clear_error(real):
    scorer, _ = real
    with pytest.raises(ValueError, match=r"logits must be \(n, 1000\)"):
        scorer.scores(np.zeros((1, 10)), np.zeros((1, 3, 224, 224)))
    with pytest.raises(ValueError, match="2 rows of logits but 1 pictures"):
        scorer.scores(np.zeros((2, 1000)), np.zeros((1, 3, 224, 224)))
    with pytest.raises(ValueError, match="no group for label"):
        zero_shot.ZeroShotScorer(["밤"], {})
