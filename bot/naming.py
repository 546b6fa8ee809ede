"""`python -m bot.naming`: the naming ranker's repository-grouped cross-validation figure (the
command issue 19 names; the code is bot.engine.naming_fit, also run as `cibot dev naming`)."""
from __future__ import annotations

from bot.engine.naming_fit import main

if __name__ == "__main__":
    main()
