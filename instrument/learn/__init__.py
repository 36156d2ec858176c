"""Training and evaluation: stacked autoencoders, mapping, metrics, data sets, report.
The only place torch is imported."""
