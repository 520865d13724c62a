"""File ingestion: uploads of CSV files whose rows become ingestion events of a config."""
