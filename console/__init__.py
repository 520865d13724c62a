"""The operators' console: server-rendered pages on the inbox, the leads and the mappings."""
