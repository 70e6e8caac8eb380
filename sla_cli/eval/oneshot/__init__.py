"""`sla eval oneshot`: one-shot recognition of never-seen glyphs in every context (paper, section 10)."""
