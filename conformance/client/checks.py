"""The client checks; each registers itself in the catalog."""
