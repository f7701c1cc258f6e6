"""The domain: workflow, actors, errors. Pure Python: no Flask, no database session."""
