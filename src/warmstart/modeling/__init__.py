"""Keras: text vectorization, model building, training."""
