"""Migration scripts, applied in order by `bot.storage.db.init_db`."""
