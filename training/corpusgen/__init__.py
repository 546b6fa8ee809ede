"""Synthetic CI-failure corpus: realistic logs over many failure types, with reference answers.

`cibot dev corpus --out training/data --seed 7` writes train.jsonl and heldout.jsonl;
`--incidents` and `--demo-logs` write the knowledge base's incidents and the demo logs.
"""
