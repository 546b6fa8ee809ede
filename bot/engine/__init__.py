"""The answer engine: excerpt → route → retrieve → prompt → generate (pipeline.py), the answer
types, the router, the prompt budget, CI-config checks, and how each route's answer is finished
(finish.py, with the log's own extractive answer in fallback.py)."""
