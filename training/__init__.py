"""The fine-tune half of cibot: training data, the embedded base model, LoRA training, adapters, eval."""
