"""Theme discovery runs and their stored candidate themes (suggestions for a codeframe)."""
