"""Task 12: multimodal fusion of a picture, a text and a spoken description (emoji categories)."""
