"""Server-rendered pages; each view parses, authorizes, calls one service or selector, renders."""
