"""The AWS kernel: clients, member-account sessions, rate limits and the adapters every wing shares."""
