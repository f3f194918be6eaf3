"""The Metrics tab renders what the evaluations wrote."""
from __future__ import annotations

import pytest

from core.artifacts import load_metrics
from core.errors import InputError
from core.registry import TASKS
from demos import metrics as metrics_tab


def test_summary_has_a_measured_headline_for_every_task_in_words():
    table = metrics_tab.summary_table()
    assert set(table["task"]) == {spec.title for spec in TASKS.values()}
    for spec in TASKS.values():
        headline = load_metrics(spec.card_dir)["headline"]
        row = table[(table["task"] == spec.title) & (table["model"] == headline["variant"])].iloc[0]
        assert row["value"] == metrics_tab.format_value(headline["value"]), "headline.metric must be a key of the variant's metrics"
        assert row["better"] == ("higher" if headline["higher_is_better"] else "lower")
        assert "_" not in row["headline metric"] and "(" not in row["headline metric"]  # words, no variant suffix


@pytest.mark.parametrize("name, label, better", [
    ("held_out_mase", "held-out MASE", "lower"), ("f1_macro", "F1 macro", "higher"), ("accuracy", "accuracy", "higher"),
    ("held_out_coverage_95", "held-out coverage 95", "closest to nominal"), ("held_out_forecasts", "held-out forecasts", ""),
    ("bundled_backtest_smape", "bundled backtest sMAPE (%)", "lower"),
])
def test_metric_names_are_words_with_their_direction(name, label, better):
    assert metrics_tab.metric_label(name) == label
    assert metrics_tab.better(name) == better


@pytest.mark.parametrize("value, shown", [(14.0, "14"), (14, "14"), (280170, "280,170"), (0.92574, "0.9257"),
                                          (1.2122052, "1.212"), (831.72, "831.7"), (12345.67, "12,345.7"), ("n/a", "n/a")])
def test_values_are_shown_as_counts_or_rounded_numbers(value, shown):
    assert metrics_tab.format_value(value) == shown


def test_summary_html_labels_every_cell_for_the_phone_layout():
    html = metrics_tab.summary_html()
    assert html.count("<tr>") == len(metrics_tab.summary_rows()) + 1
    for column in metrics_tab.SUMMARY_COLUMNS:
        assert f'data-label="{column}"' in html


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
