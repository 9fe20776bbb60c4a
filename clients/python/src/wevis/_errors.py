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


class ArgumentTooLargeError(ClientError, ValueError):
    """
    A message was not sent because an argument holds more than its bound (``name=str(32)`` given a longer name, say):
    ``message_name``, ``argument_name``, ``size`` and ``bound`` (bytes of UTF-8 for a ``str``, bytes for ``bytes``,
    values for ``?f``/``?d``). Raised before anything is written, so the connection carries on.
    """

    def __init__(self, message_name, argument_name, size, bound, unit, definition):
        super().__init__(
            f"The {message_name} message's argument '{argument_name}' holds {size} {unit}, over its bound of {bound} "
            f"({definition}); the message was not sent.")
        self.message_name = message_name
        self.argument_name = argument_name
        self.size = size
        self.bound = bound


class RequestFailedError(ClientError):
    """The server refused a request (its room called ``Fail``, or failed while handling it); ``reason`` says why."""

    def __init__(self, request_name, reason):
        super().__init__(f'The server refused the {request_name} request: {reason}')
        self.request_name = request_name
        self.reason = reason
