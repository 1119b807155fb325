"""The one error type for a user's mistake (bad hyperparameter, bad or missing data)."""


class InputError(Exception):
    """Bad input: the job prints this message as one line on stderr, writes it to the failure
    file and exits 2 (the same exit code as the Node CLI's InputError)."""
