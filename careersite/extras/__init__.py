"""Site-wide extra files: sitemap and robots.txt, Atom feeds, JSON-LD structured data."""
