"""Text classifiers: a small contract, a model registry, training and evaluation."""
