"""Task 04: spam or ham? SpamAssassin e-mails, a LoRA-tuned MiniLM and a TF-IDF baseline."""
