"""Cover cleaning: pure logic for ``spark_jobs/clean_covers.py`` (no Spark here).

Cheap stages first, expensive ones only where needed:

1. ``decode``: safe loading; anything Pillow cannot turn into an RGB picture is ``unreadable``.
2. ``templates``: masked, luminance-normalised SSIM against Genie's three templates (plus the
   frame edges of template 3); a match is cropped to its album art.
3. ``text``: a cheap edge-based text-region detector; Tesseract reads only covers it flags.
4. ``ads``: logo dominance in the image; tag patterns of ads and non-mood collections.
5. ``duplicates``: exact (same bytes) and near duplicates (pHash, then an aligned check).

``classify`` runs stages 1-4 on a batch of covers; ``rules`` holds every threshold and the
rules version that keys the cache; ``evaluate`` scores verdicts against labelled covers.
"""
