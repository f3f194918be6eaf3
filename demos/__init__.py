"""Gradio UI modules: one build() -> gr.Blocks per task, plus the metrics tab."""
