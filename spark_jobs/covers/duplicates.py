"""Duplicate covers: exact (the same bytes) and near (re-encoded, slightly cropped, brighter or darker).

Exact duplicates share a content hash. Near duplicates are found in three steps: every pair of
covers whose 64-bit pHash differ by at most ``near_duplicate_distance`` bits is a candidate (all
pairs are compared, 8 bytes each, in blocks: ~1 s for 14k covers); candidates whose mean colour
(chromaticity, which a brightness change keeps) differs are dropped; the rest are confirmed by
aligning small colour thumbnails of the two (a near duplicate is a zoomed crop of the other:
scales 0.92-1.0, every shift) and measuring what is left after one brightness gain, per pixel in
units of noise plus local contrast (so misalignment on sharp edges is forgiven, a different sun
or a missing cloud is not). pHash alone merges different covers of plain skies, whose low
frequencies all look alike.

Groups are the connected components of confirmed pairs; each group keeps one representative.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

THUMB = 64
SCALES = (0.92, 0.94, 0.96, 0.98, 1.0)  # a near duplicate's crop keeps 93-98% of the side
CHROMA_MARGIN = 8  # thumbnail pixels left out of the chroma (crops cut the edges)


def phash_hex(image: Image.Image) -> str:
    import imagehash

    return str(imagehash.phash(image))


def hamming_pairs(hashes: Sequence[str], max_distance: int, block: int = 2048) -> list[tuple[int, int, int]]:
    """``(i, j, distance)`` for every pair i < j of 16-hex-digit hashes at most ``max_distance`` bits apart."""
    if len(hashes) < 2:
        return []
    values = np.array([int(h, 16) for h in hashes], dtype=np.uint64)
    as_bytes = values.view(np.uint8).reshape(-1, 8)
    popcount = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    out = []
    for start in range(0, len(values), block):
        left = as_bytes[start:start + block]
        for other in range(start, len(values), block):
            right = as_bytes[other:other + block]
            dist = popcount[left[:, None, :] ^ right[None, :, :]].sum(axis=2, dtype=np.int32)
            ii, jj = np.nonzero(dist <= max_distance)
            for i, j in zip((ii + start).tolist(), (jj + other).tolist()):
                if i < j:
                    out.append((i, j, int(dist[i - start, j - other])))
    return out


def thumbnail(source: Path | bytes) -> np.ndarray:
    """THUMB x THUMB float32 RGB of a cover, lightly blurred (JPEGs decode at 1/8 scale: fast)."""
    import cv2

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        if im.format == "JPEG":
            im.draft("RGB", (THUMB * 2, THUMB * 2))
        im.seek(0)
        small = np.asarray(im.convert("RGB").resize((THUMB, THUMB), Image.BOX), dtype=np.float32)
    return cv2.GaussianBlur(small, (0, 0), 0.7)


def aligned_residual(a: np.ndarray, b: np.ndarray, noise: float = 4.0) -> float:
    """What is left between two thumbnails after the best zoom-crop alignment and one gain (0: identical).

    The alignment (which one is the crop, its scale and shift) is the best normalised correlation;
    the residual there is the mean over pixels of |difference| / (noise + local contrast).
    Near duplicates score ~0.1-0.4."""
    import cv2

    best = (-2.0, None)
    for x_img, y_img in ((a, b), (b, a)):  # either one may be the zoomed crop of the other
        x_gray = x_img.mean(axis=2)
        for scale in SCALES:
            m = int(round(THUMB * scale))
            y_small = cv2.resize(y_img, (m, m), interpolation=cv2.INTER_AREA)
            score = cv2.matchTemplate(x_gray, y_small.mean(axis=2), cv2.TM_CCOEFF_NORMED)
            _, top, _, (x0, y0) = cv2.minMaxLoc(score)
            if top > best[0]:
                best = (top, (x_img[y0:y0 + m, x0:x0 + m], y_small))
    x_part, y_small = best[1]
    gain = float((x_part * y_small).sum() / ((x_part * x_part).sum() + 1e-6))
    gy, gx = np.gradient(y_small.mean(axis=2))
    residual = np.abs(y_small - gain * x_part).mean(axis=2) / (noise + np.hypot(gx, gy))
    return float(residual.mean())


def chroma(thumb: np.ndarray) -> np.ndarray:
    """Mean (r, g) chromaticity of a thumbnail's centre: unchanged by a brightness gain or a small crop."""
    centre = thumb[CHROMA_MARGIN:-CHROMA_MARGIN, CHROMA_MARGIN:-CHROMA_MARGIN].reshape(-1, 3) + 8.0
    return (centre / centre.sum(axis=1, keepdims=True))[:, :2].mean(axis=0)


def groups(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Connected components: ``root[i]`` is the smallest index in i's group."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]
