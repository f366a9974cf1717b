"""One package per vendor: its client, streams, pure mappers and webhook checks."""
