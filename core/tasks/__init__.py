"""Per-task packages: data, model, training, evaluation and inference adapter."""
