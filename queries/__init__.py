"""The SQL the pages need: one named query per question, bound parameters only."""
