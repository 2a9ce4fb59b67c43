"""The one line a failed `scenetune refresh` prints: the stage, why, the fix if known, what did not run."""

from __future__ import annotations

from scenetune.airflow_env import TaskRun, cut, failure_message, strip_log_prefix

# From a real run with SPARK_MASTER=spark://127.0.0.1:1 (its log, shortened to the lines that matter).
SPARK_LOG = """\
2026-12-06T02:02:34.934170Z [info     ] [DAG TEST] starting task_id=clean_covers map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-06T02:02:35.067274Z [error    ] Task failed with exception     [task] loc=task_runner.py:1639
Traceback (most recent call last):
  File "/work/main/scenetune/fail_fast.py", line 20, in fail_fast
    raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
airflow.sdk.exceptions.AirflowFailException: ConfigurationError: the Spark master spark://127.0.0.1:1 cannot be reached (127.0.0.1:1: Connection refused): start it, or set SPARK_MASTER to a running master (local[*] runs Spark on this machine)
2026-12-06T02:02:35.071119Z [error    ] stage clean_covers failed: ConfigurationError: the Spark master spark://127.0.0.1:1 cannot be reached (127.0.0.1:1: Connection refused): start it, or set SPARK_MASTER to a running master (local[*] runs Spark on this machine). It was not retried: trying again cannot fix it (a setting, a prerequisite or data that failed its audit). The stages after it did not run (catalogue_refresh run manual__2026-12-06T02:02:25.156469+00:00; its summary: `scenetune runs`). [scenetune.run_summary] loc=run_summary.py:59
2026-12-06T02:02:35.105886Z [warning  ] No tasks to run. unrunnable tasks: {<TaskInstance: catalogue_refresh.publish [None]>} [airflow.sdk.definitions.dag] loc=dag.py:1540
"""
TASKS = [TaskRun("preflight", "success", 3.3, 1), TaskRun("crawl", "success", 5.3, 1),
         TaskRun("clean_covers", "failed", 0.1, 1), TaskRun("build_catalogue", "upstream_failed", 0.0, 0),
         TaskRun("quality_gate", "upstream_failed", 0.0, 0), TaskRun("train_tag_head", None, None, 0),
         TaskRun("publish", "upstream_failed", 0.0, 0), TaskRun("record_run", "success", 0.1, 1)]


def test_it_names_the_failed_stage_why_and_the_stages_that_did_not_run():
    line = failure_message("catalogue_refresh", TASKS, SPARK_LOG, "/h/airflow/runs/x.log")
    assert line.startswith("DAG catalogue_refresh failed at clean_covers: ConfigurationError: the Spark master "
                           "spark://127.0.0.1:1 cannot be reached (127.0.0.1:1: Connection refused): start it, or set "
                           "SPARK_MASTER to a running master (local[*] runs Spark on this machine); ")
    assert line.endswith("; not run: build_catalogue, quality_gate, train_tag_head, publish; full log: /h/airflow/runs/x.log")
    assert "2026-12-06" not in line and "[error" not in line and "loc=" not in line and "\n" not in line
    assert "It was not retried" not in line  # the why, not the whole paragraph


def test_a_long_error_is_cut_between_words_and_a_gate_failure_names_its_fix():
    checks = " ".join(f"gold.songs: column song_key{i} not unique" for i in range(40))
    log = f"[2026-11-23T00:01:02.345+0000] {{run_summary.py:59}} ERROR - stage quality_gate failed: {checks}. Its retries are spent."
    tasks = [TaskRun("build_catalogue", "success", 9.0, 1), TaskRun("quality_gate", "failed", 1.0, 2),
             TaskRun("publish", "upstream_failed", 0.0, 0)]
    line = failure_message("catalogue_refresh", tasks, log, "x.log")
    why = line.split(": ", 1)[1].split("; fix: ")[0]
    assert why.endswith("…") and len(why) <= 400
    assert checks.startswith(why[:-1].rstrip())  # whole words of the error, from its start
    assert "; fix: nothing was published and the previous version stays live" in line
    assert "not run: publish;" in line and "ERROR" not in line


def test_without_a_paragraph_the_last_error_line_is_used_without_its_prefix():
    log = ("2026-12-06T02:02:35.067274Z [info     ] Task started [task] loc=a.py:1\n"
           "2026-12-06T02:02:36.000000Z [error    ] OSError: [Errno 28] No space left on device [task] loc=b.py:2\n")
    line = failure_message("score_uploads", [TaskRun("score", "failed", 2.0, 3), TaskRun("publish", None, None, 0)],
                           log, "x.log")
    assert line == ("DAG score_uploads failed at score: OSError: [Errno 28] No space left on device; fix: free disk "
                    "space under SCENETUNE_HOME (`scenetune maintenance` helps); not run: publish; full log: x.log")


def test_log_decorations_and_cuts():
    assert strip_log_prefix("\x1b[31m2026-12-06T02:02:35Z [error    ] boom: SPARK_MASTER='bogus' [task] loc=x.py:1") \
        == "boom: SPARK_MASTER='bogus'"
    assert strip_log_prefix("[2026-12-06 02:02:35,071] {x.py:59} ERROR - it broke") == "it broke"
    assert strip_log_prefix("no prefix at all") == "no prefix at all"
    assert cut("alpha beta gamma", 100) == "alpha beta gamma"
    assert cut("alpha beta gamma", 13) == "alpha beta…"
    assert cut("alphabetagamma delta", 8) == "alphabe…"  # one word longer than the limit: cut inside it
