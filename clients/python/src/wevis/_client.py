"""The client, with the original module's API: a thread that keeps the connection, and blocking calls to use it."""
import logging
import queue
import threading

from . import _protocol
from ._definitions import Message, instantiated_definitions
from ._errors import ClientError, ConnectionClosedError, RequestFailedError, UnexpectedMessageError

_CLOSED = object()  # In the incoming queue: the connection has closed; nothing follows.


class Client(threading.Thread):
    """
    A client of a Wevis server. It runs as a thread that connects, logs in, answers the server's pings and queues
    the messages that arrive, so the program can pause for as long as it likes between calls. Use it blocking, as
    in the original::

        defs = wevis.DefinitionList.from_file('example.wevis')
        client = wevis.Client('michael', 'mypassword', '1.0.0', 'localhost', 12121, definitions=defs)
        try:
            client.start_blocking()
            client.receive_blocking('ServerReady')
            client.q('WhoAmI')
            print(client.receive_blocking('YouAre').get('name'))
        finally:
            client.stop()

    Arguments: ``username``, ``password`` (only its salted hash is sent) and ``version`` (passed to the server's
    validator), ``host`` and ``port``; ``definitions``, a :class:`DefinitionList` (the instantiated one if not
    given); ``name``, the thread's and logger's name; ``timeout``, seconds to connect and log in; and
    ``max_frame_size``, the largest message read.
    """

    def __init__(self, username, password, version, host='localhost', port=_protocol.DEFAULT_PORT,
                 name='wevis.client', definitions=None, timeout=10.0, max_frame_size=_protocol.DEFAULT_MAX_FRAME_SIZE):
        super().__init__(name=name, daemon=True)
        self._username = str(username)
        self._password = str(password)
        self._version = str(version)
        self._host = host
        self._port = _protocol.DEFAULT_PORT if port is None else int(port)
        self._definitions = definitions if definitions is not None else instantiated_definitions()
        self._timeout = timeout
        self._max_frame_size = max_frame_size
        self._log = logging.getLogger(name)
        self._connection = None
        self._failure = None
        self._logged_in = threading.Event()  # set when the login has succeeded or failed
        self._incoming = queue.Queue()
        self._closed = threading.Event()
        # Requests waiting for their answer: id -> _PendingRequest. The lock also orders them with the closing.
        self._requests = {}
        self._requests_lock = threading.Lock()
        self._last_request_id = 0

    @property
    def username(self):
        """The name this client logs in as."""
        return self._username

    @property
    def definitions(self):
        """The message definitions this client speaks."""
        return self._definitions

    @property
    def is_connected(self):
        """Whether the client has logged in and the connection is open."""
        return self._connection is not None and not self._closed.is_set()

    @property
    def close_reason(self):
        """Why the connection closed, once it has (the server's words where it gave a reason)."""
        return None if self._connection is None else self._connection.close_reason

    def run(self):
        """The client's thread: connects, logs in, then reads messages until the connection closes."""
        try:
            self._log.info('Connecting to %s:%s', self._host, self._port)
            self._connection = _protocol.Connection.open(
                self._host, self._port, self._username, self._password, self._version, self._definitions,
                self._timeout, self._max_frame_size)
        except ClientError as e:
            self._log.info('Could not log in: %s', e)
            self._failure = e
            self._closed.set()
            self._logged_in.set()
            self._incoming.put(_CLOSED)
            return
        self._log.info('Logged in as %s', self._username)
        self._logged_in.set()
        try:
            while True:
                name, values = self._connection.receive()
                if name == '_Reply':
                    request_id, name, values = values
                    self._answer(request_id, name, Message._from_wire(self._definitions.get(name), values), None)
                elif name == '_Failed':
                    self._answer(values[0], '_Failed: ' + values[1], None, values[1])
                else:
                    message = Message._from_wire(self._definitions.get(name), values)
                    self._log.debug('Received %s', message)
                    self._incoming.put(message)
        except ConnectionClosedError as e:
            self._failure = e
            self._log.info('Connection closed: %s', e.reason)
        finally:
            with self._requests_lock:
                self._closed.set()
                waiting, self._requests = list(self._requests.values()), {}
            for pending in waiting:
                pending.done.set()  # no answer: request() sees the connection closed
            self._incoming.put(_CLOSED)

    def _answer(self, request_id, answer, reply, failure):
        """Ends the request ``request_id`` waits on; an answer no request waits for came too late, and is dropped."""
        with self._requests_lock:
            pending = self._requests.pop(request_id, None)
        if pending is None:
            self._log.info('Dropped %s, the answer to request %s, which was no longer waited for', answer, request_id)
            return
        pending.reply, pending.failure = reply, failure
        pending.done.set()

    def start_blocking(self, timeout=None):
        """
        Starts the client and waits until it has logged in. Raises :class:`LoginRejectedError` with the server's
        reason, or :class:`ConnectionClosedError` if the server could not be reached or closed first.
        """
        self.start()
        if not self._logged_in.wait(timeout):
            self.stop()
            raise ClientError(f'The login did not finish within {timeout} s.')
        if self._connection is None:
            raise self._failure

    def queue(self, message):
        """
        Sends ``message`` (a :class:`Message`) to the server; messages arrive in the order sent. A request sent this
        way reaches the room as a plain message, and nothing answers it (use :meth:`request`). Raises
        :class:`ClientError` for a ``server:`` message (only the server sends it), and
        :class:`ArgumentTooLargeError` for an argument over its bound, before anything is sent.
        """
        values = self._checked(message, 'queue')
        self._log.debug('Sending %s', message)
        self._connection.send(message.definition.wire_id, values)

    def request(self, _message, timeout=_protocol.DEFAULT_REQUEST_TIMEOUT, **_values):
        """
        Sends a request (a message whose definition names replies, ``client: Join room=str(32) -> Joined |
        RoomFull``) and waits for its answer, which it returns: a :class:`Message`, one of the replies. ``_message``
        is a :class:`Message`, or a name and its arguments: ``client.request('Join', room='lobby')`` (an argument
        called ``timeout`` only in a :class:`Message`). Other messages that arrive meanwhile go to
        :meth:`receive_blocking` as always; several threads may have requests in flight at once.

        Raises :class:`RequestFailedError` with the server's reason if the room refused the request (or failed
        while handling it), ``TimeoutError`` after ``timeout`` seconds (30 unless given; ``None`` waits as long as
        the connection lasts; a later answer is dropped), :class:`ConnectionClosedError` if the connection closes
        first, and as :meth:`queue` does before sending.
        """
        message = _message if isinstance(_message, Message) else self._message(_message, **_values)
        if not message.definition.is_request:
            raise ClientError(
                f'{message.name} is not a request: its definition ({message.definition!r}) names no replies after '
                f'"->". Send it with q() or queue().')
        values = self._checked(message, 'request')
        pending = _PendingRequest()
        with self._requests_lock:
            if self._closed.is_set():
                raise ConnectionClosedError(self.close_reason or 'the connection is closed')
            request_id = self._next_request_id()
            self._requests[request_id] = pending
        try:
            self._log.debug('Requesting %s (request %s)', message, request_id)
            self._connection.send_request(request_id, message.definition.wire_id, values)
            if not pending.done.wait(timeout):
                raise TimeoutError(f'The {message.name} request (id {request_id}) was not answered within {timeout} s.')
        finally:
            with self._requests_lock:
                self._requests.pop(request_id, None)
        if pending.failure is not None:
            raise RequestFailedError(message.name, pending.failure)
        if pending.reply is None:
            reason = self._failure.reason if isinstance(self._failure, ConnectionClosedError) else None
            raise ConnectionClosedError(reason or self.close_reason or 'the connection closed before the answer')
        return pending.reply

    def _next_request_id(self):
        """An id for a new request (under the lock): counting up from 1, within int32, none still waiting."""
        while True:
            self._last_request_id = self._last_request_id % (2 ** 31 - 1) + 1
            if self._last_request_id not in self._requests:
                return self._last_request_id

    def _checked(self, message, call):
        """The wire values of ``message``, which this client may send now; raises as :meth:`queue` says if not."""
        if not isinstance(message, Message):
            raise TypeError(f'{call}() takes a Message, not {type(message).__name__}; or give a name and its arguments.')
        _protocol.check_client_name(message.name)
        definition = self._definitions.get(message.name)
        if definition.arguments != message.definition.arguments or definition.bounds != message.definition.bounds:
            raise ClientError(f'{message.name} is defined differently in this client\'s definitions ({definition!r}).')
        if not definition.client_may_send:
            raise ClientError(f'{message.name} is sent only by the server ({definition!r}); a client cannot send it.')
        values = message._wire_values()
        if self._connection is None:
            raise ClientError('The client has not logged in: call start_blocking() first.')
        if self._closed.is_set():
            raise ConnectionClosedError(self.close_reason or 'the connection is closed')
        return values

    def q(self, _name, **_values):
        """Sends the message ``_name`` with these arguments: short for ``queue(Message(_name, **_values))``."""
        self.queue(self._message(_name, **_values))

    def receive(self):
        """The next message from the server if one has arrived, else None (also once the connection is closed)."""
        try:
            message = self._incoming.get_nowait()
        except queue.Empty:
            return None
        if message is _CLOSED:
            self._incoming.put(_CLOSED)
            return None
        return message

    def receive_blocking(self, *expected, timeout=None):
        """
        Waits for the next message from the server and returns it. If message names are given, the message must be
        one of them, or :class:`UnexpectedMessageError` is raised (the message is consumed). Raises
        :class:`ConnectionClosedError` (with the reason) if the connection closes first, and ``TimeoutError`` after
        ``timeout`` seconds if given.
        """
        try:
            message = self._incoming.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f'No message arrived within {timeout} s.') from None
        if message is _CLOSED:
            self._incoming.put(_CLOSED)  # for whoever asks next
            if isinstance(self._failure, ConnectionClosedError):
                raise ConnectionClosedError(self._failure.reason)
            raise ConnectionClosedError(self.close_reason or 'the client was stopped')
        if expected and message.name not in expected:
            raise UnexpectedMessageError(expected, message)
        return message

    def stop(self, timeout=_protocol.CLOSE_TIMEOUT):
        """
        Closes the connection: after the messages already sent, tells the server why (``_Closing``) and waits, at
        most ``timeout`` seconds, until the server has closed its side too, so that the same user can log in again
        at once. Safe to call more than once, and before :meth:`start_blocking` has finished.
        """
        connection = self._connection
        if connection is not None:
            connection.close('the client was stopped')
            if threading.current_thread() is not self and self.is_alive():
                self.join(timeout)
            if self.is_alive():
                connection.abort()
        self._closed.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _message(self, name, **values):
        _protocol.check_client_name(name)
        definition = self._definitions.get(name)
        return Message(definition, **values)



class _PendingRequest:
    """A request waiting for its answer: ``done`` is set with ``reply`` (a Message) or ``failure`` (the reason), or neither when the connection closed."""

    __slots__ = ('done', 'reply', 'failure')

    def __init__(self):
        self.done = threading.Event()
        self.reply = None
        self.failure = None
