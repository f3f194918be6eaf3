"""Task 09: movie recommendations (MovieLens latest-small) with surprise's SVD, a content model, a hybrid
and a popularity baseline; every served model reads arrays (.npz / JSON), never a pickle."""
