"""Plotly figures shared by the Metrics tab and the notebooks."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots


def confusion_matrix_figure(labels: list[str], matrix: list[list[int]], title: str = "Confusion matrix") -> go.Figure:
    """Heatmap of counts, rows = true class, columns = predicted class."""
    fig = go.Figure(
        go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix, texttemplate="%{text}",
                   hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>")
    )
    fig.update_layout(title=title, xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      height=480, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def training_curves_figure(history: list[dict], title: str = "Training curves") -> go.Figure:
    """Loss, accuracy and learning rate per epoch (train vs validation)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("loss", "accuracy", "learning rate"))
    epochs = [row["epoch"] for row in history]
    for col, key in ((1, "loss"), (2, "accuracy")):
        for split, dash in (("train", None), ("val", "dash")):
            name = f"{split}_{key}"
            if any(name in row for row in history):
                fig.add_trace(go.Scatter(x=epochs, y=[row.get(name) for row in history], name=name,
                                         mode="lines+markers", line=dict(dash=dash)), row=1, col=col)
    if any("lr" in row for row in history):
        fig.add_trace(go.Scatter(x=epochs, y=[row.get("lr") for row in history], name="lr", mode="lines+markers"), row=1, col=3)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def per_class_figure(per_class: list[dict], title: str = "Per-class precision / recall / F1") -> go.Figure:
    labels = [row["label"] for row in per_class]
    fig = go.Figure([go.Bar(name=m, x=labels, y=[row[m] for row in per_class]) for m in ("precision", "recall", "f1")])
    fig.update_layout(barmode="group", title=title, yaxis_range=[0, 1.05], height=360, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def class_distribution_figure(distribution: dict[str, dict[str, int]], title: str = "Class distribution") -> go.Figure:
    """Grouped bars of examples per class for each split."""
    fig = go.Figure([go.Bar(name=split, x=list(counts), y=list(counts.values())) for split, counts in distribution.items()])
    fig.update_layout(barmode="group", title=title, height=340, margin=dict(l=10, r=10, t=50, b=10))
    return fig
