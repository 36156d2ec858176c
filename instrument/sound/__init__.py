"""The sound side: parameter table, FM synthesis (numpy), spectral features, the sound bank."""
