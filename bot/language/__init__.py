"""Which language a resident writes in, and which one the conversation uses."""
