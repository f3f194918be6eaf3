"""ML Portfolio core: everything that is not UI (data, models, training, evaluation, inference)."""
