"""The Metrics tab renders what the evaluations wrote."""
from __future__ import annotations

import pytest

from core.artifacts import load_metrics
from core.errors import InputError
from core.registry import TASKS
from demos import metrics as metrics_tab


def test_summary_has_a_measured_headline_for_every_task():
    table = metrics_tab.summary_table()
    assert set(table["task"]) == set(TASKS)
    for name in TASKS:
        headline = load_metrics(TASKS[name].card_dir)["headline"]
        row = table[(table["task"] == name) & (table["variant"] == headline["variant"])].iloc[0]
        assert row["value"] == pytest.approx(headline["value"], abs=1e-4), "headline.metric must be a key of the variant's metrics"


@pytest.mark.parametrize("task", sorted(TASKS))
def test_render_shows_each_section_that_the_metrics_contain(task):
    metrics = load_metrics(TASKS[task].card_dir)
    for variant, block in metrics["variants"].items():
        views = metrics_tab.render(task, variant)
        variant_update, details, cm_plot, curves, per_class, distribution, tables, correct, wrong, figures = views
        assert variant_update["value"] == variant
        assert block["data"]["name"] in details
        assert cm_plot["visible"] == ("confusion_matrix" in block)
        assert curves["visible"] == bool(block.get("history"))
        if block.get("samples"):
            assert len(correct["value"]) == len(block["samples"]["correct"])
        if block.get("tables"):
            assert block["tables"][0]["title"] in tables


def test_unknown_task_is_a_clear_input_error():
    with pytest.raises(InputError, match="Unknown task"):
        metrics_tab.model_metrics("no_such_task")
