class RuleViolation(Exception):
    """A business rule refused a write. The message is shown to the person as is.

    `status` is the HTTP status a view answers with: 409 for "not now" (poll closed,
    budget spent), 400 for bad input, 403 for "not your role".
    """

    def __init__(self, message: str, *, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status
