"""
The Wevis wire protocol, version 2, as docs/protocol.md in the Wevis repository specifies it: everything about bytes
on the socket is in this module, so that a change to the protocol is a change here.

- Frames: a 4-byte big-endian length, then a MessagePack body ``[wire_id, arg1, arg2, ...]``.
- Wire ids: FNV-1a (32 bits) of the message name's UTF-8 bytes, top bit cleared.
- Argument encodings: ``int``, ``long``, ``float`` (float64), ``bool``, ``str``, ``bytes`` (bin), ``?f`` and ``?d``
  (bin of little-endian float32 or float64 values).
- The fingerprint of a list of definitions (directions, bounds, replies and ``@version`` included).
- Requests: ``[_Request, id, [wire_id, args...]]`` sent, answered by ``[_Reply, id, [wire_id, args...]]`` or
  ``_Failed(request=id, reason)``; directions and bounds checked on what the server sends.
- The protocol's own messages (names starting with ``_``), the login handshake, keep-alive (``_Ping``/``_Pong``)
  and closing (``_Closing``, then shutting the sending side and reading until the server has closed too).
"""
import hashlib
import socket
import struct
import sys
import threading
from array import array

import msgpack

from ._errors import ClientError, ConnectionClosedError, LoginRejectedError, ProtocolError

#: The protocol version this client speaks.
PROTOCOL_VERSION = 2

#: The port Wevis servers listen on unless told otherwise.
DEFAULT_PORT = 12121

#: The largest frame this client reads unless told otherwise (the server's own limit for what it reads is 1 MiB).
DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024

#: How long closing waits for the server to close its side before giving up.
CLOSE_TIMEOUT = 3.0

#: The argument types of the definitions language.
TYPES = ('int', 'long', 'float', 'bool', 'str', 'bytes', '?f', '?d')

#: The types that take a bound (``str(32)``): bytes of UTF-8 for ``str``, bytes for ``bytes``, values for ``?f``/``?d``.
BOUNDED_TYPES = ('str', 'bytes', '?f', '?d')

#: How long :meth:`wevis.Client.request` waits for an answer unless told otherwise (the C# client's RequestTimeout).
DEFAULT_REQUEST_TIMEOUT = 30.0

_INT_RANGE = {'int': (-2 ** 31, 2 ** 31 - 1), 'long': (-2 ** 63, 2 ** 63 - 1)}
_ARRAY_CODES = {'?f': ('f', 4), '?d': ('d', 8)}


def wire_id(name):
    """The wire id of the message called ``name``: 32-bit FNV-1a of its UTF-8 bytes, with the top bit cleared."""
    h = 0x811C9DC5
    for b in name.encode('utf-8'):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def property_name(argument):
    """An argument's name as the C# side spells it, for the fingerprint: ``hours_left`` and ``hoursLeft`` -> ``HoursLeft``."""
    out, upper = [], True
    for c in argument:
        if c == '_':
            upper = True
            continue
        out.append(c.upper() if upper else c)
        upper = False
    return ''.join(out)


def type_text(kind, bound=None):
    """An argument's type as a definitions file writes it: ``str``, or with a bound, ``str(32)``."""
    return kind if bound is None else f'{kind}({bound})'


def fingerprint_line(name, arguments, type_texts, direction=None, replies=()):
    """
    One message's line in the text the fingerprint hashes: ``[client: |server: ]Name Property=type(bound) ...
    [-> Reply | Reply]``, the direction, bounds and replies only where defined (so first-edition definitions hash as
    they always did).
    """
    prefix = f'{direction}: ' if direction else ''
    args = ''.join(f' {property_name(a)}={t}' for a, t in zip(arguments, type_texts))
    suffix = ' -> ' + ' | '.join(replies) if replies else ''
    return prefix + name + args + suffix


def fingerprint(lines, version=0):
    """
    The fingerprint of application message definitions, given as their :func:`fingerprint_line` lines: the first 16
    bytes of the SHA-256 of the lines sorted by ordinal and joined with newlines, in hex; then ``@`` and the highest
    ``@version`` if a definitions file declares one.
    """
    # Ordinal order is UTF-16 code unit order in C#; the lines are ASCII (names are), so str order is the same.
    digest = hashlib.sha256('\n'.join(sorted(lines)).encode('utf-8')).hexdigest()[:32]
    return f'{digest}@{version}' if version else digest


def encrypt(password, salt):
    """The password as sent at login: SHA-512 of the password followed by the salt, in lowercase hex."""
    return hashlib.sha512((str(password) + str(salt)).encode('utf-8')).hexdigest()


# The protocol's own messages: name -> arguments. Names starting with '_' are reserved for them.
PROTOCOL_MESSAGES = {
    '_Hello': (('protocol', 'int'),),
    '_Welcome': (('protocol', 'int'), ('salt', 'str'), ('fingerprint', 'str')),
    '_Login': (('username', 'str'), ('password', 'str'), ('version', 'str'), ('fingerprint', 'str')),
    '_LoginAccepted': (),
    '_LoginRejected': (('reason', 'str'),),
    '_Ping': (),
    '_Pong': (),
    '_Closing': (('reason', 'str'),),
    # Requests: the room refused one (sent in a _Request envelope), and why.
    '_Failed': (('request', 'int'), ('reason', 'str')),
    # Rooms: the client's requests, and the server's notices (docs/protocol.md).
    '_JoinRoom': (('request', 'int'), ('room', 'str')),
    '_JoinOrCreateRoom': (('request', 'int'), ('type', 'str')),
    '_CreateRoom': (('request', 'int'), ('type', 'str')),
    '_LeaveRoom': (('request', 'int'),),
    '_RoomChanged': (('request', 'int'), ('room', 'str'), ('type', 'str'), ('reason', 'str')),
    '_JoinRefused': (('request', 'int'), ('reason', 'str')),
}
_PROTOCOL_BY_ID = {wire_id(name): name for name in PROTOCOL_MESSAGES}
_ID = {name: wire_id(name) for name in PROTOCOL_MESSAGES}

#: The envelopes' wire ids (docs/protocol.md, Requests and replies): ``[REQUEST, id, [wire_id, args...]]`` from the
#: client, ``[REPLY, id, [wire_id, args...]]`` from the server.
REQUEST_WIRE_ID = wire_id('_Request')
REPLY_WIRE_ID = wire_id('_Reply')
_ENVELOPES = {REQUEST_WIRE_ID: '_Request', REPLY_WIRE_ID: '_Reply'}


def is_reserved(name):
    """Whether ``name`` is reserved for the protocol's own messages."""
    return name.startswith('_')


def check_value(kind, value, where):
    """
    ``value`` as an argument of type ``kind`` holds it (an int for ``float`` becomes a float, any iterable of numbers
    for ``?f``/``?d`` a list of floats); raises ``TypeError`` or ``ValueError`` naming ``where`` if it does not fit.
    """
    if kind in _INT_RANGE:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f'{where} must be an int, not {type(value).__name__}.')
        low, high = _INT_RANGE[kind]
        if not low <= value <= high:
            raise ValueError(f'{where} is {value}, outside the {kind} range {low} to {high}.')
        return value
    if kind == 'float':
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f'{where} must be a float, not {type(value).__name__}.')
        return float(value)
    if kind == 'bool':
        if not isinstance(value, bool):
            raise TypeError(f'{where} must be a bool, not {type(value).__name__}.')
        return value
    if kind == 'str':
        if not isinstance(value, str):
            raise TypeError(f'{where} must be a str, not {type(value).__name__}.')
        return value
    if kind == 'bytes':
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f'{where} must be bytes, not {type(value).__name__}.')
        return bytes(value)
    if kind in _ARRAY_CODES:
        if isinstance(value, (str, bytes)) or not hasattr(value, '__iter__'):
            raise TypeError(f'{where} must be a sequence of floats, not {type(value).__name__}.')
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            raise TypeError(f'{where} must be a sequence of floats.') from None
    raise ValueError(f'{where} has the unknown type {kind!r}.')


def argument_size(kind, value):
    """
    What a checked value holds, in the unit its bound counts, as ``(size, unit)``: bytes of UTF-8 for ``str``, bytes
    for ``bytes``, values for ``?f``/``?d``.
    """
    if kind == 'str':
        return len(value.encode('utf-8')), 'bytes'
    if kind == 'bytes':
        return len(value), 'bytes'
    return len(value), 'values'


def _encode(kind, value):
    """A checked value as MessagePack expects it: arrays become bin of little-endian floats."""
    if kind in _ARRAY_CODES:
        values = array(_ARRAY_CODES[kind][0], value)
        if sys.byteorder != 'little':
            values.byteswap()
        return values.tobytes()
    return value


def _decode(kind, value, where):
    """A value read from the wire as a Python value of ``kind``; raises ``ProtocolError`` naming ``where``."""
    if kind in _INT_RANGE:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not _INT_RANGE[kind][0] <= value <= _INT_RANGE[kind][1]:
            raise ProtocolError(f'{where} should be {kind}, but the server sent {value}, outside its range.')
    elif kind == 'float':
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == 'bool':
        ok = isinstance(value, bool)
    elif kind == 'str':
        ok = isinstance(value, str)
    elif kind == 'bytes':
        ok = isinstance(value, bytes)
    elif kind in _ARRAY_CODES:
        code, size = _ARRAY_CODES[kind]
        if isinstance(value, bytes):
            ok = len(value) % size == 0
            if ok:
                values = array(code)
                values.frombytes(value)
                if sys.byteorder != 'little':
                    values.byteswap()
                value = values.tolist()
        else:
            ok = isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            value = [float(v) for v in value] if ok else value
    else:
        ok = False
    if not ok:
        shown = f'{type(value).__name__} of {len(value)} bytes' if isinstance(value, bytes) else type(value).__name__
        raise ProtocolError(f'{where} should be {kind}, but the server sent a {shown}.')
    return value


class Connection:
    """
    One logged-in connection to a Wevis server: sends application messages, reads them (answering the server's
    pings on the way), and closes as the protocol says. Open one with :meth:`open`.

    ``definitions`` is anything with ``definition_by_wire_id(id)`` returning a :class:`wevis.MessageDefinition` or
    ``None``, and ``fingerprint()``: a :class:`wevis.DefinitionList`.

    Sending is safe from any thread; reading is for one thread at a time.
    """

    def __init__(self, sock, definitions, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
        self._sock = sock
        self._definitions = definitions
        self._max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._send_lock = threading.Lock()
        self._sending_closed = False
        self.close_reason = None
        # The room the user is in, as the server last said: (id, type), and why the server moved them, if it did.
        self.room = None
        self.room_reason = ''

    @classmethod
    def open(cls, host, port, username, password, version, definitions, timeout=10.0,
             max_frame_size=DEFAULT_MAX_FRAME_SIZE):
        """
        Connects and logs in, within ``timeout`` seconds for each step. Raises :class:`LoginRejectedError` with the
        server's reason, or :class:`ConnectionClosedError` if the server cannot be reached or closes first.
        """
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise ConnectionClosedError(f'cannot connect to {host}:{port}: {e}') from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = cls(sock, definitions, max_frame_size)
        try:
            connection._login(username, password, version)
        except socket.timeout:
            connection._abort()
            raise ConnectionClosedError(f'the login to {host}:{port} did not finish within {timeout} s') from None
        except OSError as e:
            connection._abort()
            raise ConnectionClosedError(f'the connection to {host}:{port} was lost during the login: {e}') from e
        except BaseException:
            connection._abort()
            raise
        sock.settimeout(None)
        return connection

    def _login(self, username, password, version):
        """The handshake: our ``_Hello`` (the client speaks first), the server's ``_Welcome``, our ``_Login``, its answer."""
        self._send_frame(_ID['_Hello'], [PROTOCOL_VERSION])
        name, welcome = self._read_protocol_message('the welcome')
        if name == '_Closing':
            raise ConnectionClosedError(welcome[0])
        if name != '_Welcome':
            raise ProtocolError(f'The server sent {name} where the protocol has _Welcome first.')
        protocol, salt, server_fingerprint = welcome
        if protocol != PROTOCOL_VERSION:
            self._close_for(f'the server speaks protocol {protocol}; this client speaks {PROTOCOL_VERSION}')
        self._send_frame(_ID['_Login'], [username, encrypt(password, salt), version, self._definitions.fingerprint()])
        name, answer = self._read_protocol_message('the answer to the login')
        if name == '_LoginRejected':
            raise LoginRejectedError(answer[0])
        if name == '_Closing':
            raise ConnectionClosedError(answer[0])
        if name != '_LoginAccepted':
            raise ProtocolError(f'The server answered the login with {name}.')

    def _read_protocol_message(self, what):
        body = self._read_frame()
        if body is None:
            raise ConnectionClosedError(f'the server closed the connection before {what}')
        wid, args = self._parse(body)
        name = _PROTOCOL_BY_ID.get(wid)
        if name is None:
            raise ProtocolError(f'The server sent wire id {wid} before the login finished; only protocol messages may come then.')
        return name, self._decode_arguments(name, PROTOCOL_MESSAGES[name], args)

    def send(self, wid, values):
        """Sends the message with wire id ``wid`` and its argument values, checked (see ``check_value``), in order."""
        self._send_body([wid, *values])

    def send_request(self, request_id, wid, values):
        """Sends a request in its envelope, ``[_Request, request_id, [wid, *values]]``; the answer names ``request_id``."""
        self._send_body([REQUEST_WIRE_ID, request_id, [wid, *values]])

    def _send_body(self, body):
        data = encode_body(body)
        with self._send_lock:
            if self._sending_closed:
                raise ConnectionClosedError(self.close_reason or 'the connection is closing')
            self._sock.sendall(data)

    def receive(self):
        """
        The next application message, as ``(name, [values])``; or the answer to a request, as
        ``('_Reply', (request_id, name, [values]))`` or ``('_Failed', [request_id, reason])``. Answers ``_Ping`` on
        the way. Raises
        :class:`ConnectionClosedError` (with the server's reason if it gave one) once the connection is closed, and
        :class:`ProtocolError` (a kind of it) if the server broke the protocol, after closing.
        """
        while True:
            try:
                body = self._read_frame()
            except OSError as e:
                self._abort()
                raise ConnectionClosedError(self.close_reason or f'the connection was lost: {e}') from e
            except ProtocolError as e:
                self._close_for(e.reason)
            if body is None:
                self._finish_closing()
                raise ConnectionClosedError(self.close_reason or 'the server closed the connection')
            try:
                wid, args = self._parse(body)
                name = _PROTOCOL_BY_ID.get(wid)
                if wid == REPLY_WIRE_ID:
                    return '_Reply', self._parse_reply(args)
                if wid == REQUEST_WIRE_ID:
                    raise ProtocolError('The server sent a request (a _Request envelope), but only clients send requests.')
                if name is None:
                    definition = self._application_definition(wid)
                    if definition.direction == 'client':
                        raise ProtocolError(f'The server sent {definition.name}, which only clients send ({definition!r}).')
                    return definition.name, self._decode_application(definition, args)
                values = self._decode_arguments(name, PROTOCOL_MESSAGES[name], args)
                if name == '_Failed':
                    return name, values
            except ProtocolError as e:
                self._close_for(e.reason)
            if name == '_Ping':
                try:
                    self.send(_ID['_Pong'], [])
                except (OSError, ConnectionClosedError):
                    pass  # Closing already; the read that follows says why.
            elif name == '_Pong':
                pass
            elif name == '_Closing':
                self.close_reason = values[0]
                self._shut_sending()
                # Read on to the server's end of the stream, ignoring what comes, then report the reason.
            elif name == '_RoomChanged':
                self.room = (values[1], values[2])
                self.room_reason = values[3]
            elif name == '_JoinRefused':
                pass  # This client makes no room requests of its own; the rooms' code moves its users.
            else:
                self._close_for(f'The server sent {name} after the login.')

    def close(self, reason):
        """
        Starts closing: sends ``_Closing(reason)`` after everything already sent, and shuts the sending side. The
        thread that reads then sees the server's end of the stream (:meth:`receive` raises). Safe to call twice.
        """
        with self._send_lock:
            if self._sending_closed:
                return
            if self.close_reason is None:
                self.close_reason = reason
            try:
                self._send_frame_locked(_ID['_Closing'], [reason])
            except OSError:
                pass
        self._shut_sending()

    def abort(self):
        """Closes the socket at once, without waiting for the server (after :meth:`close`, if the server is slow)."""
        self._abort()

    # --- internals ---

    def _close_for(self, reason):
        """Closes the connection because the server broke the protocol, and raises that as a ProtocolError."""
        self.close(reason)
        self._sock.settimeout(0.5)
        try:
            while self._read_frame_or_bytes():
                pass
        except OSError:
            pass
        self._abort()
        raise ProtocolError(reason)

    def _finish_closing(self):
        self._shut_sending()
        self._abort()

    def _shut_sending(self):
        with self._send_lock:
            if self._sending_closed:
                return
            self._sending_closed = True
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _abort(self):
        with self._send_lock:
            self._sending_closed = True
        try:
            self._sock.close()
        except OSError:
            pass

    def _send_frame(self, wid, values):
        with self._send_lock:
            self._send_frame_locked(wid, values)

    def _send_frame_locked(self, wid, values):
        self._sock.sendall(encode_frame(wid, values))

    def _read_frame_or_bytes(self):
        """While draining at close: True as long as bytes keep coming."""
        data = self._sock.recv(65536)
        return len(data) > 0

    def _read_frame(self):
        """The next frame's body, or None at a clean end of the stream between frames."""
        header = self._read_exactly(4, allow_end=True)
        if header is None:
            return None
        (length,) = struct.unpack('>I', header)
        if length == 0:
            raise ProtocolError('The server sent a frame of length 0.')
        if length > self._max_frame_size:
            raise ProtocolError(f'The server sent a frame of {length} bytes; this client reads at most {self._max_frame_size}.')
        return self._read_exactly(length, allow_end=False)

    def _read_exactly(self, count, allow_end):
        while len(self._buffer) < count:
            data = self._sock.recv(max(65536, count - len(self._buffer)))
            if not data:
                if allow_end and not self._buffer:
                    return None
                raise ProtocolError(f'The connection ended inside a frame ({len(self._buffer)} of {count} bytes read).')
            self._buffer += data
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out

    def _parse(self, body):
        try:
            message = msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=True)
        except Exception as e:  # msgpack raises several kinds: ExtraData, FormatError, StackError, ValueError...
            raise ProtocolError(f'The server sent a frame that is not one MessagePack value: {e}') from None
        if not isinstance(message, list) or not message or not isinstance(message[0], int) or isinstance(message[0], bool):
            raise ProtocolError('The server sent a frame that is not a message ([wire id, arguments...]).')
        return message[0], message[1:]

    def _application_definition(self, wid):
        definition = self._definitions.definition_by_wire_id(wid)
        if definition is None:
            raise ProtocolError(
                f'The server sent a message with wire id {wid}, which is neither one of this client\'s '
                f'definitions nor one of the protocol\'s own messages ({", ".join(PROTOCOL_MESSAGES)}): '
                f'the server may speak a newer protocol than this client ({PROTOCOL_VERSION}).')
        return definition

    def _parse_reply(self, args):
        """``(request_id, name, values)`` of a reply envelope's ``[id, [wire_id, args...]]``."""
        if (len(args) != 2 or not isinstance(args[0], int) or isinstance(args[0], bool) or not isinstance(args[1], list)
                or not args[1] or not isinstance(args[1][0], int) or isinstance(args[1][0], bool)):
            raise ProtocolError('The server sent a reply envelope that is not [_Reply, id, [wire id, arguments...]].')
        request_id, (wid, *values) = args
        definition = self._application_definition(wid)
        if definition.direction == 'client':
            raise ProtocolError(f'The server answered a request with {definition.name}, which only clients send.')
        return request_id, definition.name, self._decode_application(definition, values)

    def _decode_application(self, definition, args):
        """An application message's values, each within its bound (a longer one breaks the protocol)."""
        values = self._decode_arguments(definition.name, definition.arguments, args)
        for (argument, kind), bound, value in zip(definition.arguments, definition.bounds, values):
            if bound is not None:
                size, unit = argument_size(kind, value)
                if size > bound:
                    raise ProtocolError(
                        f"The server sent {definition.name} whose argument '{argument}' holds {size} {unit}, over its "
                        f'bound of {bound} ({argument}={type_text(kind, bound)}).')
        return values

    @staticmethod
    def _decode_arguments(name, arguments, values):
        if len(values) != len(arguments):
            raise ProtocolError(f'The server sent {name} with {len(values)} arguments; it has {len(arguments)}.')
        return [_decode(kind, v, f'{name}.{arg}') for (arg, kind), v in zip(arguments, values)]


def encode_frame(wid, values):
    """A whole frame: the body's length (4 bytes, big-endian), then the body, ``[wid, *values]`` in MessagePack."""
    return encode_body([wid, *values])


def encode_body(body):
    """A whole frame holding ``body`` (a message ``[wid, *values]``, or an envelope) in MessagePack."""
    data = msgpack.packb(body, use_bin_type=True)
    return struct.pack('>I', len(data)) + data


def encode_values(arguments, values):
    """The wire form of checked ``values`` for ``arguments`` (``[(name, type), ...]``), in order."""
    return [_encode(kind, v) for (_, kind), v in zip(arguments, values)]


def check_client_name(name):
    """Raises ``ClientError`` if ``name`` is a protocol message's: the client sends those itself."""
    if is_reserved(name):
        known = name in PROTOCOL_MESSAGES
        raise ClientError(
            f'{name} is {"one of the protocol" if known else "reserved for the protocol"}\'s own messages '
            f'(names starting with "_"); the client sends those itself, and this client (protocol {PROTOCOL_VERSION}) '
            f'knows {", ".join(PROTOCOL_MESSAGES)}.')
