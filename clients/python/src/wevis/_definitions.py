"""
Message definitions and messages, as in the original module: a :class:`DefinitionList` read from the same ``.wevis``
file the server is built from (or written in code), and :class:`Message` objects with a name and arguments.
"""
import re

from . import _protocol
from ._errors import ArgumentTooLargeError

_MESSAGE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')
_ARGUMENT_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]*\Z')
_PYTHON_TYPES = {int: 'int', float: 'float', bool: 'bool', str: 'str', bytes: 'bytes'}

_instantiated = None


class DefinitionError(ValueError):
    """A definition that the definitions language does not allow; the message says where and why."""


class MessageDefinition:
    """
    One message type: its ``name``, its ``arguments`` as ``(name, type)`` pairs in order, and its ``wire_id``; and,
    where the definitions say so, ``bounds`` (per argument, the most bytes of a ``str`` or ``bytes``, or values of a
    ``?f`` or ``?d``, else None), ``direction`` (``'client'`` for a ``client:`` message, ``'server'`` for a
    ``server:`` one, None for one sent both ways), ``replies`` (the names after ``->``: it is a request) and
    ``version`` (its file's ``@version``, or 0).
    """

    __slots__ = ('name', 'arguments', 'wire_id', 'bounds', 'direction', 'replies', 'version', '_index')

    def __init__(self, name, arguments, bounds=None, direction=None, replies=(), version=0):
        self.name = name
        self.arguments = tuple(arguments)
        self.wire_id = _protocol.wire_id(name)
        self.bounds = tuple(bounds) if bounds is not None else (None,) * len(self.arguments)
        self.direction = direction
        self.replies = tuple(replies)
        self.version = version
        self._index = {a: i for i, (a, _) in enumerate(self.arguments)}

    @property
    def is_request(self):
        """Whether the definition names replies (``-> Reply``): then :meth:`Client.request` sends it and waits for one."""
        return bool(self.replies)

    @property
    def client_may_send(self):
        """False for a ``server:`` message, which only the server sends."""
        return self.direction != 'server'

    def type_texts(self):
        """Each argument's type as the file writes it, with its bound: ``str(32)``."""
        return [_protocol.type_text(t, b) for (_, t), b in zip(self.arguments, self.bounds)]

    def fingerprint_line(self):
        """This message's line in the text the fingerprint hashes (docs/protocol.md, The fingerprint)."""
        return _protocol.fingerprint_line(self.name, [a for a, _ in self.arguments], self.type_texts(), self.direction, self.replies)

    def __repr__(self):
        prefix = f'{self.direction}: ' if self.direction else ''
        args = ''.join(f' {a}={t}' for (a, _), t in zip(self.arguments, self.type_texts()))
        replies = f' -> {" | ".join(self.replies)}' if self.replies else ''
        return prefix + self.name + args + replies


class DefinitionList:
    """
    The message types a client speaks: the server's own, read from the same ``.wevis`` file with :meth:`from_file`
    (or added in code with :meth:`add`). The login sends their fingerprint, and a server built from other
    definitions refuses it, saying so.
    """

    def __init__(self):
        self._by_name = {}
        self._by_id = {}

    def add(self, _name, _direction=None, _replies=(), **_arguments):
        """
        Adds the message ``_name`` with arguments ``name=type``, in order. A type is one of ``'int'``, ``'long'``,
        ``'float'``, ``'bool'``, ``'str'``, ``'bytes'``, ``'?f'``, ``'?d'``, or the Python types ``int``, ``float``,
        ``bool``, ``str`` and ``bytes``; a ``str``, ``bytes``, ``?f`` or ``?d`` may have a bound, ``'str(32)'``.
        ``_direction`` is ``'client'`` or ``'server'`` (as ``client:`` and ``server:`` in a file), ``_replies`` the
        names of the messages that answer it (as ``-> A | B``), which must be defined by the time it is sent.
        """
        if _direction not in (None, 'client', 'server'):
            raise DefinitionError(f'{_name}: the direction is \'client\' or \'server\' (or None for both ways), not {_direction!r}.')
        if _direction == 'server' and _replies:
            raise DefinitionError(f'{_name}: a server: message cannot have replies; requests are sent by clients.')
        self._add(_name, list(_arguments.items()), where='', direction=_direction, replies=tuple(_replies))

    def _add(self, name, arguments, where, direction=None, replies=(), version=0):
        if not isinstance(name, str) or not _MESSAGE_NAME.match(name):
            raise DefinitionError(f'{where}"{name}" is not a message name: an ASCII letter or "_", then letters, digits or "_".')
        if _protocol.is_reserved(name):
            raise DefinitionError(
                f'{where}{name}: names starting with "_" are reserved for the protocol\'s own messages '
                f'({", ".join(_protocol.PROTOCOL_MESSAGES)}).')
        if name in self._by_name:
            raise DefinitionError(f'{where}{name} is defined twice.')
        checked, bounds, properties = [], [], {}
        for argument, kind in arguments:
            kind = _PYTHON_TYPES.get(kind, kind)
            if not isinstance(argument, str) or not _ARGUMENT_NAME.match(argument):
                raise DefinitionError(f'{where}{name}: "{argument}" is not an argument name: an ASCII letter, then letters, digits or "_".')
            kind, bound = _split_bound(kind, f'{where}{name}.{argument}')
            prop = _protocol.property_name(argument)
            if prop in properties:
                raise DefinitionError(f'{where}{name}: the arguments {properties[prop]} and {argument} are the same name ({prop}).')
            properties[prop] = argument
            checked.append((argument, kind))
            bounds.append(bound)
        seen = set()
        for reply in replies:
            if not isinstance(reply, str) or not _MESSAGE_NAME.match(reply) or _protocol.is_reserved(reply):
                raise DefinitionError(f'{where}{name}: "{reply}" is not a message name, so it cannot be a reply.')
            if reply in seen:
                raise DefinitionError(f'{where}{name}: the reply {reply} is listed twice.')
            seen.add(reply)
        definition = MessageDefinition(name, checked, bounds, direction, replies, version)
        if definition.wire_id in self._by_id:
            raise DefinitionError(f'{where}{name} has the same wire id as {self._by_id[definition.wire_id].name}; rename one.')
        self._by_name[name] = definition
        self._by_id[definition.wire_id] = definition

    @staticmethod
    def from_file(path):
        """Reads definitions from a ``.wevis`` file (docs/definitions.md in the Wevis repository)."""
        with open(path, 'r', encoding='utf-8') as f:
            return DefinitionList.from_text(f.read(), str(path))

    @staticmethod
    def from_text(text, source='<text>'):
        """
        Reads definitions from the text of a ``.wevis`` file, either edition: directions (``client:``, ``server:``),
        requests (``-> Reply | Other``), bounds (``str(32)``) and ``@version N`` as the C# generator reads them.
        Errors name ``source`` and the line.
        """
        definitions = DefinitionList()
        version, version_line, added = 0, 0, []
        for number, line in enumerate(text.splitlines(), start=1):
            where = f'{source}({number}): '
            tokens = _tokenize(line)
            if not tokens:
                continue
            if tokens[0].startswith('@'):
                if tokens[0] != '@version':
                    raise DefinitionError(f'{where}unknown directive {tokens[0]}; the only one is @version N.')
                if len(tokens) != 2 or not tokens[1].isdigit() or not tokens[1].isascii() or not 1 <= int(tokens[1]) <= 2 ** 31 - 1:
                    raise DefinitionError(f'{where}write @version N, with N a whole number from 1 to 2147483647.')
                if version:
                    raise DefinitionError(f'{where}the version is already declared on line {version_line}.')
                version, version_line = int(tokens[1]), number
                continue
            direction = None
            if tokens[0].endswith(':'):
                if tokens[0] not in ('client:', 'server:'):
                    raise DefinitionError(
                        f'{where}{tokens[0]} is not a direction: start a line with client: (for a message clients send) '
                        f'or server: (for one the server sends), or with neither (for one sent both ways).')
                if len(tokens) == 1:
                    raise DefinitionError(f'{where}{tokens[0]} must be followed by the message it applies to.')
                direction = tokens[0][:-1]
                tokens = tokens[1:]
            name, rest = tokens[0], tokens[1:]
            arrow = rest.index('->') if '->' in rest else len(rest)
            arguments = []
            for part in rest[:arrow]:
                if part == '|':
                    raise DefinitionError(f'{where}{name}: "|" separates replies, which follow "->".')
                argument, equals, kind = part.partition('=')
                if not equals or not kind:
                    raise DefinitionError(f'{where}{name}: argument "{part}" has no type; write {argument}=type.')
                arguments.append((argument, kind))
            replies = _parse_replies(rest[arrow:], f'{where}{name}')
            if direction == 'server' and replies:
                raise DefinitionError(f'{where}{name}: a server: message cannot have replies; requests are sent by clients.')
            definitions._add(name, arguments, where=where, direction=direction, replies=replies)
            added.append((name, where))
        for name, where in added:
            definition = definitions._by_name[name]
            # The version covers the whole file, lines above the directive included (as the generator reads it).
            definition.version = version
            for reply in definition.replies:
                answer = definitions._by_name.get(reply)
                if answer is None:
                    raise DefinitionError(f'{where}{name}: the reply {reply} is not a message of these definitions.')
                if answer.direction == 'client':
                    raise DefinitionError(f'{where}{name}: the reply {reply} is a client: message; replies are sent by the server.')
        return definitions

    def instantiate(self):
        """Makes these the definitions that :class:`Message` and :class:`Client` use when given none, as in the original."""
        global _instantiated
        _instantiated = self

    @property
    def version(self):
        """The highest ``@version`` of these definitions, or 0 if none declares one; it ends the fingerprint (``…@2``)."""
        return max((d.version for d in self._by_name.values()), default=0)

    def fingerprint(self):
        """
        The fingerprint the login sends: the same as the server's when both are built from the same definitions
        (directions, bounds, replies and the version included, as docs/protocol.md says).
        """
        return _protocol.fingerprint((d.fingerprint_line() for d in self._by_name.values()), self.version)

    def get(self, name):
        """The definition of ``name``; raises ``KeyError`` with the names there are if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f'There is no message {name!r}; the definitions have {", ".join(self._by_name)}.') from None

    def by_wire_id(self, wid):
        """``(name, arguments)`` of the message with wire id ``wid``, or None."""
        d = self._by_id.get(wid)
        return None if d is None else (d.name, d.arguments)

    def definition_by_wire_id(self, wid):
        """The :class:`MessageDefinition` with wire id ``wid``, or None."""
        return self._by_id.get(wid)

    def __contains__(self, name):
        return name in self._by_name

    def __iter__(self):
        return iter(self._by_name.values())

    def __len__(self):
        return len(self._by_name)


def _tokenize(line):
    """A line's tokens as the C# generator splits them: ``#`` ends the line, ``->`` and ``|`` stand alone, a token ends after ``:``."""
    tokens, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c == '#':
            break
        if c.isspace():
            i += 1
            continue
        start = i
        if c == '|' or line.startswith('->', i):
            i += 1 if c == '|' else 2
        else:
            while i < n and not line[i].isspace() and line[i] not in '#|' and not line.startswith('->', i):
                i += 1
                if line[i - 1] == ':':
                    break
        tokens.append(line[start:i])
    return tokens


def _parse_replies(tokens, where):
    """The reply names of ``-> A | B`` (``tokens`` from the arrow on), or () if there is no arrow."""
    if not tokens:
        return ()
    if len(tokens) == 1:
        raise DefinitionError(f'{where}: no reply follows "->".')
    replies = []
    for k, token in enumerate(tokens[1:]):
        if k % 2 == 1:
            if token != '|':
                raise DefinitionError(f'{where}: separate replies with "|" (found "{token}").')
        elif token in ('|', '->'):
            raise DefinitionError(f'{where}: a reply\'s name belongs where "{token}" is.')
        elif '=' in token:
            raise DefinitionError(f'{where}: "{token}" is an argument, and arguments come before "->".')
        else:
            replies.append(token)
    if tokens[-1] == '|':
        raise DefinitionError(f'{where}: a reply\'s name must follow "|".')
    return tuple(replies)


def _split_bound(kind, where):
    """``(type, bound)`` of a type as written: ``'str(32)'`` -> ``('str', 32)``, ``'int'`` -> ``('int', None)``."""
    if not isinstance(kind, str):
        raise DefinitionError(f'{where}: unknown type {kind!r}; the types are {", ".join(_protocol.TYPES)}.')
    keyword, paren, rest = kind.partition('(')
    if keyword not in _protocol.TYPES:
        raise DefinitionError(f'{where}: unknown type {keyword!r}; the types are {", ".join(_protocol.TYPES)}.')
    if not paren:
        return keyword, None
    digits = rest[:-1]
    if not rest.endswith(')') or not digits.isascii() or not digits.isdigit() or not 1 <= int(digits) <= 2 ** 31 - 1:
        raise DefinitionError(f'{where}: invalid bound ({rest}; write a whole number from 1 to 2147483647 in parentheses, {keyword}(32).')
    if keyword not in _protocol.BOUNDED_TYPES:
        raise DefinitionError(f'{where}: {keyword} has a fixed size and takes no bound; only {", ".join(_protocol.BOUNDED_TYPES)} do.')
    return keyword, int(digits)


def instantiated_definitions():
    """The definitions last made current by :meth:`DefinitionList.instantiate`."""
    if _instantiated is None:
        raise RuntimeError('No message definitions: call DefinitionList.instantiate(), or pass definitions=.')
    return _instantiated


class Message:
    """
    A message: a ``name`` and its arguments. Read an argument with ``message.get('hours')`` (or several at once,
    ``message.get('hours', 'minutes')``) or as an attribute, ``message.hours``; an argument called ``name``,
    ``definition``, ``get`` or ``set`` only with ``get`` (the attribute is the message's own).

    ``Message('ItIs', hours=13, minutes=5)`` uses the instantiated definitions; pass a :class:`MessageDefinition`
    as the name to use another's. Values are checked against the argument types as they are set.
    """

    __slots__ = ('_definition', '_values')

    def __init__(self, _name, **_values):
        definition = _name if isinstance(_name, MessageDefinition) else instantiated_definitions().get(_name)
        object.__setattr__(self, '_definition', definition)
        object.__setattr__(self, '_values', dict.fromkeys(a for a, _ in definition.arguments))
        self.set(**_values)

    @classmethod
    def _from_wire(cls, definition, values):
        message = cls.__new__(cls)
        object.__setattr__(message, '_definition', definition)
        object.__setattr__(message, '_values', {a: v for (a, _), v in zip(definition.arguments, values)})
        return message

    @property
    def name(self):
        """The message's name."""
        return self._definition.name

    @property
    def definition(self):
        """The message's :class:`MessageDefinition`."""
        return self._definition

    def get(self, *names):
        """One argument's value, or a tuple of several."""
        for n in names:
            if n not in self._values:
                raise KeyError(f'{self.name} has no argument {n!r}; it has {", ".join(self._values) or "none"}.')
        if len(names) == 1:
            return self._values[names[0]]
        return tuple(self._values[n] for n in names)

    def set(self, **values):
        """Sets arguments, checking each against its type (``TypeError``/``ValueError`` naming the argument)."""
        for n, v in values.items():
            i = self._definition._index.get(n)
            if i is None:
                raise KeyError(f'{self.name} has no argument {n!r}; it has {", ".join(self._values) or "none"}.')
            self._values[n] = _protocol.check_value(self._definition.arguments[i][1], v, f'{self.name}.{n}')

    def _wire_values(self):
        missing = [n for n, v in self._values.items() if v is None]
        if missing:
            raise ValueError(f'{self.name} is missing {", ".join(missing)}.')
        values = list(self._values.values())
        for (argument, kind), bound, value in zip(self._definition.arguments, self._definition.bounds, values):
            if bound is not None:
                size, unit = _protocol.argument_size(kind, value)
                if size > bound:
                    raise ArgumentTooLargeError(self.name, argument, size, bound, unit, f'{argument}={_protocol.type_text(kind, bound)}')
        return _protocol.encode_values(self._definition.arguments, values)

    def __getattr__(self, name):
        values = object.__getattribute__(self, '_values')
        if name in values:
            return values[name]
        raise AttributeError(f'{self._definition.name} has no argument {name!r}')

    def __setattr__(self, name, value):
        raise AttributeError('Set arguments with message.set(name=value).')

    def __eq__(self, other):
        return isinstance(other, Message) and self.name == other.name and _same(self._values, other._values)

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        args = ', '.join(f'{n}={_short(v)}' for n, v in self._values.items())
        return f'{self.name}({args})'


def _same(a, b):
    """Argument values equal, NaN equal to NaN (as the C# records compare)."""
    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
            return True
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(p, q) for p, q in zip(x, y))
        return x == y
    return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)


def _short(value):
    if isinstance(value, list) and len(value) > 8:
        return '[' + ', '.join(map(repr, value[:8])) + f', ... ({len(value)} values)]'
    return repr(value)
