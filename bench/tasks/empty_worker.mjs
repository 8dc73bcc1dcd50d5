// Empty worker body: the raw start + exit floor for process start/join.
