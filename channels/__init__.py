"""Input channels: the edges where residents and nurses reach the assistant."""
