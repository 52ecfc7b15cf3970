"""EU DSA statements of reasons (Art. 17) for every restriction of an EU user's content or account."""
