"""Bulk image scoring: the upload queue, the Spark scoring job, image -> tags -> songs.

A stage package like crawlers/ and spark_jobs/: it may import core, schemas, warehouse and
spark_jobs, and is called by the DAGs and the CLI.

- ``uploads``: ``scenetune submit`` - the safe folder walk, content-addressed copies, captions.
- ``upload_queue``: ``ops.image_uploads``, its states and transitions (claim, finish, duplicates).
- ``score_uploads``: the Spark job (``score(run_key)``, ``spark-submit scoring/score_uploads.py``).
- ``images``, ``encoders``, ``models``: decoding, EfficientNet-Lite0 / CLIP, the tag models.
- ``labels``, ``tag_head``: raw tag -> label, and training the head (``train_tag_head(run_key)``).
- ``text_intent``: a caption's bounded shift of the tags (MiniLM over the labels' English).
- ``catalogue``, ``recommend``: the live catalogue as arrays; MPIC's and IMGenie's recommenders.
- ``results``, ``gallery``: ``scenetune status SUBMISSION`` and ``scenetune results``.
- ``evaluate``: ``scenetune evaluate scoring``, the recommenders measured on held-out covers.
"""
