"""What tests of vocmine and of its backends share: record factories and the store contract suite."""
