"""Privacy of face data: consent before the first upload, and how long training photos are kept."""
