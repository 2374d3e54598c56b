"""Machine-learning models shipped with the platform."""
