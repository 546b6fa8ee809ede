"""Serving a model: the prompt format (shared with training), identifier slots, the local
transformers generator with its serving forms and guided decoding, and the OpenAI-compatible
backend. Everything that runs when a question is answered; nothing here trains."""
