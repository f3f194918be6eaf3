"""Task 01: image classification (Fashion-MNIST products for uploads, MNIST digits for sketches)."""
