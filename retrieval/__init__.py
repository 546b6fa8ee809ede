"""Knowledge and log intelligence for cibot: the lowest, torch-free layer.

`retrieval.logs` reads, excerpts, classifies and redacts CI logs; the rest builds and searches the
Chroma knowledge index. Nothing here imports `bot` or `training`.
"""
