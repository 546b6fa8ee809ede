"""LoRA fine-tuning: training rows (validated, redacted, mixed), their features, the notes added
to them as retrieval would, the real-log rows built from the research datasets, and the training
loop on CPU, one GPU or many."""
