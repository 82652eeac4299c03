"""The HTML pages: the editor's home and health check (home), scenario, run-link, watch,
embed and lesson pages (views), and the picture of a design for sharing (preview)."""
