"""The one database layer: engine, schema and Rasa store configuration."""
