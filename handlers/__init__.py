"""Conversation flows: channel-neutral handlers that turn messages into replies."""
