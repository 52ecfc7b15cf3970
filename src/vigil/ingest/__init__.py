"""Reading JSONL and CSV files of items and notices into the spine, batch by batch."""
