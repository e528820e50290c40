"""Channel adapters: turn a chat platform's updates into neutral messages and render replies."""
