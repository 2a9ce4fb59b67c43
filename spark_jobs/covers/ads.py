"""Ads and non-mood collections: by the playlist's tags, and by the cover (a logo beside the text).

Tags (IMGenie's ``Tag_Pattern``, taxonomy.md): weekdays, charts, 동요/태교/자장가, DJ names,
드라마/뮤지컬/노래방 mark collections that say nothing about a mood; a brand is a tag the title
names in brackets (``[BRAND] ...``) or that is the curator's own name, unless it is one of Genie's
own mood or genre tags (titles like "[드라이브] ..." name their theme). Matching is on whole tags
(MPIC's substring matching made 밤 match inside longer tags). A playlist flagged by its tags keeps
its songs in the catalogue; only its cover is left out of image training.

Image: a brand cover is a logo plus a name in the logo's colour. Given the words Tesseract read,
the ink colour of the words is measured inside their boxes, and ``logo_ratio`` is how many pixels
of that colour lie outside the word boxes per ink pixel inside them: an emblem drawn in the
lettering's colour gives a high ratio; a text cover's ink is mostly its words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from spark_jobs.covers.text import Word

# Whole-tag patterns of non-mood collections (after NFKC + casefold, spaces removed).
NON_MOOD_PATTERNS: dict[str, re.Pattern] = {
    "weekday": re.compile(r"^([월화수목금토일]요일|주말|평일|불금|월요병)$"),
    "chart": re.compile(r"^(차트|인기차트|실시간차트|top\d+|best\d+|\d+위|순위|1위곡|역주행)$"),
    "kids": re.compile(r"^(동요|태교|태교음악|자장가|키즈|어린이|유아)$"),
    "dj": re.compile(r"^dj\S+$"),
    "media": re.compile(r"^(드라마|뮤지컬|노래방|애창곡|광고|cf|광고음악)$"),
}
# Genie's own mood and genre tags (taxonomy.md): a title like "[드라이브] ..." names its theme, not a brand.
GENIE_TAGS = frozenset(t for group in (
    "출/퇴근길 휴식 일/공부 집 외출 카페 휴가/여행 드라이브 산책 잠잘때 운동 하우스파티 시상식 집중 거리 클럽 고백 해변 공연 "
    "라운지 애도",
    "기분전환 외로움 슬픔 힘찬 이별 지침/힘듦 설렘 위로 사랑 스트레스/짜증 그리움 추억 우울 행복 불만 분노 기쁨 축하",
    "오후 밤 새벽 저녁 아침",
    "밝은 신나는 편안한 따뜻한 그루브한 부드러운 로맨틱한 웅장한 매혹적인 영화음악 잔잔한 몽환적인 댄서블한 달콤한 시원한 "
    "애절한 어두운 연주음악 캐롤 발렌타인데이 화이트데이 섹시한 로파이",
    "맑은날 추운날 흐린날 비오는날 더운날 안개낀날 눈오는날 봄 여름 가을 겨울",
    "가요 발라드 댄스 락/메탈 pop 랩/힙합 일렉트로니카 인디 블루스/포크 트롯 ost jpop 재즈 클래식 뉴에이지 월드뮤직 r&b/소울",
) for t in group.split())
_BRACKETED = re.compile(r"\[([^\]]+)\]")
LOGO_WORK = 200  # working size of the logo measure


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "").casefold())


def tag_flags(tags: Iterable[str] | None, title: str | None, maker: str | None) -> list[str]:
    """``kind:tag`` for every tag that marks an ad or a non-mood collection, in tag order."""
    bracketed = {_norm(b) for b in _BRACKETED.findall(title or "")}
    maker_norm = _norm(maker or "")
    flags = []
    for tag in tags or ():
        t = _norm(tag)
        if not t:
            continue
        if t not in GENIE_TAGS and (t in bracketed or (maker_norm and t == maker_norm)):
            flags.append(f"brand:{tag}")
            continue
        for kind, pattern in NON_MOOD_PATTERNS.items():
            if pattern.match(t):
                flags.append(f"{kind}:{tag}")
                break
    return flags


def logo_share(image: Image.Image, words: Sequence[Word], lines: Sequence[tuple[int, int, int, int]] = ()) -> float | None:
    """Share of the cover drawn in the words' ink colour outside the text, as solid shapes (an emblem,
    a logo): not thin lines, not the page background (shapes touching the edge). None without words.

    The text is the word boxes plus ``lines`` (the detector's text-line boxes, (x0, y0, x1, y1) in cover
    pixels): Tesseract may read only part of a line, the rest of it is still text, not logo."""
    import cv2

    if not words:
        return None
    w, h = image.size
    s = LOGO_WORK / max(w, h)
    small = np.asarray(image.convert("RGB").resize((max(1, round(w * s)), max(1, round(h * s))), Image.BOX),
                       dtype=np.float32)
    inside = np.zeros(small.shape[:2], dtype=bool)
    inks = []
    for word in words:
        x0, y0 = max(0, int(word.box[0] * s)), max(0, int(word.box[1] * s))
        x1, y1 = min(small.shape[1], int(np.ceil(word.box[2] * s))), min(small.shape[0], int(np.ceil(word.box[3] * s)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        patch = small[y0:y1, x0:x1].reshape(-1, 3)
        rim = np.concatenate([small[y0, x0:x1], small[y1 - 1, x0:x1], small[y0:y1, x0], small[y0:y1, x1 - 1]])
        distance = np.linalg.norm(patch - np.median(rim, axis=0), axis=1)
        far = distance > 60
        if far.sum() >= 3:
            # the glyphs' cores, not their anti-aliased rims (downscaling greys thin strokes)
            inks.append(patch[far & (distance >= np.median(distance[far]))])
        inside[y0:y1, x0:x1] = True
    if not inks:
        return None
    for x0, y0, x1, y1 in lines:
        inside[max(0, int(y0 * s)):int(np.ceil(y1 * s)), max(0, int(x0 * s)):int(np.ceil(x1 * s))] = True
    ink = np.median(np.concatenate(inks), axis=0)
    shapes = ((np.linalg.norm(small - ink, axis=2) < 48) & ~inside).astype(np.uint8)
    shapes = cv2.morphologyEx(shapes, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))  # drop lines and specks
    count, labels, stats, _ = cv2.connectedComponentsWithStats(shapes, connectivity=8)
    hh, ww = shapes.shape
    solid = 0
    for i in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if x == 0 or y == 0 or x + bw >= ww or y + bh >= hh:
            continue  # the page itself, not a shape on it
        solid += area
    return float(solid / (hh * ww))
