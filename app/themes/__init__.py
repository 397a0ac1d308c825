"""Theme queries per proposal: counts and shares (from precomputed counts), answer browsing."""
