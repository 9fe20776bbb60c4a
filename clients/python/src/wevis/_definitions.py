"""
Message definitions and messages, as in the original module: a :class:`DefinitionList` read from the same ``.wevis``
file the server is built from (or written in code), and :class:`Message` objects with a name and arguments.
"""
import re

from . import _protocol

_MESSAGE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')
_ARGUMENT_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]*\Z')
_PYTHON_TYPES = {int: 'int', float: 'float', bool: 'bool', str: 'str', bytes: 'bytes'}

_instantiated = None


class DefinitionError(ValueError):
    """A definition that the definitions language does not allow; the message says where and why."""


class MessageDefinition:
    """One message type: its ``name``, its ``arguments`` as ``(name, type)`` pairs in order, and its ``wire_id``."""

    __slots__ = ('name', 'arguments', 'wire_id', '_index')

    def __init__(self, name, arguments):
        self.name = name
        self.arguments = tuple(arguments)
        self.wire_id = _protocol.wire_id(name)
        self._index = {a: i for i, (a, _) in enumerate(self.arguments)}

    def __repr__(self):
        return ' '.join([self.name] + [f'{a}={t}' for a, t in self.arguments])


class DefinitionList:
    """
    The message types a client speaks: the server's own, read from the same ``.wevis`` file with :meth:`from_file`
    (or added in code with :meth:`add`). The login sends their fingerprint, and a server built from other
    definitions refuses it, saying so.
    """

    def __init__(self):
        self._by_name = {}
        self._by_id = {}

    def add(self, _name, **_arguments):
        """
        Adds the message ``_name`` with arguments ``name=type``, in order. A type is one of ``'int'``, ``'long'``,
        ``'float'``, ``'bool'``, ``'str'``, ``'bytes'``, ``'?f'``, ``'?d'``, or the Python types ``int``, ``float``,
        ``bool``, ``str`` and ``bytes``.
        """
        self._add(_name, list(_arguments.items()), where='')

    def _add(self, name, arguments, where):
        if not isinstance(name, str) or not _MESSAGE_NAME.match(name):
            raise DefinitionError(f'{where}"{name}" is not a message name: an ASCII letter or "_", then letters, digits or "_".')
        if _protocol.is_reserved(name):
            raise DefinitionError(
                f'{where}{name}: names starting with "_" are reserved for the protocol\'s own messages '
                f'({", ".join(_protocol.PROTOCOL_MESSAGES)}).')
        if name in self._by_name:
            raise DefinitionError(f'{where}{name} is defined twice.')
        checked, properties = [], {}
        for argument, kind in arguments:
            kind = _PYTHON_TYPES.get(kind, kind)
            if not isinstance(argument, str) or not _ARGUMENT_NAME.match(argument):
                raise DefinitionError(f'{where}{name}: "{argument}" is not an argument name: an ASCII letter, then letters, digits or "_".')
            if kind not in _protocol.TYPES:
                raise DefinitionError(f'{where}{name}.{argument}: unknown type {kind!r}; the types are {", ".join(_protocol.TYPES)}.')
            prop = _protocol.property_name(argument)
            if prop in properties:
                raise DefinitionError(f'{where}{name}: the arguments {properties[prop]} and {argument} are the same name ({prop}).')
            properties[prop] = argument
            checked.append((argument, kind))
        definition = MessageDefinition(name, checked)
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
        """Reads definitions from the text of a ``.wevis`` file; errors name ``source`` and the line."""
        definitions = DefinitionList()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            name, *parts = line.split()
            arguments = []
            for part in parts:
                argument, equals, kind = part.partition('=')
                if not equals or not kind:
                    raise DefinitionError(f'{source}({number}): {name}: argument "{part}" has no type; write {argument}=type.')
                arguments.append((argument, kind))
            definitions._add(name, arguments, where=f'{source}({number}): ')
        return definitions

    def instantiate(self):
        """Makes these the definitions that :class:`Message` and :class:`Client` use when given none, as in the original."""
        global _instantiated
        _instantiated = self

    def fingerprint(self):
        """The fingerprint the login sends: the same as the server's when both are built from the same definitions."""
        return _protocol.fingerprint((d.name, d.arguments) for d in self._by_name.values())

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

    def __contains__(self, name):
        return name in self._by_name

    def __iter__(self):
        return iter(self._by_name.values())

    def __len__(self):
        return len(self._by_name)


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
        return _protocol.encode_values(self._definition.arguments, list(self._values.values()))

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
