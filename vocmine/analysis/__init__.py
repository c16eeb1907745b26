"""Analysis of what customers said: segments, embeddings, sentiment, journey stage, signals, themes."""
