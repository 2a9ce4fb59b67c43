"""Pick SCENETUNE_UNCERTAIN_MARGIN on the tune split of scoring/real_photos (never the test split).

    SCENETUNE_HOME=... python scripts/real_photos/tune_margin.py

Scores the tune photos once with the current model (a trained head: run `scenetune refresh` or `make demo`
first), then for each margin on a grid prints how often the group verdict is the honest one
(``scoring.photo_eval.verdict_accuracy``) and the margin that maximises it (ties: the smaller margin, which
says "uncertain" less often). Put the result in .env / core/settings.py's default by hand.
"""

from __future__ import annotations

import numpy as np

from scoring import models, photo_eval

GRID = np.round(np.arange(0.0, 0.305, 0.01), 3)


def main() -> None:
    spec = models.current_spec()
    photos = photo_eval.load_labelled(split="tune")
    prediction = photo_eval.predict(spec, photos)
    truth = photo_eval.acceptable_columns(photos, spec)
    results = [photo_eval.verdict_accuracy(prediction.scores, truth, spec.groups, float(m)) for m in GRID]
    for r in results:
        print(f"margin {r['margin']:.2f}  right {r['verdict_accuracy']:.3f}  uncertain where nothing "
              f"{r['uncertain_where_nothing'] or 0:.2f}  confident where something {r['confident_where_something'] or 0:.2f}")
    best = max(results, key=lambda r: (r["verdict_accuracy"], -r["margin"]))
    print(f"best on {len(photos)} tune photos: SCENETUNE_UNCERTAIN_MARGIN={best['margin']:.2f}")


if __name__ == "__main__":
    main()
