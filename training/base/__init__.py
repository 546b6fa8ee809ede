"""Base models: loading any causal LM by Hugging Face id or path, SmolLM2 from its pinned GGUF
(converted once, checksummed), and the embedded 4.3M-parameter test fixture with its tokenizer
and pretraining."""
