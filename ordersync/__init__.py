"""What Store and Warehouse share: the sync mapping, the order model, the API and app plumbing."""
