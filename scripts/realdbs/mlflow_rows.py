"""MLflow's own schema and rows: run with MLflow's interpreter (not appctl's venv).

    <mlflow-venv>/bin/python scripts/realdbs/mlflow_rows.py DB_URL --artifacts DIR [--runs N]

Points MLflow's tracking and registry at DB_URL (its SQLAlchemy store runs MLflow's own
Alembic migrations), then writes rows through MLflow's client only: experiments with tags,
runs with params, tags and metrics (NaN and ±Inf, which MLflow stores as ``is_nan`` and
±1.8e308; extremes; several steps; 4,000 history points), batches,
dataset inputs, registered models with tags, aliases and versions, logged models, traces
with spans, tags and assessments, an evaluation dataset and a webhook, where this MLflow
offers them. Prints one JSON line
``{"runs": ..., "skipped": [...], "seconds": ...}``; ``skipped`` names the kinds this MLflow
could not write (with the reason), so a missing table is explained, not hidden.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from typing import Any


def write_runs(client: Any, experiment_id: str, runs: int) -> list[str]:
    from mlflow.entities import Metric, Param, RunTag

    ids = []
    for i in range(runs):
        run = client.create_run(experiment_id, tags={"mlflow.runName": f"run-{i}", "ü": "✓"})
        rid = run.info.run_id
        ids.append(rid)
        client.log_param(rid, "lr", str(10 ** -(i % 6)))
        client.log_param(rid, "text", "quotes ' \" \\ and\nnewline")
        for step, value in enumerate(
            (math.nan, math.inf, -math.inf, 1e308, -1e-308, 0.1 + 0.2, float(i))
        ):
            client.log_metric(rid, "loss", value, step=step, timestamp=1_700_000_000_000 + step)
        client.log_metric(rid, "acc", 0.5 + i / 1000, step=0)
        ts = 1_700_000_100_000
        client.log_batch(
            rid,
            metrics=[Metric("batch", float(k) / 3, ts + k, k) for k in range(20)],
            params=[Param(f"p{k}", "v" * (k * 50)) for k in range(5)],
            tags=[RunTag("long", "x" * 8000 if i == 0 else "short")],  # MLflow's longest
        )
        if i < 4:  # a long history: list pages cut by the result budget, not by limit
            history = [Metric("history", k / 7, ts + k, k) for k in range(1000)]
            client.log_batch(rid, metrics=history)
        status = ("FINISHED", "FAILED", "KILLED")[i % 3]
        client.set_terminated(rid, status=status, end_time=1_700_000_200_000 + i)
    return ids


def write_inputs(client: Any, run_ids: list[str]) -> None:
    import mlflow.data
    import pandas as pd

    frame = pd.DataFrame({"x": [1.0, math.nan, 3.0], "label": ["a", None, "ç"]})
    dataset = mlflow.data.from_pandas(frame, name="proof-data", targets="x")
    for rid in run_ids[:3]:
        with_tags = [mlflow.entities.InputTag("mlflow.data.context", "training")]
        client.log_inputs(
            rid, [mlflow.entities.DatasetInput(dataset._to_mlflow_entity(), with_tags)]
        )


def write_registry(client: Any, run_ids: list[str], artifacts: str) -> None:
    for m in range(2):
        name = f"proof-model-{m}"
        client.create_registered_model(name, tags={"team": "ml", "ü": "✓"}, description="d")
        for v, rid in enumerate(run_ids[:3]):
            version = client.create_model_version(
                name, source=f"{artifacts}/model-{m}-{v}", run_id=rid, tags={"v": str(v)}
            )
            client.set_model_version_tag(name, version.version, "stage", "candidate")
        client.set_registered_model_alias(name, "champion", "1")


def write_logged_models(client: Any, experiment_id: str, run_ids: list[str]) -> None:
    model = client.create_logged_model(
        experiment_id, name="lm", source_run_id=run_ids[0], tags={"k": "v"}, params={"a": "1"}
    )
    client.finalize_logged_model(model.model_id, "READY")


def write_traces(experiment_id: str) -> None:
    import mlflow

    mlflow.set_experiment(experiment_id=experiment_id)
    for t in range(3):
        with mlflow.start_span(name=f"root-{t}") as span:
            # t == 0: a span row larger than the result budget (cut in list and get)
            span.set_inputs({"q": f"question {t}", "nan": "NaN", "doc": "ü" * (30000 * (t == 0))})
            with mlflow.start_span(name="child") as child:
                child.set_attribute("score", 0.25 * t)
                child.set_outputs({"answer": "ünïcode ✓", "none": None})
            span.set_outputs({"ok": True})
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.set_trace_tag(trace_id, "proof", str(t))
        mlflow.log_feedback(trace_id=trace_id, name="quality", value=t / 2, rationale="r")


def write_webhook(client: Any) -> None:
    """MLflow resolves the address and wants a public IP: offline this is skipped (and said)."""
    client.create_webhook(
        "proof-hook", "https://hooks.example.com/proof", ["model_version.created"], description="ü"
    )


def write_eval_dataset(experiment_id: str) -> None:
    from mlflow.genai.datasets import create_dataset

    dataset = create_dataset(name="proof-eval", experiment_id=experiment_id, tags={"k": "v"})
    dataset.merge_records(
        [
            {"inputs": {"q": "what?", "n": 1.5}, "expectations": {"a": "that", "none": None}},
            {"inputs": {"q": "ünï ✓"}, "expectations": {"a": ["x", 2]}},
        ]
    )


def attempt(skipped: list[str], kind: str, step: Callable[[], None]) -> None:
    try:
        step()
    except Exception as error:  # a kind this MLflow cannot write is reported, not fatal
        skipped.append(f"{kind}: {type(error).__name__}: {str(error)[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    start = time.monotonic()

    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"  # traces written before tagging
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(args.db_url)
    mlflow.set_registry_uri(args.db_url)
    client = MlflowClient(tracking_uri=args.db_url, registry_uri=args.db_url)
    experiments = [
        client.create_experiment(
            name, artifact_location=f"{args.artifacts}/{n}", tags={"owner": "proof", "n": str(n)}
        )
        for n, name in enumerate(("proof-exp", "ünïcode exp ✓"))
    ]
    client.set_experiment_tag(experiments[1], "note", "")
    run_ids = write_runs(client, experiments[0], args.runs)
    run_ids += write_runs(client, experiments[1], 2)
    skipped: list[str] = []
    attempt(skipped, "inputs", lambda: write_inputs(client, run_ids))
    attempt(skipped, "registry", lambda: write_registry(client, run_ids, args.artifacts))
    attempt(skipped, "logged models", lambda: write_logged_models(client, experiments[0], run_ids))
    attempt(skipped, "traces", lambda: write_traces(experiments[0]))
    attempt(skipped, "eval dataset", lambda: write_eval_dataset(experiments[0]))
    attempt(skipped, "webhook", lambda: write_webhook(client))
    client.delete_run(run_ids[-1])
    seconds = round(time.monotonic() - start, 1)
    print(json.dumps({"runs": len(run_ids), "skipped": skipped, "seconds": seconds}))


if __name__ == "__main__":
    main()
