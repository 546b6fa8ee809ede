"""Log intelligence: stream CI logs, excerpt the lines that explain a failure, redact secrets,
name the failing step and classify the failure. Torch-free and cheap to import."""
