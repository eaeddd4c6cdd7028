"""The measure stage: the measurement record, the client's own figures, and the checks on the measurement itself."""
