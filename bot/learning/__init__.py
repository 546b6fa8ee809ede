"""Learning from the team: votes and their training rows (feedback, trainset), the scheduled
retrain (scheduler, retrain), its child processes (trainer), the gate a candidate must pass, and
the hot swap that serves a promoted adapter without dropping requests."""
