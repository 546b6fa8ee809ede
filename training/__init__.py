"""The fine-tune half of cibot: serving a model (inference/), base models (base/), LoRA training (finetune/), evaluation (eval/), the adapter registry and the synthetic corpus generator."""
