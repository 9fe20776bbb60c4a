"""The exceptions the client raises."""


class ClientError(Exception):
    """Something went wrong while running the client (the base of the others)."""


class LoginRejectedError(ClientError):
    """The server refused the login; ``reason`` says why, in the server's words."""

    def __init__(self, reason):
        super().__init__(f'Login rejected: {reason}')
        self.reason = reason


class ConnectionClosedError(ClientError):
    """The connection closed (or could not be made); ``reason`` says why, where known."""

    def __init__(self, reason):
        super().__init__(f'Connection closed: {reason}')
        self.reason = reason


class ProtocolError(ConnectionClosedError):
    """The server sent something the protocol does not allow, so the client closed the connection; ``reason`` says what."""

    def __init__(self, reason):
        ClientError.__init__(self, f'Protocol error: {reason}')
        self.reason = reason


class UnexpectedMessageError(ClientError):
    """
    :meth:`Client.receive_blocking` was told which messages to expect, and the next one was another (it is consumed,
    and kept as ``got``).
    """

    def __init__(self, expected, got):
        super().__init__(f'Expected {" or ".join(expected)}, got {got.name}.')
        self.expected = tuple(expected)
        self.got = got
