"""Outbound lead webhooks: who subscribes, what a change sends, and sending it signed."""
