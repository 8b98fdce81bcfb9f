"""From the bot to a nurse and back: tickets, nurse hours, delivery of nurse replies."""
