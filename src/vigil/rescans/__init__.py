"""Retroactive matching: items stored before a bank gained entries are matched against them."""
