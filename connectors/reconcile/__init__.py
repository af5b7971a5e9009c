"""Compare both databases through the mapping, and repair drift through the normal pipeline."""
