"""One class per AWS concern. Each takes an optional boto3 client and builds a real one when absent."""
