"""The shared ground every process stands on: settings, tokens, payload parsing, logs, metrics and
the Redis client. It imports nothing of leadgate's own but ``models``-free standard libraries, so
``models``, ``worker``, ``webhook`` and the operator package can all build on it."""
